"""Running the HTTP app under uvicorn, for `coursebot serve`.

The port is bound before the model loads, so a busy port is reported at once and the
printed URL is the real one (also with `--port 0`); uvicorn starts listening on that
socket only when the bot is ready. Ctrl-C finishes the requests in flight, then stops.

uvicorn closes a keep-alive connection that idles, but nothing else: a connection that
never sends a request, or sends half of one, stayed open for good (300 of 300 after 95 s),
and idle sockets ran the process out of file descriptors. So here a request must arrive
whole within `REQUEST_TIMEOUT_S` of the connection opening or of its first byte (its body
gets as long again, see `http_errors.BodyGuard`), its head may not pass `MAX_HEAD_BYTES`,
and connections beyond `max_connections()` are answered 503 and closed at once.
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import re
import resource
import socket
from collections.abc import Callable
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from bot.errors import CourseBotError

GRACEFUL_SHUTDOWN_SECONDS = 10
KEEP_ALIVE_S = 5
REQUEST_TIMEOUT_S = 10
MAX_HEAD_BYTES = 64 * 1024
MAX_CONNECTIONS = 1000
RESERVED_DESCRIPTORS = 128  # for the model's files, the stores, AWS and the log


def bind(host: str, port: int) -> socket.socket:
    """A socket bound to host:port, not yet listening.

    Raises:
        CourseBotError: the host is unknown or the port is taken or not allowed.
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as error:
        raise CourseBotError(f"cannot listen on {host!r}: {error.strerror}; give an address such as "
                             "127.0.0.1 or 0.0.0.0 with --host") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise CourseBotError(f"port {port} on {host} is already in use: stop the program using it, "
                                 "or choose another port with --port") from None
        raise CourseBotError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    return sock


def url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def max_connections() -> int:
    """As many connections as the process's file descriptors allow, keeping some for itself."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return MAX_CONNECTIONS
    return max(1, min(MAX_CONNECTIONS, soft - RESERVED_DESCRIPTORS))


def config(app: object) -> Any:
    """uvicorn's configuration for `app`, with the limits above."""
    import uvicorn

    return uvicorn.Config(app, log_config=None, server_header=False, http=BoundedHttpProtocol,
                          timeout_keep_alive=KEEP_ALIVE_S, limit_concurrency=max_connections(),
                          timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS)


def run(app: object, sock: socket.socket, on_ready: Callable[[], None] | None = None) -> None:
    """Serves `app` on `sock` until Ctrl-C or SIGTERM.

    `on_ready` runs once uvicorn listens and handles Ctrl-C and SIGTERM: a "listening"
    line printed before that promised a server that a Ctrl-C could then leave hanging.
    Logging goes through the root logger (`coursebot -v serve` shows each request, with
    any `?token=` blanked out).
    """
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactSecrets) for f in access.filters):
        access.addFilter(RedactSecrets())
    try:
        _Server(config(app), on_ready).run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # uvicorn re-raises Ctrl-C after its graceful shutdown
    finally:
        sock.close()


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, on_ready: Callable[[], None] | None):
        super().__init__(config)
        self._on_ready = on_ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started and self._on_ready is not None:
            self._on_ready()


class RedactSecrets(logging.Filter):
    """Blanks the value of `token=` in a log line (uvicorn's access log has the query)."""

    PATTERN = re.compile(r"(?<=[?&;]token=)[^&\s\"]*", re.IGNORECASE)

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(self.PATTERN.sub("[redacted]", arg) if isinstance(arg, str) else arg
                                for arg in record.args)
        if isinstance(record.msg, str):
            record.msg = self.PATTERN.sub("[redacted]", record.msg)
        return True


class BoundedHttpProtocol(HttpToolsProtocol):
    """uvicorn's HTTP protocol with a deadline per request, a limit on a request's head and
    on the number of connections (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._head_bytes = 0
        self._refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if self.limit_concurrency is not None and len(self.connections) >= self.limit_concurrency:
            self._refuse(503, "the server has too many connections open; please try again in a moment",
                         retry_after=True)
            return
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if not self._refused:
            super().data_received(data)

    def send_400_response(self, msg: str) -> None:
        if not self._refused:  # a parser error after our own refusal: already answered
            super().send_400_response(msg)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes = 0
        self._arm()

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def _count(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > MAX_HEAD_BYTES:
            self._refuse(431, f"the request's line and headers are larger than {MAX_HEAD_BYTES // 1024} KB")
            raise ValueError("request head too large")  # stops the parser; answered already

    def _arm(self) -> None:
        if self._deadline is None:
            self._deadline = self.loop.call_later(REQUEST_TIMEOUT_S, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        """The request has not all arrived in time: close, unless the app is answering it
        (BodyGuard then answers 408), in which case close after that answer."""
        self._deadline = None
        if self.cycle is None or self.cycle.response_complete:
            self.transport.close()
        else:
            self.cycle.keep_alive = False

    def _refuse(self, status: int, sentence: str, *, retry_after: bool = False) -> None:
        self._refused = True
        self._disarm()
        body = json.dumps({"error": sentence}).encode()
        reason = {408: b"Request Timeout", 431: b"Request Header Fields Too Large", 503: b"Service Unavailable"}
        head = [b"HTTP/1.1 %d %s" % (status, reason[status]), b"content-type: application/json",
                b"content-length: %d" % len(body), b"connection: close"]
        if retry_after:
            head.append(b"retry-after: 5")
        if not self.transport.is_closing():
            self.transport.write(b"\r\n".join(head) + b"\r\n\r\n" + body)
            self.transport.close()
