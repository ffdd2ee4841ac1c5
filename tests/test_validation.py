"""`coursebot data validate`: the shipped project is clean, and each class of mistake is caught."""

from pathlib import Path

from bot.validation import validate
from tests.conftest import ROOT, edit


def codes(root: Path) -> dict[str, list]:
    found: dict[str, list] = {}
    for problem in validate(root):
        found.setdefault(problem.code, []).append(problem)
    return found


def test_shipped_project_is_clean():
    assert [str(p) for p in validate(ROOT)] == []


def test_tiny_project_is_clean(tiny):
    assert [str(p) for p in validate(tiny)] == []


def test_same_example_under_two_intents_even_with_other_case_and_punctuation(tiny):
    edit(tiny / "nlu_data" / "nlu.yml", "      - [gizmo](concept)?\n", "      - [gizmo](concept)?\n      - Hello!!\n")
    problem = codes(tiny)["conflicting-example"][0]
    assert problem.severity == "error" and "'greet'" in problem.message and "'ask_concept'" in problem.message
    assert problem.location.line == 27


def test_intent_with_too_few_examples(tiny):
    edit(tiny / "nlu_data" / "nlu.yml", "      - yo\n", "")
    problem = codes(tiny)["few-examples"][0]
    assert problem.severity == "warning" and "'greet' has 9 examples" in problem.message


def test_unused_names_of_every_kind(tiny):
    edit(tiny / "domain.yml", "  - ask_concept\n", "  - ask_concept\n  - chitchat\n")
    edit(tiny / "domain.yml", "  - concept\n", "  - concept\n  - gadget\n")
    edit(tiny / "domain.yml", "responses:\n",
         "  mood:\n    type: text\n    mappings:\n      - type: custom\nresponses:\n")
    edit(tiny / "domain.yml", "responses:\n", "responses:\n  utter_bye:\n    - text: Bye\n")
    edit(tiny / "domain.yml", "  - action_explain\n", "  - action_explain\n  - utter_bye\n")
    found = codes(tiny)
    assert "'chitchat'" in found["unused-intent"][0].message
    assert "'gadget'" in found["unused-entity"][0].message
    assert "'mood'" in found["unused-slot"][0].message
    assert "'utter_bye'" in found["unused-action"][0].message
    assert all(p.severity == "warning" for key in ("unused-intent", "unused-entity", "unused-slot")
               for p in found[key])


def test_unused_response(tiny):
    edit(tiny / "domain.yml", "responses:\n", "responses:\n  utter_bye:\n    - text: Bye\n")
    assert "'utter_bye'" in codes(tiny)["unused-response"][0].message


def test_action_listed_in_domain_but_not_implemented(tiny):
    edit(tiny / "domain.yml", "  - action_explain\n", "  - action_explain\n  - action_missing\n")
    problem = codes(tiny)["unimplemented-action"][0]
    assert problem.severity == "error" and "action_missing" in problem.message


def test_alias_claimed_by_two_entries(tiny):
    edit(tiny / "knowledge" / "things.yml", "aliases: [gizmos]", "aliases: [gizmos, Widgets]")
    problem = codes(tiny)["alias-conflict"][0]
    assert problem.severity == "error" and "'widget'" in problem.message and "'gizmo'" in problem.message


def test_generated_names_out_of_date(tiny):
    with (tiny / "knowledge" / "things.yml").open("a", encoding="utf-8") as file:
        file.write("  - id: doohickey\n    name: Doohickey\n    category: concept\n    summary: A thing.\n"
                   "    details: A thing.\n    source: Things\n")
    found = codes(tiny)
    assert found["stale-generated"][0].severity == "warning"
    assert ["doohickey" in p.message for p in found["unreachable-entry"]] == [True]


def test_knowledge_entry_no_lookup_can_reach(tiny):
    (tiny / "nlu_data" / "knowledge_entities.yml").write_text(
        'version: "3.1"\nnlu:\n  - lookup: concept\n    examples: |\n      - widget\n', encoding="utf-8")
    problem = codes(tiny)["unreachable-entry"][0]
    assert "'gizmo'" in problem.message and problem.location.path.name == "things.yml"


def test_broken_characters_with_their_line(tiny):
    edit(tiny / "knowledge" / "things.yml", "A widget is a small part.", "A widget \u00e2\u20ac\u201d a small part.")
    problem = codes(tiny)["broken-characters"][0]
    assert problem.location.path.name == "things.yml" and problem.location.line == 6
    assert "\u2014" in problem.message  # suggests the dash it should have been


def test_annotated_value_that_names_no_entry(tiny):
    edit(tiny / "nlu_data" / "nlu.yml", "define [widget](concept)", "define [thingamajig](concept)")
    problem = codes(tiny)["unknown-entity-value"][0]
    assert problem.severity == "warning" and "thingamajig" in problem.message
