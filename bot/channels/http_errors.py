"""Every HTTP error as one small JSON body, decided in one place.

Clients get `{"error": "<a sentence>", "detail"?: ...}`: a 4xx status for anything they can
fix, 409 when their conversation changed under them, 503 with `Retry-After` when the
conversation store is down or busy (trying again helps), and 500 for a bot that is set up
wrongly or has a bug (trying again does not). Tracebacks and operator details (hosts,
paths) stay in the server log. The request-body guard lives here too, because its 413 and
408 are answered by these handlers.
"""

from __future__ import annotations

import email.message
import logging
import math
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.errors import CourseBotError

log = logging.getLogger(__name__)

JSON_HINT = 'send a JSON object with "Content-Type: application/json"'
RETRY_AFTER_S = 5


@dataclass(frozen=True)
class Fault:
    """What the client is told about an error of one kind."""

    status: int
    sentence: str
    retry: bool = False

    def response(self) -> JSONResponse:
        headers = {"Retry-After": str(RETRY_AFTER_S)} if self.retry else None
        return error_response(self.status, self.sentence, headers=headers)


STORE_DOWN = Fault(503, "the conversation store cannot be used right now (the server's log says why); please "
                        "try again in a moment", retry=True)
BUSY = Fault(503, "another message of this conversation is still being handled; send yours again in a moment",
             retry=True)
CONFLICT = Fault(409, "this conversation changed while your message was handled (another message of it was saved "
                      "first), so yours was not kept; send it again")
SETUP = Fault(500, "the bot is not set up correctly, so it cannot answer this; the server's log says what to fix")
AWS = Fault(502, "an AWS service did not answer as expected; the server's log has the details")

# By class name, so that a store's own errors map here without this module importing every
# store (and its optional client library). The class and its bases are looked up in order.
FAULTS: dict[str, Fault] = {
    "ConversationConflict": CONFLICT,
    "LockTimeout": BUSY,
    "StoreUnavailable": STORE_DOWN,
    "StoreError": STORE_DOWN,
    "sqlite3.Error": STORE_DOWN,
    "redis.exceptions.RedisError": STORE_DOWN,
    "ModelError": SETUP,
    "ConfigError": SETUP,
    "ProjectError": SETUP,
    "AwsProblem": AWS,
}


def fault_for(error: BaseException) -> Fault:
    """The fault an error is, by its class; a bare CourseBotError by where it was raised:
    in a store, the store is down; anywhere else (e.g. an action missing), the setup is wrong."""
    for cls in type(error).__mro__:
        fault = FAULTS.get(cls.__name__) or FAULTS.get(f"{cls.__module__}.{cls.__qualname__}")
        if fault is not None:
            return fault
    return STORE_DOWN if _raised_in(error, "bot.stores") else SETUP


def _raised_in(error: BaseException, package: str) -> bool:
    """Whether the innermost of our own frames that raised `error` is in `package`."""
    innermost = ""
    trace = error.__traceback__
    while trace is not None:
        module = trace.tb_frame.f_globals.get("__name__", "")
        if module.startswith("bot."):
            innermost = module
        trace = trace.tb_next
    return innermost == package or innermost.startswith(package + ".")


def error_response(status: int, error: str, detail: Any = None, headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"error": error}
    if detail is not None:
        body["detail"] = detail
    return JSONResponse(body, status_code=status, headers=headers)


def install(app: FastAPI, max_body_bytes: int, body_timeout_s: float) -> None:
    """Replaces FastAPI's default error responses with ours, and guards request bodies."""
    app.add_middleware(BodyGuard, max_bytes=max_body_bytes, timeout_s=body_timeout_s)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    for kind in _fault_classes():
        app.add_exception_handler(kind, _fault)
    app.add_exception_handler(Exception, _server_error)


def _fault_classes() -> list[type[BaseException]]:
    kinds: list[type[BaseException]] = [CourseBotError, sqlite3.Error]
    try:
        import redis  # only when installed: a Redis store is optional
    except ImportError:
        return kinds
    return [*kinds, redis.exceptions.RedisError]


async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    if exc.status_code == 404 and exc.detail == "Not Found":
        message = f"there is nothing at {request.url.path}"
    elif exc.status_code == 405:
        allowed = Headers(exc.headers or {}).get("allow", "another method")
        message = f"{request.method} is not allowed on {request.url.path}; use {allowed}"
    else:
        message = str(exc.detail)
    return error_response(exc.status_code, message, headers=exc.headers)


async def _invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    if any(error["type"] == "json_invalid" for error in errors):
        reason = errors[0].get("ctx", {}).get("error", "")
        return error_response(400, f"the body is not valid JSON ({reason}); {JSON_HINT}")
    if not _is_json(request.headers.get("content-type")) and any(_loc(e) == "body" for e in errors):
        return error_response(415, f"the body must be JSON; {JSON_HINT}")
    problems = [{"field": _loc(error), "problem": _problem(error)} for error in errors]
    summary = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
    return error_response(400, f"invalid request: {summary}", detail=problems)


async def _fault(request: Request, exc: Exception) -> JSONResponse:
    # The error's own message is for the operator (it may name hosts and files), not the client.
    fault = fault_for(exc)
    log.error("%s %s: %d (%s): %s", request.method, request.url.path, fault.status, type(exc).__name__, exc)
    return fault.response()


async def _server_error(request: Request, exc: Exception) -> JSONResponse:
    # Starlette re-raises the exception after this response, so the server logs the traceback.
    return error_response(500, "something went wrong on the server; the error has been logged")


class BodyGuard:
    """413 for a request body over `max_bytes` (at once when Content-Length says so, else
    as soon as the bytes read pass it), and 408 when the body has not all arrived within
    `timeout_s` of the request reaching the app, so a client sending it a byte at a time
    holds no thread and no connection for long."""

    def __init__(self, app: ASGIApp, max_bytes: int, timeout_s: float):
        self.app = app
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            return await error_response(413, self._too_large())(scope, receive, send)
        deadline = time.monotonic() + self.timeout_s
        received = 0
        complete = False

        async def guarded_receive() -> Message:
            nonlocal received, complete
            if complete:  # after the body: a wait for the client to disconnect, unbounded
                return await receive()
            message = await self._before(deadline, receive)
            received += len(message.get("body", b""))
            complete = not message.get("more_body", False)
            if received > self.max_bytes:
                raise HTTPException(413, self._too_large())  # answered by the app's handler
            return message

        await self.app(scope, guarded_receive, send)

    async def _before(self, deadline: float, receive: Receive) -> Message:
        with anyio.move_on_after(max(deadline - time.monotonic(), 0)):
            return await receive()
        raise HTTPException(408, f"the request body did not arrive within {math.ceil(self.timeout_s)} s; send it "
                                 "again, all at once", headers={"Connection": "close"})

    def _too_large(self) -> str:
        return f"the request body is larger than the limit of {self.max_bytes} bytes"


def _is_json(content_type: str | None) -> bool:
    if not content_type:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


def _loc(error: dict[str, Any]) -> str:
    """`("body", "message")` -> "message"; the body itself -> "body"."""
    parts = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def _problem(error: dict[str, Any]) -> str:
    if error["type"] == "missing":
        return "required"
    if error["type"] == "value_error" and "error" in error.get("ctx", {}):
        return str(error["ctx"]["error"])  # our validators' own sentence
    if _loc(error) == "body":
        return "the body must be a JSON object"
    return str(error.get("msg", "invalid")).lower()
