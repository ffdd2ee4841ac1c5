"""Chatting in a terminal (`coursebot chat`).

Buttons are shown as numbered choices; typing the number sends the button's payload.
`/debug` toggles showing the parse (intent, confidence, entities), `/restart` starts
over, and Ctrl-D, Ctrl-C or "bye" leave.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from bot.agent import Agent

EXIT_WORDS = ("bye", "goodbye", "exit", "quit")
PROMPT = "[bold cyan]you[/] > "


class TerminalChat:
    def __init__(self, agent: Agent, console: Console | None = None, sender_id: str = "terminal",
                 read: Callable[[str], str] | None = None):
        self.agent = agent
        self.console = console or Console(highlight=False, emoji=False)
        self.sender_id = sender_id
        self.read = read or (lambda prompt: self.console.input(prompt))
        self.debug = False
        self._buttons: list[dict[str, Any]] = []

    def run(self) -> None:
        _line_editing()
        self.console.print("[bold]CourseBot[/] - ask me about the AWS machine-learning intro course. "
                           "[dim](/debug shows what I understood, /restart starts over, bye leaves)[/]")
        while True:
            try:
                text = self.read(PROMPT).strip()
            except (EOFError, KeyboardInterrupt):
                self.console.print()
                return
            if not text:
                continue
            if text == "/debug":
                self.debug = not self.debug
                self.console.print(f"[dim]debug {'on' if self.debug else 'off'}[/]")
                continue
            if text.isdigit() and self._buttons and not 1 <= int(text) <= len(self._buttons):
                self.console.print(f"[dim]{text} is not one of the choices: type a number from 1 to "
                                   f"{len(self._buttons)}, or ask in words.[/]")
                continue
            self.turn(self._chosen_payload(text))
            if text.lower().strip(" !.") in EXIT_WORDS:
                return

    def turn(self, text: str) -> None:
        """Sends one message and prints the replies."""
        parse = self.agent.parse(text)
        if self.debug:
            self._show_parse(parse)
        replies = self.agent.dialogue.handle(self.sender_id, text, parse)
        self._buttons = []
        for reply in replies:
            self._show(reply)

    def _chosen_payload(self, text: str) -> str:
        if text.isdigit() and 1 <= int(text) <= len(self._buttons):
            return str(self._buttons[int(text) - 1].get("payload") or self._buttons[int(text) - 1]["title"])
        return text

    def _show(self, reply: dict[str, Any]) -> None:
        if reply.get("text"):
            self.console.print(f"[bold green]bot[/] > {escape(reply['text'])}")
        for key in ("image", "attachment"):
            if reply.get(key):
                # soft_wrap: a file path or URL must stay on one line to be copied.
                where = _media_location(reply[key], self._media_dir())
                self.console.print(f"      [dim]{key}:[/] {escape(where)}", soft_wrap=True)
        buttons = reply.get("buttons") or []
        for number, button in enumerate(buttons, start=len(self._buttons) + 1):
            self.console.print(f"      [bold]{number}[/]. {escape(str(button.get('title', '')))}")
        self._buttons += buttons

    def _media_dir(self) -> Path | None:
        aws = self.agent.dialogue.aws
        return aws.settings.media_dir if aws is not None else None

    def _show_parse(self, parse: dict[str, Any]) -> None:
        intent = parse.get("intent") or {}
        entities = ", ".join(f"{e['entity']}={e['value']}" for e in parse.get("entities", [])) or "none"
        self.console.print(f"[dim]  intent: {intent.get('name')} ({intent.get('confidence', 0):.2f}); "
                           f"entities: {escape(entities)}[/]")


def _media_location(media: Any, media_dir: Path | None) -> str:
    """Where a terminal user finds an image or attachment: the local file behind a /media/
    URL (replies never carry server paths; the terminal user is on the server), else the URL."""
    source = str(((media.get("payload") or {}).get("src") or media) if isinstance(media, dict) else media)
    if media_dir is not None and source.startswith("/media/"):
        local = media_dir / source.removeprefix("/media/")
        if local.is_file():
            return str(local.resolve())
    return source


def _line_editing() -> None:
    """Arrow keys edit the line and walk the history (instead of printing ^[[A): Python's
    readline, which input() uses once imported; absent on some platforms, and then not needed."""
    import sys

    if sys.stdin.isatty():
        try:
            import readline  # noqa: F401
        except ImportError:
            pass
