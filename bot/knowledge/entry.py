"""The data model of the knowledge base: categories, entries and guide steps."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.errors import Location

SOURCE_KINDS = ("course", "general", "mixed")


@dataclass(frozen=True)
class Category:
    """A kind of entry, and the NLU entity that names entries of this kind."""

    name: str
    entity: str
    label: str


@dataclass(frozen=True)
class GuideStep:
    title: str
    instructions: tuple[str, ...]


@dataclass(frozen=True)
class Entry:
    """One thing the bot can explain; see knowledge/README.md for each field's meaning."""

    id: str
    name: str
    category: str
    summary: str
    details: str
    source: str
    source_kind: str = "course"
    aliases: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    order: int | None = None
    questions: tuple[str, ...] = ()
    substeps: tuple[str, ...] = ()
    steps: tuple[GuideStep, ...] = ()
    use_for: tuple[str, ...] = ()
    compares: tuple[str, ...] = ()
    contrast: dict[str, str] = field(default_factory=dict, hash=False)
    url: str | None = None
    location: Location | None = field(default=None, compare=False)

    @property
    def surface_forms(self) -> tuple[str, ...]:
        """Every way of naming this entry: display name first, then aliases."""
        return (self.name, *self.aliases)
