from pathlib import Path

import pytest

from bot.errors import ProjectError
from bot.yamlfile import LineDict, LineList, load_yaml


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "file.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_mappings_and_lists_remember_their_lines(tmp_path):
    data = load_yaml(write(tmp_path, "a: 1\nitems:\n  - x\n  - y\nblock: |\n  - first\n  - second\n"))
    assert isinstance(data, LineDict) and isinstance(data["items"], LineList)
    assert data.line_of("items") == 2
    assert data["items"].item_lines == [3, 4]
    assert data.value_lines["block"] == 6  # a block scalar's content starts below its '|'


def test_duplicate_key_is_an_error_with_its_line(tmp_path):
    with pytest.raises(ProjectError) as raised:
        load_yaml(write(tmp_path, "a: 1\nb: 2\na: 3\n"))
    problem = raised.value.problems[0]
    assert problem.code == "duplicate-key" and problem.location.line == 3


def test_syntax_error_names_file_and_line(tmp_path):
    path = write(tmp_path, "a: 1\nb: [unclosed\nc: 3\n")
    with pytest.raises(ProjectError) as raised:
        load_yaml(path)
    problem = raised.value.problems[0]
    assert problem.code == "yaml-syntax"
    assert problem.location.path == path and problem.location.line in (2, 3)


def test_non_utf8_file_is_reported_not_raised_raw(tmp_path):
    path = tmp_path / "latin1.yml"
    path.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(ProjectError) as raised:
        load_yaml(path)
    assert raised.value.problems[0].code == "encoding"
