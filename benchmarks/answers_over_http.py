"""The answer set through the REST webhook of a real `coursebot serve`, as a student's
browser sends it, with the latency of each single question.

    .venv/bin/python benchmarks/answers_over_http.py [--answers tests/data/answer_set.yml] [--project DIR]

Starts `coursebot serve` on a free loopback port (an in-memory tracker store), plays every
question and conversation of the set in a conversation of its own through
`POST /webhooks/rest/webhook`, and judges the replies as `coursebot test --answers` does.
So this measures what the widget gets, serialisation and the HTTP server included. Train
first (`coursebot train`); run it on a quiet machine for the latency.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.http_turns import Server  # noqa: E402
from bot.channels.http import KEY_HEADER  # noqa: E402
from bot.evaluation.answer_set import read_answer_set, run_answer_set  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--answers", type=Path, default=ROOT / "tests" / "data" / "answer_set.yml")
    parser.add_argument("--project", type=Path, default=ROOT, help="bot project (trained, or it trains first)")
    args = parser.parse_args()
    items = read_answer_set(args.answers)

    latencies: list[float] = []
    keys: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as folder, Server(args.project, "in_memory", Path(folder)) as server, \
            httpx.Client(base_url=server.url, timeout=120) as client:
        def respond(sender: str, text: str) -> list[dict]:
            headers = {KEY_HEADER: keys[sender]} if sender in keys else {}
            started = time.perf_counter()
            response = client.post("/webhooks/rest/webhook", json={"sender": sender, "message": text},
                                   headers=headers)
            latencies.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
            if KEY_HEADER in response.headers:
                keys[sender] = response.headers[KEY_HEADER]
            return response.json()

        report = run_answer_set(respond, items)
    print(f"Through POST /webhooks/rest/webhook: questions {report.share(report.questions):.1%} of "
          f"{len(report.questions)}, conversations {report.share(report.conversations):.1%} of "
          f"{len(report.conversations)}; out of scope declined {report.declined_share(True):.1%}, in scope wrongly "
          f"declined {report.declined_share(False):.1%}")
    ordered = sorted(latencies)
    print(f"latency per turn ({len(ordered)} turns, one sender at a time): p50 {statistics.median(ordered):.1f} ms, "
          f"p99 {ordered[int(0.99 * (len(ordered) - 1))]:.1f} ms")
    for section, (passed, total) in report.by_section(conversations=False).items():
        print(f"  {passed:3d}/{total:<3d} {section}")


if __name__ == "__main__":
    main()
