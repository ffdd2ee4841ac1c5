"""Rasa Open Source and CourseBot side by side, on the same data split, in one run.

CourseBot claims to be a Rasa-compatible engine; this measures both as a user runs them
(`rasa train nlu` / `coursebot train`, `rasa run --enable-api` / `coursebot serve`, HTTP
`POST /model/parse`): intent accuracy and macro F1 over the test intents (a fallback
counts as wrong), entity F1 (exact type and span), training time, model load time
(process start to the first parse answer), parse latency p50/p99 (the servers take
turns, message by message) and server RSS after the test messages.

    .venv/bin/python benchmarks/rasa_side_by_side.py [--rasa-bin PATH] [--datasets course,snips]
        [--snips-per-intent 100] [--rasa-config config.yml] [--out FILE.json] [--keep DIR]

Course data: a stratified 80/20 split per intent of the repo's nlu_data (seed 7). SNIPS:
the first N training examples per intent, tested on all 700 `validate_*` messages.
Rasa's full pipeline (DIET, 100 epochs) trains for 10+ minutes on the course data.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from contextlib import ExitStack, closing
from pathlib import Path

import httpx
import yaml

from bot.benchmarks.datasets import read_snips
from bot.nlu.report import EntitySpan, Prediction, entity_report
from bot.nlu.training_data import Example, parse_annotated
from bot.project import load_project

ROOT = Path(__file__).resolve().parents[1]
COPIED = ("domain.yml", "config.yml", "coursebot.yml", "credentials.yml", "endpoints.yml", "knowledge", "actions")
SEED, TEST_SHARE, WARM_UP = 7, 0.2, 5
START_TIMEOUT_S, POLL_S, HEARTBEAT_S = 900, 0.2, 30
LISTENING = re.compile(r"listening on (http://\S+)")
RATIO_KEYS = ("train_seconds", "load_seconds", "parse_p50_ms", "parse_p99_ms", "rss_mb")
STARTED = time.monotonic()


class BenchError(Exception):
    """A step failed; the message is the one-line reason."""


def log(message: str) -> None:
    print(f"[{time.monotonic() - STARTED:7.1f} s] {message}", file=sys.stderr, flush=True)


def course_split() -> tuple[list[Example], list[Example]]:
    """The repo's intent examples, 80/20 per intent with a fixed seed."""
    by_intent, rng, train, test = defaultdict(list), random.Random(SEED), [], []
    for example in load_project(ROOT).nlu.examples:
        by_intent[example.intent].append(example)
    for intent in sorted(by_intent):
        examples = by_intent[intent][:]
        rng.shuffle(examples)
        held_out = round(len(examples) * TEST_SHARE) if len(examples) > 1 else 0
        test, train = test + examples[:held_out], train + examples[held_out:]
    return train, test


def snips_split(folder: Path, per_intent: int) -> tuple[list[Example], list[Example]]:
    data, taken, train = read_snips(folder), defaultdict(int), []
    for example in data.train.examples:  # sorted files, file order: deterministic
        if taken[example.intent] < per_intent:
            taken[example.intent] += 1
            train.append(example)
    return train, data.test.examples


def annotated(example: Example) -> str:
    """The example as a Rasa training line: `[text](entity)`, or the JSON form for values.

    Line breaks inside a text (one SNIPS example has one) become spaces: the spans stay put.
    """
    text, parts, cursor = re.sub(r"[\r\n\t\v\f]", " ", example.text), [], 0
    for entity in sorted(example.entities, key=lambda e: e.start):
        spec = {key: value for key, value in (("entity", entity.entity), ("value", entity.value),
                                              ("role", entity.role), ("group", entity.group))
                if value is not None and (key != "value" or value != entity.text)}
        label = f"({entity.entity})" if len(spec) == 1 else json.dumps(spec, ensure_ascii=False)
        parts += [text[cursor:entity.start], f"[{text[entity.start:entity.end]}]{label}"]
        cursor = entity.end
    line = "".join(parts) + text[cursor:]
    plain, spans = parse_annotated(line)  # our reader reads what Rasa reads: check the round trip
    if plain != text or [(s["start"], s["end"]) for s in spans] != sorted((e.start, e.end) for e in example.entities):
        raise BenchError(f"cannot write the example {example.text!r} as Rasa YAML (brackets in the text?)")
    return line


