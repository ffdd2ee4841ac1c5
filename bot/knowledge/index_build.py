"""Building the answer index at train time, and choosing its decline thresholds.

The thresholds are chosen on held-out examples, as the NLU's fallback thresholds are:
the project's in-scope questions (the examples of its question intents), in five folds so
that each question is judged with a vocabulary its words did not go into, and its
out-of-scope examples. Of every pair (floor, strong) the one that declines
the most out-of-scope examples while declining at most `MAX_IN_SCOPE_DECLINED` of the
in-scope questions wins, for the dense engine and for the lexical one (the Lex hook).
The Lex hook's scope model (`bot.knowledge.scope`) gets its threshold the same way: the
lowest out-of-scope probability at which at most `MAX_IN_SCOPE_DECLINED` of the held-out
in-scope questions would be declined (leaning out of scope, and not clearly answered by
the notes).

Heavy (scikit-learn's stop words, wordfreq's word list, the sentence encoder): only
`coursebot train` imports it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.knowledge.answer_index import (
    AnswerIndex,
    build_vocabulary,
    course_words,
    written_words,
)
from bot.knowledge.answers import AnswerEngine
from bot.knowledge.scope import ScopeModel, train_scope_model

MAX_IN_SCOPE_DECLINED = 0.02
# The notes overrule the NLU's "out of scope" only for a question they hold at least as much
# of as they hold of a typical (the median) held-out in-scope question; see `_overrule`.
OVERRULE_QUANTILE = 0.5
FOLDS = 5
NOTES_GLOB = "*.md"


def notes_files(knowledge_dir: Path) -> list[Path]:
    """The course notes: every Markdown file of the knowledge folder but its README."""
    return sorted(p for p in knowledge_dir.glob(NOTES_GLOB) if p.name.lower() != "readme.md")


def build_answer_index(project: Any, embed: Callable[[list[str]], Any] | None,
                       question_intents: tuple[str, ...], out_of_scope_intents: tuple[str, ...],
                       seed: int = 0) -> AnswerIndex:
    """The project's answer index, with thresholds chosen on held-out examples."""
    examples = project.nlu.examples
    questions = [e.text for e in examples if e.intent in question_intents]
    out_of_scope = [e.text for e in examples if e.intent in out_of_scope_intents]
    others = [e.text for e in examples if e.intent not in question_intents and e.intent not in out_of_scope_intents]
    index = AnswerIndex.build(project.knowledge, notes_files(project.root / "knowledge"),
                              asked=[*questions, *others], embed=embed)
    index.thresholds = calibrate(index, project.knowledge, questions, others, out_of_scope, embed, seed)
    index.scope = scope_model(index, project.knowledge, questions, others, out_of_scope, seed)
    return index


def scope_model(index: AnswerIndex, knowledge: Any, questions: list[str], others: list[str],
                out_of_scope: list[str], seed: int = 0) -> ScopeModel | None:
    """The Lex hook's scope model, its threshold chosen on the in-scope questions' held-out
    probabilities (see the module's docstring); None without out-of-scope examples."""
    if not out_of_scope or not questions:
        return None
    scope, held_out = train_scope_model([*questions, *others], out_of_scope, seed=seed)
    engine = AnswerEngine(index, knowledge)  # the hook's engine: lexical
    unanswered = [share for question, share in zip(questions, held_out, strict=False)
                  if not engine.clearly_answers(engine.answer(question))]
    scope.threshold = _lowest_within_budget(unanswered, int(MAX_IN_SCOPE_DECLINED * len(questions)))
    return scope


def _lowest_within_budget(shares: list[float], budget: int) -> float:
    """The lowest threshold that at most `budget` of `shares` reach."""
    ranked = sorted((round(share, 4) for share in shares), reverse=True)
    if len(ranked) <= budget:
        return 0.0
    return round(ranked[budget] + 1e-4, 4)


def calibrate(index: AnswerIndex, knowledge: Any, questions: list[str], others: list[str],
              out_of_scope: list[str], embed: Callable[[list[str]], Any] | None, seed: int = 0) -> dict[str, float]:
    """Thresholds from every in-scope question, each judged with a vocabulary its own fold
    did not contribute to (so that its words are as new as a student's), against the
    out-of-scope examples."""
    full = index.vocabulary
    course, written = course_words(index.passages, knowledge), written_words(index.passages, knowledge)
    order = list(range(len(questions)))
    random.Random(seed).shuffle(order)
    folds = [order[k::FOLDS] for k in range(FOLDS)] if questions else []
    thresholds: dict[str, float] = {}
    modes = [("lexical", None)] + ([("dense", embed)] if embed is not None and index.vectors is not None else [])
    for mode, embedder in modes:
        engine = AnswerEngine(index, knowledge, (lambda text, e=embedder: e([text])[0]) if embedder else None)
        inside: list[tuple[float, bool, bool]] = []
        for fold in folds:
            held = set(fold)
            index.vocabulary = build_vocabulary(course, [q for i, q in enumerate(questions) if i not in held] + others,
                                                full.stop_words, sorted(full.common), written)
            inside += [_signals(engine, questions[i]) for i in fold]
        index.vocabulary = full
        outside = [_signals(engine, text) for text in out_of_scope]
        floor, strong = _best_pair(inside, outside)
        thresholds[f"{mode}_floor"], thresholds[f"{mode}_strong"] = floor, strong
        if mode == "lexical":
            thresholds["lexical_overrule"] = _overrule(inside)
    return thresholds


def _overrule(inside: list[tuple[float, bool, bool]]) -> float:
    """The lexical support under which the notes do not overrule the NLU's "out of scope".

    A near miss ("how do I attach an EBS volume to an EC2 instance") is close to a passage
    in meaning, but that passage holds few of its words. The rule only meets what the NLU
    calls out of scope, so the in-scope questions it costs are the NLU's few mistakes there
    that the notes hold less of than usual."""
    supports = sorted(support for support, _, _ in inside)
    if not supports:
        return 0.0
    return round(supports[int(OVERRULE_QUANTILE * (len(supports) - 1))], 4)


def _signals(engine: AnswerEngine, text: str) -> tuple[float, bool, bool]:
    """(support, has unknown words, names an unknown product or acronym) for one question."""
    vocabulary = engine.index.vocabulary
    _, _, support, _ = engine._rank(text, [], None, set(), set())  # noqa: SLF001  (the engine's own measure)
    return support, bool(vocabulary.unknown(text)), bool(engine.unknown_products(text))


def _best_pair(inside: list[tuple[float, bool, bool]], outside: list[tuple[float, bool, bool]]) -> tuple[float, float]:
    def declined(signal: tuple[float, bool, bool], floor: float, strong: float) -> bool:
        support, unknown, product = signal
        return product or (unknown and support < strong) or support < floor

    values = sorted({round(s, 4) for s, _, _ in inside + outside})
    step = max(1, len(values) // 200)
    candidates = [0.0, *values[::step], 1.01]
    best = (-1.0, 0.0, 1.01)
    budget = MAX_IN_SCOPE_DECLINED * len(inside)
    for floor in candidates:
        if sum(declined(s, floor, 0.0) for s in inside) > budget:
            break
        for strong in candidates:
            if strong < floor:
                continue
            if sum(declined(s, floor, strong) for s in inside) > budget:
                break
            caught = sum(declined(s, floor, strong) for s in outside)
            if caught > best[0]:
                best = (caught, floor, strong)
    return best[1], best[2]
