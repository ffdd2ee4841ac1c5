"""The evaluation report of `coursebot test`: metrics, errors, two plots and one HTML page.

Like `rasa test nlu`, but one self-contained directory a teacher can open on a phone.
numpy, scikit-learn and matplotlib load inside the functions, so importing this is cheap.
"""

from __future__ import annotations

import html
import json
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

INTENT_REPORT_FILE = "intent_report.json"
ENTITY_REPORT_FILE = "entity_report.json"
ERRORS_FILE = "errors.json"
CONFUSION_MATRIX_FILE = "intent_confusion_matrix.png"
HISTOGRAM_FILE = "intent_histogram.png"
HTML_FILE = "report.html"

AVERAGES = ("micro avg", "macro avg", "weighted avg")
DPI = 110
ANNOTATE_MAX_LABELS = 25  # counts in the cells stay legible up to about this many labels
TICK_LABELS_MAX = 60  # beyond this, tick labels turn to mush; the JSON report has the names
HTML_ERRORS_MAX = 100


@dataclass(frozen=True)
class EntitySpan:
    entity: str
    start: int
    end: int
    value: str


@dataclass(frozen=True)
class Prediction:
    """One evaluated example: what the data says and what the model said."""
    text: str
    intent: str
    predicted: str
    confidence: float
    ranking: tuple[tuple[str, float], ...] = ()
    entities: tuple[EntitySpan, ...] = ()
    predicted_entities: tuple[EntitySpan, ...] = ()

    @property
    def correct(self) -> bool:
        return self.intent == self.predicted


@dataclass(frozen=True)
class ReportFiles:
    directory: Path
    files: dict[str, Path]


def intent_report(predictions: list[Prediction]) -> dict:
    """Per-intent precision, recall, F1 and support, in scikit-learn's report shape.

    Each intent also names the (up to three) intents its examples were most often taken for.
    """
    from sklearn.metrics import classification_report

    labels = _labels(predictions)
    if not labels:
        return {"accuracy": 0.0}
    gold = [p.intent for p in predictions]
    predicted = [p.predicted for p in predictions]
    # The labels are the union of gold and predicted, so "accuracy" (not "micro avg") appears.
    report = classification_report(gold, predicted, labels=labels, output_dict=True, zero_division=0)
    report = _plain(report)
    for scores in report.values():
        if isinstance(scores, dict):
            scores["support"] = int(scores["support"])  # scikit-learn gives a float
    confusions = {label: Counter() for label in labels}
    for p in predictions:
        if not p.correct:
            confusions[p.intent][p.predicted] += 1
    for label in labels:
        report[label]["confused_with"] = dict(confusions[label].most_common(3))
    return report


def entity_report(predictions: list[Prediction]) -> dict:
    """Per entity type precision, recall and F1; a span counts only on an exact (entity, start, end)."""
    gold_counts: Counter[str] = Counter()
    predicted_counts: Counter[str] = Counter()
    hits: Counter[str] = Counter()
    for p in predictions:
        gold = Counter((e.entity, e.start, e.end) for e in p.entities)
        found = Counter((e.entity, e.start, e.end) for e in p.predicted_entities)
        for key, count in gold.items():
            gold_counts[key[0]] += count
        for key, count in found.items():
            predicted_counts[key[0]] += count
        for key, count in (gold & found).items():
            hits[key[0]] += count
    report: dict[str, Any] = {}
    for entity in sorted(gold_counts.keys() | predicted_counts.keys()):
        report[entity] = _scores(hits[entity], predicted_counts[entity], gold_counts[entity])
    report["micro avg"] = _scores(sum(hits.values()), sum(predicted_counts.values()),
                                  sum(gold_counts.values()))
    types = [report[entity] for entity in report if entity != "micro avg"]
    report["macro avg"] = {
        metric: (sum(t[metric] for t in types) / len(types) if types else 0.0)
        for metric in ("precision", "recall", "f1-score")
    } | {"support": sum(gold_counts.values())}
    return report


def errors(predictions: list[Prediction]) -> list[dict]:
    """The wrongly classified examples, confident mistakes first: they are the ones to fix."""
    wrong = [p for p in predictions if not p.correct]
    wrong.sort(key=lambda p: p.confidence, reverse=True)
    return [{"text": p.text, "intent": p.intent, "predicted": p.predicted,
             "confidence": float(p.confidence),
             "ranking": [{"name": name, "confidence": float(conf)} for name, conf in p.ranking[:3]]}
            for p in wrong]


