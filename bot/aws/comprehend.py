"""Amazon Comprehend on text a student gives: sentiment, entities, key phrases,
dominant language and personal information (PII)."""

from __future__ import annotations

from typing import Any

from bot.aws import checks
from bot.aws.session import AwsSession

SERVICE = "comprehend"
# What each analysis calls, and what it returns.
ANALYSES = {
    "sentiment": ("DetectSentiment", None),
    "entities": ("DetectEntities", "Entities"),
    "key_phrases": ("DetectKeyPhrases", "KeyPhrases"),
    "language": ("DetectDominantLanguage", "Languages"),
    "pii": ("DetectPiiEntities", "Entities"),
}


class ComprehendService:
    def __init__(self, session: AwsSession, language: str = "en"):
        self.session = session
        self.language = language

    def analyze(self, analysis: str, text: str) -> dict[str, Any]:
        """Runs one analysis (a key of ANALYSES) and returns Comprehend's answer."""
        operation, _ = ANALYSES[analysis]
        params: dict[str, Any] = {"Text": checks.comprehend_text(text, operation)}
        if analysis != "language":
            params["LanguageCode"] = self.language
        self.session.require_credentials()
        return self.session.call(SERVICE, operation, **params)
