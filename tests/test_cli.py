"""The `coursebot` command, run as a user runs it: exit codes, output, no tracebacks."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import edit


def coursebot(*args: str, project: Path | None = None, stdin: str | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "bot", *args]
    if project is not None:
        command += ["--project", str(project)]
    result = subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=180)
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


@pytest.mark.parametrize("command", [[], ["ask"], ["chat"], ["train"], ["data"], ["data", "validate"],
                                     ["data", "sync"], ["test"], ["benchmark"], ["benchmark", "nlu"], ["serve"],
                                     ["export", "lex"], ["build", "lambda"], ["deploy", "lex"]])
def test_every_command_has_help(command):
    result = coursebot(*command, "--help")
    assert result.returncode == 0 and "Usage:" in result.stdout


def test_ask_json_prints_the_parse_and_the_messages(course_copy):
    result = coursebot("ask", "what is overfitting?", "--json", project=course_copy)
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["parse"]["intent"]["name"] == "ask_concept"
    assert output["parse"]["entities"][0]["value"] == "overfitting"
    assert output["messages"][0]["recipient_id"] == "cli"
    assert "Overfitting: performs well in training" in output["messages"][0]["text"]


def test_ask_prints_the_answer_and_nothing_else(course_copy):
    result = coursebot("ask", "which aws service converts text to speech", project=course_copy)
    assert result.returncode == 0 and "Amazon Polly" in result.stdout
    assert result.stderr == ""  # no library's warnings (libtorch's on the int8 encoder among them)


def test_train_skips_an_unchanged_project(course_copy):
    coursebot("train", project=course_copy)
    result = coursebot("train", project=course_copy)
    assert result.returncode == 0 and "up to date" in result.stdout


def test_empty_question_is_a_usage_error():
    result = coursebot("ask", "   ")
    assert result.returncode == 2 and "empty" in result.stderr


def test_missing_project_directory_is_a_clear_error(tmp_path):
    result = coursebot("ask", "hello", project=tmp_path / "nowhere")
    assert result.returncode == 1 and "not a bot project" in result.stderr


def test_chat_in_the_terminal(course_copy):
    result = coursebot("chat", project=course_copy, stdin="/debug\nwhat is a feature\nhelp\n9\n1\nbye\n")
    assert result.returncode == 0, result.stderr
    assert "intent: ask_concept" in result.stdout  # /debug shows the parse
    assert "Feature: " in result.stdout
    assert "1. The ML pipeline stages" in result.stdout  # buttons become numbered choices
    assert "9 is not one of the choices: type a number from 1 to" in result.stdout  # and it was not sent
    assert "Problem formulation" in result.stdout  # "1" picked the first button
    assert result.stdout.rstrip().splitlines()[-1].startswith("bot > ")  # said goodbye, then left


def test_chat_leaves_on_end_of_input(course_copy):
    result = coursebot("chat", project=course_copy, stdin="hello\n")
    assert result.returncode == 0 and "CourseBot" in result.stdout


def test_validate_passes_a_clean_project(tiny):
    result = coursebot("data", "validate", project=tiny)
    assert result.returncode == 0 and "0 errors, 0 warnings" in result.stdout


def test_validate_fails_on_errors_with_file_and_line(tiny):
    edit(tiny / "nlu_data" / "rules.yml", "- intent: greet", "- intent: greeet")
    result = coursebot("data", "validate", project=tiny)
    assert result.returncode == 1
    assert "rules.yml:5: error:" in result.stdout and "greeet" in result.stdout


def test_locations_are_printed_literally(tiny):
    rules = tiny / "nlu_data" / "rules.yml"
    rules.write_text("#\n" * 95 + rules.read_text().replace("- intent: greet", "- intent: greeet"))
    result = coursebot("data", "validate", project=tiny)
    assert "rules.yml:100: error:" in result.stdout  # not rendered as an emoji


def test_warnings_fail_only_when_asked(tiny):
    edit(tiny / "nlu_data" / "nlu.yml", "      - yo\n", "")
    assert coursebot("data", "validate", project=tiny).returncode == 0
    result = coursebot("data", "validate", "--fail-on-warnings", project=tiny)
    assert result.returncode == 1 and "1 warning" in result.stderr


def test_a_broken_project_does_not_start(tiny):
    edit(tiny / "domain.yml", "responses:", "responsess:")
    result = coursebot("ask", "hello", project=tiny)
    assert result.returncode == 1 and "domain.yml" in result.stderr and "responsess" in result.stderr


def test_sync_regenerates_lookups_from_aliases(tiny):
    edit(tiny / "knowledge" / "things.yml", "aliases: [gizmos]", "aliases: [gizmos, gadget]")
    assert "updated" in coursebot("data", "sync", project=tiny).stdout
    assert "- gadget" in (tiny / "nlu_data" / "knowledge_entities.yml").read_text()
    assert "already up to date" in coursebot("data", "sync", project=tiny).stdout


@pytest.fixture
def damaged_copy(course_copy, tmp_path):
    import shutil

    copy = tmp_path / "project"
    shutil.copytree(course_copy, copy, ignore=shutil.ignore_patterns(".coursebot"))
    return copy


@pytest.mark.parametrize("damage", ["truncated arrays", "state of the wrong type", "encoder cut short"])
def test_a_damaged_model_is_one_sentence_that_says_how_to_fix_it(damaged_copy, damage):
    model = damaged_copy / "models" / "nlu"
    if damage == "truncated arrays":
        target = model / "4_ngram_featurizer" / "arrays.npz"
        target.write_bytes(target.read_bytes()[:100])
    elif damage == "state of the wrong type":
        (model / "6_fallback_classifier" / "thresholds.json").write_text("[1, 2, 3]")
    else:
        [encoder] = [p for p in (model / "3_sentence_embedder").iterdir() if p.stat().st_size > 1_000_000]
        encoder.write_bytes(encoder.read_bytes()[:4096])
    result = coursebot("ask", "what is overfitting?", project=damaged_copy)
    assert result.returncode == 1
    assert "the model is damaged" in result.stderr and "coursebot train --force" in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 3, result.stderr


def test_serve_says_it_trains_a_missing_model_before_it_does(tiny, tmp_path):
    import os
    import signal

    process = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--port", "0", "--project", str(tiny)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = process.stderr.readline()
        assert first.startswith("The NLU model is missing: training it now"), first
        listening = process.stdout.readline()
        assert "CourseBot is listening on http://127.0.0.1:" in listening
    finally:
        os.kill(process.pid, signal.SIGINT)
        process.communicate(timeout=30)
