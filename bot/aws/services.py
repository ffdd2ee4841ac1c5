"""Everything an action may do on AWS, behind one object that actions receive.

Actions never import boto3: they get an AwsServices through their context, so the
same action runs against real AWS, a local moto server (the sandbox) or, in tests,
clients whose requests are checked against the real API models.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.aws.comprehend import ComprehendService
from bot.aws.guardrails import Guardrails
from bot.aws.polly import PollyService
from bot.aws.rekognition import RekognitionService
from bot.aws.sagemaker import SageMakerService
from bot.aws.session import AwsSession
from bot.aws.settings import AwsSettings


class AwsServices:
    def __init__(self, settings: AwsSettings, credentials: dict[str, str] | None = None, language: str = "en",
                 key: Callable[[], bytes] | None = None):
        """`key` gives the server's secret key for the owner tags (default: the project's)."""
        self.settings = settings
        self.session = AwsSession(settings, credentials)
        self.guardrails = Guardrails(settings, key)
        self.sagemaker = SageMakerService(self.session, self.guardrails)
        self.comprehend = ComprehendService(self.session, language)
        self.polly = PollyService(self.session, settings.media_dir)
        self.rekognition = RekognitionService(self.session, self.guardrails)

    @property
    def sandbox(self) -> bool:
        return self.settings.sandbox

    @property
    def dry_run(self) -> bool:
        return self.settings.dry_run
