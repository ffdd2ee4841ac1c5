"""Finding actions by name: the domain's responses, Rasa's defaults we implement, and
the project's own `actions/` package.

The engine never imports a project's actions statically. As Rasa's action server
does, it imports the package from the project directory, walks its modules, and
collects every Action subclass that has a name.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib
import importlib.util
import inspect
import pkgutil
import sys
from pathlib import Path
from types import ModuleType

from bot.dialogue.actions import (
    DEFAULT_ACTIONS,
    Action,
    ResponseAction,
    TwoStageFallbackAction,
)
from bot.dialogue.domain import Domain
from bot.dialogue.forms import FormAction, FormValidator
from bot.errors import CourseBotError

PROJECT_ACTIONS_MODULE = "coursebot_project_actions"


class ActionRegistry:
    """Every action a project can run, by name."""

    def __init__(self, actions: dict[str, Action]):
        self._actions = actions

    def __contains__(self, name: str) -> bool:
        return name in self._actions

    def get(self, name: str) -> Action:
        if name not in self._actions:
            close = difflib.get_close_matches(name, self._actions, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise CourseBotError(f"no action named '{name}'{hint}")
        return self._actions[name]

    @classmethod
    def for_project(cls, root: Path, domain: Domain, intent_titles: dict[str, str] | None = None,
                    project_actions: dict[str, Action] | None = None) -> ActionRegistry:
        """`project_actions` defaults to those of the project's actions/ package."""
        actions: dict[str, Action] = {a.name: a() for a in DEFAULT_ACTIONS}
        actions[TwoStageFallbackAction.name] = TwoStageFallbackAction(intent_titles)
        actions.update({name: ResponseAction(name) for name in domain.responses})
        actions.update(load_project_actions(root / "actions") if project_actions is None else project_actions)
        for form in domain.forms:
            validator = actions.get(f"validate_{form}")
            if validator is not None and not isinstance(validator, FormValidator):
                raise CourseBotError(f"the action 'validate_{form}' must subclass FormValidator "
                                     "(bot.dialogue.forms) to check the form's answers")
            slots = domain.required_slots(form)
            ask = {slot: actions.get(f"action_ask_{form}_{slot}") or actions.get(f"action_ask_{slot}")
                   for slot in slots}
            actions[form] = FormAction(form, slots, validator, {slot: a for slot, a in ask.items() if a})
        missing = [name for name in domain.actions if name not in actions]
        if missing:
            raise CourseBotError(
                f"domain.yml lists actions that actions/ does not define: {', '.join(missing)}; "
                "add an Action subclass with that `name`, or remove the name from domain.yml")
        return cls(actions)


def load_project_actions(package_dir: Path) -> dict[str, Action]:
    """Imports a project's actions package and instantiates every named Action subclass."""
    init = package_dir / "__init__.py"
    if not init.exists():
        return {}
    digest = hashlib.sha1(str(package_dir.resolve()).encode()).hexdigest()[:12]
    module_name = f"{PROJECT_ACTIONS_MODULE}_{digest}"
    package = sys.modules.get(module_name)
    if package is None:
        spec = importlib.util.spec_from_file_location(
            module_name, init, submodule_search_locations=[str(package_dir)])
        package = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = package
        spec.loader.exec_module(package)
    return actions_in_package(package)


def actions_in_package(package: ModuleType) -> dict[str, Action]:
    """Every named Action subclass defined in an imported package or its modules, by name."""
    found: dict[str, Action] = {}
    prefix = package.__name__
    modules = [package] + [importlib.import_module(info.name) for info in
                           pkgutil.walk_packages(list(package.__path__), prefix=f"{prefix}.")]
    for module in modules:
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if not issubclass(cls, Action) or inspect.isabstract(cls) or not isinstance(cls.name, str):
                continue
            if not cls.name or not (cls.__module__ == prefix or cls.__module__.startswith(f"{prefix}.")):
                continue
            existing = found.get(cls.name)
            if existing is not None and type(existing) is not cls:
                raise CourseBotError(f"two actions are named '{cls.name}': {type(existing).__qualname__} "
                                     f"and {cls.__qualname__}; action names must be unique")
            found[cls.name] = cls()
    return found
