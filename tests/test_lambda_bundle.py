"""The Lambda bundle: small, and importable where only the Lambda runtime's boto3 exists."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path

from bot.project import load_project
from lambda_handlers.bundle import MAX_BYTES, build_bundle
from tests.conftest import ROOT

# What the Lambda Python runtime provides besides the standard library.
RUNTIME_PACKAGES = ("boto3", "botocore", "jmespath", "s3transfer", "dateutil", "urllib3", "six")
EVENT = {"sessionId": "s1", "inputTranscript": "what is overfitting", "inputMode": "Text",
         "sessionState": {"intent": {"name": "ask_concept", "confirmationState": "None",
                                     "slots": {"concept": {"value": {"originalValue": "overfitting",
                                                                     "interpretedValue": "overfitting"}}}},
                          "sessionAttributes": {}}}
SCRIPT = """
import importlib.util, json, sys
from lambda_handlers.fulfillment import handler
answer = handler(json.loads(sys.argv[1]), None)
heavy = [name for name in ("torch", "spacy", "sklearn", "numpy", "transformers", "fastapi", "click")
         if importlib.util.find_spec(name) is not None]
from bot.aws.images import training_image
from bot.aws.settings import Algorithm
image = training_image(Algorithm("xgboost", "1.7-1"), "eu-west-1")
sdk = importlib.util.find_spec("sagemaker") is not None
print(json.dumps({"answer": answer, "heavy_available": heavy, "yaml": __import__("yaml").__file__,
                  "image": image, "sdk": sdk}))
"""


def runtime_dir(tmp_path: Path) -> Path:
    """A folder with only what Lambda's Python runtime adds: boto3 and its dependencies."""
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    for name in RUNTIME_PACKAGES:
        module = importlib.import_module(name)
        source = Path(module.__file__)
        source = source.parent if source.name == "__init__.py" else source
        (runtime / source.name).symlink_to(source)
    return runtime


def test_the_bundle_is_small_and_answers_in_a_clean_environment_without_the_nlu_stack(tmp_path):
    bundle = build_bundle(ROOT, tmp_path / "out")
    assert bundle.size <= MAX_BYTES
    names = zipfile.ZipFile(bundle.path).namelist()
    assert "lambda_handlers/fulfillment.py" in names and "domain.yml" in names and "knowledge/concepts.yml" in names
    heavy = ("bot/nlu/featurizers", "bot/nlu/classifiers", "bot/channels/http")
    assert not any(name.startswith(heavy) for name in names)
    code = tmp_path / "code"
    zipfile.ZipFile(bundle.path).extractall(code)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    result = subprocess.run([str(venv / "bin" / "python"), "-c", SCRIPT, json.dumps(EVENT)], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120,
                            env={"PYTHONPATH": f"{code}:{runtime_dir(tmp_path)}", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["heavy_available"] == []
    assert report["yaml"].startswith(str(code))  # the bundled pure-Python PyYAML
    assert report["answer"]["messages"][0]["content"].startswith("Overfitting:")
    # Training jobs work there too: the SDK's image answers travel in the bundle.
    from sagemaker.core import image_uris

    assert report["sdk"] is False
    assert report["image"] == image_uris.retrieve("xgboost", region="eu-west-1", version="1.7-1")


def test_the_commands_write_the_bundle_and_the_lex_export(tmp_path):
    from tests.test_cli import coursebot

    built = coursebot("build", "lambda", "--out", str(tmp_path / "dist"), project=ROOT)
    assert built.returncode == 0 and (tmp_path / "dist" / "coursebot-lambda.zip").is_file()
    exported = coursebot("export", "lex", "--out", str(tmp_path / "lex"), project=ROOT)
    assert exported.returncode == 0, exported.stderr
    intents = len(load_project(ROOT).domain.intents) + 1  # and Lex's fallback intent
    assert f"{intents} intents" in exported.stdout and (tmp_path / "lex" / "CourseBot_LexJson.zip").is_file()
    assert "more examples skipped" in exported.stderr
