"""`coursebot deploy lex`: S3 on moto, CloudFormation through botocore's Stubber (moto cannot
create Lex resources), so every request is checked against the real API models."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone

import boto3
import pytest
from botocore.stub import ANY, Stubber
from moto import mock_aws

from bot.aws import AwsProblem, AwsSettings
from bot.aws.session import AwsSession
from bot.lex.cloudformation import ROLE_ENV, SECRET_ENV
from bot.lex.deploy import CAPABILITIES, DeployPlan, LexDeployer
from tests.conftest import ROOT
from tests.test_cli import coursebot

BUCKET = "course-deploys"
ROLE = "arn:aws:iam::123456789012:role/CourseSageMakerRole"


@pytest.fixture
def plan(tmp_path):
    (tmp_path / "bundle.zip").write_bytes(b"PK\x05\x06" + b"\x00" * 18)
    (tmp_path / "template.json").write_text('{"Resources": {}}')
    return DeployPlan("coursebot-lex", BUCKET, tmp_path / "bundle.zip", tmp_path / "template.json", ROLE, "images")


@pytest.fixture
def session(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
        yield AwsSession(AwsSettings(region="us-east-1"))


def stack(status: str, outputs: dict | None = None, parameters: tuple[str, ...] = ()) -> dict:
    return {"Stacks": [{"StackName": "coursebot-lex", "StackStatus": status,
                        "CreationTime": datetime.now(timezone.utc),
                        "Parameters": [{"ParameterKey": key, "ParameterValue": "****"} for key in parameters],
                        "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in (outputs or {}).items()]}]}


def stack_request(plan: DeployPlan, secret: dict) -> dict:
    """What CreateStack and UpdateStack are sent; `secret` is how the SecretKey parameter is given."""
    return {"StackName": "coursebot-lex", "Capabilities": CAPABILITIES,
            "TemplateURL": f"https://{BUCKET}.s3.amazonaws.com/{plan.template_key}",
            "Parameters": [{"ParameterKey": "CodeBucket", "ParameterValue": BUCKET},
                           {"ParameterKey": "CodeKey", "ParameterValue": plan.bundle_key},
                           {"ParameterKey": "ExecutionRoleArn", "ParameterValue": ROLE},
                           {"ParameterKey": "ImageBucket", "ParameterValue": "images"},
                           {"ParameterKey": "SecretKey", **secret}],
            "Tags": [{"Key": "created-by", "Value": "coursebot"}]}


def sent(session: AwsSession, operation: str) -> list[dict]:
    """The parameters of every `operation` call the deployer makes, as botocore builds them."""
    calls: list[dict] = []
    session.client("cloudformation").meta.events.register(
        f"provide-client-params.cloudformation.{operation}", lambda params, **_: calls.append(dict(params)))
    return calls


def event(number: int, resource: str, status: str) -> dict:
    return {"StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/coursebot-lex/1", "EventId": str(number),
            "StackName": "coursebot-lex", "LogicalResourceId": resource, "ResourceStatus": status,
            "Timestamp": datetime.now(timezone.utc)}


def test_a_first_deploy_uploads_creates_the_stack_reports_progress_and_the_bot_ids(session, plan):
    lines: list[str] = []
    outputs = {"BotId": "ABCDEFGHIJ", "BotAliasArn": "arn:aws:lex:us-east-1:123456789012:bot-alias/ABCDEFGHIJ/X"}
    created = sent(session, "CreateStack")
    with Stubber(session.client("cloudformation")) as cfn:
        cfn.add_client_error("describe_stacks", "ValidationError", "Stack with id coursebot-lex does not exist",
                             expected_params={"StackName": "coursebot-lex"})
        cfn.add_response("create_stack", {"StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/x/1"},
                         stack_request(plan, {"ParameterValue": ANY}))
        cfn.add_response("describe_stack_events", {"StackEvents": [event(1, "Bot", "CREATE_IN_PROGRESS")]})
        cfn.add_response("describe_stacks", stack("CREATE_IN_PROGRESS"))
        cfn.add_response("describe_stack_events", {"StackEvents": [event(2, "Bot", "CREATE_COMPLETE"),
                                                                   event(1, "Bot", "CREATE_IN_PROGRESS")]})
        cfn.add_response("describe_stacks", stack("CREATE_COMPLETE", outputs))
        cfn.add_response("describe_stacks", stack("CREATE_COMPLETE", outputs))
        result = LexDeployer(session, lines.append, poll_seconds=0).deploy(plan)
        cfn.assert_no_pending_responses()
    assert (result.action, result.status, result.outputs) == ("create", "CREATE_COMPLETE", outputs)
    assert lines.count("Bot: CREATE_IN_PROGRESS") == 1 and "Bot: CREATE_COMPLETE" in lines
    # A new stack gets a new secret key for the function, which is never printed.
    [key] = [p["ParameterValue"] for p in created[0]["Parameters"] if p["ParameterKey"] == "SecretKey"]
    assert re.fullmatch(r"[0-9a-f]{64}", key) and not any(key in line for line in lines)
    s3 = boto3.client("s3", region_name="us-east-1")
    assert s3.get_object(Bucket=BUCKET, Key=plan.bundle_key)["Body"].read() == plan.bundle.read_bytes()
    assert s3.get_object(Bucket=BUCKET, Key=plan.template_key)["Body"].read() == plan.template.read_bytes()


def test_an_update_keeps_the_stacks_secret_key(session, plan):
    with Stubber(session.client("cloudformation")) as cfn:
        cfn.add_response("describe_stacks", stack("UPDATE_COMPLETE", parameters=("CodeKey", "SecretKey")))
        cfn.add_response("update_stack", {"StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/x/1"},
                         stack_request(plan, {"UsePreviousValue": True}))
        cfn.add_response("describe_stack_events", {"StackEvents": [event(4, "BotAlias", "UPDATE_COMPLETE")]})
        cfn.add_response("describe_stacks", stack("UPDATE_COMPLETE"))
        cfn.add_response("describe_stacks", stack("UPDATE_COMPLETE"))
        result = LexDeployer(session, lambda line: None, poll_seconds=0).deploy(plan)
        cfn.assert_no_pending_responses()
    assert result.action == "update"


def test_a_stack_made_before_the_secret_key_existed_gets_one_on_update(session, plan):
    updated = sent(session, "UpdateStack")
    with Stubber(session.client("cloudformation")) as cfn:
        cfn.add_response("describe_stacks", stack("UPDATE_COMPLETE", parameters=("CodeKey",)))
        cfn.add_client_error("update_stack", "ValidationError", "No updates are to be performed.")
        cfn.add_response("describe_stacks", stack("UPDATE_COMPLETE"))
        LexDeployer(session, lambda line: None, poll_seconds=0).deploy(plan)
    [secret] = [p for p in updated[0]["Parameters"] if p["ParameterKey"] == "SecretKey"]
    assert re.fullmatch(r"[0-9a-f]{64}", secret["ParameterValue"]) and "UsePreviousValue" not in secret


def test_an_unchanged_stack_is_reported_up_to_date(session, plan):
    lines: list[str] = []
    with Stubber(session.client("cloudformation")) as cfn:
        cfn.add_response("describe_stacks", stack("CREATE_COMPLETE", parameters=("SecretKey",)))
        cfn.add_client_error("update_stack", "ValidationError", "No updates are to be performed.")
        cfn.add_response("describe_stacks", stack("CREATE_COMPLETE", {"BotId": "ABCDEFGHIJ"}))
        result = LexDeployer(session, lines.append, poll_seconds=0).deploy(plan)
    assert result.action == "none" and result.outputs == {"BotId": "ABCDEFGHIJ"}
    assert "coursebot-lex is already up to date" in lines


def test_a_rolled_back_stack_is_an_error_with_a_sentence(session, plan):
    with Stubber(session.client("cloudformation")) as cfn:
        cfn.add_response("describe_stacks", stack("UPDATE_COMPLETE"))
        cfn.add_response("update_stack", {"StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/x/1"})
        cfn.add_response("describe_stack_events", {"StackEvents": [event(3, "FulfillmentFunction", "UPDATE_FAILED")]})
        cfn.add_response("describe_stacks", stack("UPDATE_ROLLBACK_COMPLETE"))
        cfn.add_response("describe_stacks", stack("UPDATE_ROLLBACK_COMPLETE"))
        with pytest.raises(AwsProblem) as failed:
            LexDeployer(session, lambda line: None, poll_seconds=0).deploy(plan)
    assert failed.value.code == "deploy-failed" and "UPDATE_ROLLBACK_COMPLETE" in failed.value.student_message


def test_dry_run_builds_and_prints_the_plan_without_calling_aws(tmp_path, course_copy):
    # A copy with the session's model: the bundle it builds carries the model's answer index.
    missing_role = coursebot("deploy", "lex", "--bucket", BUCKET, "--dry-run", project=course_copy)
    assert missing_role.returncode != 0 and "--execution-role-arn" in missing_role.stderr
    result = coursebot("deploy", "lex", "--bucket", BUCKET, "--execution-role-arn", ROLE, "--dry-run",
                       project=course_copy)
    assert result.returncode == 0, result.stderr
    assert f"ExecutionRoleArn={ROLE} ImageBucket={BUCKET}" in result.stdout
    assert "SecretKey=(made on create, kept on updates)" in result.stdout
    assert "Dry run: nothing is sent." in result.stdout
    assert f"s3://{BUCKET}/coursebot/lambda-" in result.stdout and "coursebot-lex" in result.stdout


def test_the_template_takes_the_role_and_bucket_as_parameters_not_the_policys_examples(tmp_path):
    from bot.lex import export_lex
    from bot.project import load_project

    template = json.loads(export_lex(load_project(ROOT), tmp_path).template_path.read_text())
    role = json.dumps(template["Resources"]["FulfillmentRole"])
    assert "123456789012" not in role and "my-course-bucket" not in role
    assert '{"Ref": "ExecutionRoleArn"}' in role
    assert {"ExecutionRoleArn", "ImageBucket", "CodeBucket", "CodeKey", "SecretKey"} <= set(template["Parameters"])


def test_the_function_gets_the_execution_role_and_the_secret_key_from_the_stack(tmp_path):
    from bot.lex import export_lex
    from bot.project import load_project

    template = json.loads(export_lex(load_project(ROOT), tmp_path).template_path.read_text())
    variables = template["Resources"]["FulfillmentFunction"]["Properties"]["Environment"]["Variables"]
    assert variables[ROLE_ENV] == {"Ref": "ExecutionRoleArn"} and ROLE_ENV == "COURSEBOT_ROLE_ARN"
    assert variables[SECRET_ENV] == {"Ref": "SecretKey"} and SECRET_ENV == "COURSEBOT_SECRET_KEY"
    from bot.server_key import ENV_VAR

    assert SECRET_ENV == ENV_VAR  # the variable bot/server_key.py reads
    secret = template["Parameters"]["SecretKey"]
    assert secret["NoEcho"] is True and secret["MinLength"] >= 32 and "Default" not in secret
