"""Real HTTP servers for the tests: `coursebot serve` in its own process, as a user runs
it, or an app under uvicorn in a thread (for an agent a test breaks on purpose)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import yaml

START_TIMEOUT_S = 240  # the course model loads torch and spaCy on a busy 2-core machine
LISTENING = re.compile(r"listening on (http://\S+)")


class ServeProcess:
    """`coursebot serve --port 0` for a project; `url` is the address it printed."""

    def __init__(self, project: Path, *args: str, log_dir: Path, env: dict[str, str] | None = None):
        self.command = [sys.executable, "-m", "bot", "serve", "--project", str(project), "--port", "0", *args]
        self.env = {key: value for key, value in os.environ.items() if key != "COURSEBOT_AUTH_TOKEN"}
        self.env.update(env or {})
        self.log_dir = log_dir
        self.process: subprocess.Popen | None = None
        self.url = ""
        self.starts = 0

    def start(self) -> str:
        self.starts += 1
        self.stdout_path = self.log_dir / f"serve-{self.starts}.out"
        self.stderr_path = self.log_dir / f"serve-{self.starts}.err"
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.process = subprocess.Popen(self.command, stdout=out, stderr=err, env=self.env)
        deadline = time.monotonic() + START_TIMEOUT_S
        while not (found := LISTENING.search(self.stdout)):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"coursebot serve did not start:\n{self.stdout}\n{self.stderr[-3000:]}")
            time.sleep(0.1)
        self.url = found.group(1)
        wait_until_healthy(self.url, deadline)
        return self.url

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGINT) -> int:
        """Stops the server as Ctrl-C (or `sig`) does; returns its exit status."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def kill(self) -> None:
        """Ends the server at once, as a crash would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@contextmanager
def serving(project: Path, *args: str, log_dir: Path, env: dict[str, str] | None = None) -> Iterator[ServeProcess]:
    server = ServeProcess(project, *args, log_dir=log_dir, env=env)
    server.start()
    try:
        yield server
    finally:
        server.kill()
    assert "Traceback" not in server.stderr, server.stderr


@contextmanager
def serving_app(app: object) -> Iterator[str]:
    """`app` under uvicorn in a thread on a free loopback port; yields its URL."""
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_config=None))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    url = "http://127.0.0.1:{}".format(sock.getsockname()[1])
    try:
        wait_until_healthy(url, time.monotonic() + 30)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


def endpoints_file(folder: Path, tracker_store: dict | None = None) -> Path:
    """An endpoints.yml with `tracker_store` (by default SQLite in `folder`)."""
    path = folder / "endpoints.yml"
    store = tracker_store or {"type": "sqlite", "db": str(folder / "conversations.db")}
    path.write_text(yaml.safe_dump({"tracker_store": store}), encoding="utf-8")
    return path


def wait_until_healthy(url: str, deadline: float) -> None:
    wait_until_ok(f"{url}/health", deadline)


def wait_until_ok(url: str, deadline: float, process: subprocess.Popen | None = None,
                  log: Path | None = None) -> None:
    """Polls `url` until it answers 200; fails with the server's log when it dies or is late."""
    while True:
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if (process is not None and process.poll() is not None) or time.monotonic() > deadline:
            output = log.read_text(errors="replace")[-3000:] if log else ""
            raise RuntimeError(f"{url} did not answer in time\n{output}")
        time.sleep(0.1)


def free_port() -> int:
    """A loopback port that is free now, for servers that cannot pick their own."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running(command: list[str], ready_url: str, *, log: Path, cwd: Path, env: dict[str, str] | None = None,
            timeout: float = START_TIMEOUT_S) -> Iterator[subprocess.Popen]:
    """A server command in its own process, from when `ready_url` answers until the block ends."""
    with open(log, "wb") as out:
        process = subprocess.Popen(command, cwd=cwd, env={**os.environ, **(env or {})}, stdout=out,
                                   stderr=subprocess.STDOUT)
    try:
        wait_until_ok(ready_url, time.monotonic() + timeout, process, log)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's AWS simulator on a free loopback port; yields its URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{server._server.server_port}"
    finally:
        server.stop()
