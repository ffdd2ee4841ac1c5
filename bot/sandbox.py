"""The sandbox: a local AWS simulator (moto's server) inside the process, on 127.0.0.1.

A student with no AWS account practises every action for free: notebook instances and
training jobs appear and change state, Comprehend and Rekognition answer with sample
results. The simulator starts with what a first lesson needs: an execution role and a
bucket holding a small training file. Operations moto lacks are reported plainly by
the service layer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.aws.session import isolated_session
from bot.aws.settings import AwsSettings
from bot.errors import CourseBotError

REGION = "us-east-1"
CREDENTIALS = {"aws_access_key_id": "sandbox", "aws_secret_access_key": "sandbox"}
ROLE_NAME = "CourseBotSandboxSageMakerRole"
BUCKET = "coursebot-sandbox"
TRAINING_KEY = "train/houses.csv"
# A tiny regression set (price, rooms, area) in the CSV layout built-in algorithms read.
TRAINING_CSV = "\n".join(f"{100 + 25 * rooms + area // 10},{rooms},{area}"
                         for rooms in range(1, 6) for area in range(400, 1400, 200)) + "\n"
_TRUST_POLICY = ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": '
                 '{"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]}')


@dataclass
class Sandbox:
    """A running simulator; `settings` points the service layer at it."""

    endpoint_url: str
    settings: AwsSettings
    _server: object

    @property
    def credentials(self) -> dict[str, str]:
        return dict(CREDENTIALS)

    @property
    def training_data(self) -> str:
        return f"s3://{BUCKET}/{TRAINING_KEY}"

    def stop(self) -> None:
        self._server.stop()  # type: ignore[attr-defined]


def start_sandbox(settings: AwsSettings) -> Sandbox:
    """Starts moto's server on a free loopback port and seeds it.

    Raises:
        CourseBotError: moto is not installed.
    """
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        raise CourseBotError("The sandbox needs moto's server: pip install 'coursebot[sandbox]'.") from None
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)  # no request log in the student's chat
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{server._server.server_port}"  # noqa: SLF001  (the port it was given)
    try:
        role_arn = _seed(endpoint)
    except Exception:
        server.stop()
        raise
    sandboxed = settings.with_changes(endpoint_url=endpoint, region=REGION, profile=None, role_arn=role_arn,
                                      sandbox=True, max_attempts=1,
                                      s3_prefixes=(*settings.s3_prefixes, f"s3://{BUCKET}/"))
    return Sandbox(endpoint, sandboxed, server)


def _seed(endpoint: str) -> str:
    """The role and the training data; moto's state belongs to the process, so a second
    sandbox in the same process finds them already there."""
    session = isolated_session(REGION, CREDENTIALS)
    iam = session.client("iam", endpoint_url=endpoint)
    try:
        role = iam.create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=_TRUST_POLICY)["Role"]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        role = iam.get_role(RoleName=ROLE_NAME)["Role"]["Arn"]
    s3 = session.client("s3", endpoint_url=endpoint)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key=TRAINING_KEY, Body=TRAINING_CSV.encode())
    return role
