"""Which container image runs a built-in algorithm in a region.

The account ids and tags differ per region and change over time, so the lookup is the
SageMaker Python SDK's own (`image_uris.retrieve`, from the `sagemaker-core` package),
which AWS keeps up to date, never a table typed here. It is imported only when a
training job is planned: it takes about two seconds to import.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from bot.aws.errors import AwsProblem
from bot.aws.settings import Algorithm

# Where a Lambda bundle (which cannot carry the SDK) keeps the SDK's answers, resolved
# when the bundle was built: {"xgboost:1.7-1": {"us-east-1": "<image uri>", ...}}.
SNAPSHOT = Path(__file__).resolve().parents[2] / "training_images.json"


def training_image(algorithm: Algorithm, region: str) -> str:
    """Raises AwsProblem when the SDK is missing or does not know the algorithm there."""
    return _retrieve(algorithm.name, algorithm.version, region)


@functools.lru_cache(maxsize=64)
def _retrieve(name: str, version: str, region: str) -> str:
    try:
        from sagemaker.core import image_uris
    except ImportError:
        snapshot = _snapshot().get(f"{name}:{version}", {})
        if region in snapshot:
            return snapshot[region]
        raise AwsProblem("Finding the training container needs the SageMaker Python SDK, which is not "
                         "installed here. Install it with: pip install 'coursebot[aws]'.",
                         "missing-dependency") from None
    try:
        return image_uris.retrieve(name, region=region, version=version)
    except (ValueError, KeyError) as error:
        raise AwsProblem(f"SageMaker has no {name} version {version} container in "
                         f"{region} ({error}). Check 'aws: algorithms' in coursebot.yml.", "invalid") from None


def snapshot(algorithms: list[Algorithm]) -> dict[str, dict[str, str]]:
    """Every region's image for each algorithm, from the SDK (for a Lambda bundle)."""
    import botocore.session

    regions = botocore.session.get_session().get_available_regions("sagemaker")
    images: dict[str, dict[str, str]] = {}
    for algorithm in algorithms:
        found = images.setdefault(f"{algorithm.name}:{algorithm.version}", {})
        for region in regions:
            try:
                found[region] = _retrieve(algorithm.name, algorithm.version, region)
            except AwsProblem:
                continue  # no container for this algorithm there
    return images


@functools.lru_cache(maxsize=1)
def _snapshot() -> dict[str, dict[str, str]]:
    try:
        return json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
