"""Does adding one entry or one intent and retraining leave unrelated answers alone?

    .venv/bin/python benchmarks/instructor_stability.py [--answers tests/data/answer_set.yml]

An instructor's everyday edit: one more knowledge entry, or one more intent with its
examples, response and rule. This trains the shipped project in a temporary copy, plays the
answer set and the conversation tests, makes each edit in a fresh copy holding that model
(as an instructor retrains in place: `coursebot train` keeps the fine-tuned encoder after a
small edit), retrains and plays them again; `--fresh` retrains the edited copy from nothing. An item is unrelated to an edit when none of its turns uses the edit's words;
of those, it reports how many replies changed and how many went from right to wrong
(the issue's bar: at most 1% changed, none right to wrong), and which conversation tests
flipped. Takes about two and a half minutes of training per model on 2 cores (three
models; `--edit entry` or `--edit intent` trains two).
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.story_robustness import offline_aws  # noqa: E402
from bot.agent import Agent  # noqa: E402
from bot.dialogue.conversation_tests import (  # noqa: E402
    read_conversation_tests,
    run_conversation_tests,
)
from bot.evaluation.answer_set import Item, judge, read_answer_set  # noqa: E402
from bot.project import copy_project, load_project  # noqa: E402

NEW_ENTRY = """
  - id: epoch
    name: Epoch
    category: concept
    aliases: [epoch, epochs, training epoch, epok]
    summary: >-
      An epoch is one full pass of the training algorithm over the whole training
      dataset; training usually runs for several epochs.
    details: >-
      Each epoch shows the model every training example once. More epochs let the
      model fit the data more closely, and too many can lead to overfitting.
    examples:
      - "Training an image classifier for 10 epochs shows it every training image 10 times."
    related: [overfitting]
    source: "Course: AI and ML"
    source_kind: mixed
