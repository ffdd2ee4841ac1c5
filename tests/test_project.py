"""Loading a project: every structural error names its file and line."""

from pathlib import Path

import pytest

from bot.errors import ProjectError
from bot.project import load_project
from tests.conftest import edit


def load_errors(root: Path) -> list:
    with pytest.raises(ProjectError) as raised:
        load_project(root)
    return raised.value.problems


def only(problems: list, code: str):
    matching = [p for p in problems if p.code == code]
    assert matching, f"no {code} among {[str(p) for p in problems]}"
    return matching[0]


def test_tiny_project_loads_into_typed_objects(tiny):
    project = load_project(tiny)
    assert project.domain.intents == ["greet", "ask_concept"]
    assert len(project.nlu.examples_of("greet")) == 10
    example = project.nlu.examples_of("ask_concept")[0]
    assert example.text == "what is a widget"
    assert (example.entities[0].entity, example.entities[0].start, example.entities[0].end) == ("concept", 10, 16)
    assert [r.name for r in project.rules] == ["greet", "explain", "fallback"]
    assert project.knowledge.get("gizmo").aliases == ("gizmos",)


def test_shipped_project_loads(course_project):
    assert len(course_project.knowledge) > 100
    assert len(course_project.nlu.examples) > 500


def test_bad_yaml(tiny):
    edit(tiny / "domain.yml", "  - greet\n", "  - greet: [\n")
    problem = only(load_errors(tiny), "yaml-syntax")
    assert problem.location.path.name == "domain.yml" and problem.location.line is not None


@pytest.mark.parametrize("file, old, new", [
    ("domain.yml", "intents:", "intents: ["),             # a syntax error
    ("domain.yml", "responses:", "intents:\n  - x\nresponses:"),  # a key given twice
])
def test_one_yaml_mistake_in_the_course_is_reported_alone(tmp_path, file, old, new):
    """Without domain.yml, every intent, action and slot of every other file is undefined:
    the one error to fix must not drown in hundreds of follow-on ones."""
    from tests.conftest import ROOT, copy_project

    project = copy_project(ROOT, tmp_path / "course")
    edit(project / file, old, new)
    errors = load_errors(project)
    assert len(errors) == 1 and errors[0].code in ("yaml-syntax", "duplicate-key"), errors


def test_unknown_key_suggests_the_right_one(tiny):
    edit(tiny / "domain.yml", "responses:", "responsess:")
    problem = only(load_errors(tiny), "unknown-key")
    assert "did you mean 'responses'" in problem.message
    assert problem.location.path.name == "domain.yml"


def test_example_annotated_with_undefined_entity(tiny):
    edit(tiny / "nlu_data" / "nlu.yml", "tell me about [gizmo](concept)", "tell me about [gizmo](gadget)")
    problem = only(load_errors(tiny), "undefined-entity")
    assert "gadget" in problem.message
    assert problem.location.path.name == "nlu.yml" and problem.location.line == 19


def test_rule_naming_unknown_intent(tiny):
    edit(tiny / "nlu_data" / "rules.yml", "- intent: greet", "- intent: greeet")
    problem = only(load_errors(tiny), "undefined-intent")
    assert "greeet" in problem.message
    assert problem.location.path.name == "rules.yml" and problem.location.line == 5


def test_rule_naming_unknown_action(tiny):
    edit(tiny / "nlu_data" / "rules.yml", "- action: action_explain", "- action: action_explian")
    problem = only(load_errors(tiny), "undefined-action")
    assert "action_explian" in problem.message and problem.location.line == 10


def test_response_referenced_but_missing(tiny):
    edit(tiny / "nlu_data" / "rules.yml", "- action: utter_greet", "- action: utter_hello")
    problem = only(load_errors(tiny), "undefined-response")
    assert "utter_hello" in problem.message and "responses" in problem.message


def test_knowledge_entry_without_id(tiny):
    edit(tiny / "knowledge" / "things.yml", "  - id: gizmo\n    name: Gizmo", "  - name: Gizmo")
    problem = only(load_errors(tiny), "missing-key")
    assert problem.location.path.name == "things.yml" and problem.location.line == 11
    assert "'id'" in problem.message


def test_knowledge_reference_to_unknown_entry(tiny):
    edit(tiny / "knowledge" / "things.yml", "related: [gizmo]", "related: [gizmmo]")
    problem = only(load_errors(tiny), "unknown-reference")
    assert "gizmmo" in problem.message


def test_every_problem_is_reported_at_once(tiny):
    edit(tiny / "domain.yml", "responses:", "responsess:")
    edit(tiny / "nlu_data" / "rules.yml", "- intent: greet", "- intent: greeet")
    codes = {p.code for p in load_errors(tiny)}
    assert {"unknown-key", "undefined-intent"} <= codes


def test_directory_that_is_not_a_project(tmp_path):
    assert only(load_errors(tmp_path), "not-a-project")
