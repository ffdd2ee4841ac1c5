"""What the instructor allows the bot to do on AWS: the `aws:` section of coursebot.yml.

Every guardrail lives here as data, so an instructor widens or narrows what students
may start by editing settings, never code. The defaults are deliberately small: two
cheap instance types for notebooks, two for training, one hour of training at most.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from bot.errors import ConfigError

RETRY_MODES = ("standard", "adaptive", "legacy")

# Estimated on-demand prices in US dollars per hour (us-east-1, November 2026), shown to
# the student before anything is created. Instructors update them with the allowlist.
DEFAULT_NOTEBOOK_INSTANCE_TYPES = {"ml.t3.medium": 0.05, "ml.t3.large": 0.10}
DEFAULT_TRAINING_INSTANCE_TYPES = {"ml.m5.large": 0.115, "ml.m5.xlarge": 0.23}
# Built-in algorithms students may train with: the container version the image lookup
# asks for, and hyperparameters that make a first run work on a small CSV file.
DEFAULT_ALGORITHMS = {
    "xgboost": {"version": "1.7-1",
                "hyperparameters": {"objective": "reg:squarederror", "num_round": "50"}},
    "linear-learner": {"version": "1",
                       "hyperparameters": {"predictor_type": "regressor", "feature_dim": "auto"}},
}


@dataclass(frozen=True)
class Algorithm:
    name: str
    version: str
    hyperparameters: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AwsSettings:
    """The service layer's configuration; None means "from the usual AWS configuration"."""

    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    retry_mode: str = "standard"
    max_attempts: int = 4
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    # All attempts of one call together; shorter than a turn may take.
    call_deadline: float = 20.0
    dry_run: bool = False
    role_arn: str | None = None
    # The execution roles students may pick from, when more than one (role_arn: the only one).
    role_arns: tuple[str, ...] = ()
    # The S3 buckets and prefixes the bot may read from and write to ("s3://course-data/").
    s3_prefixes: tuple[str, ...] = ()
    notebook_instance_types: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_NOTEBOOK_INSTANCE_TYPES))
    training_instance_types: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_TRAINING_INSTANCE_TYPES))
    max_training_minutes: int = 60
    # Comprehend, Polly and Rekognition are billed per call: per student per hour, and the
    # longest text a student may send them.
    metered_per_hour: int = 30
    max_text_chars: int = 2000
    algorithms: dict[str, Algorithm] = field(
        default_factory=lambda: {name: Algorithm(name, spec["version"], dict(spec["hyperparameters"]))
                                 for name, spec in DEFAULT_ALGORITHMS.items()})
    image_folders: tuple[Path, ...] = (Path(".coursebot/uploads"),)
    media_dir: Path = Path(".coursebot/media")
    default_voice: str = "Joanna"
    sandbox: bool = False
    # Where the project's secret key lives (.coursebot/secret.key), for the owner tags.
    project_root: Path = Path(".")

    def with_changes(self, **changes: Any) -> AwsSettings:
        return replace(self, **changes)

    @classmethod
    def from_mapping(cls, node: dict[str, Any] | None, root: Path = Path(".")) -> AwsSettings:
        """Reads the `aws:` mapping; relative folders are relative to the project root.

        Raises:
            ConfigError: an unknown key or a value of the wrong kind, naming the key.
        """
        node = dict(node or {})
        known = {f.name for f in fields(cls)} - {"sandbox", "project_root"}
        unknown = sorted(set(node) - known)
        if unknown:
            raise ConfigError(f"unknown key(s) under 'aws': {', '.join(unknown)}; "
                              f"known keys: {', '.join(sorted(known))}")
        values: dict[str, Any] = {}
        for key in ("region", "profile", "endpoint_url", "role_arn", "default_voice"):
            if node.get(key) is not None:
                values[key] = _text(node, key)
        if "retry_mode" in node:
            values["retry_mode"] = _choice(node, "retry_mode", RETRY_MODES)
        for key in ("max_attempts", "max_training_minutes", "metered_per_hour", "max_text_chars"):
            if key in node:
                values[key] = _positive(node, key, int)
        for key in ("connect_timeout", "read_timeout", "call_deadline"):
            if key in node:
                values[key] = _positive(node, key, float)
        for key, prefix in (("role_arns", "arn:"), ("s3_prefixes", "s3://")):
            if key in node:
                items = node[key]
                if not isinstance(items, list) or not all(isinstance(i, str) and i.startswith(prefix) for i in items):
                    raise ConfigError(f"'aws: {key}' must be a list of texts starting with {prefix}")
                values[key] = tuple(item if key == "role_arns" or item.endswith("/") else item + "/"
                                    for item in items)
        if "dry_run" in node:
            if not isinstance(node["dry_run"], bool):
                raise ConfigError("'aws: dry_run' must be true or false")
            values["dry_run"] = node["dry_run"]
        for key in ("notebook_instance_types", "training_instance_types"):
            if key in node:
                values[key] = _prices(node, key)
        if "algorithms" in node:
            values["algorithms"] = _algorithms(node["algorithms"])
        if "image_folders" in node:
            folders = node["image_folders"]
            if not isinstance(folders, list) or not folders or not all(isinstance(f, str) for f in folders):
                raise ConfigError("'aws: image_folders' must be a list of folder paths")
            values["image_folders"] = tuple(root / Path(folder).expanduser() for folder in folders)
        else:
            values["image_folders"] = (root / cls.image_folders[0],)
        values["media_dir"] = root / _text(node, "media_dir") if "media_dir" in node else root / cls.media_dir
        return cls(**values, project_root=root)


