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


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    return handle_event(event if isinstance(event, dict) else {}, dialogue())


def dialogue() -> Any:
    """The project's dialogue manager, built on the first call of this container."""
    global _dialogue
    if _dialogue is None:
        from bot.aws import AwsServices
        from bot.dialogue.action_loader import ActionRegistry
        from bot.dialogue.manager import DialogueManager
        from bot.project import load_project

        root = Path(os.environ.get("COURSEBOT_PROJECT") or Path(__file__).resolve().parents[1])
        project = load_project(root)
        settings = project.settings
        actions = ActionRegistry.for_project(project.root, project.domain, settings.dialogue.intent_titles)
        aws = AwsServices(settings.aws.with_changes(media_dir=Path("/tmp/coursebot-media")), language=settings.language)
        _dialogue = DialogueManager.for_flows(project.domain, actions, project.knowledge, project.rules,
                                              project.stories, response_selection=settings.dialogue.response_selection,
                                              aws=aws, explicit=settings.dialogue.explicit())
        log.info("loaded the project from %s", root)
    return _dialogue
