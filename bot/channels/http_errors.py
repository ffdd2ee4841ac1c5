"""Every HTTP error as one small JSON body, decided in one place.

Clients get `{"error": "<a sentence>", "detail"?: ...}` with a 4xx status for anything
they can fix, and a short 500 for anything else; tracebacks stay in the server log. The
request-size limit lives here too, because FastAPI's own answers its 413 in plain text.
"""

from __future__ import annotations

import email.message
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.errors import CourseBotError

log = logging.getLogger(__name__)

JSON_HINT = 'send a JSON object with "Content-Type: application/json"'


def error_response(status: int, error: str, detail: Any = None, headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"error": error}
    if detail is not None:
        body["detail"] = detail
    return JSONResponse(body, status_code=status, headers=headers)


def install(app: FastAPI, max_body_bytes: int) -> None:
    """Replaces FastAPI's default error responses with ours, and limits request bodies."""
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(CourseBotError, _unavailable)
    app.add_exception_handler(Exception, _server_error)


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


async def _unavailable(request: Request, exc: CourseBotError) -> JSONResponse:
    # A store that is down or busy: its message is for the operator (it names hosts), not the client.
    log.error("%s %s: %s", request.method, request.url.path, exc)
    return error_response(503, "the bot cannot answer right now; please try again in a moment",
                          headers={"Retry-After": "5"})


async def _server_error(request: Request, exc: Exception) -> JSONResponse:
    # Starlette re-raises the exception after this response, so the server logs the traceback.
    return error_response(500, "something went wrong on the server; the error has been logged")


class BodyLimit:
    """413 for a request body over `max_bytes`: at once when Content-Length says so, else as
    soon as the bytes read pass it."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            return await error_response(413, self._message())(scope, receive, send)
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise HTTPException(413, self._message())  # answered by the app's handler
            return message

        await self.app(scope, counting_receive, send)

    def _message(self) -> str:
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
    parts = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path")]
    return ".".join(parts) or "body"


def _problem(error: dict[str, Any]) -> str:
    if error["type"] == "missing":
        return "required"
    if _loc(error) == "body":
        return "the body must be a JSON object"
    return str(error.get("msg", "invalid")).lower()