class _BlockDumper(yaml.SafeDumper):
    """Writes multi-line strings (`examples`) as `|` blocks, as Rasa's own files have them."""


_BlockDumper.add_representer(str, lambda dumper, text: dumper.represent_scalar(
    "tag:yaml.org,2002:str", text, style="|" if "\n" in text else None))


def write_yaml(path: Path, document: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.dump(document, Dumper=_BlockDumper, sort_keys=False, allow_unicode=True, width=10**6),
                    encoding="utf-8")


def write_split(train: list[Example], *folders: Path) -> None:
    by_intent = defaultdict(list)
    for example in train:
        by_intent[example.intent].append(f"- {annotated(example)}\n")
    items = [{"intent": intent, "examples": "".join(lines)} for intent, lines in by_intent.items()]
    for folder in folders:
        write_yaml(folder / "train_split.yml", {"version": "3.1", "nlu": items})


def course_project(train: list[Example], work: Path) -> tuple[Path, Path]:
    """A copy of the repo's project holding only the training split, and Rasa's NLU folder.

    Lookups, synonyms and regexes go to both; rules and stories only to our project.
    """
    ours, rasa = work / "course", work / "rasa_course_nlu"
    ours.mkdir(parents=True)
    for name in COPIED:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, ours / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, ours / name)
    settings = yaml.safe_load((ours / "coursebot.yml").read_text(encoding="utf-8"))
    write_yaml(ours / "coursebot.yml", {**settings, "models": "models"})  # never the repo's models/
    for source in sorted((ROOT / "nlu_data").glob("*.yml")):
        document = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
        kept = [item for item in document.get("nlu", []) if "intent" not in item]
        write_yaml(ours / "nlu_data" / source.name, {**document, "nlu": kept} if "nlu" in document else document)
        if kept:
            write_yaml(rasa / source.name, {"version": "3.1", "nlu": kept})
    write_split(train, ours / "nlu_data", rasa)
    return ours, rasa


def snips_project(train: list[Example], work: Path) -> tuple[Path, Path]:
    """The smallest project `coursebot train` accepts, with the repo's NLU pipeline."""
    ours, rasa = work / "snips", work / "rasa_snips_nlu"
    pipeline = yaml.safe_load((ROOT / "coursebot.yml").read_text(encoding="utf-8"))["nlu"]["pipeline"]
    write_yaml(ours / "coursebot.yml", {"language": "en", "models": "models", "nlu": {"pipeline": pipeline}})
    write_yaml(ours / "config.yml", {"recipe": "default.v1", "language": "en", "pipeline": [], "policies": []})
    write_yaml(ours / "domain.yml", {"version": "3.1", "intents": sorted({e.intent for e in train}),
                                     "entities": sorted({a.entity for e in train for a in e.entities})})
    write_yaml(ours / "knowledge" / "categories.yml", {"categories": {}})
    write_split(train, ours / "nlu_data", rasa)
    return ours, rasa


def last_line(log_path: Path) -> str:
    text = re.sub(r"\x1b\[[0-9;]*m", "", log_path.read_text(errors="replace"))  # no colour codes
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else "(no output)"