def write_report(predictions: list[Prediction], out_dir: Path, *, title: str = "CourseBot NLU evaluation",
                 summary: dict | None = None) -> ReportFiles:
    """Writes the JSON reports, both plots and report.html into `out_dir`.

    Raises:
        ValueError: when there are no predictions; an empty report would look like a broken one.
    """
    if not predictions:
        raise ValueError("No examples to report on: the test data has no intent examples.")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    intents = intent_report(predictions)
    entities = entity_report(predictions)
    wrong = errors(predictions)
    files = {
        "intent_report": out_dir / INTENT_REPORT_FILE,
        "entity_report": out_dir / ENTITY_REPORT_FILE,
        "errors": out_dir / ERRORS_FILE,
        "confusion_matrix": out_dir / CONFUSION_MATRIX_FILE,
        "histogram": out_dir / HISTOGRAM_FILE,
        "html": out_dir / HTML_FILE,
    }
    for key, data in (("intent_report", intents), ("entity_report", entities), ("errors", wrong)):
        files[key].write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    plot_confusion_matrix(predictions, files["confusion_matrix"])
    plot_histogram(predictions, files["histogram"])
    page = render_html(title=title, summary=summary, intents=intents, entities=entities, wrong=wrong,
                       count=len(predictions))
    files["html"].write_text(page, encoding="utf-8")
    return ReportFiles(directory=out_dir, files=files)


def plot_confusion_matrix(predictions: list[Prediction], path: Path) -> None:
    """Gold intents (rows) against predicted intents (columns), over the union of both."""
    import numpy as np
    from matplotlib import colormaps
    from matplotlib.colors import ListedColormap
    from matplotlib.ticker import MaxNLocator

    labels = _labels(predictions)
    n = len(labels)
    index = {label: i for i, label in enumerate(labels)}
    matrix = np.zeros((n, n), dtype=int)
    for p in predictions:
        matrix[index[p.intent], index[p.predicted]] += 1

    with_ticks = n <= TICK_LABELS_MAX
    # About a fifth of an inch per label keeps tick labels apart; without them, a fixed size.
    side = min(4.0 + 0.22 * n, 18.0) if with_ticks else 12.0
    font = max(6.0, min(10.0, 200.0 / max(n, 1)))
    figure, ax = _figure(side + 1.5, side)
    # Empty cells white, and a single confusion already a visible blue: the errors are the point.
    colours = ListedColormap(colormaps["Blues"](np.linspace(0.25, 1.0, 256))).with_extremes(under="white")
    image = ax.imshow(matrix, cmap=colours, interpolation="nearest", aspect="equal",
                      vmin=0.5, vmax=max(int(matrix.max(initial=0)), 1))
    figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="examples",
                    ticks=MaxNLocator(integer=True, min_n_ticks=1))
    if with_ticks:
        names = [_short(label) for label in labels]
        ax.set_xticks(range(n))
        ax.set_yticks(range(n))
        ax.set_xticklabels(names, rotation=45, ha="right", rotation_mode="anchor", fontsize=font,
                           parse_math=False)
        ax.set_yticklabels(names, fontsize=font, parse_math=False)
        ax.set_title("Intent confusion matrix")
    else:
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"Intent confusion matrix: {n} intents\n(names omitted; see {INTENT_REPORT_FILE})")
    if n <= ANNOTATE_MAX_LABELS:
        threshold = matrix.max(initial=0) / 2
        for (row, column), count in np.ndenumerate(matrix):
            if count:
                ax.text(column, row, str(count), ha="center", va="center", fontsize=font,
                        color="white" if count > threshold else "black")
    ax.set_xlabel("predicted intent")
    ax.set_ylabel("intent in the data")
    _save(figure, path)


def plot_histogram(predictions: list[Prediction], path: Path) -> None:
    """How confident the model was when right and when wrong; wrong and sure is the worry."""
    import numpy as np

    bins = np.linspace(0.0, 1.0, 21)
    right = [_clip(p.confidence) for p in predictions if p.correct]
    wrong = [_clip(p.confidence) for p in predictions if not p.correct]
    figure, ax = _figure(8.0, 5.0)
    ax.hist([right, wrong], bins=bins, color=["#2b8a3e", "#c92a2a"],
            label=[f"correct ({len(right)})", f"wrong ({len(wrong)})"])
    ax.set_xlim(0.0, 1.0)
    ax.set_xticks(np.linspace(0.0, 1.0, 11))
    ax.set_xlabel("confidence of the predicted intent")
    ax.set_ylabel("examples")
    ax.set_title("Intent prediction confidence")
    ax.legend(loc="upper left")
    ax.grid(axis="y", alpha=0.3)
    _save(figure, path)


