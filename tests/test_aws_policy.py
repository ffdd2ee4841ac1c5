"""The IAM policy the README hands to instructors allows exactly what the actions call."""

import json
import re

import botocore.session

from tests.conftest import ROOT

POLICY = ROOT / "docs" / "iam-policy.json"
SERVICES = ("sagemaker", "comprehend", "polly", "rekognition")


def allowed_actions() -> set[str]:
    statements = json.loads(POLICY.read_text())["Statement"]
    return {action for s in statements for action in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}


def called_operations() -> set[str]:
    """Every API operation name the service layer mentions (what it can call)."""
    names = set()
    for path in (ROOT / "bot" / "aws").glob("*.py"):
        names |= set(re.findall(r"\"([A-Z][a-z]+(?:[A-Z][a-zA-Z]*)+)\"", path.read_text()))
    return names


def test_the_policy_allows_every_operation_the_service_layer_calls_and_nothing_else():
    session = botocore.session.get_session()
    operations = {service: set(session.get_service_model(service).operation_names) for service in SERVICES}
    needed = {f"{service}:{name}" for name in called_operations() for service in SERVICES
              if name in operations[service]}
    assert "sagemaker:CreateTrainingJob" in needed and "polly:SynthesizeSpeech" in needed
    granted = {action for action in allowed_actions() if action.split(":")[0] in SERVICES}
    # Creating with tags needs AddTags too; nothing else beyond what is called.
    assert granted - needed == {"sagemaker:AddTags"}
    assert needed <= granted


def test_the_readme_shows_the_same_policy():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"### IAM permissions.*?```json\n(.*?)```", readme, re.S).group(1)
    assert json.loads(block) == json.loads(POLICY.read_text())