def _text(node: dict[str, Any], key: str) -> str:
    value = node[key]
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"'aws: {key}' must be a non-empty text")
    return value.strip()


def _choice(node: dict[str, Any], key: str, choices: tuple[str, ...]) -> str:
    value = _text(node, key)
    if value not in choices:
        raise ConfigError(f"'aws: {key}' is '{value}'; use one of {', '.join(choices)}")
    return value


def _positive(node: dict[str, Any], key: str, kind: type) -> Any:
    value = node[key]
    accepted = (int,) if kind is int else (int, float)
    if isinstance(value, bool) or not isinstance(value, accepted) or value <= 0:
        what = "a whole number of at least 1" if kind is int else "a positive number"
        raise ConfigError(f"'aws: {key}' must be {what}, not {value!r}")
    return kind(value)


def _prices(node: dict[str, Any], key: str) -> dict[str, float]:
    value = node[key]
    if not isinstance(value, dict) or not value:
        raise ConfigError(f"'aws: {key}' must map each allowed instance type to its hourly price in "
                          "US dollars, e.g. 'ml.t3.medium: 0.05'")
    prices = {}
    for instance_type, price in value.items():
        if isinstance(price, bool) or not isinstance(price, (int, float)) or price < 0:
            raise ConfigError(f"'aws: {key}: {instance_type}' must be an hourly price in US dollars, "
                              f"not {price!r}")
        prices[str(instance_type)] = float(price)
    return prices


def _algorithms(value: Any) -> dict[str, Algorithm]:
    if not isinstance(value, dict) or not value:
        raise ConfigError("'aws: algorithms' must map algorithm names (xgboost, linear-learner) to "
                          "'version' and 'hyperparameters'")
    algorithms = {}
    for name, spec in value.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("version"), (str, int, float)):
            raise ConfigError(f"'aws: algorithms: {name}' needs a 'version', e.g. version: \"1.7-1\"")
        hyperparameters = spec.get("hyperparameters") or {}
        if not isinstance(hyperparameters, dict):
            raise ConfigError(f"'aws: algorithms: {name}: hyperparameters' must be a mapping")
        algorithms[str(name)] = Algorithm(str(name), str(spec["version"]),
                                          {str(k): str(v) for k, v in hyperparameters.items()})
    return algorithms
