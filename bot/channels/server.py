"""Running the HTTP app under uvicorn, for `coursebot serve`.

The port is bound before the model loads, so a busy port is reported at once and the
printed URL is the real one (also with `--port 0`); uvicorn starts listening on that
socket only when the bot is ready. Ctrl-C finishes the requests in flight, then stops.
"""

from __future__ import annotations

import errno
import socket

from bot.errors import CourseBotError

GRACEFUL_SHUTDOWN_SECONDS = 10


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


def run(app: object, sock: socket.socket) -> None:
    """Serves `app` on `sock` until Ctrl-C or SIGTERM.

    Logging goes through the root logger (`coursebot -v serve` shows each request).
    """
    import uvicorn

    config = uvicorn.Config(app, log_config=None, server_header=False,
                            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # uvicorn re-raises Ctrl-C after its graceful shutdown
    finally:
        sock.close()
