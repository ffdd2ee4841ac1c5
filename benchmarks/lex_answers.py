"""The answer set through the Lex code hook, as Lex would send questions it cannot place.

    .venv/bin/python benchmarks/lex_answers.py [--answers tests/data/answer_set.yml]

Every single question goes to `lambda_handlers.fulfillment`'s handler as a FallbackIntent
event with the question as its transcript, in a session of its own, and the reply is
judged like the web's. The Lambda has no NLU and no sentence encoder: it answers from the
lexical half of the answer engine and the index the bundle carries (the trained model's
`answers/`), so this measures how far that falls behind the full engine. Train first
(`coursebot train`).
"""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.evaluation.answer_set import read_answer_set, run_answer_set  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--answers", type=Path, default=ROOT / "tests" / "data" / "answer_set.yml")
    args = parser.parse_args()
    os.environ.setdefault("COURSEBOT_PROJECT", str(ROOT))
    from lambda_handlers import fulfillment

    items = [item for item in read_answer_set(args.answers) if not item.is_conversation]

    def respond(sender: str, text: str) -> list[dict]:
        event = {"sessionId": f"{sender}-{uuid.uuid4().hex[:6]}", "inputTranscript": text, "inputMode": "Text",
                 "invocationSource": "FulfillmentCodeHook",
                 "sessionState": {"intent": {"name": "FallbackIntent", "slots": {}, "state": "InProgress"},
                                  "sessionAttributes": {}}}
        answer = fulfillment.handler(event)
        text = "\n".join(m.get("content", "") for m in answer.get("messages", []))
        declined = text.startswith("The course doesn't cover that")
        return [{"text": text, **({"custom": {"declined": True}} if declined else {})}]

    report = run_answer_set(respond, items)
    print(f"Lex code hook, FallbackIntent from the transcript: {report.share(report.questions):.1%} of "
          f"{len(report.questions)} questions; out of scope declined {report.declined_share(True):.1%}, "
          f"in scope wrongly declined {report.declined_share(False):.1%}")
    for section, (passed, total) in report.by_section(conversations=False).items():
        print(f"  {passed:3d}/{total:<3d} {section}")


if __name__ == "__main__":
    main()
