"""What rasa-sdk's action server (`rasa run actions`) serves from this package.

rasa-sdk imports every module here and serves each rasa-sdk Action it finds; this module
gives it one adapter per action and form validator of ours (bot/channels/rasa_actions.py).
Our engine imports this package without rasa-sdk loaded, and then this module does
nothing, so rasa-sdk stays an optional extra.

The environment that runs the action server need not have installed CourseBot (Rasa's own
usually has not); what it must have is in requirements.txt here, and the server refuses to
start, saying what to install, where something is missing.
"""

import logging
import sys
from pathlib import Path

if "rasa_sdk" in sys.modules:
    from bot.channels import action_server_requirements as requirements

    _REQUIREMENTS = Path(__file__).with_name("requirements.txt")
    _PROBLEMS = requirements.missing(requirements.read(_REQUIREMENTS))
    if _PROBLEMS:
        logging.getLogger(__name__).error(requirements.explain(_PROBLEMS, _REQUIREMENTS))
        raise SystemExit(1)

    from bot.channels.rasa_actions import serve_package

    SERVED = serve_package(sys.modules[__package__])
