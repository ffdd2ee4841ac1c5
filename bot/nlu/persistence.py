"""Reading and writing component state: JSON and NumPy arrays, never pickle."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.errors import ModelError


def save_json(directory: Path, name: str, data: Any) -> None:
    (directory / name).write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def load_json(directory: Path, name: str) -> Any:
    path = directory / name
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"the model is incomplete: {path} is missing; run `coursebot train --force`") from None
    except (OSError, json.JSONDecodeError) as error:
        raise ModelError(f"the model file {path} is damaged ({error}); run `coursebot train --force`") from None


def save_arrays(directory: Path, name: str, **arrays: Any) -> None:
    import numpy as np

    np.savez(directory / name, **arrays)


def load_arrays(directory: Path, name: str) -> dict[str, Any]:
    import numpy as np

    path = directory / name
    try:
        with np.load(path, allow_pickle=False) as stored:
            return {key: stored[key] for key in stored.files}
    except FileNotFoundError:
        raise ModelError(f"the model is incomplete: {path} is missing; run `coursebot train --force`") from None
    except (OSError, ValueError) as error:
        raise ModelError(f"the model file {path} is damaged ({error}); run `coursebot train --force`") from None