"""

NEW_INTENT_EXAMPLES = ["when are office hours", "what time are the office hours", "office hours?",
                       "can I meet the instructor", "when can I talk to the teacher", "is there a TA session",
                       "when does the instructor hold office hours", "where are office hours held"]


@dataclass(frozen=True)
class Edit:
    name: str
    words: tuple[str, ...]   # an item using any of these is related to the edit
    probe: tuple[str, str]   # a question the edit answers, and a phrase its answer holds


EDITS = (Edit("one knowledge entry (Epoch)", ("epoch", "epok"), ("what is an epoch?", "full pass")),
         Edit("one intent (office hours)", ("office hour", "instructor", "teacher", " ta "),
              ("when are office hours?", "Office hours are on the course page")))


def add_entry(project: Path) -> None:
    concepts = project / "knowledge" / "concepts.yml"
    concepts.write_text(concepts.read_text(encoding="utf-8").rstrip("\n") + "\n" + NEW_ENTRY, encoding="utf-8")


def add_intent(project: Path) -> None:
    nlu = project / "nlu_data" / "nlu.yml"
    examples = "".join(f"    - {text}\n" for text in NEW_INTENT_EXAMPLES)
    nlu.write_text(nlu.read_text(encoding="utf-8").rstrip("\n")
                   + f"\n\n- intent: ask_office_hours\n  examples: |\n{examples}", encoding="utf-8")
    domain = project / "domain.yml"
    text = domain.read_text(encoding="utf-8")
    text = text.replace("intents:\n", "intents:\n  - ask_office_hours\n", 1)
    text = text.replace("responses:\n", "responses:\n  utter_office_hours:\n"
                        "    - text: \"Office hours are on the course page.\"\n", 1)
    domain.write_text(text, encoding="utf-8")
    rules = project / "nlu_data" / "rules.yml"
    rules.write_text(rules.read_text(encoding="utf-8").rstrip("\n")
                     + "\n  - rule: Office hours\n    steps:\n      - intent: ask_office_hours\n"
                       "      - action: utter_office_hours\n", encoding="utf-8")


def play(project_dir: Path, items: list[Item], stories: Path, probe: tuple[str, str] | None = None
         ) -> tuple[dict[str, tuple[bool, tuple[str, ...]]], set[str], float]:
    """Trains `project_dir`; each item's (passed, replies) and the failing conversation
    tests. `probe`: a question the edit must answer, or the edit did not take."""
    started = time.perf_counter()
    project = load_project(project_dir)
    agent = Agent.from_project(project, aws=offline_aws(project))
    trained = time.perf_counter() - started
    if probe is not None:
        reply = "\n".join(str(m.get("text") or "") for m in agent.handle(probe[0], "stability-probe"))
        if probe[1] not in reply:
            sys.exit(f"the edit did not take: {probe[0]!r} got {reply!r}")
    results = {}
    for number, item in enumerate(items):
        replies, passed = [], True
        for check in item.checks:
            messages = agent.handle(check.text, f"stability-{number}")
            reply = "\n".join(str(m.get("text") or "") for m in messages)
            declined = any((m.get("custom") or {}).get("declined") is True for m in messages
                           if isinstance(m.get("custom"), dict))
            replies.append(reply)
            passed = passed and judge(check, reply, declined)
        results[item.id] = (passed, tuple(replies))
    tests = [t for path in sorted(stories.glob("*.yml")) for t in read_conversation_tests(path)]
    failing = {f.test.name for f in run_conversation_tests(agent, tests).failures}
    return results, failing, trained


def related(item: Item, edit: Edit) -> bool:
    text = " " + " ".join(c.text for c in item.checks).lower() + " "
    return any(re.search(re.escape(word), text) for word in edit.words)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--answers", type=Path, default=ROOT / "tests" / "data" / "answer_set.yml")
    parser.add_argument("--stories", type=Path, default=ROOT / "tests" / "conversations")
    parser.add_argument("--edit", choices=("entry", "intent", "both"), default="both",
                        help="which edit to measure (each one costs a training)")
    parser.add_argument("--fresh", action="store_true",
                        help="train each edited copy from nothing instead of from the shipped project's model")
    args = parser.parse_args()
    items = read_answer_set(args.answers)
    with tempfile.TemporaryDirectory() as work:
        base = copy_project(ROOT, Path(work) / "base")
        before, failing_before, seconds = play(base, items, args.stories)
        print(f"shipped project: trained in {seconds:.0f} s; {sum(p for p, _ in before.values())} of "
              f"{len(items)} items right; {len(failing_before)} conversation tests failing", flush=True)
        worst = 0.0
        for edit, apply in zip(EDITS, (add_entry, add_intent), strict=True):
            if args.edit != "both" and apply is not {"entry": add_entry, "intent": add_intent}[args.edit]:
                continue
            copy = copy_project(ROOT, Path(work) / edit.name.split()[1])
            apply(copy)
            if not args.fresh:
                shutil.copytree(base / "models", copy / "models")
            after, failing_after, seconds = play(copy, items, args.stories, edit.probe)
            unrelated = [item for item in items if not related(item, edit)]
            changed = [i.id for i in unrelated if before[i.id][1] != after[i.id][1]]
            worse = [i.id for i in unrelated if before[i.id][0] and not after[i.id][0]]
            better = [i.id for i in unrelated if not before[i.id][0] and after[i.id][0]]
            flipped = sorted(failing_before ^ failing_after)
            share = len(changed) / len(unrelated)
            worst = max(worst, share)
            print(f"+ {edit.name}: trained in {seconds:.0f} s; of {len(unrelated)} unrelated items "
                  f"{len(changed)} replies changed ({share:.1%}), {len(worse)} right to wrong, "
                  f"{len(better)} wrong to right; conversation tests flipped: {len(flipped)}", flush=True)
            for label, ids in (("changed", changed), ("right to wrong", worse), ("flipped", flipped)):
                if ids:
                    print(f"    {label}: {', '.join(ids)}")
    sys.exit(0 if worst <= 0.01 else 1)


if __name__ == "__main__":
    main()
