"""The Lex V2 export: the import zip and the CloudFormation template say what the project says."""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from bot.errors import ProjectError
from bot.lex import export_lex
from bot.lex.cloudformation import build_template
from bot.lex.definition import build_bot
from bot.lex.schema import validate_zip
from bot.project import load_project
from tests.conftest import ROOT, edit

LOCALE = "CourseBot/BotLocales/en_US"
BILLABLE = ("create_notebook", "create_training_job", "start_notebook", "delete_notebook", "stop_everything")
_REFERENCE = re.compile(r"\{([^{}]+)\}")


@pytest.fixture(scope="module")
def project():
    return load_project(ROOT)


@pytest.fixture(scope="module")
def exported(project, tmp_path_factory):
    return export_lex(project, tmp_path_factory.mktemp("lex"), lambda_code=("coursebot-artifacts", "bot.zip"))


@pytest.fixture(scope="module")
def files(exported) -> dict[str, dict]:
    with zipfile.ZipFile(exported.zip_path) as archive:
        return {name: json.loads(archive.read(name)) for name in archive.namelist()}


@pytest.fixture(scope="module")
def template(exported) -> dict:
    return json.loads(exported.template_path.read_text(encoding="utf-8"))


def _intents(files) -> dict[str, dict]:
    return {name.split("/")[-2]: body for name, body in files.items()
            if name.startswith(f"{LOCALE}/Intents/") and name.endswith("/Intent.json")}


def _slots(files, intent: str) -> set[str]:
    prefix = f"{LOCALE}/Intents/{intent}/Slots/"
    return {name[len(prefix):].split("/")[0] for name in files if name.startswith(prefix)}


def _normal(text: str) -> str:
    return " ".join(text.split()).lower()


def test_the_zip_has_the_layout_and_spelling_of_a_console_export(exported, files):
    assert exported.zip_path.name == "CourseBot-DRAFT-LexJson.zip"
    assert files["Manifest.json"] == {"metaData": {"schemaVersion": "1", "resourceType": "BOT",
                                                   "fileFormat": "LexJson"}}
    assert files["CourseBot/Bot.json"]["name"] == "CourseBot"
    assert files[f"{LOCALE}/BotLocale.json"]["identifier"] == "en_US"
    assert files[f"{LOCALE}/BotLocale.json"]["version"] is None
    with zipfile.ZipFile(exported.zip_path) as archive:
        assert not any(info.is_dir() for info in archive.infolist())
        raw = archive.read("CourseBot/Bot.json").decode("utf-8")
    assert raw == json.dumps(files["CourseBot/Bot.json"], separators=(",", ":"))  # compact, no newline
    intents = _intents(files)
    assert intents["FallbackIntent"]["identifier"] == "FALLBCKINT"
    assert intents["greet"]["slotPriorities"] == [] and intents["greet"]["sampleUtterances"]
    ids = [body["identifier"] for name, body in files.items() if name != "Manifest.json"
           and not name.endswith("BotLocale.json")]
    assert all(re.fullmatch(r"[A-Z0-9]{10}", i) for i in ids) and len(set(ids)) == len(ids)


def test_the_zip_passes_the_validator_of_the_service_model_and_real_exports(exported):
    assert validate_zip(exported.zip_path) == []


def test_every_domain_intent_and_the_fallback_are_exported(project, files, exported):
    intents = _intents(files)
    assert set(intents) == {*project.domain.intents, "FallbackIntent"}
    assert intents["FallbackIntent"]["parentIntentSignature"] == "AMAZON.FallbackIntent"
    assert exported.intents == len(intents)


