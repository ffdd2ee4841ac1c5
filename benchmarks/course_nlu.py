"""Course-model figures for docs/benchmarks.md: model load time, single-message parse
latency on unseen questions (p50/p99), and process RSS with the model loaded.

Run after `coursebot train`: .venv/bin/python benchmarks/course_nlu.py
"""

import resource
import statistics
import time
import warnings
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    warnings.filterwarnings("ignore")
    started = time.perf_counter()
    from bot.nlu.pipeline import NLUPipeline

    pipeline, _ = NLUPipeline.load(ROOT / "models" / "nlu")
    load_seconds = time.perf_counter() - started
    questions = yaml.safe_load((ROOT / "tests" / "data" / "heldout_questions.yml").read_text(encoding="utf-8"))
    texts = [q["text"] if isinstance(q, dict) else q for q in questions.get("questions", [])]
    texts += [q["text"] for q in questions.get("out_of_scope", [])]
    latencies = []
    for text in texts:  # each text once: nothing comes from the cache
        begun = time.perf_counter()
        pipeline.parse(text)
        latencies.append((time.perf_counter() - begun) * 1000)
    latencies.sort()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"model load (imports included): {load_seconds:.2f} s")
    print(f"parse latency over {len(texts)} unseen messages: p50 {statistics.median(latencies):.2f} ms, "
          f"p99 {latencies[int(len(latencies) * 0.99)]:.2f} ms")
    print(f"peak RSS with the model loaded: {rss:.0f} MB")


if __name__ == "__main__":
    main()
