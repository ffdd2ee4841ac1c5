"""The HTTP channel: Rasa's REST webhook and /model/parse, the web widget, and each
conversation's history (so the widget can show it again after a reload).

A thin FastAPI layer over an Agent. Replies keep Rasa's REST channel shape, so Rasa
chat widgets and scripts work unchanged. `Agent.handle` is synchronous and thread-safe
(a lock per sender, one parse at a time), so the endpoints are plain `def`s that FastAPI
runs in its thread pool and the event loop never waits on the model.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query
from fastapi import Path as PathParam
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from bot import __version__
from bot.agent import Agent
from bot.channels import http_errors
from bot.dialogue.events import BotUttered, UserUttered
from bot.nlu import training
from bot.nlu.pipeline import METADATA_FILE

STATIC_DIR = Path(__file__).with_name("static")
MAX_SENDER_CHARS = 200
# The NLU parses one message at a time anyway, and every thread that has run the model keeps
# about 4 MB: with FastAPI's default of 40 threads the course bot's server grew to 700 MB under
# 64 concurrent senders, with 8 to 580 MB, at the same turns per second.
WORKER_THREADS = 8
# The widget talks only to its own server; bot images and audio may come from anywhere.
WIDGET_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src * data:; media-src * data: blob:; "
                               "object-src 'none'; base-uri 'none'; frame-ancestors 'self'",
    "X-Content-Type-Options": "nosniff",
}


# Module-level: FastAPI resolves the (postponed) annotations of dependencies in module scope.
_bearer = HTTPBearer(auto_error=False)


class UserMessage(BaseModel):
    """Rasa's REST channel input; other keys (metadata, input_channel) are ignored, as in Rasa."""

    sender: str = Field("default", min_length=1, max_length=MAX_SENDER_CHARS)
    message: str


class ParseRequest(BaseModel):
    text: str


def create_app(agent: Agent, *, auth_token: str | None = None, cors_origins: Sequence[str] = (),
               max_body_bytes: int = 64 * 1024, max_message_chars: int = 5000,
               media_dir: Path | None = None, worker_threads: int = WORKER_THREADS) -> FastAPI:
    """The web app serving `agent`.

    Args:
        auth_token: when set, the API routes require it (`?token=` or `Authorization: Bearer`).
        cors_origins: origins allowed to call the API from a browser ("*" for any); none by default.
        max_body_bytes: larger request bodies get 413.
        max_message_chars: longer messages get 413.
        media_dir: files served under /media/ (e.g. Polly's audio), when given.
        worker_threads: threads running the (synchronous) endpoints.
    """
    app = FastAPI(title="CourseBot", version=__version__, docs_url=None, redoc_url=None,
                  lifespan=_worker_threads(worker_threads))
    http_errors.install(app, max_body_bytes)
    if cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"])
    api = APIRouter(dependencies=[Depends(_token_check(auth_token))] if auth_token else [])

    def checked(text: str) -> str:
        if not text.strip():
            raise HTTPException(400, "the message is empty")
        if len(text) > max_message_chars:
            raise HTTPException(413, f"the message is {len(text)} characters long; the limit is "
                                     f"{max_message_chars} characters")
        return text

    @api.post("/webhooks/rest/webhook", response_model=None)
    def webhook(body: UserMessage) -> list[dict[str, Any]]:
        """The bot's replies to one message (Rasa's REST channel)."""
        return agent.handle(checked(body.message), body.sender)

    @api.post("/model/parse", response_model=None)
    def parse(body: ParseRequest) -> dict[str, Any]:
        """The NLU result for a text, without touching any conversation (Rasa's /model/parse)."""
        return agent.parse(checked(body.text))

    @api.get("/conversations/{sender_id}/messages", response_model=None)
    def conversation(sender_id: Annotated[str, PathParam(max_length=MAX_SENDER_CHARS)]) -> dict[str, Any]:
        """The user's and the bot's messages since the conversation's last restart."""
        return {"sender_id": sender_id, "messages": _messages(agent, sender_id)}

    app.include_router(api)
    model = _model_info(agent)

    @app.get("/health", response_model=None)
    def health() -> dict[str, Any]:
        return {"status": "ok", "version": __version__, "model": model}

    @app.get("/", include_in_schema=False)
    def widget() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers=WIDGET_HEADERS)

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    if media_dir is not None:
        app.mount("/media", StaticFiles(directory=media_dir), name="media")
    return app


def _worker_threads(count: int) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = count
        yield

    return lifespan


def _token_check(expected: str) -> Callable[..., None]:
    def check(token: Annotated[str | None, Query(description="The server's auth token.")] = None,
              credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)] = None) -> None:
        given = token or (credentials.credentials if credentials else "")
        if not secrets.compare_digest(given.encode(), expected.encode()):
            raise HTTPException(401, "a valid token is required: add ?token=... or the header "
                                     "Authorization: Bearer ...", headers={"WWW-Authenticate": "Bearer"})

    return check


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
