"""The HTTP channel: Rasa's REST webhook and /model/parse, the web widget, and each
conversation's history (so the widget can show it again after a reload).

A thin FastAPI layer over an Agent. Replies keep Rasa's REST channel shape, so Rasa
chat widgets and scripts work unchanged. `Agent.handle` blocks (the model, the store,
AWS), so turns run on threads of their own, a bounded pool that nothing else uses:
`/health`, the widget and its files are served from the event loop and never wait
behind turns, even when every turn thread waits on a hanging AWS endpoint.

A sender id names a conversation; it is not a secret (it travels in URLs and logs). The
reply that starts a conversation carries its key, `X-CourseBot-Conversation-Key`, a keyed
hash of the sender id that only this server can make; reading a conversation's history
takes that key or the server's token.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Annotated, Any, TypeVar

import anyio.to_thread
from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Query, Response
from fastapi import Path as PathParam
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from pydantic import AfterValidator, BaseModel, Field

from bot import __version__
from bot.agent import Agent
from bot.channels import http_errors
from bot.channels.store_health import StoreHealth
from bot.dialogue.events import BotUttered, UserUttered
from bot.errors import ConfigError
from bot.nlu import training
from bot.nlu.pipeline import METADATA_FILE
from bot.server_key import keyed_hash, server_key

STATIC_DIR = Path(__file__).with_name("static")
MAX_SENDER_CHARS = 200
# The NLU parses one message at a time anyway, and every thread that has run the model keeps
# about 4 MB: with FastAPI's default of 40 threads the course bot's server grew to 700 MB under
# 64 concurrent senders, with 8 to 580 MB, at the same turns per second.
TURN_THREADS = 8
BODY_TIMEOUT_S = 10.0
KEY_HEADER = "X-CourseBot-Conversation-Key"
SENDER_HEADER = "X-CourseBot-Sender"
KEY_PURPOSE = "conversation"
# The widget talks only to its own server; bot images and audio may come from anywhere.
WIDGET_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src * data:; media-src * data: blob:; "
                               "object-src 'none'; base-uri 'none'; frame-ancestors 'self'",
    "X-Content-Type-Options": "nosniff",
}

T = TypeVar("T")


def _is_text(value: str) -> str:
    """Refuses a string that cannot be UTF-8 (a lone surrogate such as "\\ud800" in the JSON)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError(f"has a lone surrogate, {ascii(value[error.start])} at character {error.start}, "
                         "which is not text; send valid Unicode (UTF-8)") from None
    return value


Text = Annotated[str, AfterValidator(_is_text)]

# Module-level: FastAPI resolves the (postponed) annotations of dependencies in module scope.
_bearer = HTTPBearer(auto_error=False)
TokenQuery = Annotated[str | None, Query(description="The server's auth token.")]
Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
SenderPath = Annotated[str, PathParam(max_length=MAX_SENDER_CHARS)]
KeyHeader = Annotated[str | None, Header(alias=KEY_HEADER, description="The conversation's key.")]


class UserMessage(BaseModel):
    """Rasa's REST channel input; other keys (metadata, input_channel) are ignored, as in Rasa.
    Without a sender, the message starts a conversation of its own (Rasa would use "default")."""

    sender: Text | None = Field(None, min_length=1, max_length=MAX_SENDER_CHARS)
    message: Text


class ParseRequest(BaseModel):
    text: Text