def spawn(command: list[str], log_path: Path, **kwargs) -> subprocess.Popen:
    with log_path.open("wb") as out:  # its own process group, so that stop() ends its children too
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **kwargs)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def timed_run(label: str, command: list[str], log_path: Path, **kwargs) -> float:
    """Wall seconds of a command, imports included; a heartbeat on stderr while it runs."""
    log(f"{label}: {' '.join(command)} (log: {log_path})")
    begun, process = time.perf_counter(), spawn(command, log_path, **kwargs)
    try:
        while True:
            try:
                code = process.wait(timeout=HEARTBEAT_S)
                break
            except subprocess.TimeoutExpired:
                log(f"{label}: still running ({time.perf_counter() - begun:.0f} s)")
    finally:
        stop(process)
    if code != 0:
        raise BenchError(f"{label} failed (exit {code}): {last_line(log_path)} [log: {log_path}]")
    seconds = time.perf_counter() - begun
    log(f"{label}: done in {seconds:.1f} s")
    return seconds


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """A server process; `load_seconds` is its start to its first /model/parse answer."""

    def __init__(self, name: str, command: list[str], log_path: Path, url: str | None = None, **kwargs):
        self.name, self.log_path, self.url = name, log_path, url
        log(f"{name}: starting {' '.join(command)} (log: {log_path})")
        begun, self.process = time.perf_counter(), spawn(command, log_path, **kwargs)
        self.client = httpx.Client(timeout=60)
        try:
            self.load_seconds = self._first_parse(begun)
        except BaseException:
            self.close()
            raise
        log(f"{name}: first /model/parse answer after {self.load_seconds:.1f} s ({self.url})")

    def _first_parse(self, begun: float) -> float:
        heartbeat = begun + HEARTBEAT_S
        while time.perf_counter() - begun < START_TIMEOUT_S:
            if time.perf_counter() > heartbeat:
                log(f"{self.name}: still loading ({time.perf_counter() - begun:.0f} s)")
                heartbeat += HEARTBEAT_S
            if self.process.poll() is not None:
                raise BenchError(f"{self.name} exited ({self.process.returncode}): {last_line(self.log_path)}")
            if self.url is None and (found := LISTENING.search(self.log_path.read_text(errors="replace"))):
                self.url = found.group(1)
            try:
                if self.url and self.client.post(f"{self.url}/model/parse", json={"text": "hi"}).status_code == 200:
                    return time.perf_counter() - begun
            except httpx.TransportError:
                pass  # not listening yet
            time.sleep(POLL_S)
        raise BenchError(f"{self.name} gave no /model/parse answer within {START_TIMEOUT_S} s [log: {self.log_path}]")

    def parse(self, text: str) -> tuple[dict, float]:
        begun = time.perf_counter()
        try:
            response = self.client.post(f"{self.url}/model/parse", json={"text": text})
        except httpx.TransportError as error:
            state = "running" if self.process.poll() is None else f"exited ({self.process.returncode})"
            raise BenchError(f"{self.name} ({state}) failed on {text!r}: {error!r}; {last_line(self.log_path)}")
        milliseconds = (time.perf_counter() - begun) * 1000
        if response.status_code != 200:
            raise BenchError(f"{self.name} answered {response.status_code} to {text!r}: {response.text[:200]}")
        return response.json(), milliseconds

    def rss_mb(self) -> float:
        """VmRSS of the server process and all its descendants."""
        processes = {}  # pid -> (parent pid, RSS in kB)
        for path in Path("/proc").glob("[0-9]*/status"):
            try:
                fields = dict(line.split(":", 1) for line in path.read_text().splitlines())
                processes[int(path.parent.name)] = (int(fields["PPid"]), int(fields.get("VmRSS", "0 kB").split()[0]))
            except (OSError, ValueError, KeyError):
                continue  # gone meanwhile
        family = {self.process.pid}
        while grown := {pid for pid, (parent, _) in processes.items() if parent in family} - family:
            family |= grown
        return sum(processes[pid][1] for pid in family if pid in processes) / 1024

    def close(self) -> None:
        self.client.close()
        stop(self.process)


def prediction(example: Example, parse: dict) -> Prediction:
    """One scored answer; the same (type, span) from two extractors counts once."""
    found = {(e["entity"], e["start"], e["end"]): EntitySpan(e["entity"], e["start"], e["end"], str(e.get("value")))
             for e in parse["entities"]}
    return Prediction(example.text, example.intent, str(parse["intent"]["name"]),
                      float(parse["intent"].get("confidence") or 0.0),
                      entities=tuple(EntitySpan(a.entity, a.start, a.end, a.value) for a in example.entities),
                      predicted_entities=tuple(found.values()))


