"""Amazon Rekognition on the student's image: a local file inside the allowed folders
or an S3 object. One form serves the four analyses, as for text."""

from __future__ import annotations

from typing import Any

from bot.aws import AwsServices
from bot.dialogue.actions import ActionContext
from bot.dialogue.events import Event, SlotSet
from bot.dialogue.forms import FormValidator

from .aws_support import MeteredAction

SOURCE = "image_source"
ANALYSIS = "image_analysis"


class ValidateImageForm(FormValidator):
    name = "validate_image_form"

    def validate_image_source(self, value: Any, context: ActionContext) -> str | None:
        return str(value).strip().strip("\"'`") or None


class ActionAnalyzeImage(MeteredAction):
    name = "action_analyze_image"

    def run_metered(self, context: ActionContext, aws: AwsServices) -> list[Event]:
        analysis = context.slots.get(ANALYSIS) or "labels"
        answer = aws.rekognition.analyze(analysis, context.slots.get(SOURCE) or "")
        context.say(_describe(analysis, answer))
        return [SlotSet(SOURCE, None)]

    def after_problem(self, context: ActionContext) -> list[Event]:
        return [SlotSet(SOURCE, None)]


def _describe(analysis: str, answer: dict[str, Any]) -> str:
    if analysis == "labels":
        labels = [f"{label['Name']} ({label['Confidence']:.0f}%)" for label in answer.get("Labels", [])]
        return "I see: " + ", ".join(labels) + "." if labels else "Rekognition found nothing it could label."
    if analysis == "text":
        lines = [t["DetectedText"] for t in answer.get("TextDetections", []) if t.get("Type") == "LINE"]
        return "The image says:\n" + "\n".join(f"- {line}" for line in lines) if lines \
            else "Rekognition found no text in it."
    if analysis == "faces":
        faces = answer.get("FaceDetails", [])
        if not faces:
            return "Rekognition found no faces."
        details = []
        for number, face in enumerate(faces[:5], start=1):
            age = face.get("AgeRange", {})
            emotion = max(face.get("Emotions", []), key=lambda e: e.get("Confidence", 0), default={})
            smile = "smiling" if face.get("Smile", {}).get("Value") else "not smiling"
            details.append(f"- face {number}: age {age.get('Low', '?')}-{age.get('High', '?')}, {smile}"
                           + (f", looks {emotion['Type'].lower()}" if emotion else ""))
        return f"Rekognition found {len(faces)} face(s):\n" + "\n".join(details)
    labels = answer.get("ModerationLabels", [])
    if not labels:
        return "Rekognition found nothing unsafe or inappropriate in it."
    return "Rekognition flags: " + ", ".join(f"{m['Name']} ({m['Confidence']:.0f}%)" for m in labels) + "."
