"""Amazon Rekognition on a local image file or an S3 object: labels, text, faces and
moderation labels."""

from __future__ import annotations

from typing import Any

from bot.aws import checks
from bot.aws.guardrails import Guardrails
from bot.aws.session import AwsSession

SERVICE = "rekognition"
ANALYSES = {
    "labels": ("DetectLabels", {"MaxLabels": 10, "MinConfidence": 70}),
    "text": ("DetectText", {}),
    "faces": ("DetectFaces", {"Attributes": ["ALL"]}),
    "moderation": ("DetectModerationLabels", {"MinConfidence": 60}),
}


class RekognitionService:
    def __init__(self, session: AwsSession, guardrails: Guardrails):
        self.session = session
        self.guardrails = guardrails

    def analyze(self, analysis: str, image: str) -> dict[str, Any]:
        """`image` is a local path inside the allowed folders or an s3:// URI."""
        operation, options = ANALYSES[analysis]
        checked = self.image(image)  # a missing or unsafe file is reported before anything else
        self.session.require_credentials()
        return self.session.call(SERVICE, operation, Image=checked, **options)

    def image(self, source: str) -> dict[str, Any]:
        source = source.strip().strip("\"'`")
        if source.startswith("s3://"):
            location = self.guardrails.s3_location(source)
            if not location.key:
                raise checks.AwsProblem(f"{source} names a bucket, not an image: add the object's key.", "invalid")
            return {"S3Object": {"Bucket": location.bucket, "Name": location.key}}
        return {"Bytes": checks.image_file(source, self.session.settings.image_folders)}
