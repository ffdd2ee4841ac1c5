"""`coursebot deploy lex`: S3 on moto, CloudFormation through botocore's Stubber (moto cannot
create Lex resources), so every request is checked against the real API models."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from bot.aws import AwsProblem, AwsSettings
from bot.aws.session import AwsSession
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


def stack(status: str, outputs: dict | None = None) -> dict:
    return {"Stacks": [{"StackName": "coursebot-lex", "StackStatus": status,
                        "CreationTime": datetime.now(timezone.utc),
                        "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in (outputs or {}).items()]}]}


def event(number: int, resource: str, status: str) -> dict:
    return {"StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/coursebot-lex/1", "EventId": str(number),
            "StackName": "coursebot-lex", "LogicalResourceId": resource, "ResourceStatus": status,
            "Timestamp": datetime.now(timezone.utc)}


def test_a_first_deploy_uploads_creates_the_stack_reports_progress_and_the_bot_ids(session, plan):
    lines: list[str] = []
    outputs = {"BotId": "ABCDEFGHIJ", "BotAliasArn": "arn:aws:lex:us-east-1:123456789012:bot-alias/ABCDEFGHIJ/X"}
    with Stubber(session.client("cloudformation")) as cfn:
        cfn.add_client_error("describe_stacks", "ValidationError", "Stack with id coursebot-lex does not exist",
                             expected_params={"StackName": "coursebot-lex"})
        cfn.add_response("create_stack", {"StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/x/1"}, {
            "StackName": "coursebot-lex", "Capabilities": CAPABILITIES,
            "TemplateURL": f"https://{BUCKET}.s3.amazonaws.com/{plan.template_key}",
            "Parameters": [{"ParameterKey": "CodeBucket", "ParameterValue": BUCKET},
                           {"ParameterKey": "CodeKey", "ParameterValue": plan.bundle_key},
                           {"ParameterKey": "ExecutionRoleArn", "ParameterValue": ROLE},
                           {"ParameterKey": "ImageBucket", "ParameterValue": "images"}],
            "Tags": [{"Key": "created-by", "Value": "coursebot"}]})
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
    s3 = boto3.client("s3", region_name="us-east-1")
    assert s3.get_object(Bucket=BUCKET, Key=plan.bundle_key)["Body"].read() == plan.bundle.read_bytes()
    assert s3.get_object(Bucket=BUCKET, Key=plan.template_key)["Body"].read() == plan.template.read_bytes()


def test_an_unchanged_stack_is_reported_up_to_date(session, plan):
    lines: list[str] = []
    with Stubber(session.client("cloudformation")) as cfn:
        cfn.add_response("describe_stacks", stack("CREATE_COMPLETE"))
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


def test_dry_run_builds_and_prints_the_plan_without_calling_aws(tmp_path):
    missing_role = coursebot("deploy", "lex", "--bucket", BUCKET, "--dry-run", project=ROOT)
    assert missing_role.returncode != 0 and "--execution-role-arn" in missing_role.stderr
    result = coursebot("deploy", "lex", "--bucket", BUCKET, "--execution-role-arn", ROLE, "--dry-run", project=ROOT)
    assert result.returncode == 0, result.stderr
    assert f"ExecutionRoleArn={ROLE} ImageBucket={BUCKET}" in result.stdout
    assert "Dry run: nothing is sent." in result.stdout
    assert f"s3://{BUCKET}/coursebot/lambda-" in result.stdout and "coursebot-lex" in result.stdout


def test_the_template_takes_the_role_and_bucket_as_parameters_not_the_policys_examples(tmp_path):
    from bot.lex import export_lex
    from bot.project import load_project

    template = json.loads(export_lex(load_project(ROOT), tmp_path).template_path.read_text())
    role = json.dumps(template["Resources"]["FulfillmentRole"])
    assert "123456789012" not in role and "my-course-bucket" not in role
    assert '{"Ref": "ExecutionRoleArn"}' in role
    parameters = template["Parameters"]
    assert {"ExecutionRoleArn", "ImageBucket", "CodeBucket", "CodeKey"} <= set(parameters)