def scores(predictions: list[Prediction], latencies: list[float]) -> dict:
    from sklearn.metrics import f1_score

    gold, predicted, latencies = [p.intent for p in predictions], [p.predicted for p in predictions], sorted(latencies)
    return {"intent_accuracy": sum(p.correct for p in predictions) / len(predictions),
            "intent_macro_f1": float(f1_score(gold, predicted, labels=sorted(set(gold)), average="macro",
                                              zero_division=0)),
            "entity_f1": (entity_report(predictions)["micro avg"]["f1-score"]
                          if any(p.entities for p in predictions) else None),
            "parse_p50_ms": statistics.median(latencies),
            "parse_p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]}


def measure(servers: list[Server], train: list[Example], test: list[Example]) -> dict[str, dict]:
    """Each test message to each server, one at a time, alternating which goes first."""
    for server in servers:
        for example in train[:WARM_UP]:
            server.parse(example.text)
    predictions, latencies = defaultdict(list), defaultdict(list)
    for index, example in enumerate(test):
        for server in servers if index % 2 == 0 else servers[::-1]:
            parse, milliseconds = server.parse(example.text)
            predictions[server.name].append(prediction(example, parse))
            latencies[server.name].append(milliseconds)
        if (index + 1) % 100 == 0 or index + 1 == len(test):
            log(f"parsed {index + 1}/{len(test)} test messages on both servers")
    return {s.name: {**scores(predictions[s.name], latencies[s.name]), "load_seconds": s.load_seconds,
                     "rss_mb": s.rss_mb()} for s in servers}


def benchmark(name: str, split: str, train: list[Example], test: list[Example], ours: Path, rasa_data: Path,
              work: Path, args: argparse.Namespace) -> dict:
    log(f"{name}: {len(train)} training and {len(test)} test examples")
    rasa_dir, load_before = work / f"rasa_{name}", os.getloadavg()
    rasa_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "SQLALCHEMY_SILENCE_UBER_WARNING": "1", "RASA_TELEMETRY_ENABLED": "false",
           "RASA_CACHE_DIRECTORY": str(rasa_dir / "cache")}  # a fresh cache: no training step is reused
    figures = {"rasa": {"train_seconds": timed_run(
        f"{name}: rasa train nlu", [args.rasa_bin, "train", "nlu", "--config", str(args.rasa_config),
                                    "--nlu", str(rasa_data), "--out", str(rasa_dir), "--fixed-model-name", "nlu"],
        work / f"{name}_rasa_train.log", env=env, cwd=rasa_dir)}}
    figures["coursebot"] = {"train_seconds": timed_run(
        f"{name}: coursebot train", [sys.executable, "-m", "bot", "train", "--project", str(ours), "--fresh"],
        work / f"{name}_coursebot_train.log")}
    with ExitStack() as stack:
        port = free_port()
        rasa = stack.enter_context(closing(Server(
            "rasa", [args.rasa_bin, "run", "--enable-api", "-m", str(rasa_dir / "nlu.tar.gz"), "-p", str(port),
                     "-i", "127.0.0.1"], work / f"{name}_rasa_serve.log", url=f"http://127.0.0.1:{port}",
            env=env, cwd=rasa_dir)))
        coursebot = stack.enter_context(closing(Server(
            "coursebot", [sys.executable, "-m", "bot", "serve", "--project", str(ours), "--port", "0"],
            work / f"{name}_coursebot_serve.log")))
        for engine, measured in measure([rasa, coursebot], train, test).items():
            figures[engine].update(measured)
    return {"dataset": name, "split": split, "train_examples": len(train), "test_examples": len(test),
            "entity_match": "exact entity type and character span (start, end); values are not compared",
            "rasa_config": str(args.rasa_config), "load_average_before_after": [load_before[0], os.getloadavg()[0]],
            **figures, "ratio_rasa_over_coursebot": {
                key: figures["rasa"][key] / figures["coursebot"][key] if figures["coursebot"][key] else None
                for key in RATIO_KEYS}}