def create_app(agent: Agent, *, auth_token: str | None = None, cors_origins: Sequence[str] = (),
               max_body_bytes: int = 64 * 1024, max_message_chars: int = 5000,
               media_dir: Path | None = None, turn_threads: int = TURN_THREADS,
               body_timeout_s: float = BODY_TIMEOUT_S) -> FastAPI:
    """The web app serving `agent`.

    Args:
        auth_token: when set, the API routes require it (`?token=` or `Authorization: Bearer`).
        cors_origins: origins allowed to call the API from a browser ("*" for any); none by default.
        max_body_bytes: larger request bodies get 413.
        max_message_chars: longer messages get 413.
        media_dir: files served under /media/ (e.g. Polly's audio), when given.
        turn_threads: threads running turns (parse, dialogue, store, AWS); more wait their turn.
        body_timeout_s: a request body that has not all arrived by then gets 408.

    Raises:
        ConfigError: the server's key (for conversation keys) cannot be read or made.
    """
    app = FastAPI(title="CourseBot", version=__version__, docs_url=None, redoc_url=None)
    http_errors.install(app, max_body_bytes, body_timeout_s)
    if cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(cors_origins), allow_methods=["GET", "HEAD", "POST"],
                           allow_headers=["Authorization", "Content-Type", KEY_HEADER],
                           expose_headers=[KEY_HEADER, SENDER_HEADER])
    turns = Turns(turn_threads)
    owners = Owners(_server_key(agent.project.root), auth_token)
    api = APIRouter(dependencies=[Depends(owners.require_token)] if auth_token else [])

    def checked(text: str) -> str:
        if not text.strip():
            raise HTTPException(400, "the message is empty")
        if len(text) > max_message_chars:
            raise HTTPException(413, f"the message is {len(text)} characters long; the limit is "
                                     f"{max_message_chars} characters")
        return text

    @api.post("/webhooks/rest/webhook", response_model=None)
    async def webhook(body: UserMessage, response: Response) -> list[dict[str, Any]]:
        """The bot's replies to one message (Rasa's REST channel)."""
        sender = body.sender or f"anon-{secrets.token_hex(16)}"
        replies, new = await turns.run(_turn, agent, checked(body.message), sender)
        response.headers[SENDER_HEADER] = sender
        if new:
            response.headers[KEY_HEADER] = owners.key(sender)
        return replies

    @api.post("/model/parse", response_model=None)
    async def parse(body: ParseRequest) -> dict[str, Any]:
        """The NLU result for a text, without touching any conversation (Rasa's /model/parse)."""
        return await turns.run(agent.parse, checked(body.text))

    app.include_router(api)

    @app.get("/conversations/{sender_id}/messages", response_model=None, dependencies=[Depends(owners.require_owner)])
    async def conversation(sender_id: SenderPath) -> dict[str, Any]:
        """The user's and the bot's messages since the conversation's last restart."""
        return {"sender_id": sender_id, "messages": await turns.run(_messages, agent, sender_id)}

    model = _model_info(agent)
    stores = StoreHealth(agent.dialogue)

    @app.api_route("/health", methods=["GET", "HEAD"], response_model=None)
    async def health() -> JSONResponse:
        """200 when the bot can answer; 503 with the store that cannot be used."""
        report = await stores.report()
        healthy = all(part["status"] == "ok" for part in report.values())
        body = {"status": "ok" if healthy else "degraded", "version": __version__, "model": model, **report}
        return JSONResponse(body, status_code=200 if healthy else 503)

    page = (STATIC_DIR / "index.html").read_bytes()

    @app.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
    async def widget() -> HTMLResponse:
        return HTMLResponse(page, headers=WIDGET_HEADERS)

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    if media_dir is not None:
        app.mount("/media", StaticFiles(directory=media_dir), name="media")
    return app


class Turns:
    """The threads that run turns, bounded and apart from the default pool (which serves
    static files), so that turns queue for each other only."""

    def __init__(self, threads: int):
        self.threads = threads
        self._limiter: anyio.CapacityLimiter | None = None

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        if self._limiter is None:  # made in the event loop that uses it
            self._limiter = anyio.CapacityLimiter(self.threads)
        return await anyio.to_thread.run_sync(partial(function, *args), limiter=self._limiter)


class Owners:
    """Who may use the API (the token's holders) and read a conversation (its key's holder,
    or the token's)."""

    def __init__(self, secret: bytes, token: str | None):
        self.secret = secret
        self.token = token

    def key(self, sender_id: str) -> str:
        return keyed_hash(self.secret, sender_id, KEY_PURPOSE)

    async def require_token(self, token: TokenQuery = None, credentials: Bearer = None) -> None:
        if not self._has_token(token, credentials):
            raise HTTPException(401, "a valid token is required: add ?token=... or the header "
                                     "Authorization: Bearer ...", headers={"WWW-Authenticate": "Bearer"})

    async def require_owner(self, sender_id: SenderPath, key: KeyHeader = None, token: TokenQuery = None,
                            credentials: Bearer = None) -> None:
        if self.token and self._has_token(token, credentials):
            return
        if key is None:
            token_hint = " or the server's token (?token=... or Authorization: Bearer ...)" if self.token else ""
            raise HTTPException(401, f"reading a conversation takes its key (the {KEY_HEADER} header of the reply "
                                     f"that started it, sent back in that header){token_hint}",
                                headers={"WWW-Authenticate": "Bearer"} if self.token else None)
        if not secrets.compare_digest(key.encode(), self.key(sender_id).encode()):
            raise HTTPException(403, f"this {KEY_HEADER} is not the key of that conversation")

    def _has_token(self, token: str | None, credentials: HTTPAuthorizationCredentials | None) -> bool:
        given = token or (credentials.credentials if credentials else "")
        return self.token is not None and secrets.compare_digest(given.encode(), self.token.encode())


def _server_key(project_root: Path) -> bytes:
    try:
        return server_key(project_root)
    except (ValueError, OSError) as error:
        raise ConfigError(f"cannot read or create the server's key: {error}") from None


def _turn(agent: Agent, text: str, sender_id: str) -> tuple[list[dict[str, Any]], bool]:
    """The replies, and whether this message started the conversation."""
    new = agent.dialogue.store.retrieve(sender_id) is None
    return agent.handle(text, sender_id), new


def _messages(agent: Agent, sender_id: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    for event in agent.dialogue.tracker_for(sender_id).current_events:
        if isinstance(event, UserUttered):
            messages.append({"role": "user", "text": event.text, "timestamp": event.timestamp})
        elif isinstance(event, BotUttered):
            messages.append({"role": "bot", **event.message, "timestamp": event.timestamp})
    return messages


def _model_info(agent: Agent) -> dict[str, Any]:
    try:
        metadata = json.loads((training.model_dir(agent.project) / METADATA_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {key: metadata.get(key) for key in ("fingerprint", "trained_at")}
