"""Knowledge answers over HTTP: turns per second and latency with 1, 8 and 64 students at
once, and the server's memory, measured against a real `coursebot serve` process.

    .venv/bin/python benchmarks/http_turns.py [--project DIR] [--turns 256] [--store sqlite] [--json]

Every measured question is one the server has not seen (the sentence embedder caches
vectors per text), except in the last row ("1, seen"), which asks the warm-up questions
again. Each simulated student starts a new conversation every 10 turns.
The client runs on the same machine and takes CPU from the server: run it when the
machine is otherwise quiet, and compare figures from one run only.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from itertools import count
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.project import load_project  # noqa: E402

TEMPLATES = ("what is {}?", "explain {}", "tell me about {}", "define {}", "what does {} mean?",
             "can you describe {}", "i don't get {}", "{}?")
WARM_UP_TEMPLATE = "what's {} again"
TURNS_PER_CONVERSATION = 10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--project", type=Path, default=ROOT, help="bot project (trained, or it trains first)")
    parser.add_argument("--turns", type=int, default=256, help="measured turns per concurrency level")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 64])
    parser.add_argument("--store", choices=["sqlite", "in_memory"], default="sqlite", help="tracker store")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    args = parser.parse_args()

    names = [entry.name for entry in load_project(args.project).knowledge]
    fresh = (template.format(name) for template in TEMPLATES for name in names)
    needed = args.turns * len(args.concurrency)
    if needed > len(names) * len(TEMPLATES):
        parser.error(f"at most {len(names) * len(TEMPLATES) // len(args.concurrency)} turns per level")

    with tempfile.TemporaryDirectory() as folder, Server(args.project, args.store, Path(folder)) as server:
        with httpx.Client(base_url=server.url, timeout=120, limits=httpx.Limits(max_connections=256)) as client:
            for name in names[:32]:
                turn(client, "warm-up", WARM_UP_TEMPLATE.format(name))
            rows = [measure(client, level, [next(fresh) for _ in range(args.turns)]) for level in args.concurrency]
            # The same questions again: the encoder's cache answers, the rest of the work stays.
            seen = [WARM_UP_TEMPLATE.format(name) for name in names[:32]] * (args.turns // 32 + 1)
            rows.append({**measure(client, 1, seen[:args.turns]), "senders": "1, seen"})
        memory = server.memory_mb()
    if args.json:
        print(json.dumps({"store": args.store, "levels": rows, **memory}, indent=2))
        return
    print(f"Knowledge answers over HTTP ({args.store} store, {args.turns} unseen questions per level)")
    print(f"{'senders':>8} {'turns/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for row in rows:
        print(f"{row['senders']:>8} {row['turns_per_s']:>9.1f} {row['p50_ms']:>8.1f} {row['p99_ms']:>8.1f} "
              f"{row['errors']:>7}")
    print(f"server RSS after the runs: {memory['rss_mb']:.0f} MB (peak {memory['peak_rss_mb']:.0f} MB)")


class Server:
    """`coursebot serve` on a free loopback port, for the length of a `with` block."""

    def __init__(self, project: Path, store: str, folder: Path):
        endpoints = folder / "endpoints.yml"
        db = f"\n  db: {folder / 'conversations.db'}" if store == "sqlite" else ""
        endpoints.write_text(f"tracker_store:\n  type: {store}{db}\n", encoding="utf-8")
        self.command = [sys.executable, "-m", "bot", "serve", "--project", str(project), "--port", "0",
                        "--endpoints", str(endpoints)]
        self.stdout = folder / "serve.out"

    def __enter__(self) -> Server:
        with open(self.stdout, "wb") as out:
            self.process = subprocess.Popen(self.command, stdout=out)
        while not (found := re.search(r"listening on (http://\S+)", self.stdout.read_text())):
            if self.process.poll() is not None:
                raise SystemExit("coursebot serve did not start")
            time.sleep(0.1)
        self.url = found.group(1)
        while True:
            try:
                httpx.get(f"{self.url}/health").raise_for_status()
                return self
            except httpx.TransportError:
                time.sleep(0.1)

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)

    def memory_mb(self) -> dict[str, float]:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        kb = {key: int(value.split()[0]) for key, value in re.findall(r"^(VmRSS|VmHWM):\s+(.+)$", status, re.M)}
        return {"rss_mb": kb["VmRSS"] / 1024, "peak_rss_mb": kb["VmHWM"] / 1024}


def turn(client: httpx.Client, sender: str, text: str) -> tuple[float, bool]:
    """One message; its latency in ms and whether it got a text answer for this sender."""
    started = time.perf_counter()
    response = client.post("/webhooks/rest/webhook", json={"sender": sender, "message": text})
    elapsed = (time.perf_counter() - started) * 1000
    replies = response.json() if response.status_code == 200 else []
    return elapsed, bool(replies) and all(r["recipient_id"] == sender for r in replies) and "text" in replies[0]


def measure(client: httpx.Client, senders: int, texts: list[str]) -> dict[str, float | int | str]:
    queue = iter(texts)
    lock = threading.Lock()
    conversations = count()
    results: list[tuple[float, bool]] = []

    def student() -> None:
        sender, done = f"bench-{senders}-{next(conversations)}", 0
        while True:
            with lock:
                text = next(queue, None)
            if text is None:
                return
            if done == TURNS_PER_CONVERSATION:
                sender, done = f"bench-{senders}-{next(conversations)}", 0
            outcome = turn(client, sender, text)
            done += 1
            with lock:
                results.append(outcome)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=senders) as pool:
        for future in [pool.submit(student) for _ in range(senders)]:
            future.result()
    seconds = time.perf_counter() - started
    latencies = sorted(latency for latency, _ in results)
    return {"senders": senders, "turns": len(results), "turns_per_s": len(results) / seconds,
            "p50_ms": statistics.median(latencies), "p99_ms": latencies[min(len(latencies) - 1,
                                                                            int(len(latencies) * 0.99))],
            "errors": sum(not ok for _, ok in results)}


if __name__ == "__main__":
    main()
