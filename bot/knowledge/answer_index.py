"""The answer index: the passages, their lexical index, their sentence vectors and the
course's vocabulary, built at train time and stored with the model (`answers/`).

Stored as JSON, and the vectors as a NumPy array, so that it is rebuilt exactly when the
model is (the model's fingerprint covers the knowledge base and the notes), and so that
the Lex code hook can read the passages, the lexical index and the vocabulary without
NumPy: it answers from the lexical half alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.errors import ModelError
from bot.knowledge.base import KnowledgeBase
from bot.knowledge.lexical import LexicalIndex, stem, words
from bot.knowledge.passages import FROM_NOTES, Passage, build_passages
from bot.knowledge.scope import ScopeModel
from bot.knowledge.vocabulary import Vocabulary

INDEX_DIR = "answers"
_DATA, _VECTORS, _SCOPE = "index.json", "vectors.npy", "scope.json"
FORMAT = 2  # 2: a list after a sentence that ends with ":" is that sentence's children
COMMON_WORDS = 25_000  # the everyday English words (by frequency) that never give a question away

Embed = Callable[[list[str]], Any]  # texts -> a (len, dimensions) array of unit vectors


@dataclass
class AnswerIndex:
    passages: list[Passage]
    notes: LexicalIndex          # over the passages of the notes, by position in `note_ids`
    knowledge: LexicalIndex      # over the knowledge base's passages, by position in `entry_ids`
    note_ids: list[int]
    entry_ids: list[int]
    vocabulary: Vocabulary
    thresholds: dict[str, float]
    vectors: Any = None          # NumPy array (passages x dimensions), or None without NumPy
    scope: ScopeModel | None = None  # whether a message is the course's, for the Lex hook
    # where the stored scope model is, until `scope_model()` first reads it: only the Lex
    # hook asks, so no other process pays for reading its weights at start-up
    scope_path: Path | None = None

    @classmethod
    def build(cls, knowledge: KnowledgeBase, notes: list[Path], *, asked: Iterable[str] = (),
              embed: Embed | None = None) -> AnswerIndex:
        """Everything but the thresholds, which `calibrate` chooses. `asked` are in-scope
        questions as students word them (the NLU's examples): their words are known."""
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
        from wordfreq import top_n_list

        passages = build_passages(knowledge, notes)
        stop_words = frozenset(ENGLISH_STOP_WORDS) | {"s", "t", "don't", "i'm", "what's", "whats"}
        note_ids = [p.id for p in passages if p.kind in FROM_NOTES]
        entry_ids = [p.id for p in passages if p.kind not in FROM_NOTES]
        texts = searchable(passages)
        notes_index = LexicalIndex.build([texts[i] for i in note_ids], stop_words)
        entries_index = LexicalIndex.build([texts[i] for i in entry_ids], stop_words)
        vocabulary = build_vocabulary(course_words(passages, knowledge), list(asked), stop_words,
                                      top_n_list("en", COMMON_WORDS), written_words(passages, knowledge))
        vectors = embed(texts) if embed is not None else None
        return cls(passages, notes_index, entries_index, note_ids, entry_ids, vocabulary, {}, vectors)

    def save(self, directory: Path) -> None:
        folder = directory / INDEX_DIR
        folder.mkdir(parents=True, exist_ok=True)
        data = {"format": FORMAT, "passages": [p.as_dict() for p in self.passages],
                "notes": self.notes.as_dict(), "knowledge": self.knowledge.as_dict(),
                "note_ids": self.note_ids, "entry_ids": self.entry_ids,
                "vocabulary": self.vocabulary.as_dict(), "thresholds": self.thresholds}
        (folder / _DATA).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        if self.scope is not None:
            (folder / _SCOPE).write_text(json.dumps(self.scope.as_dict(), ensure_ascii=False), encoding="utf-8")
        if self.vectors is not None:
            import numpy as np

            np.save(folder / _VECTORS, self.vectors.astype(np.float16), allow_pickle=False)

    @classmethod
    def load(cls, directory: Path, *, vectors: bool = True) -> AnswerIndex:
        """Reads the index; `vectors=False` (the Lex code hook) leaves NumPy out.

        Raises:
            ModelError: the index is missing or damaged, with how to fix it.
        """
        folder = directory / INDEX_DIR
        try:
            data = json.loads((folder / _DATA).read_text(encoding="utf-8"))
            if data.get("format") != FORMAT:
                raise ValueError(f"format {data.get('format')}, this CourseBot reads {FORMAT}")
            index = cls([Passage.from_dict(p) for p in data["passages"]], LexicalIndex.from_dict(data["notes"]),
                        LexicalIndex.from_dict(data["knowledge"]), data["note_ids"], data["entry_ids"],
                        Vocabulary.from_dict(data["vocabulary"]), dict(data["thresholds"]),
                        scope_path=folder / _SCOPE if (folder / _SCOPE).exists() else None)
            if vectors and (folder / _VECTORS).exists():
                import numpy as np

                index.vectors = np.load(folder / _VECTORS, allow_pickle=False).astype(np.float32)
        except FileNotFoundError:
            raise ModelError(f"the model has no answer index ({folder}); run `coursebot train --force`") from None
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ModelError(f"the answer index in {folder} is damaged ({error}); run `coursebot train --force`"
                             ) from None
        return index

    def scope_model(self) -> ScopeModel | None:
        """The scope model, read from the model folder the first time it is asked for.

        Raises:
            ModelError: the stored scope model is damaged, with how to fix it.
        """
        if self.scope is None and self.scope_path is not None:
            try:
                self.scope = ScopeModel.from_dict(json.loads(self.scope_path.read_text(encoding="utf-8")))
            except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
                raise ModelError(f"the scope model {self.scope_path} is damaged ({error}); "
                                 "run `coursebot train --force`") from None
            self.scope_path = None
        return self.scope


def search_text(passage: Passage) -> str:
    """What retrieval reads of a passage: its heading, what it is about, and its text."""
    heading = passage.section.rsplit(" > ", 1)[-1].removeprefix("Course: ")
    return " ".join(part for part in (heading, passage.context, passage.text) if part)


def searchable(passages: list[Passage], limit: int = 60) -> list[str]:
    """Each passage's search text; a passage that heads a list ("ML", "Tools for ML") is
    read with its items, which say what it is about better than its own few words."""
    children: dict[int, list[str]] = {}
    for passage in passages:
        if passage.parent is not None:
            children.setdefault(passage.parent, []).append(passage.text)
    texts = []
    for passage in passages:
        items = " ".join(children.get(passage.id, [])).split()[:limit]
        texts.append(" ".join([search_text(passage), *items]))
    return texts


def course_words(passages: list[Passage], knowledge: KnowledgeBase) -> list[str]:
    """The texts whose words the course uses: the notes themselves and the names of its
    topics. The knowledge base's own sentences are left out: they add general words
    ("epochs", "regularization") that the notes never teach."""
    notes = [search_text(p) for p in passages if p.kind in FROM_NOTES]
    return [*notes, *(form for entry in knowledge for form in entry.surface_forms)]


def written_words(passages: list[Passage], knowledge: KnowledgeBase) -> list[str]:
    """The texts that spell the course's words right: the notes and the topics' names (their
    aliases hold the typos students make, "rekogntion", for the entity matcher to find)."""
    return [*(search_text(p) for p in passages if p.kind in FROM_NOTES), *(entry.name for entry in knowledge)]


def build_vocabulary(course: list[str], asked: list[str], stop_words: frozenset[str],
                     common: list[str], written_from: list[str] | None = None) -> Vocabulary:
    """The words the course and students' in-scope questions use, as stems; and how the
    course writes each stem (in `written_from`, by default `course`), to correct a typo
    back into a word."""
    used = {word for text in [*course, *asked] for word in words(text)}
    written: dict[str, str] = {}
    for text in course if written_from is None else written_from:
        for word in words(text):
            written.setdefault(stem(word), word)
    return Vocabulary({stem(word) for word in used}, common, stop_words, written,
                      spelled=[word for word in used if len(word) >= 5])
