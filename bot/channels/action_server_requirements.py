"""What an environment must have installed to serve our actions without CourseBot.

Rasa's action server runs in Rasa's own environment, which has rasa-sdk, PyYAML and boto3
but not necessarily the answer engine's stemmer. Without this check a missing package
shows up only when a student asks a course question, as an apology and a traceback in the
log; with it, `rasa run actions` refuses to start and says what to install.

Standard library only (`packaging`, where present, checks versions), because it runs
before anything else of ours is importable.
"""

from __future__ import annotations

import re
import warnings
from importlib import metadata
from pathlib import Path

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def read(path: Path) -> list[str]:
    """The requirement lines of a pip requirements file, without comments."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line]


def missing(requirements: list[str]) -> list[str]:
    """Each requirement this environment does not meet, with what it has instead."""
    problems = []
    for requirement in requirements:
        name = _NAME.match(requirement).group(1)
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            problems.append(f"{requirement} (not installed)")
            continue
        if not _satisfies(requirement, installed):
            problems.append(f"{requirement} (installed: {installed})")
    return problems


def _satisfies(requirement: str, version: str) -> bool:
    with warnings.catch_warnings():  # an old packaging on a new pyparsing (Rasa 3.6's) warns at every step
        warnings.simplefilter("ignore")
        try:
            from packaging.requirements import Requirement
        except ImportError:  # an environment without packaging: being installed is what we can check
            return True
        return Requirement(requirement).specifier.contains(version, prereleases=True)


def explain(problems: list[str], requirements_file: Path) -> str:
    return ("CourseBot's actions cannot be served from this Python environment: it lacks "
            + "; ".join(problems)
            + f". Install them into the environment that runs the action server: "
              f"pip install -r {requirements_file}")