def render_html(*, title: str, summary: dict | None, intents: dict, entities: dict, wrong: list[dict],
                count: int) -> str:
    """One page, no scripts or external styles: it opens from a zip, a mail or a phone."""
    esc = html.escape
    parts = ["<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
             "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
             f"<title>{esc(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<h1>{esc(title)}</h1>"]
    if summary:
        parts.append("<h2>Summary</h2>")
        parts.append(_table(["", "value"], [[key, value] for key, value in summary.items()], header_column=True))
    parts.append("<h2>Intents</h2>")
    parts.append(_table(["", "value"], [
        ["examples", count],
        ["accuracy", intents.get("accuracy", 0.0)],
        ["macro F1", intents.get("macro avg", {}).get("f1-score", 0.0)],
        ["weighted F1", intents.get("weighted avg", {}).get("f1-score", 0.0)],
    ], header_column=True))
    # Labels only ever predicted (nlu_fallback, say) score zero by definition: they go last.
    rows = sorted(((name, s) for name, s in intents.items() if name != "accuracy" and name not in AVERAGES),
                  key=lambda row: (row[1]["support"] == 0, row[1]["f1-score"], row[0]))
    parts.append("<p>Worst intents first; labels that were only predicted come last.</p>")
    parts.append(_table(["intent", "precision", "recall", "F1", "support", "confused with"],
                        [[name, s["precision"], s["recall"], s["f1-score"], s["support"],
                          ", ".join(f"{other} ({times})" for other, times in s["confused_with"].items())]
                         for name, s in rows]))
    parts.append(f"<figure><img src=\"{CONFUSION_MATRIX_FILE}\" alt=\"Intent confusion matrix: "
                 "intents in the data as rows, predicted intents as columns\"></figure>")
    parts.append(f"<figure><img src=\"{HISTOGRAM_FILE}\" alt=\"Histogram of the confidence of "
                 "correct and wrong intent predictions\"></figure>")
    parts.append("<h2>Entities</h2>")
    parts.append(_table(["entity", "precision", "recall", "F1", "support"],
                        [[name, s["precision"], s["recall"], s["f1-score"], s["support"]]
                         for name, s in entities.items()]))
    parts.append(f"<h2>Errors ({len(wrong)})</h2>")
    if len(wrong) > HTML_ERRORS_MAX:
        parts.append(f"<p>The {HTML_ERRORS_MAX} most confident of {len(wrong)}; all are in {ERRORS_FILE}.</p>")
    parts.append(_table(["text", "intent", "predicted", "confidence", "ranking"],
                        [[e["text"], e["intent"], e["predicted"], e["confidence"],
                          ", ".join(f"{r['name']} ({r['confidence']:.2f})" for r in e["ranking"])]
                         for e in wrong[:HTML_ERRORS_MAX]]))
    parts.append("</body>\n</html>\n")
    return "\n".join(parts)


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; padding: 1rem;
       max-width: 70rem; color: #212529; line-height: 1.4; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: 0.5rem 0; font-size: 0.9rem; }
th, td { border-bottom: 1px solid #dee2e6; padding: 0.3rem 0.6rem; text-align: left; vertical-align: top; }
thead th { background: #f1f3f5; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1rem 0; } img { max-width: 100%; height: auto; }
"""


def _table(header: list[str], rows: list[list[Any]], *, header_column: bool = False) -> str:
    """An escaped HTML table: floats to three places, numbers aligned right."""
    if not rows:
        return "<p>None.</p>"
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = []
        for i, value in enumerate(row):
            text = html.escape(f"{value:.3f}" if isinstance(value, float) else str(value))
            if header_column and i == 0:
                cells.append(f"<th>{text}</th>")
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                cells.append(f"<td class=\"num\">{text}</td>")
            else:
                cells.append(f"<td>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f"<div class=\"scroll\"><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table></div>")


def _labels(predictions: list[Prediction]) -> list[str]:
    return sorted({p.intent for p in predictions} | {p.predicted for p in predictions})


def _scores(hits: int, predicted: int, gold: int) -> dict[str, Any]:
    precision = hits / predicted if predicted else 0.0
    recall = hits / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1-score": f1, "support": gold}


def _plain(value: Any) -> Any:
    """numpy scalars to Python ones, so the report serialises to JSON."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if hasattr(value, "item"):
        return value.item()
    return value


def _clip(confidence: float) -> float:
    return min(max(float(confidence), 0.0), 1.0)


def _short(label: str, limit: int = 32) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _figure(width: float, height: float):
    """A figure outside pyplot: no global backend switch, no figure kept alive after saving."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=DPI)
    return figure, figure.subplots()


def _save(figure, path: Path) -> None:
    # Fonts without emoji glyphs draw a box and warn; the box is the honest rendering.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from font")
        figure.tight_layout()
        figure.savefig(path, format="png", dpi=DPI)
