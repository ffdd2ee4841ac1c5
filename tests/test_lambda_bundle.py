"""The Lambda bundle: small, and importable where only the Lambda runtime's boto3 exists."""

from __future__ import annotations

import importlib
import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

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
fallback = handler({"sessionId": "s2", "inputTranscript": "which feature selection method is the fastest",
                    "inputMode": "Text", "sessionState": {"intent": {"name": "FallbackIntent"}}}, None)
elsewhere = handler({"sessionId": "s3", "inputTranscript": "how do i cook rice",
                     "inputMode": "Text", "sessionState": {"intent": {"name": "FallbackIntent"}}}, None)
# every intent Lex can send, as text and as speech, and what Lex cannot place: nothing may
# reach a module the bundle lacks (the handler would apologise)
apologies = []
for number, (intent, text, mode) in enumerate(json.loads(sys.argv[2])):
    reply = handler({"sessionId": f"sweep-{number}", "inputTranscript": text, "inputMode": mode,
                     "sessionState": {"intent": {"name": intent, "state": "InProgress"}}}, None)
    said = " ".join(m.get("content", "") for m in reply.get("messages", []))
    if "something went wrong" in said:
        apologies.append([intent, text, mode])
heavy = [name for name in ("torch", "spacy", "sklearn", "numpy", "transformers", "fastapi", "click")
         if importlib.util.find_spec(name) is not None]
from bot.aws.images import training_image
from bot.aws.settings import Algorithm
image = training_image(Algorithm("xgboost", "1.7-1"), "eu-west-1")
sdk = importlib.util.find_spec("sagemaker") is not None
print(json.dumps({"answer": answer, "fallback": fallback, "elsewhere": elsewhere, "apologies": apologies,
                  "heavy_available": heavy, "yaml": __import__("yaml").__file__,
                  "image": image, "sdk": sdk}))
"""


def sweep() -> list[tuple[str, str, str]]:
    """(Lex intent, transcript, input mode): each intent's first example in text and in
    speech, and questions of every kind as FallbackIntent, the way Lex sends what it
    cannot place."""
    from tests.test_lex_handler import first_examples

    course = load_project(ROOT)
    events = [(intent, text, mode) for intent, text in first_examples(course) for mode in ("Text", "Speech")]
    return events + [("FallbackIntent", text, "Text") for text in (
        "what comes after data collection", "c5 vs p3", "what's step 4 of the notebook setup",
        "which service turns speech into text", "qu'est-ce que l'apprentissage automatique",
        "tell me a joke", "", "🙂🙂", "x" * 5000)]


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


def extract_as_lambda_does(bundle: Path, target: Path) -> None:
    """Unpacks with each entry's own mode (zipfile's extractall ignores it), into folders no
    one but their owner may write, as Lambda unpacks a function into /var/task."""
    with zipfile.ZipFile(bundle) as archive:
        for info in archive.infolist():
            path = target / info.filename
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(archive.read(info))
            path.chmod(stat.S_IMODE(info.external_attr >> 16))
    for folder in [target, *(p for p in target.rglob("*") if p.is_dir())]:
        folder.chmod(0o755)


def lambda_user() -> dict:
    """subprocess arguments that run the child as a user owning none of the files (Lambda's
    sbx_user); nothing when the tests already run as such a user."""
    if os.geteuid() != 0:
        return {}
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("running as root and there is no 'nobody' user to run the bundle as")
    return {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}


def interpreter_for(user: dict) -> str:
    """A Python of this version that `user` may run: this one, or the system's when this one
    lives where only root may look (a pyenv under /root)."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (getattr(sys, "_base_executable", sys.executable), f"/usr/bin/{version}",
                      f"/usr/local/bin/{version}"):
        try:
            if subprocess.run([candidate, "-c", "pass"], capture_output=True, timeout=30, **user).returncode == 0:
                return candidate
        except OSError:
            continue
    pytest.skip(f"no {version} that the user {user.get('user')} may run")


