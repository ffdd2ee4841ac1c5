"""Amazon Polly: the student's words, spoken. The audio is an attachment the web widget
plays and the terminal shows as a file path."""

from __future__ import annotations

from typing import Any

from bot.aws import AwsServices
from bot.dialogue.actions import ActionContext
from bot.dialogue.events import Event, SlotSet
from bot.dialogue.forms import FormValidator

from .aws_support import AwsAction, MeteredAction, quoted_text, text_answer

TEXT = "speech_text"


class ValidateSpeechForm(FormValidator):
    name = "validate_speech_form"

    def extract_speech_text(self, context: ActionContext) -> str | None:
        return quoted_text(context.text)

    def validate_speech_text(self, value: Any, context: ActionContext) -> str | None:
        return text_answer(value)


class ActionSpeak(MeteredAction):
    name = "action_speak"

    def run_metered(self, context: ActionContext, aws: AwsServices) -> list[Event]:
        voice = context.slots.get("voice") or aws.settings.default_voice
        spoken = self.limited_text(context.slots.get(TEXT) or "", aws)
        path = aws.polly.speak(spoken, voice)
        context.say(f"Here it is, in {voice.capitalize()}'s voice.",
                    attachment={"type": "audio", "payload": {"src": f"/media/{path.name}", "text": spoken}})
        return [SlotSet(TEXT, None)]

    def after_problem(self, context: ActionContext) -> list[Event]:
        return [SlotSet(TEXT, None)]


class ActionListVoices(AwsAction):
    name = "action_list_voices"

    def run_aws(self, context: ActionContext, aws: AwsServices) -> list[Event]:
        voices = aws.polly.voices()
        if not voices:
            context.say("Polly lists no US English voices here.")
            return []
        names = sorted(f"{v['Name']} ({v.get('Gender', '').lower()})" for v in voices)
        context.say(f"Polly's US English voices: {', '.join(names)}. Say, for example, \"say 'hello' in "
                    f"{voices[0]['Name']}'s voice\".")
        return []
