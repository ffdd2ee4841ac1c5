"""What the costliest texts a student can send cost the NLU, against a short question.

    .venv/bin/python benchmarks/costly_texts.py [--rounds 3]

spaCy's tokenizer and the phrase matcher are far from linear on long runs of symbols, and
every student waits on the one parse lock, so `bot/nlu/bounded_text.py` bounds what the
NLU reads. This parses ten pathological texts of 5,000 characters and nine ordinary
questions, interleaved so both see the same load, each text new to the model (a first
word varies, so no cache makes it look cheap), and prints each kind's median as a ratio
to the questions' median. Train first (`coursebot train`).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.agent import Agent  # noqa: E402
from bot.nlu.bounded_text import COSTLY_TEXTS as PATHOLOGICAL  # noqa: E402

QUESTIONS = ["what is overfitting?", "how do i choose an instance type for training", "c5 vs p3",
             "what does amazon comprehend do", "tell me about the stages of the ml pipeline",
             "what is a feature in machine learning", "can polly read my text out loud",
             "explain hyperparameter tuning please", "what is sagemaker ground truth"]


def _seconds(agent: Agent, text: str) -> float:
    start = time.perf_counter()
    agent.parse(text)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="texts of each kind per round are new each round")
    args = parser.parse_args()
    agent = Agent.load(ROOT, train_if_needed=False)
    agent.parse("warm up the model")
    leads = ["", "so ", "and ", "well ", "now ", "ok "]
    questions: list[float] = []
    costs: dict[str, list[float]] = {name: [] for name in PATHOLOGICAL}
    for round_ in range(args.rounds):
        lead = leads[round_ % len(leads)] * (1 + round_ // len(leads))
        for question in QUESTIONS:
            questions.append(_seconds(agent, lead + question))
        for name, text in PATHOLOGICAL.items():
            costs[name].append(_seconds(agent, lead + text))
    question = statistics.median(questions)
    print(f"a question: median {question * 1000:.1f} ms over {len(questions)}")
    for name, times in sorted(costs.items(), key=lambda item: -statistics.median(item[1])):
        median = statistics.median(times)
        print(f"{name:>24}: median {median * 1000:7.1f} ms, {median / question:4.1f} x a question")


if __name__ == "__main__":
    main()
