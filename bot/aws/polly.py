"""Amazon Polly: speak a text with a chosen voice, and list the voices.

The audio is saved under the media folder with a name derived from nothing the student
typed, so the web widget can play it and the terminal can print its path. Audio older than
a day is deleted as new audio is made, so the folder never grows without end.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

from bot.aws import checks
from bot.aws.errors import AwsProblem
from bot.aws.session import AwsSession

SERVICE = "polly"
KEEP_AUDIO_S = 24 * 3600


class PollyService:
    def __init__(self, session: AwsSession, media_dir: Path):
        self.session = session
        self.media_dir = media_dir

    def voices(self, language: str = "en-US") -> list[dict[str, Any]]:
        self.session.require_credentials()
        return self.session.call(SERVICE, "DescribeVoices", LanguageCode=language).get("Voices", [])

    def speak(self, text: str, voice: str) -> Path:
        """Synthesizes `text` as MP3 and returns the saved file."""
        text = checks.speech_text(text)
        voice = voice.strip().capitalize()
        self.session.require_credentials()
        answer = self.session.call(SERVICE, "SynthesizeSpeech", Text=text, VoiceId=voice, OutputFormat="mp3")
        stream = answer.get("AudioStream")
        audio = stream.read() if stream is not None else b""
        if not audio:
            raise AwsProblem("Polly answered without any audio; please try again.", "error")
        self.media_dir.mkdir(parents=True, exist_ok=True)
        self._forget_old_audio()
        path = self.media_dir / f"speech-{uuid.uuid4().hex[:12]}.mp3"
        path.write_bytes(audio)
        return path

    def _forget_old_audio(self) -> None:
        oldest = time.time() - KEEP_AUDIO_S
        for old in self.media_dir.glob("speech-*.mp3"):
            try:
                if old.stat().st_mtime < oldest:
                    old.unlink()
            except OSError:
                pass  # another process cleaned it up first
