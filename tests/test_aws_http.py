"""End to end: `coursebot serve` talking to a local AWS (moto's server on 127.0.0.1),
driven through the HTTP API as the web widget drives it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import boto3
import httpx
import pytest

from tests.conftest import edit, owner_tag
from tests.http_server import moto_server as local_aws
from tests.http_server import serving

ROLE = "arn:aws:iam::123456789012:role/CourseRole"
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                    "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture
def moto_server():
    with local_aws() as url:
        yield url


@pytest.fixture
def aws_project(course_copy: Path, tmp_path: Path, moto_server: str) -> Path:
    """The course project (with its trained model) pointed at the moto server."""
    project = tmp_path / "project"
    shutil.copytree(course_copy, project, ignore=shutil.ignore_patterns(".coursebot"))
    edit(project / "coursebot.yml", "aws:\n", f"aws:\n  endpoint_url: {moto_server}\n  region: us-east-1\n"
                                             f"  role_arn: {ROLE}\n")
    return project


def chat(url: str, sender: str, text: str) -> str:
    replies = httpx.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60)
    replies.raise_for_status()
    return "\n".join(reply.get("text") or "" for reply in replies.json())


def test_a_conversation_over_http_starts_a_training_job_and_reports_its_status(aws_project, moto_server, tmp_path):
    with serving(aws_project, log_dir=tmp_path, env=FAKE_CREDENTIALS) as server:
        first = chat(server.url, "stu", "train an xgboost model on s3://course-data/train/ and write the model "
                                        "to s3://course-data/output/")
        assert "Which instance type should train it?" in first
        question = chat(server.url, "stu", "ml.m5.large")
        assert "start the training job" in question and "xgboost on s3://course-data/train/" in question
        started = chat(server.url, "stu", "yes")
        assert started.startswith("Started the training job coursebot-xgboost-")
        job_name = started.split()[4].rstrip(".")
        status = chat(server.url, "stu", "how is my training job doing?")
        assert status.startswith(f"{job_name} is ")

    sagemaker = boto3.client("sagemaker", endpoint_url=moto_server, region_name="us-east-1",
                             aws_access_key_id="testing", aws_secret_access_key="testing")
    job = sagemaker.describe_training_job(TrainingJobName=job_name)
    assert job["ResourceConfig"] == {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10}
    assert job["StoppingCondition"]["MaxRuntimeInSeconds"] == 3600
    assert owner_tag(aws_project, "stu") in sagemaker.list_tags(ResourceArn=job["TrainingJobArn"])["Tags"]
    assert "testing" not in server.stdout + server.stderr  # no credential in any output


def test_serve_sandbox_practises_with_no_aws_account(course_copy, tmp_path):
    no_account = {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "",
                  "AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")}
    with serving(course_copy, "--sandbox", log_dir=tmp_path, env=no_account) as server:
        assert "Sandbox: AWS actions go to a local simulator" in server.stderr
        assert "haven't started anything" in chat(server.url, "sam", "what have i started?")
        chat(server.url, "sam", "create a notebook instance for me")
        chat(server.url, "sam", "sandbox-notebook")
        assert "Shall I go ahead?" in chat(server.url, "sam", "ml.t3.medium")
        assert "is being created" in chat(server.url, "sam", "yes")
        assert "sandbox-notebook (ml.t3.medium): InService" in chat(server.url, "sam", "what have i started?")


def test_chat_sandbox_speaks_and_prints_where_the_audio_is(course_copy):
    from tests.test_cli import coursebot

    result = coursebot("chat", "--sandbox", project=course_copy,
                       stdin="say 'hello class' out loud\nwhat have i started?\nbye\n")
    assert result.returncode == 0
    assert "Sandbox: AWS actions go to a local simulator" in result.stderr
    audio = re.search(r"attachment: (\S+\.mp3)", result.stdout)
    assert audio and Path(audio.group(1)).is_file(), result.stdout
    assert "haven't started anything" in result.stdout


def test_requests_that_name_their_settings_create_exactly_that_over_http(course_copy, tmp_path, moto_server):
    """Every setting in the first message, through the real server: nothing is asked again,
    nothing is sent before the yes, and what AWS gets has the student's names, the tags and
    the stopping condition."""
    project = tmp_path / "project"
    shutil.copytree(course_copy, project, ignore=shutil.ignore_patterns(".coursebot"))
    edit(project / "coursebot.yml", "aws:\n", f"aws:\n  endpoint_url: {moto_server}\n  region: us-east-1\n")
    sagemaker = boto3.client("sagemaker", endpoint_url=moto_server, region_name="us-east-1",
                             aws_access_key_id="testing", aws_secret_access_key="testing")
    with serving(project, log_dir=tmp_path, env=FAKE_CREDENTIALS) as server:
        question = chat(server.url, "ria", f"please create a notebook instance named nb-http-1 on ml.t3.medium "
                                           f"with role {ROLE}")
        assert "create the notebook instance nb-http-1 on ml.t3.medium" in question
        assert "nb-http-1" not in {n["NotebookInstanceName"]
                                   for n in sagemaker.list_notebook_instances()["NotebookInstances"]}
        assert "nb-http-1 is being created" in chat(server.url, "ria", "yes")

        first = chat(server.url, "ria", "start a training job called job-http-1 with xgboost on "
                                        "s3://course-data/train/")
        assert "Where should the trained model go?" in first
        assert "Which instance type" in chat(server.url, "ria", "s3://course-data/out/")
        assert "Which IAM role" in chat(server.url, "ria", "ml.m5.large")
        assert "start the training job job-http-1" in chat(server.url, "ria", ROLE)
        jobs = sagemaker.list_training_jobs()["TrainingJobSummaries"]
        assert "job-http-1" not in {job["TrainingJobName"] for job in jobs}
        assert "Started the training job job-http-1" in chat(server.url, "ria", "yes")

    notebook = sagemaker.describe_notebook_instance(NotebookInstanceName="nb-http-1")
    assert notebook["InstanceType"] == "ml.t3.medium" and notebook["RoleArn"] == ROLE
    job = sagemaker.describe_training_job(TrainingJobName="job-http-1")
    assert job["StoppingCondition"]["MaxRuntimeInSeconds"] == 3600
    assert job["OutputDataConfig"]["S3OutputPath"] == "s3://course-data/out/"
    for arn in (notebook["NotebookInstanceArn"], job["TrainingJobArn"]):
        tags = sagemaker.list_tags(ResourceArn=arn)["Tags"]
        assert {"Key": "created-by", "Value": "coursebot"} in tags
        assert owner_tag(project, "ria") in tags and all("ria" not in tag["Value"] for tag in tags)
