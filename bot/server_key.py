"""The server's secret key, and keyed hashes made with it.

A sender id is not a secret: it travels in URLs and logs, and a widget makes it up. So
nothing the bot leaves outside (AWS tags, which anyone with `ListTags` reads) carries it;
what carries a keyed hash of it instead cannot be traced back or forged without this key.
The key comes from `COURSEBOT_SECRET_KEY`, else from `.coursebot/secret.key` in the
project, created on first use (readable by its owner only). Keep that file: with a new
key, the bot no longer recognises what it started for its students.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

ENV_VAR = "COURSEBOT_SECRET_KEY"
KEY_FILE = Path(".coursebot") / "secret.key"
_MIN_CHARS = 16


def server_key(project_root: Path | str) -> bytes:
    """The key from the environment, or the project's key file (made when missing).

    Raises:
        ValueError: the environment's key is shorter than 16 characters.
        OSError: the key file can neither be read nor created.
    """
    configured = os.environ.get(ENV_VAR)
    if configured is not None:
        if len(configured) < _MIN_CHARS:
            raise ValueError(f"{ENV_VAR} must be at least {_MIN_CHARS} characters long")
        return configured.encode("utf-8")
    path = Path(project_root) / KEY_FILE
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode("ascii")
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return path.read_bytes().strip()
    with os.fdopen(descriptor, "wb") as file:
        file.write(key)
    return key


def keyed_hash(key: bytes, value: str, purpose: str) -> str:
    """A short, stable, unforgeable stand-in for `value`; `purpose` keeps the hashes made
    for one use (AWS tags) apart from those made for another (conversation keys)."""
    digest = hmac.new(key, f"{purpose}\0{value}".encode("utf-8"), hashlib.sha256).hexdigest()
    return digest[:32]
