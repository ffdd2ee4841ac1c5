"""What rasa-sdk's action server (`rasa run actions`) serves from this package.

rasa-sdk imports every module here and serves each rasa-sdk Action it finds; this module
gives it one adapter per action and form validator of ours (bot/channels/rasa_actions.py).
Our engine imports this package without rasa-sdk loaded, and then this module does
nothing, so rasa-sdk stays an optional extra.
"""

import sys

if "rasa_sdk" in sys.modules:
    from bot.channels.rasa_actions import serve_package

    SERVED = serve_package(sys.modules[__package__])