def test_every_file_in_the_bundle_is_readable_by_everyone(tmp_path):
    bundle = build_bundle(ROOT, tmp_path / "out")
    with zipfile.ZipFile(bundle.path) as archive:
        infos = archive.infolist()
    assert infos and not any(info.is_dir() for info in infos)
    for info in infos:
        mode = info.external_attr >> 16
        assert info.create_system == 3 and stat.S_ISREG(mode), info.filename
        assert stat.S_IMODE(mode) == 0o644, f"{info.filename} is {stat.S_IMODE(mode):o}"
    assert "training_images.json" in {info.filename for info in infos}
    # The same files make the same zip, so an unchanged bundle keeps its S3 key.
    assert build_bundle(ROOT, tmp_path / "again").path.read_bytes() == bundle.path.read_bytes()


def test_the_bundle_is_small_and_answers_in_a_clean_environment_without_the_nlu_stack(tmp_path, course_copy):
    bundle = build_bundle(course_copy, tmp_path / "out")  # a trained project: its answer index goes in
    assert bundle.size <= MAX_BYTES
    names = zipfile.ZipFile(bundle.path).namelist()
    assert "lambda_handlers/fulfillment.py" in names and "domain.yml" in names and "knowledge/concepts.yml" in names
    heavy = ("bot/nlu/featurizers", "bot/nlu/classifiers", "bot/channels/http")
    assert not any(name.startswith(heavy) for name in names)
    user = lambda_user()
    # pytest's tmp_path is its owner's alone; Lambda's user must reach the code and the runtime.
    shared = Path(tempfile.mkdtemp(prefix="coursebot-lambda-"))
    try:
        shared.chmod(0o755)
        code = shared / "code"
        extract_as_lambda_does(bundle.path, code)
        venv = shared / "venv"
        subprocess.run([interpreter_for(user), "-m", "venv", "--without-pip", str(venv)], check=True)
        runtime = runtime_dir(shared)
        result = subprocess.run([str(venv / "bin" / "python"), "-c", SCRIPT, json.dumps(EVENT), json.dumps(sweep())],
                                cwd=shared,
                                capture_output=True, text=True, timeout=120, **user,
                                env={"PYTHONPATH": f"{code}:{runtime}", "PATH": "/usr/bin:/bin",
                                     "PYTHONDONTWRITEBYTECODE": "1", "COURSEBOT_SECRET_KEY": "k" * 64,
                                     "AWS_EC2_METADATA_DISABLED": "true"})
    finally:
        shutil.rmtree(shared, ignore_errors=True)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["heavy_available"] == []
    assert report["apologies"] == []
    assert report["yaml"].startswith(str(code))  # the bundled pure-Python PyYAML
    assert "Overfitting: performs well in training" in report["answer"]["messages"][0]["content"]
    # A question Lex cannot place is answered from the transcript by the lexical answer engine.
    assert "Filtering based" in report["fallback"]["messages"][0]["content"]
    # and what is not the course is declined, by the scope model the index carries
    assert report["elsewhere"]["messages"][0]["content"].startswith("The course doesn't cover that")
    assert "models/nlu/answers/index.json" in names and "models/nlu/answers/vectors.npy" not in names
    assert "models/nlu/answers/scope.json" in names
    # Training jobs work there too: the SDK's image answers travel in the bundle.
    from sagemaker.core import image_uris

    assert report["sdk"] is False
    assert report["image"] == image_uris.retrieve("xgboost", region="eu-west-1", version="1.7-1")


def test_the_commands_write_the_bundle_and_the_lex_export(tmp_path, course_copy):
    """On a copy with the session's model: the bundle carries the model's answer index, so
    building it where no model is trained yet trains one first (minutes)."""
    from tests.test_cli import coursebot

    built = coursebot("build", "lambda", "--out", str(tmp_path / "dist"), project=course_copy)
    assert built.returncode == 0 and (tmp_path / "dist" / "coursebot-lambda.zip").is_file()
    exported = coursebot("export", "lex", "--out", str(tmp_path / "lex"), project=course_copy)
    assert exported.returncode == 0, exported.stderr
    intents = len(load_project(ROOT).domain.intents) + 1  # and Lex's fallback intent
    assert f"{intents} intents" in exported.stdout and (tmp_path / "lex" / "CourseBot-DRAFT-LexJson.zip").is_file()
    assert "more examples skipped" in exported.stderr
