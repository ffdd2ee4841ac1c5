"""Held-out answer accuracy, start-up, training and parse latency of the course bot.

    .venv/bin/python benchmarks/heldout_answers.py [--repeat 200]

Trains into a temporary directory (the project's models/ is left alone) and prints
medians; run it on a quiet machine and compare figures only from one run.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.agent import Agent  # noqa: E402
from bot.evaluation import check_answers, off_topic_share  # noqa: E402
from bot.nlu import training  # noqa: E402
from bot.project import load_project  # noqa: E402

QUESTIONS = ROOT / "tests" / "data" / "heldout_questions.yml"
PARSE_SAMPLES = ["what is overfitting", "whats the diff between c5 and p3 instances for training",
                 "which service turns text into speech", "hello",
                 "how do i set up a sagemaker notebook step by step please, I'm lost"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=200, help="parses per sample message")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as models:
        project = load_project(ROOT)
        project.settings = replace(project.settings, model_dir=Path(models))
        train_times = [training.train(project, fresh=True).seconds for _ in range(3)]
        agent = Agent.from_project(project, train_if_needed=False)
        data = yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))
        report = check_answers(agent, data["questions"])
        off_topic = off_topic_share(agent, [q["text"] for q in data["out_of_scope"]])
        latencies = []
        for _ in range(args.repeat):
            for text in PARSE_SAMPLES:
                started = time.perf_counter()
                agent.parse(text)
                latencies.append((time.perf_counter() - started) * 1000)
    latencies.sort()
    startup = [_first_answer_seconds() for _ in range(5)]
    print(f"held-out answers naming the right entry: {report.right}/{report.total} = {report.share:.1%}")
    print(f"held-out intent accuracy: {report.intent_accuracy:.1%}")
    print(f"off-topic messages recognised: {off_topic:.0%}")
    print(f"training (median of 3): {statistics.median(train_times):.1f} s")
    print(f"parse latency: p50 {statistics.median(latencies):.2f} ms, "
          f"p99 {latencies[int(len(latencies) * 0.99)]:.2f} ms ({len(latencies)} parses)")
    print(f"process start to first answer (median of 5, trained model): {statistics.median(startup):.2f} s")
    for miss in report.misses:
        print(f"  miss: {miss}")


def _first_answer_seconds() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "bot", "ask", "what is overfitting", "--project", str(ROOT)],
                   check=True, capture_output=True, cwd=ROOT)
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
