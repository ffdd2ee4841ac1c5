"""The Lambda bundle: the code hook with only the light core and the project's data.

What goes in is found, not listed: a child process imports the handler and loads the
project, and every module of `bot` it imported is bundled. The SageMaker SDK cannot go
in, so its training-image answers for every region go in as `training_images.json`. PyYAML goes in as pure
Python (its C extension is built for this machine, not for Lambda's), and so does the
Snowball stemmer; boto3 comes from the Lambda runtime. The trained model's answer index
goes in without its vectors, so that the hook answers questions Lex cannot place from the
lexical half of the answer engine. The NLU engine, torch, spaCy and scikit-learn never go in.

Lambda runs the code as a user that owns none of it, so every file goes in readable by
all (0644), whatever its mode here; entries carry a fixed date, so the same files give
the same zip, and the same S3 key at deploy time.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import snowballstemmer
import yaml

from bot.aws.images import SNAPSHOT, snapshot
from bot.errors import CourseBotError
from bot.knowledge.answer_index import INDEX_DIR
from bot.nlu.training import model_dir
from bot.project import load_project
from lambda_handlers.fulfillment import ANSWERS_MODEL_DIR

PROJECT_FILES = ("domain.yml", "coursebot.yml", "config.yml")
PROJECT_FOLDERS = ("nlu_data", "knowledge", "actions")
HANDLER = "lambda_handlers.fulfillment.handler"
MAX_BYTES = 5 * 1024 * 1024
FILE_MODE = 0o100644  # a regular file, readable by everyone (S_IFREG | rw-r--r--)
ENTRY_DATE = (1980, 1, 1, 0, 0, 0)
_FIND_MODULES = """
import json, sys
sys.path.insert(0, sys.argv[1])
import lambda_handlers.fulfillment as f
f.dialogue()
print(json.dumps(sorted({m.__file__ for n, m in list(sys.modules.items())
                         if (n == "bot" or n.startswith("bot.")) and getattr(m, "__file__", None)})))
"""


@dataclass(frozen=True)
class Bundle:
    path: Path
    size: int
    files: int

    def summary(self) -> str:
        return f"{self.path} ({self.size / 1024:.0f} KB, {self.files} files; handler {HANDLER})"


def build_bundle(root: Path, out_dir: Path) -> Bundle:
    """Writes `coursebot-lambda.zip` for the project at `root` into `out_dir`.

    Raises:
        CourseBotError: the handler cannot load the project, or the zip is over 5 MB.
    """
    root = root.resolve()
    engine = Path(__file__).resolve().parents[1]  # where the `bot` package is
    modules = _imported_bot_modules(root, engine)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "coursebot-lambda.zip"
    entries: list[tuple[str, Path | bytes]] = [(path.relative_to(engine).as_posix(), path) for path in modules]
    entries += [(name, root / name) for name in PROJECT_FILES if (root / name).is_file()]
    sources = [(root / folder, root) for folder in PROJECT_FOLDERS] + [(engine / "lambda_handlers", engine)]
    for folder, base in sources:
        entries += [(path.relative_to(base).as_posix(), path) for path in sorted(folder.rglob("*"))
                    if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"]
    images = snapshot(list(load_project(root).settings.aws.algorithms.values()))
    entries.append((SNAPSHOT.name, json.dumps(images, indent=1, sort_keys=True).encode("utf-8")))
    yaml_dir = Path(yaml.__file__).parent
    entries += [(f"yaml/{path.name}", path) for path in sorted(yaml_dir.glob("*.py"))]  # no _yaml C extension
    stemmer_dir = Path(snowballstemmer.__file__).parent  # pure Python: the answer engine's stemmer
    entries += [(f"snowballstemmer/{path.name}", path) for path in sorted(stemmer_dir.glob("*.py"))]
    answers = model_dir(load_project(root)) / INDEX_DIR
    if (answers / "index.json").is_file():
        # the answer engine's passages and lexical index, and its scope model; the vectors stay out
        entries += [(f"{ANSWERS_MODEL_DIR.as_posix()}/{INDEX_DIR}/{name}", answers / name)
                    for name in ("index.json", "scope.json") if (answers / name).is_file()]
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, source in entries:
            info = zipfile.ZipInfo(name, date_time=ENTRY_DATE)
            info.compress_type, info.external_attr = zipfile.ZIP_DEFLATED, FILE_MODE << 16
            bundle.writestr(info, source if isinstance(source, bytes) else source.read_bytes())
    files = len(entries)
    size = target.stat().st_size
    if size > MAX_BYTES:
        raise CourseBotError(f"the bundle is {size / 1024 / 1024:.1f} MB, over the 5 MB budget; "
                             "look for large files in the project folders")
    return Bundle(target, size, files)


def _imported_bot_modules(root: Path, engine: Path) -> list[Path]:
    result = subprocess.run([sys.executable, "-c", _FIND_MODULES, str(engine)], capture_output=True, text=True,
                            cwd=root, timeout=120, env={"PATH": "", "COURSEBOT_PROJECT": str(root)})
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise CourseBotError(f"the Lambda handler cannot load this project: {last}")
    paths = [Path(p) for p in json.loads(result.stdout.strip().splitlines()[-1])]
    return sorted(p for p in paths if p.is_relative_to(engine / "bot"))
