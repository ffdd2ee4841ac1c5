"""Amazon Lex V2 export: the project's intents, slots and utterances as a Lex import zip
and a CloudFormation template. Standard library and PyYAML only (light core)."""

from bot.lex.export import LexExport, export_lex

__all__ = ["LexExport", "export_lex"]
