"""Cold start of the Lex code hook as Lambda runs it: a fresh interpreter with only the
bundle and the runtime's boto3, timing the handler's import and its first answer.

    .venv/bin/python benchmarks/lambda_cold_start.py [--runs 9]

Prints medians (ms); budgets: import <= 300 ms, bundle <= 5 MB.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lambda_handlers.bundle import build_bundle  # noqa: E402
from tests.test_lambda_bundle import EVENT, runtime_dir  # noqa: E402

TIMED = """
import json, sys, time
started = time.perf_counter()
from lambda_handlers.fulfillment import handler
imported = time.perf_counter()
handler(json.loads(sys.argv[1]), None)
answered = time.perf_counter()
second = time.perf_counter(); handler(json.loads(sys.argv[1]), None); warm = time.perf_counter() - second
print(json.dumps({"import": imported - started, "first": answered - started, "warm": warm}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        bundle = build_bundle(ROOT, tmp / "out")
        zipfile.ZipFile(bundle.path).extractall(tmp / "code")
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp / "venv")], check=True)
        env = {"PYTHONPATH": f"{tmp / 'code'}:{runtime_dir(tmp)}", "PATH": "/usr/bin:/bin",
               "PYTHONDONTWRITEBYTECODE": "1"}
        samples = []
        for _ in range(runs):
            out = subprocess.run([str(tmp / "venv" / "bin" / "python"), "-c", TIMED, json.dumps(EVENT)],
                                 capture_output=True, text=True, env=env, check=True)
            samples.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"bundle: {bundle.size / 1024:.0f} KB, {bundle.files} files")
    for key, label in (("import", "handler import"), ("first", "import + first answer (loads the project)"),
                       ("warm", "a warm answer")):
        print(f"{label}: median {statistics.median(s[key] for s in samples) * 1000:.1f} ms over {runs} cold runs")


if __name__ == "__main__":
    main()
