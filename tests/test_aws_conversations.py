"""Whole conversations that use AWS, through the dialogue manager of the course project.

The NLU model is left out (each message comes with its parse), so these tests are about
the forms, the confirmation and what reaches AWS; moto plays AWS.
"""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from bot.aws import AwsServices
from bot.dialogue.action_loader import ActionRegistry
from bot.dialogue.manager import DialogueManager
from bot.project import load_project
from tests.conftest import ROOT as COURSE_DIR
from tests.conftest import owner_tag

ROLE = "arn:aws:iam::123456789012:role/CourseRole"
REGION = "us-east-1"


@pytest.fixture(scope="module")
def course():
    return load_project(COURSE_DIR)


@pytest.fixture
def aws_env(monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield boto3.client("sagemaker", region_name=REGION)


class Student:
    """One student talking to the course bot; `says` takes the parse the NLU would give."""

    def __init__(self, course, tmp_path, sender="ann", **aws_changes):
        settings = course.settings.aws.with_changes(region=REGION, media_dir=tmp_path / "media",
                                                    image_folders=(tmp_path,), **aws_changes)
        self.aws = AwsServices(settings)
        actions = ActionRegistry.for_project(course.root, course.domain, course.settings.dialogue.intent_titles)
        self.dialogue = DialogueManager.for_flows(course.domain, actions, course.knowledge, course.rules,
                                                  course.stories, aws=self.aws,
                                                  explicit=course.settings.dialogue.explicit())
        self.sender = sender

    def says(self, text: str, intent: str = "inform", found: tuple[tuple[str, str], ...] = (),
             confidence: float = 0.99, **entities: str) -> list[dict]:
        """`found` lists (entity, value) pairs, for two entities of one type."""
        pairs = [*found, *entities.items()]
        parse = {"text": text, "intent": {"name": intent, "confidence": confidence},
                 "entities": [{"entity": name, "value": value, "start": text.find(value),
                               "end": text.find(value) + len(value)} for name, value in pairs]}
        return self.dialogue.handle(self.sender, text, parse)

    def hears(self, text: str, intent: str = "inform", found: tuple[tuple[str, str], ...] = (),
              **entities: str) -> str:
        return "\n".join(reply.get("text") or "" for reply in self.says(text, intent, found, **entities))

    @property
    def slots(self) -> dict:
        return self.dialogue.tracker_for(self.sender).slots


def create_notebook(student: Student, name: str, answer: str = "yes") -> str:
    """Goes through the notebook form and answers the confirmation; returns the last reply."""
    student.says("create a notebook", "create_notebook")
    student.says(name)
    student.says("ml.t3.medium", instance_type="ml.t3.medium")
    return student.hears(answer, "affirm" if answer == "yes" else "deny")


def test_the_notes_instance_type_is_refused_with_its_allowed_newer_equivalent(course, aws_env, tmp_path):
    """The course notes' ml.t2.medium, where this course allows ml.t3.medium."""
    eve = Student(course, tmp_path, role_arn=ROLE)
    eve.says("create a notebook", "create_notebook")
    eve.says("lab-notebook-2")
    rejected = eve.hears("ml.t2.medium", instance_type="ml.t2.medium")
    assert "its newer equivalent ml.t3.medium is (about $0.050/hour)" in rejected
    question = eve.says("ml.t3.medium", instance_type="ml.t3.medium")[-1]
    assert "on ml.t3.medium" in question["text"]


@pytest.mark.parametrize("asked, allowed, newer", [
    ("ml.t2.medium", ["ml.t3.medium", "ml.t3.large"], "ml.t3.medium"),
    ("ml.m4.xlarge", ["ml.m6.xlarge", "ml.m5.xlarge"], "ml.m5.xlarge"),
    ("ml.t2.medium", ["ml.t3.large"], None),
    ("ml.t3.medium", ["ml.t2.medium"], None),
    ("ml.p3.2xlarge", ["ml.t3.medium"], None),
    ("not-a-type", ["ml.t3.medium"], None),
])
def test_the_newer_equivalent_is_the_same_family_and_size_of_a_later_generation(asked, allowed, newer):
    from bot.aws.guardrails import newer_equivalent

    assert newer_equivalent(asked, allowed) == newer


def test_the_notebook_form_asks_rejects_confirms_and_creates_a_tagged_instance(course, aws_env, tmp_path):
    ann = Student(course, tmp_path, role_arn=ROLE)
    assert "What should your notebook instance be called?" in ann.hears("create a notebook", "create_notebook")
    assert "only" not in ann.hears("lab-notebook-1")
    rejected = ann.hears("ml.p3.2xlarge", instance_type="ml.p3.2xlarge")
    assert "ml.p3.2xlarge is not allowed for notebook instances" in rejected
    assert "ml.t3.medium (about $0.050/hour)" in rejected
    question = ann.says("ml.t3.medium", instance_type="ml.t3.medium")[-1]
    assert "create the notebook instance lab-notebook-1 on ml.t3.medium" in question["text"]
    assert "$0.050 per hour" in question["text"]
    assert [b["payload"] for b in question["buttons"]] == ["/affirm", "/deny"]
    assert aws_env.list_notebook_instances()["NotebookInstances"] == []  # nothing before the yes

    assert "is being created" in ann.hears("yes", "affirm")
    created = aws_env.describe_notebook_instance(NotebookInstanceName="lab-notebook-1")
    assert created["InstanceType"] == "ml.t3.medium" and created["RoleArn"] == ROLE
    tags = aws_env.list_tags(ResourceArn=created["NotebookInstanceArn"])["Tags"]
    assert {"Key": "created-by", "Value": "coursebot"} in tags
    assert owner_tag(COURSE_DIR, "ann") in tags
    assert ann.slots["pending_action"] is None and ann.slots["confirmed"] is None


def test_no_at_the_confirmation_creates_nothing(course, aws_env, tmp_path):
    bob = Student(course, tmp_path, sender="bob", role_arn=ROLE)
    assert "Nothing was started" in create_notebook(bob, "bobs-notebook", answer="no")
    assert aws_env.list_notebook_instances()["NotebookInstances"] == []
    # A later yes (to nothing) starts nothing either.
    bob.says("yes", "affirm")
    assert aws_env.list_notebook_instances()["NotebookInstances"] == []


def test_without_a_configured_role_the_form_asks_for_one_and_checks_it(course, aws_env, tmp_path):
    cy = Student(course, tmp_path, sender="cy")
    cy.says("make me a notebook", "create_notebook")
    cy.says("cy-nb")
    assert "Which IAM role" in cy.hears("ml.t3.medium", instance_type="ml.t3.medium")
    assert "not a valid IAM role ARN" in cy.hears("the lab role")
    assert "Shall I go ahead?" in cy.hears(ROLE)
    cy.says("yes", "affirm")
    assert aws_env.describe_notebook_instance(NotebookInstanceName="cy-nb")["RoleArn"] == ROLE


def test_a_training_job_gets_the_guardrails_and_its_status_can_be_asked(course, aws_env, tmp_path):
    dee = Student(course, tmp_path, sender="dee", role_arn=ROLE, max_training_minutes=30)
    text = "train xgboost on s3://course-data/train/ and put it in s3://course-data/out/"
    replies = dee.hears(text, "create_training_job", (("s3_uri", "s3://course-data/train/"),
                                                      ("s3_uri", "s3://course-data/out/")), algorithm="xgboost")
    assert "Which instance type should train it?" in replies  # both URIs came from the first message
    assert "not allowed for training jobs" in dee.hears("ml.p3.16xlarge", instance_type="ml.p3.16xlarge")
    question = dee.hears("ml.m5.large", instance_type="ml.m5.large")
    assert "xgboost on s3://course-data/train/, output to s3://course-data/out/" in question
    assert "stops after at most 0.5 hour(s)" in question
    assert aws_env.list_training_jobs()["TrainingJobSummaries"] == []

    dee.says("yes", "affirm")
    [summary] = aws_env.list_training_jobs()["TrainingJobSummaries"]
    job = aws_env.describe_training_job(TrainingJobName=summary["TrainingJobName"])
    assert job["StoppingCondition"]["MaxRuntimeInSeconds"] == 30 * 60
    assert job["ResourceConfig"]["InstanceType"] == "ml.m5.large" and job["ResourceConfig"]["InstanceCount"] == 1
    assert "sagemaker-xgboost" in job["AlgorithmSpecification"]["TrainingImage"]
    assert job["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] == "s3://course-data/train/"
    assert owner_tag(COURSE_DIR, "dee") in aws_env.list_tags(ResourceArn=job["TrainingJobArn"])["Tags"]

    status = dee.hears("how is my job doing?", "training_job_status")
    assert status.startswith(f"{summary['TrainingJobName']} is {job['TrainingJobStatus']}")
    assert "Elapsed:" in status and "billable:" in status


def test_the_training_form_asks_for_each_missing_value(course, aws_env, tmp_path):
    eve = Student(course, tmp_path, sender="eve", role_arn=ROLE)
    assert "Which built-in algorithm" in eve.hears("start a training job", "create_training_job")
    assert "Where is the training data?" in eve.hears("linear learner", algorithm="linear-learner")
    assert "not an S3 URI" in eve.hears("my laptop")
    assert "Where should the trained model go?" in eve.hears("s3://course-data/eve/train.csv",
                                                           s3_uri="s3://course-data/eve/train.csv")
    assert "Which instance type" in eve.hears("s3://course-data/eve/model/", s3_uri="s3://course-data/eve/model/")
    assert "linear-learner" in eve.hears("ml.m5.xlarge", instance_type="ml.m5.xlarge")


def test_dry_run_shows_the_exact_request_and_sends_nothing(course, aws_env, tmp_path):
    fay = Student(course, tmp_path, sender="fay", role_arn=ROLE, dry_run=True)
    fay.says("create a notebook", "create_notebook")
    fay.says("dry-nb")
    assert "Dry run" in fay.hears("ml.t3.large", instance_type="ml.t3.large")
    shown = fay.hears("yes", "affirm")
    assert "\"NotebookInstanceName\": \"dry-nb\"" in shown and "\"coursebot:owner\"" in shown
    assert aws_env.list_notebook_instances()["NotebookInstances"] == []


def test_what_have_i_started_and_stop_everything_after_one_confirmation(course, aws_env, tmp_path):
    gus = Student(course, tmp_path, sender="gus", role_arn=ROLE)
    assert "haven't started anything" in gus.hears("what have i started?", "list_my_resources")
    for name in ("gus-one", "gus-two"):
        create_notebook(gus, name)
    other = Student(course, tmp_path, sender="hal", role_arn=ROLE)
    create_notebook(other, "hals-notebook")

    listing = gus.hears("what's running on my account", "list_my_resources")
    assert "gus-one" in listing and "gus-two" in listing and "hals-notebook" not in listing
    question = gus.hears("stop everything i started", "stop_everything")
    assert "I'll stop 2 thing(s)" in question
    assert gus.hears("yes", "affirm").startswith("Stopping gus-one, gus-two")
    states = {n["NotebookInstanceName"]: n["NotebookInstanceStatus"]
              for n in aws_env.list_notebook_instances()["NotebookInstances"]}
    assert states == {"gus-one": "Stopped", "gus-two": "Stopped", "hals-notebook": "InService"}
    assert "nothing to stop" in gus.hears("shut it all down", "stop_everything")


def test_a_student_cannot_touch_another_students_notebook(course, aws_env, tmp_path):
    ivy = Student(course, tmp_path, sender="ivy", role_arn=ROLE)
    create_notebook(ivy, "ivy-notebook")
    jon = Student(course, tmp_path, sender="jon", role_arn=ROLE)
    assert "will not touch it" in jon.hears("stop ivy-notebook", "stop_notebook", notebook_name="ivy-notebook")
    assert aws_env.describe_notebook_instance(NotebookInstanceName="ivy-notebook")["NotebookInstanceStatus"] \
        == "InService"


def test_stop_then_delete_a_notebook_with_confirmation(course, aws_env, tmp_path):
    kim = Student(course, tmp_path, sender="kim", role_arn=ROLE)
    create_notebook(kim, "kim-nb")
    assert "stop kim-nb" in kim.hears("delete my notebook", "delete_notebook")
    assert "Stopping kim-nb" in kim.hears("stop my notebook", "stop_notebook")
    assert "deletes every file" in kim.hears("delete my notebook", "delete_notebook")
    kim.says("no", "deny")
    assert len(aws_env.list_notebook_instances()["NotebookInstances"]) == 1
    kim.says("delete it", "delete_notebook")
    assert "Deleting kim-nb" in kim.hears("yes", "affirm")
    assert aws_env.list_notebook_instances()["NotebookInstances"] == []


def test_comprehend_and_polly_answer_in_the_conversation(course, aws_env, tmp_path):
    lea = Student(course, tmp_path, sender="lea")
    assert "Comprehend finds it" in lea.hears("what's the sentiment of 'this course is great'",
                                              "analyze_sentiment")
    assert "Which text should I analyse?" in lea.hears("find the key phrases", "detect_key_phrases")
    assert "Key phrases" in lea.hears("SageMaker trains models in the cloud")
    [spoken] = lea.says("say 'hello class' in Matthew's voice", "speak_text", voice="Matthew")
    audio = spoken["attachment"]["payload"]
    assert spoken["text"] == "Here it is, in Matthew's voice."
    assert audio["src"].startswith("/media/speech-") and (tmp_path / "media" / audio["src"][7:]).is_file()
    assert str(tmp_path) not in str(spoken)  # no server path in a reply


def test_rekognition_reads_an_allowed_image_and_refuses_others(course, aws_env, tmp_path):
    mo = Student(course, tmp_path, sender="mo")
    (tmp_path / "cat.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    assert mo.hears("what's in cat.png", "detect_labels", image_file="cat.png").startswith("I see: ")
    assert "no image I may read" in mo.hears("labels for /etc/passwd.png", "detect_labels",
                                                 image_file="/etc/passwd.png")
    assert "Which image?" in mo.hears("read the text in my photo", "detect_image_text")
    assert "The image says" in mo.hears("cat.png")


def test_without_credentials_an_action_says_how_to_configure_aws_and_mentions_the_sandbox(
        course, tmp_path, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    empty = tmp_path / "empty"
    empty.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    ned = Student(course, tmp_path, sender="ned")
    answer = ned.hears("what have i started", "list_my_resources")
    assert "aws configure" in answer and "--sandbox" in answer


def test_starting_a_stopped_notebook_is_priced_and_confirmed(course, aws_env, tmp_path):
    pat = Student(course, tmp_path, sender="pat", role_arn=ROLE)
    create_notebook(pat, "pat-nb")
    pat.says("stop my notebook", "stop_notebook")
    question = pat.hears("start my notebook", "start_notebook")
    assert "start the notebook instance pat-nb (ml.t3.medium)" in question and "$0.050 per hour" in question
    assert aws_env.describe_notebook_instance(NotebookInstanceName="pat-nb")["NotebookInstanceStatus"] == "Stopped"
    assert "Starting pat-nb" in pat.hears("yes", "affirm")
    assert aws_env.describe_notebook_instance(NotebookInstanceName="pat-nb")["NotebookInstanceStatus"] == "InService"


# The requested slot wins: each answer below comes with the worst parse a model could
# give it, at full confidence, and still answers the question the form asked.
MISREAD_ANSWERS = [
    ("notebook_name", "cancel-demo", "cancel"),
    ("notebook_name", "stop-watch-nb", "stop_notebook"),
    ("notebook_name", "lab-2", "detect_labels"),
    ("notebook_instance_type", "ml.t3.medium", "ask_concept"),
    ("notebook_instance_type", "t3 large", "instance_for_need"),
    ("notebook_role", ROLE, "detect_pii"),
    ("notebook_role", ROLE, "create_notebook"),
]


@pytest.mark.parametrize("slot, answer, misread_as", MISREAD_ANSWERS)
def test_an_answer_that_checks_out_fills_the_requested_slot_whatever_the_intent(
        course, aws_env, tmp_path, slot, answer, misread_as):
    ann = Student(course, tmp_path)
    ann.says("create a notebook", "create_notebook")
    for earlier, value in (("notebook_name", "nb-1"), ("notebook_instance_type", "ml.t3.medium")):
        if earlier == slot:
            break
        ann.says(value)
    assert ann.slots["requested_slot"] == slot
    ann.says(answer, misread_as, confidence=1.0)
    expected = "ml.t3.large" if answer == "t3 large" else answer
    assert ann.slots[slot] == expected
    assert ann.dialogue.tracker_for("ann").active_loop in ("notebook_form", "confirm_form")


@pytest.mark.parametrize("words", ["cancel", "Cancel.", "stop", "never mind", "forget it", "quit"])
def test_an_explicit_change_of_mind_cancels_whatever_the_model_reads(course, aws_env, tmp_path, words):
    bea = Student(course, tmp_path, sender="bea")
    bea.says("create a notebook", "create_notebook")
    assert "dropped that" in bea.hears(words, "inform", confidence=0.99)
    assert bea.dialogue.tracker_for("bea").active_loop is None and bea.slots["notebook_name"] is None


def test_a_clear_question_mid_form_is_answered_and_the_form_asks_again(course, aws_env, tmp_path):
    cal = Student(course, tmp_path, sender="cal")
    cal.says("create a notebook", "create_notebook")
    reply = cal.hears("what is an instance type?", "ask_concept", instance_type="instance type")
    assert "What should your notebook instance be called?" in reply
    assert cal.slots["notebook_name"] is None and cal.slots["requested_slot"] == "notebook_name"


def test_a_notebook_named_in_the_request_is_created_with_that_name(course, aws_env, tmp_path):
    dan = Student(course, tmp_path, sender="dan")
    question = dan.hears(f"please create a notebook instance named nb-demo-1 on ml.t3.medium with role {ROLE}",
                         "create_notebook", instance_type="ml.t3.medium", role_arn=ROLE)
    assert "create the notebook instance nb-demo-1 on ml.t3.medium" in question
    assert aws_env.list_notebook_instances()["NotebookInstances"] == []
    dan.says("yes", "affirm")
    created = aws_env.describe_notebook_instance(NotebookInstanceName="nb-demo-1")
    assert created["RoleArn"] == ROLE and created["InstanceType"] == "ml.t3.medium"


def test_a_training_job_named_in_the_request_gets_that_name(course, aws_env, tmp_path):
    eli = Student(course, tmp_path, sender="eli", role_arn=ROLE)
    text = "start a training job called job-demo-1 with xgboost on s3://course-data/train/"
    assert "Where should the trained model go?" in eli.hears(text, "create_training_job", algorithm="xgboost",
                                                             s3_uri="s3://course-data/train/")
    eli.says("s3://course-data/out/", s3_uri="s3://course-data/out/")
    assert "start the training job job-demo-1" in eli.hears("ml.m5.large", instance_type="ml.m5.large")
    assert "Started the training job job-demo-1" in eli.hears("yes", "affirm")
    job = aws_env.describe_training_job(TrainingJobName="job-demo-1")
    assert job["StoppingCondition"]["MaxRuntimeInSeconds"] == 3600
    # The next job, with no name given, gets a generated one again: the form started empty.
    eli.says("train xgboost on s3://course-data/train/ and save it to s3://course-data/out/", "create_training_job",
             (("s3_uri", "s3://course-data/train/"), ("s3_uri", "s3://course-data/out/")), algorithm="xgboost")
    assert "start the training job coursebot-xgboost-" in eli.hears("ml.m5.large", instance_type="ml.m5.large")


@pytest.mark.parametrize("role", ["arn:aws:iam::123456789012:role/AdminRole",
                                  "arn:aws:iam::210987654321:role/CourseRole"])
def test_a_student_cannot_choose_a_role_the_instructor_did_not_allow(course, aws_env, tmp_path, role):
    fay = Student(course, tmp_path, sender="fay")
    fay.says("create a notebook", "create_notebook")
    fay.says("fay-nb")
    question = fay.says("ml.t3.medium", instance_type="ml.t3.medium")[-1]
    assert [b["payload"] for b in question["buttons"]] == list(course.settings.aws.role_arns)
    assert "not one your instructor allows" in fay.hears(role, role_arn=role)
    assert fay.slots["notebook_role"] is None and fay.slots["requested_slot"] == "notebook_role"


def test_without_any_allowed_role_the_form_says_so_and_ends(course, aws_env, tmp_path):
    gil = Student(course, tmp_path, sender="gil", role_arns=())
    gil.says("create a notebook", "create_notebook")
    gil.says("gil-nb")
    assert "has not set up a SageMaker execution role" in gil.hears("ml.t3.medium", instance_type="ml.t3.medium")
    assert gil.dialogue.tracker_for("gil").active_loop is None


@pytest.mark.parametrize("uri", ["s3://someone-else/private/", "s3://course-data-evil/x/", "s3://attacker-bucket/"])
def test_training_reads_and_writes_only_the_instructors_buckets(course, aws_env, tmp_path, uri):
    hal = Student(course, tmp_path, sender="hal", role_arn=ROLE)
    hal.says("start a training job", "create_training_job")
    hal.says("xgboost", algorithm="xgboost")
    assert "I may only use these S3 locations: s3://course-data/" in hal.hears(uri, s3_uri=uri)
    assert hal.slots["training_data"] is None
    hal.says("s3://course-data/train/", s3_uri="s3://course-data/train/")
    assert "I may only use these S3 locations" in hal.hears(uri, s3_uri=uri)
    assert hal.slots["training_output"] is None


def test_metered_services_are_limited_per_student_per_hour_and_by_length(course, aws_env, tmp_path):
    ida = Student(course, tmp_path, sender="ida", metered_per_hour=3, max_text_chars=40)
    for _ in range(3):
        assert "Comprehend finds it" in ida.hears("what's the sentiment of 'this course is great'",
                                                  "analyze_sentiment")
    refused = ida.hears("what's the sentiment of 'this course is fun'", "analyze_sentiment")
    assert "the most your instructor allows (3)" in refused
    other = Student(course, tmp_path, sender="jo", metered_per_hour=3, max_text_chars=40)
    long_text = "word " * 20
    assert "your instructor allows at most 40 here" in other.hears(f"say '{long_text.strip()}' out loud",
                                                                    "speak_text")