def test_utterances_are_the_examples_with_slot_references(project, files, exported):
    intents = _intents(files)
    skipped = {(s.intent, s.text) for s in exported.skipped}
    total = 0
    for name in project.domain.intents:
        utterances = [u["utterance"] for u in intents[name]["sampleUtterances"] or []]
        total += len(utterances)
        restored = set()
        for example in project.nlu.examples_of(name):
            if (name, example.text) in skipped:
                continue
            annotations = sorted(example.entities, key=lambda a: a.start)
            texts = [a.text for a in annotations]
            for utterance in utterances:
                parts = _REFERENCE.split(utterance)
                if len(parts) // 2 != len(texts):
                    continue
                pairs = zip(parts[1::2], annotations, strict=True)
                if not all(_fills(project.domain, slot, a.entity) for slot, a in pairs):
                    continue
                back = "".join(part if i % 2 == 0 else texts[i // 2] for i, part in enumerate(parts))
                if _normal(back) == _normal(example.text):
                    restored.add(utterance)
                    break
            else:
                pytest.fail(f"the example '{example.text}' of {name} has no Lex utterance")
        assert restored == set(utterances), f"{name} has utterances that are no example"
    assert exported.utterances == total
    # Only examples that reference one slot twice are skipped, and every one of them does.
    assert all("twice" in s.reason for s in exported.skipped)
    for s in exported.skipped:
        example = next(e for e in project.nlu.examples_of(s.intent) if e.text == s.text)
        assert len({a.entity for a in example.entities}) < len(example.entities), s.text
        assert s.location.line and s.location.path.suffix == ".yml"


def _fills(domain, slot: str, entity: str) -> bool:
    """The Lex slot can hold the entity: it is named after it or filled from it."""
    return slot == entity or slot in domain.slots and any(
        m.type == "from_entity" and m.entity == entity for m in domain.slots[slot].mappings)


def test_utterances_reference_only_the_intents_slots(files):
    for name, intent in _intents(files).items():
        declared = _slots(files, name)
        assert {p["slotName"] for p in intent["slotPriorities"] or []} == declared
        for utterance in intent["sampleUtterances"] or []:
            references = _REFERENCE.findall(utterance["utterance"])
            assert set(references) <= declared, (name, utterance)
            assert len(references) == len(set(references)), utterance
            assert len(utterance["utterance"]) <= 500
        for slot in declared:
            body = files[f"{LOCALE}/Intents/{name}/Slots/{slot}/Slot.json"]
            if body["slotTypeName"] == "AMAZON.FreeFormInput":
                assert not any("{" + slot + "}" in u["utterance"] for u in intent["sampleUtterances"] or [])


def test_form_intents_declare_the_forms_required_slots(files):
    assert {"notebook_name", "notebook_instance_type", "notebook_role"} <= _slots(files, "create_notebook")
    slot = files[f"{LOCALE}/Intents/create_notebook/Slots/notebook_name/Slot.json"]
    setting = slot["valueElicitationSetting"]
    assert setting["slotConstraint"] == "Required"
    assert setting["promptSpecification"]["allowInterrupt"] is True and setting["promptSpecification"]["maxRetries"]
    prompt = setting["promptSpecification"]["messageGroupsList"][0]
    assert "notebook instance be called" in prompt["message"]["plainTextMessage"]["value"]


def test_slot_types_hold_the_lookups_synonyms_and_annotated_values(project, files, exported):
    types = {body["name"]: body for name, body in files.items() if name.endswith("/SlotType.json")}
    assert exported.slot_types == len(types)
    lookups = {lookup.name for lookup in project.nlu.lookups}
    assert {"".join(part.capitalize() for part in e.split("_")) for e in lookups} == set(types)
    synonyms = {s.name: s.items for s in project.nlu.synonyms}
    canonical = {item.lower(): s.name for s in project.nlu.synonyms for item in s.items}
    canonical.update({s.name.lower(): s.name for s in project.nlu.synonyms})
    for entity in lookups:
        body = types["".join(p.capitalize() for p in entity.split("_"))]
        names = {v["sampleValue"]["value"].lower() for v in body["slotTypeValues"]}
        names |= {s["value"].lower() for v in body["slotTypeValues"] for s in v["synonyms"] or []}
        items = [i for lookup in project.nlu.lookups if lookup.name == entity for i in lookup.items]
        pairs = [(canonical.get(i.lower(), i), i) for i in items]
        pairs += [(a.value, a.text) for e in project.nlu.examples for a in e.entities if a.entity == entity]
        expected = {text.lower() for pair in pairs for text in pair}
        if entity == "instance_type":  # and every instance type the instructor allows
            aws = project.settings.aws
            expected |= {t.lower() for t in (*aws.notebook_instance_types, *aws.training_instance_types)}
        expected |= {i.lower() for value, _ in pairs for i in synonyms.get(value, ())}
        assert names == expected, entity
    assert types["Voice"]["valueSelectionSetting"] == {"regexFilter": None, "resolutionStrategy": "ORIGINAL_VALUE"}
    algorithm = {v["sampleValue"]["value"]: [s["value"] for s in v["synonyms"] or []]
                 for v in types["Algorithm"]["slotTypeValues"]}
    assert types["Algorithm"]["valueSelectionSetting"]["resolutionStrategy"] == "TOP_RESOLUTION"
    assert "xgb" in algorithm["xgboost"] and "linear learner" in algorithm["linear-learner"]


def test_billable_intents_ask_for_confirmation(files):
    intents = _intents(files)
    for name in BILLABLE:
        setting = intents[name]["intentConfirmationSetting"]
        assert setting["isActive"] is True
        prompt = setting["promptSpecification"]
        assert prompt["messageGroupsList"][0]["message"]["plainTextMessage"]["value"].endswith("?")
        assert prompt["maxRetries"] and prompt["allowInterrupt"] is True
        assert setting["declinationResponse"]["messageGroupsList"][0]["message"]["plainTextMessage"]["value"]
    assert intents["greet"]["intentConfirmationSetting"] is None
    assert all(i["fulfillmentCodeHook"]["enabled"] is True for i in intents.values())


def _lint_errors(template: dict) -> list[str]:
    from cfnlint.api import ManualArgs, lint

    matches = lint(json.dumps(template), config=ManualArgs(regions=["us-east-1"]))
    return [f"{m.rule.id} {m.message} at {m.path}" for m in matches if m.rule.id.startswith("E")]


def test_the_template_passes_cfn_lint(template):
    assert _lint_errors(template) == []


def test_cfn_lint_checks_the_bots_nested_properties_against_the_lex_bot_schema(template):
    """The template's bot uses the AWS::Lex::Bot resource's names (PascalCase, its own
    structure), not the import zip's; cfn-lint holds that schema and catches a wrong name."""
    broken = copy.deepcopy(template)
    locale = broken["Resources"]["Bot"]["Properties"]["BotLocales"][0]
    slot = next(i for i in locale["Intents"] if i["Name"] == "create_notebook")["Slots"][0]
    slot["ValueElicitationSetting"]["PromptSpecification"]["MessageGroups"] = \
        slot["ValueElicitationSetting"]["PromptSpecification"].pop("MessageGroupsList")
    errors = "\n".join(_lint_errors(broken))
    assert "MessageGroups" in errors and "MessageGroupsList" in errors


def _resources(template: dict, kind: str) -> dict[str, dict]:
    return {name: body for name, body in template["Resources"].items() if body["Type"] == kind}


def test_the_template_wires_bot_alias_lambda_and_permission(template):
    resources = template["Resources"]
    by_type = {body["Type"]: name for name, body in resources.items()}
    for kind in ("AWS::Lex::Bot", "AWS::Lex::BotVersion", "AWS::Lex::BotAlias", "AWS::Lambda::Function",
                 "AWS::Lambda::Permission"):
        assert kind in by_type
    function = resources[by_type["AWS::Lambda::Function"]]["Properties"]
    assert (function["Runtime"], function["Handler"]) == ("python3.12", "lambda_handlers.fulfillment.handler")
    assert function["Code"] == {"S3Bucket": {"Ref": "CodeBucket"}, "S3Key": {"Ref": "CodeKey"}}
    function_arn = {"Fn::GetAtt": [by_type["AWS::Lambda::Function"], "Arn"]}
    bot = resources[by_type["AWS::Lex::Bot"]]["Properties"]
    alias = resources[by_type["AWS::Lex::BotAlias"]]["Properties"]
    # The live alias and the console's test alias (TSTALIASID) both run the code hooks.
    for settings in (alias["BotAliasLocaleSettings"], bot["TestBotAliasSettings"]["BotAliasLocaleSettings"]):
        [locale] = settings
        assert locale["LocaleId"] == "en_US" and locale["BotAliasLocaleSetting"]["Enabled"] is True
        hook = locale["BotAliasLocaleSetting"]["CodeHookSpecification"]["LambdaCodeHook"]
        assert hook == {"CodeHookInterfaceVersion": "1.0", "LambdaArn": function_arn}
    sources = []
    for permission in _resources(template, "AWS::Lambda::Permission").values():
        properties = permission["Properties"]
        assert properties["Principal"] == "lexv2.amazonaws.com" and properties["FunctionName"] == function_arn
        sources.append(properties["SourceArn"])
    assert {"Fn::GetAtt": [by_type["AWS::Lex::BotAlias"], "Arn"]} in sources
    assert {"Fn::Sub": "arn:${AWS::Partition}:lex:${AWS::Region}:${AWS::AccountId}:bot-alias/${Bot}/TSTALIASID"} \
        in sources
    locale = bot["BotLocales"][0]
    fallback = [i for i in locale["Intents"] if i.get("ParentIntentSignature") == "AMAZON.FallbackIntent"]
    assert len(fallback) == 1


def _version(template: dict) -> tuple[str, dict]:
    [(name, version)] = _resources(template, "AWS::Lex::BotVersion").items()
    return name, version


def test_each_bot_definition_gets_its_own_version_and_the_alias_serves_it(project):
    bot = build_bot(project, "CourseBot")
    first = build_template(bot, [], None)
    again = build_template(build_bot(project, "CourseBot"), [], None)
    assert _version(first) == _version(again)  # an unchanged bot keeps its version
    changed = copy.deepcopy(bot)
    greet = next(intent for intent in changed.intents if intent.name == "greet")
    greet.utterances[0] += " there"
    second = build_template(changed, [], None)
    (old, old_body), (new, new_body) = _version(first), _version(second)
    assert old != new and old_body["Properties"]["Description"] != new_body["Properties"]["Description"]
    for template, name in ((first, old), (second, new)):
        alias = _resources(template, "AWS::Lex::BotAlias")["BotAlias"]["Properties"]
        assert alias["BotVersion"] == {"Fn::GetAtt": [name, "BotVersion"]}
        assert template["Outputs"]["BotVersion"]["Value"] == {"Fn::GetAtt": [name, "BotVersion"]}
    # The Lambda's code is not part of the bot: a new bundle alone publishes no version.
    assert _version(build_template(bot, [], ("bucket", "other-code.zip"))) == _version(first)


def test_the_version_does_not_depend_on_the_process_that_exported_it(template):
    script = ("import json, sys; from bot.lex import export_lex; from bot.project import load_project; "
              "t = json.loads(export_lex(load_project(sys.argv[1]), sys.argv[2]).template_path.read_text()); "
              "print([n for n, b in t['Resources'].items() if b['Type'] == 'AWS::Lex::BotVersion'])")
    with tempfile.TemporaryDirectory() as out:
        result = subprocess.run([sys.executable, "-c", script, str(ROOT), out], capture_output=True, text=True,
                                env={**os.environ, "PYTHONHASHSEED": "12345"}, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == repr([_version(template)[0]])


def test_the_function_outlasts_one_aws_call_with_all_its_retries(project, template):
    aws = project.settings.aws
    timeout = template["Resources"]["FulfillmentFunction"]["Properties"]["Timeout"]
    assert timeout >= aws.call_deadline + 10 and timeout >= aws.read_timeout * 2 and timeout <= 900
    slower = build_template(build_bot(project, "CourseBot"), [], None, call_deadline=60)
    assert slower["Resources"]["FulfillmentFunction"]["Properties"]["Timeout"] >= 70


def test_the_instance_type_slot_type_holds_every_instance_type_the_instructor_allows(project, files, template):
    aws = project.settings.aws
    allowed = {*aws.notebook_instance_types, *aws.training_instance_types}
    assert "ml.t3.large" in allowed
    values = {v["sampleValue"]["value"] for v in files[f"{LOCALE}/SlotTypes/InstanceType/SlotType.json"]
              ["slotTypeValues"]}
    assert allowed <= values
    locale = template["Resources"]["Bot"]["Properties"]["BotLocales"][0]
    [cfn_type] = [t for t in locale["SlotTypes"] if t["Name"] == "InstanceType"]
    assert allowed <= {v["SampleValue"]["Value"] for v in cfn_type["SlotTypeValues"]}
    # They come from the settings, not from a list in the code.
    other = load_project(ROOT)
    other.settings = replace(other.settings, aws=aws.with_changes(notebook_instance_types={"ml.g4dn.xlarge": 0.74}))
    [instance_type] = [t for t in build_bot(other, "CourseBot").slot_types if t.entity == "instance_type"]
    assert "ml.g4dn.xlarge" in instance_type.values


def _actions(role: dict) -> set[str]:
    actions = set()
    for policy in role["Properties"]["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow"
            value = statement["Action"]
            actions |= {value} if isinstance(value, str) else set(value)
    return actions


def test_roles_are_least_privilege(template):
    policy = json.loads((ROOT / "docs" / "iam-policy.json").read_text())
    wanted = set()
    for statement in policy["Statement"]:
        action = statement["Action"]
        wanted |= {action} if isinstance(action, str) else set(action)
    roles = {name: body for name, body in template["Resources"].items() if body["Type"] == "AWS::IAM::Role"}
    lambda_role = next(r for r in roles.values() if "lambda.amazonaws.com" in json.dumps(
        r["Properties"]["AssumeRolePolicyDocument"]))
    lex_role = next(r for r in roles.values() if "lexv2.amazonaws.com" in json.dumps(
        r["Properties"]["AssumeRolePolicyDocument"]))
    logs = {a for a in _actions(lambda_role) if a.startswith("logs:")}
    assert _actions(lambda_role) - logs == wanted
    assert logs == {"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"}
    assert _actions(lex_role) == {"polly:SynthesizeSpeech"}


def test_a_too_long_example_is_refused_with_its_file_and_line(tiny: Path, tmp_path: Path):
    long_text = "please " * 71 + "okay"        # 497 + 4 = 501 characters
    assert len(long_text) == 501
    nlu = tiny / "nlu_data" / "nlu.yml"
    edit(nlu, "      - hello bot\n", f"      - hello bot\n      - {long_text}\n")
    line = next(n for n, text in enumerate(nlu.read_text().splitlines(), 1) if long_text in text)
    with pytest.raises(ProjectError) as error:
        export_lex(load_project(tiny), tmp_path / "out")
    [problem] = error.value.problems
    assert problem.location.path == nlu and problem.location.line == line
    assert "500" in problem.message
    assert not (tmp_path / "out").exists()


def test_an_intent_name_lex_refuses_is_reported_at_its_declaration(tiny: Path, tmp_path: Path):
    edit(tiny / "domain.yml", "  - ask_concept\n", "  - ask_concept\n  - ask__twice\n")
    with pytest.raises(ProjectError) as error:
        export_lex(load_project(tiny), tmp_path / "out")
    [problem] = error.value.problems
    assert problem.location.path.name == "domain.yml" and problem.location.line == 5
    assert "ask__twice" in problem.message
