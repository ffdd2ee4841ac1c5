"""The Lex V2 dialog and fulfillment code hook: `handler(event, context)`.

The project (domain, rules, stories, knowledge, actions) is loaded once per Lambda
container, from the folder this package sits in, or from COURSEBOT_PROJECT. Only the
light core is imported: no NLU, since Lex understands the message.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from bot.channels.lex import handle_event

log = logging.getLogger("coursebot.lambda")
_dialogue: Any = None
# Where the bundle keeps the answer index (the model folder's `answers/`).
ANSWERS_MODEL_DIR = Path("models") / "nlu"


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    return handle_event(event if isinstance(event, dict) else {}, dialogue(), _key())


def _key() -> bytes | None:
    """The function's secret key (the stack's COURSEBOT_SECRET_KEY): it signs the bot's state
    in the session attributes, so that a client cannot forge it."""
    configured = os.environ.get("COURSEBOT_SECRET_KEY")
    return configured.encode("utf-8") if configured else None


def dialogue() -> Any:
    """The project's dialogue manager, built on the first call of this container."""
    global _dialogue
    if _dialogue is None:
        from bot.aws import AwsServices
        from bot.dialogue.action_loader import ActionRegistry
        from bot.dialogue.manager import DialogueManager
        from bot.dialogue.routing import QuestionRouting
        from bot.errors import ModelError
        from bot.knowledge.answers import AnswerEngine
        from bot.project import load_project

        root = Path(os.environ.get("COURSEBOT_PROJECT") or Path(__file__).resolve().parents[1])
        project = load_project(root)
        settings = project.settings
        actions = ActionRegistry.for_project(project.root, project.domain, settings.dialogue.intent_titles)
        # The stack hands the instructor's execution role to the function (deploy --execution-role-arn).
        role = os.environ.get("COURSEBOT_ROLE_ARN") or settings.aws.role_arn
        aws = AwsServices(settings.aws.with_changes(media_dir=Path("/tmp/coursebot-media"), role_arn=role),
                          language=settings.language)
        try:  # the lexical half of the answer engine, from the index the bundle carries
            answers = AnswerEngine.load(root / ANSWERS_MODEL_DIR, project.knowledge)
        except ModelError as problem:
            log.warning("no answer index in the bundle (%s); questions Lex cannot place get the fallback", problem)
            answers = None
        _dialogue = DialogueManager.for_flows(project.domain, actions, project.knowledge, project.rules,
                                              project.stories, response_selection=settings.dialogue.response_selection,
                                              aws=aws, explicit=settings.dialogue.explicit(), answers=answers,
                                              routing=QuestionRouting.for_answers(settings.answers), channel="lex")
        log.info("loaded the project from %s", root)
    return _dialogue
