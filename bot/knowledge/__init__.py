"""The course knowledge base. The lookup part is standard library and PyYAML only."""

from bot.knowledge.base import KnowledgeBase, load_knowledge
from bot.knowledge.entry import Category, Entry, GuideStep

__all__ = ["Category", "Entry", "GuideStep", "KnowledgeBase", "load_knowledge"]
