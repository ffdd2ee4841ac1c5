"""Which container image runs a built-in algorithm in a region.

The account ids and tags differ per region and change over time, so the lookup is the
SageMaker Python SDK's own (`image_uris.retrieve`, from the `sagemaker-core` package),
which AWS keeps up to date, never a table typed here. It is imported only when a
training job is planned: it takes about two seconds to import.
"""

from __future__ import annotations

import functools

from bot.aws.errors import AwsProblem
from bot.aws.settings import Algorithm


def training_image(algorithm: Algorithm, region: str) -> str:
    """Raises AwsProblem when the SDK is missing or does not know the algorithm there."""
    return _retrieve(algorithm.name, algorithm.version, region)


@functools.lru_cache(maxsize=64)
def _retrieve(name: str, version: str, region: str) -> str:
    try:
        from sagemaker.core import image_uris
    except ImportError:
        raise AwsProblem("Finding the training container needs the SageMaker Python SDK, which is not "
                         "installed here. Install it with: pip install 'coursebot[aws]'.",
                         "missing-dependency") from None
    try:
        return image_uris.retrieve(name, region=region, version=version)
    except (ValueError, KeyError) as error:
        raise AwsProblem(f"SageMaker has no {name} version {version} container in "
                         f"{region} ({error}). Check 'aws: algorithms' in coursebot.yml.", "invalid") from None