ROWS = (("intent accuracy", "intent_accuracy", "{:.1%}"), ("intent macro F1", "intent_macro_f1", "{:.3f}"),
        ("entity F1 (type + exact span)", "entity_f1", "{:.3f}"), ("training time (s)", "train_seconds", "{:.1f}"),
        ("model load time (s)", "load_seconds", "{:.1f}"), ("parse p50 (ms)", "parse_p50_ms", "{:.1f}"),
        ("parse p99 (ms)", "parse_p99_ms", "{:.1f}"), ("server RSS (MB)", "rss_mb", "{:.0f}"))


def table(result: dict) -> str:
    def cell(value, style: str) -> str:
        return "n/a" if value is None else style.format(value)

    ratios = result["ratio_rasa_over_coursebot"]
    lines = [f"### {result['dataset']}: {result['train_examples']} training, {result['test_examples']} test examples",
             "", "| measure | Rasa | CourseBot | Rasa / CourseBot |", "|---|---:|---:|---:|"]
    lines += [f"| {label} | {cell(result['rasa'][key], style)} | {cell(result['coursebot'][key], style)} | "
              f"{cell(ratios[key], '{:.2f}x') if key in ratios else ''} |" for label, key, style in ROWS]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rasa-bin", default=os.environ.get("RASA_BIN") or shutil.which("rasa"),
                        help="the rasa command [default: $RASA_BIN, else rasa on PATH]")
    parser.add_argument("--datasets", default="course,snips", help="comma-separated: course, snips")
    parser.add_argument("--snips-per-intent", type=int, default=100, help="SNIPS training examples per intent")
    parser.add_argument("--snips-dir", type=Path, default=ROOT.parent / "shared" / "benchmarks" / "snips")
    parser.add_argument("--rasa-config", type=Path, default=ROOT / "config.yml", help="Rasa's pipeline")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "bench_rasa_side_by_side.json")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (data, models, logs)")
    args = parser.parse_args()
    datasets = [name.strip() for name in args.datasets.split(",") if name.strip()]
    if not datasets or set(datasets) - {"course", "snips"}:
        parser.error("--datasets takes course and/or snips")
    if not args.rasa_bin or not shutil.which(args.rasa_bin):
        parser.error("Rasa not found: pass --rasa-bin PATH or set RASA_BIN")
    if not args.rasa_config.is_file():
        parser.error(f"--rasa-config {args.rasa_config}: no such file")
    if args.keep and args.keep.exists() and any(args.keep.iterdir()):
        parser.error(f"--keep {args.keep}: give a new or empty folder")
    args.rasa_config, args.rasa_bin = args.rasa_config.resolve(), shutil.which(args.rasa_bin)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    work = args.keep.resolve() if args.keep else Path(tempfile.mkdtemp(prefix="bench_rasa_"))
    work.mkdir(parents=True, exist_ok=True)
    log(f"working in {work}")
    results = []
    try:
        for name in datasets:
            log(f"{name}: preparing the data")
            if name == "course":
                split, (train, test) = f"stratified {TEST_SHARE:.0%} test share per intent, seed {SEED}", course_split()
                ours, rasa_data = course_project(train, work)
            else:
                split = f"first {args.snips_per_intent} train_*_full.json examples per intent; all validate_*.json"
                train, test = snips_split(args.snips_dir, args.snips_per_intent)
                ours, rasa_data = snips_project(train, work)
            results.append(benchmark(name, split, train, test, ours, rasa_data, work, args))
            print(table(results[-1]) + "\n", flush=True)
    except KeyboardInterrupt:
        log(f"interrupted; the logs are in {work}")
        return 130
    except Exception as error:  # noqa: BLE001 (one line, not a traceback wall; the logs have details)
        reason = (str(error).strip() or repr(error)).splitlines()[0]
        log(f"error: {reason if isinstance(error, BenchError) else f'{type(error).__name__}: {reason}'}"
            f" (the logs are in {work})")
        return 1
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    log(f"figures written to {args.out}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
