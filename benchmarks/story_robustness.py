"""Do the conversation tests hold for any training run, or only for the one they were written on?

    .venv/bin/python benchmarks/story_robustness.py [--seeds 0 1 2] [--float-seeds 0 1]

Trains the course bot once per variant (each component's `random_state` set to the seed;
int8 encoder by default, float weights for the --float-seeds) into temporary folders and
plays every story in tests/conversations on each model. A story that fails on some
variants and passes on others depends on a close call of the classifier: fix the bot (or
the story), not the seed. Takes about three minutes of training per variant on 2 cores.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.agent import Agent  # noqa: E402
from bot.aws import AwsServices  # noqa: E402
from bot.dialogue.conversation_tests import (  # noqa: E402
    read_conversation_tests,
    run_conversation_tests,
)
from bot.project import load_project  # noqa: E402
from bot.settings import ComponentSpec  # noqa: E402

SEEDED = ("sentence_embedder", "spacy_ner_extractor", "intent_classifier")


def variant(project, seed: int, quantize: bool):
    """The project's pipeline with every seeded component on `seed`, and int8 or float weights."""
    pipeline = []
    for spec in project.settings.pipeline:
        options = dict(spec.options)
        if spec.name in SEEDED:
            options["random_state"] = seed
        if spec.name == "sentence_embedder":
            options["quantize"] = quantize
        pipeline.append(ComponentSpec(spec.name, options))
    return tuple(pipeline)


def offline_aws(project) -> AwsServices:
    """AWS that can never be reached (a closed loopback port), as in the tests."""
    settings = project.settings.aws.with_changes(region="us-east-1", endpoint_url="http://127.0.0.1:9",
                                                 max_attempts=1, connect_timeout=1, read_timeout=1)
    return AwsServices(settings, {"aws_access_key_id": "offline", "aws_secret_access_key": "offline"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2], help="seeds with the int8 encoder")
    parser.add_argument("--float-seeds", type=int, nargs="*", default=[0, 1], help="seeds with float weights")
    parser.add_argument("--stories", type=Path, default=ROOT / "tests" / "conversations")
    args = parser.parse_args()
    tests = [t for path in sorted(args.stories.glob("*.yml")) for t in read_conversation_tests(path)]
    variants = [(seed, True) for seed in args.seeds] + [(seed, False) for seed in args.float_seeds]
    failed: dict[str, list[str]] = {}
    for seed, quantize in variants:
        label = f"seed {seed}, {'int8' if quantize else 'float'}"
        with tempfile.TemporaryDirectory() as models:
            project = load_project(ROOT)
            project.settings = replace(project.settings, model_dir=Path(models),
                                       pipeline=variant(project, seed, quantize))
            started = time.perf_counter()
            agent = Agent.from_project(project, aws=offline_aws(project))
            outcome = run_conversation_tests(agent, tests)
        print(f"{label}: trained and played in {time.perf_counter() - started:.0f} s; "
              f"{len(tests) - len(outcome.failures)} of {len(tests)} stories passed", flush=True)
        for failure in outcome.failures:
            print(f"  {failure}", flush=True)
            failed.setdefault(failure.test.name, []).append(label)
    print(f"\n{len(failed)} of {len(tests)} stories failed on some variant of {len(variants)}")
    for name, labels in sorted(failed.items()):
        print(f"- {name}: {'; '.join(labels)}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
