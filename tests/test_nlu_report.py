"""The evaluation report: metrics against hand-computed values, the plots and the HTML page."""

import json
import subprocess
import sys

import pytest

from bot.nlu.report import (
    CONFUSION_MATRIX_FILE,
    HISTOGRAM_FILE,
    EntitySpan,
    Prediction,
    entity_report,
    errors,
    intent_report,
    plot_confusion_matrix,
    write_report,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def pred(intent, predicted, confidence=0.9, text="hi", **fields):
    return Prediction(text=text, intent=intent, predicted=predicted, confidence=confidence, **fields)


def png_size(path):
    from matplotlib.image import imread

    assert path.read_bytes()[:8] == PNG_MAGIC
    height, width = imread(path).shape[:2]
    return width, height


def test_intent_report_matches_hand_computed_metrics():
    # greet: 2 of 3 found, both predictions right; bye: 1 of 1 found, 1 of 2 predictions right.
    report = intent_report([pred("greet", "greet"), pred("greet", "greet"), pred("greet", "bye"),
                            pred("bye", "bye")])
    assert report["greet"]["precision"] == pytest.approx(1.0)
    assert report["greet"]["recall"] == pytest.approx(2 / 3)
    assert report["greet"]["f1-score"] == pytest.approx(0.8)
    assert report["greet"]["support"] == 3 and isinstance(report["greet"]["support"], int)
    assert report["bye"]["precision"] == pytest.approx(0.5)
    assert report["bye"]["recall"] == pytest.approx(1.0)
    assert report["bye"]["f1-score"] == pytest.approx(2 / 3)
    assert report["accuracy"] == pytest.approx(0.75)
    assert report["macro avg"]["f1-score"] == pytest.approx((0.8 + 2 / 3) / 2)
    assert report["weighted avg"]["f1-score"] == pytest.approx((3 * 0.8 + 2 / 3) / 4)
    assert report["greet"]["confused_with"] == {"bye": 1}
    assert report["bye"]["confused_with"] == {}
    json.dumps(report)  # plain Python numbers, no numpy scalars


def test_intent_report_lists_labels_seen_only_as_predictions_and_the_top_three_confusions():
    predictions = ([pred("a", "nlu_fallback")] * 4 + [pred("a", "b")] * 3 + [pred("a", "c")] * 2
                   + [pred("a", "d"), pred("a", "a")])
    report = intent_report(predictions)
    assert report["nlu_fallback"] == {"precision": 0.0, "recall": 0.0, "f1-score": 0.0, "support": 0,
                                      "confused_with": {}}
    assert list(report["a"]["confused_with"].items()) == [("nlu_fallback", 4), ("b", 3), ("c", 2)]
    assert report["accuracy"] == pytest.approx(1 / 11)


def test_entity_report_matches_hand_computed_metrics():
    predictions = [
        pred("x", "x", entities=(EntitySpan("course", 0, 5, "ml101"), EntitySpan("week", 10, 16, "week 3")),
             predicted_entities=(EntitySpan("course", 0, 5, "ml101"), EntitySpan("week", 10, 15, "week "))),
        pred("x", "x", entities=(EntitySpan("week", 3, 9, "week 4"),),
             predicted_entities=(EntitySpan("week", 3, 9, "week 4"), EntitySpan("person", 20, 25, "alice"))),
    ]
    report = entity_report(predictions)
    assert report["course"] == {"precision": 1.0, "recall": 1.0, "f1-score": 1.0, "support": 1}
    assert report["week"] == {"precision": 0.5, "recall": 0.5, "f1-score": 0.5, "support": 2}
    assert report["person"] == {"precision": 0.0, "recall": 0.0, "f1-score": 0.0, "support": 0}
    micro = report["micro avg"]
    assert (micro["precision"], micro["recall"], micro["support"]) == (pytest.approx(0.5), pytest.approx(2 / 3), 3)
    assert micro["f1-score"] == pytest.approx(4 / 7)
    assert report["macro avg"]["f1-score"] == pytest.approx(0.5)


def test_entity_report_without_entities_is_all_zero():
    report = entity_report([pred("a", "a")])
    assert report == {"micro avg": {"precision": 0.0, "recall": 0.0, "f1-score": 0.0, "support": 0},
                      "macro avg": {"precision": 0.0, "recall": 0.0, "f1-score": 0.0, "support": 0}}


def test_errors_are_the_wrong_predictions_most_confident_first():
    ranking = (("b", 0.6), ("a", 0.3), ("c", 0.05), ("d", 0.05))
    found = errors([pred("a", "b", 0.4, text="one"), pred("a", "a", 0.99), pred("a", "b", 0.6, text="two",
                                                                                ranking=ranking)])
    assert [e["text"] for e in found] == ["two", "one"]
    assert found[0] == {"text": "two", "intent": "a", "predicted": "b", "confidence": 0.6,
                        "ranking": [{"name": "b", "confidence": 0.6}, {"name": "a", "confidence": 0.3},
                                    {"name": "c", "confidence": 0.05}]}


def test_write_report_writes_every_file(tmp_path):
    predictions = [pred("greet", "greet", 0.95, text="hello <script>alert('x')</script> 🎓",
                        entities=(EntitySpan("course", 0, 5, "hello"),)),
                   pred("ask_deadline", "greet", 0.7, text="when is it due? <b>now</b>"),
                   pred("ask_deadline", "ask_deadline", 0.8, text="deadline ünïcode")]
    result = write_report(predictions, tmp_path / "deep" / "out", summary={"mode": "5-fold cross-validation"})
    assert result.directory == tmp_path / "deep" / "out"
    assert set(result.files) == {"intent_report", "entity_report", "errors", "confusion_matrix", "histogram", "html"}
    assert all(path.is_file() and path.parent == result.directory for path in result.files.values())
    wrong = json.loads(result.files["errors"].read_text(encoding="utf-8"))
    assert wrong[0]["text"] == "when is it due? <b>now</b>"
    assert "🎓" not in result.files["errors"].read_text(encoding="utf-8")  # only wrong ones land there
    assert json.loads(result.files["intent_report"].read_text(encoding="utf-8"))["accuracy"] == pytest.approx(2 / 3)
    for key in ("confusion_matrix", "histogram"):
        width, height = png_size(result.files[key])
        assert width > 100 and height > 100


def test_report_html_is_escaped_and_links_both_images(tmp_path):
    predictions = [pred("greet", "bye", 0.9, text="<script>alert(1)</script> 🎓"), pred("bye", "bye", 0.8)]
    result = write_report(predictions, tmp_path, title="Eval <1>", summary={"mode": "held-out", "accuracy": 0.5})
    page = result.files["html"].read_text(encoding="utf-8")
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; 🎓" in page
    assert "Eval &lt;1&gt;" in page and "held-out" in page
    assert "greet" in page and "bye" in page
    for name in (CONFUSION_MATRIX_FILE, HISTOGRAM_FILE):
        assert f'src="{name}"' in page
        assert (tmp_path / name).is_file()
    assert "http://" not in page and "https://" not in page
    # Worst intent first: greet was never predicted right; a label only predicted goes last.
    assert page.index(">greet<") < page.index(">bye<")


def test_report_html_puts_labels_only_predicted_after_the_intents(tmp_path):
    predictions = [pred("greet", "nlu_fallback", 0.2), pred("bye", "greet", 0.6), pred("bye", "bye")]
    page = write_report(predictions, tmp_path).files["html"].read_text(encoding="utf-8")
    assert page.index(">greet<") < page.index(">bye<") < page.index(">nlu_fallback<")
    assert '<td class="num">2</td>' in page and "2.000" not in page  # bye's support, a count


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("predictions", [
    [pred("a", "a")],
    [pred("a", "b", 0.3)],
    [pred("a", "a"), pred("b", "b", 1.0)],
    [pred("a", "nlu_fallback", 0.1), pred("b", "nlu_fallback", 0.0)],
    [pred("🎓_intent", "a", 0.5, text="emoji 🎓 and <script>")],  # no 🎓 glyph in matplotlib's font
], ids=["one", "one-wrong", "all-correct", "all-fallback", "emoji-intent"])
def test_edge_cases_render_without_warnings(tmp_path, predictions):
    result = write_report(predictions, tmp_path)
    assert result.files["html"].read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_an_empty_evaluation_is_refused(tmp_path):
    with pytest.raises(ValueError, match="No examples"):
        write_report([], tmp_path)


def test_a_150_label_confusion_matrix_renders(tmp_path):
    labels = [f"intent_{i:03d}" for i in range(150)]
    predictions = [pred(label, labels[(i + 1) % 150] if i % 7 == 0 else label) for i, label in enumerate(labels)]
    path = tmp_path / CONFUSION_MATRIX_FILE
    plot_confusion_matrix(predictions, path)
    width, height = png_size(path)
    assert 800 < width < 3000 and 800 < height < 3000


def test_importing_the_report_loads_no_heavy_library():
    code = ("import sys, bot.nlu.report; "
            "print([m for m in ('numpy', 'sklearn', 'matplotlib') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
