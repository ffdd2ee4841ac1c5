"""The course knowledge base: covers the whole course, is well formed, and is findable."""

import re

import pytest

from bot.knowledge.phrases import PhraseIndex
from tests.conftest import ROOT

NOTES = ROOT / "knowledge" / "course_notes.md"

# Everything issue 2 names, as the entry that must answer it.
REQUIRED = {
    "notebook setup guide": "sagemaker_notebook_setup", "careers": "ml_careers",
    "AI > ML > DL": "ai_vs_ml_vs_dl", "model": "ml_model", "training algorithm": "training_algorithm",
    "computer vision": "computer_vision", "artificial neural network": "artificial_neural_network",
    "compute model instances": "compute_instances", "inference": "inference",
    "binary classification": "binary_classification", "multi-class": "multiclass_classification",
    "regression": "regression", "classical programming": "classical_programming",
    "when to use ML": "when_to_use_ml", "benefits": "ml_benefits", "supervised": "supervised_learning",
    "unsupervised": "unsupervised_learning", "reinforcement": "reinforcement_learning",
    "features": "feature", "weights": "weight", "feature extraction": "feature_extraction",
    "feature selection": "feature_selection", "cleaning": "data_cleaning", "missing data": "missing_data",
    "outliers": "outliers", "train set": "training_set", "validation set": "validation_set",
    "test set": "test_set", "overfitting": "overfitting", "underfitting": "underfitting",
    "ML stack": "ml_stack", "tools": "ml_tools", "frameworks": "ml_frameworks", "C5/C5n": "ec2_c5",
    "P3": "ec2_p3", "IoT Greengrass": "aws_iot_greengrass", "Elastic Inference": "elastic_inference",
    "Rekognition": "amazon_rekognition", "Textract": "amazon_textract", "Lex": "amazon_lex",
    "Polly": "amazon_polly", "Transcribe": "amazon_transcribe", "Fraud Detector": "amazon_fraud_detector",
    "Comprehend": "amazon_comprehend", "Translate": "amazon_translate", "Personalize": "amazon_personalize",
    "SageMaker": "amazon_sagemaker", "SageMaker notebooks": "sagemaker_notebooks",
    "instance types": "sagemaker_instance_types", "visualization": "data_visualization",
    "model selection": "sagemaker_model_selection", "automatic tuning": "automatic_model_tuning",
    "deployment": "sagemaker_deployment", "Marketplace": "aws_marketplace",
    "wrap-up resources": "wrap_up_resources",
    # comparisons students ask about
    "classical vs ML": "classical_vs_ml", "over vs underfitting vs balanced": "fit_comparison",
    "supervised vs unsupervised vs reinforcement": "learning_types_comparison",
    "training vs inference": "training_vs_inference", "C5 vs P3": "c5_vs_p3",
    "train vs validation vs test": "data_splits",
}
STAGES = ["problem_formulation", "data_collection", "feature_engineering", "model_training",
          "model_evaluation", "model_deployment"]


def heading_paths() -> list[str]:
    """Every heading of the course notes as 'Parent > Child', the top title left out."""
    stack, paths = [], []
    for line in NOTES.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^(#{2,6}) (.+)$", line)
        if match:
            level = len(match.group(1)) - 2
            stack[level:] = [match.group(2).strip()]
            paths.append(" > ".join(stack))
    return paths


@pytest.fixture(scope="module")
def kb(course_project):
    return course_project.knowledge


def test_every_section_of_the_notes_has_an_entry(kb):
    sources = {entry.source for entry in kb}
    guide = kb.get("sagemaker_notebook_setup")
    missing = []
    for path in heading_paths():
        step = re.match(r"Amazon SageMaker > Step (\d+): (.+)", path)
        if step:
            number, title = int(step.group(1)), step.group(2)
            if len(guide.steps) < number or guide.steps[number - 1].title.lower() != title.lower():
                missing.append(path)
        elif not any(s == path or s.startswith(path + " > ") for s in sources):
            missing.append(path)
    assert len(heading_paths()) > 35
    assert missing == []


def test_every_topic_the_issue_names_has_an_entry(kb):
    assert [topic for topic, entry_id in REQUIRED.items() if entry_id not in kb] == []


def test_pipeline_stages_are_in_order(kb):
    assert [stage.id for stage in kb.pipeline_stages()] == STAGES
    assert all(kb.get(stage).questions or kb.get(stage).substeps or kb.get(stage).details for stage in STAGES)
    assert kb.get("problem_formulation").questions and kb.get("data_collection").questions


def test_setup_guide_has_all_ten_steps_in_order(kb):
    steps = kb.get("sagemaker_notebook_setup").steps
    assert len(steps) == 10
    assert steps[3].title.lower() == "configure the notebook instance"
    assert all(step.instructions for step in steps)


def test_every_entry_is_complete(kb):
    incomplete = []
    for entry in kb:
        problems = [field for field in ("name", "summary", "details", "source") if not getattr(entry, field)]
        if not entry.examples:
            problems.append("examples")
        if not entry.related:
            problems.append("related")
        # A comparison is named by the pair it compares ("C5 vs P3"), not by aliases of its own.
        if not entry.aliases and not entry.compares:
            problems.append("aliases")
        if entry.summary.count(". ") > 2:
            problems.append("summary longer than two sentences")
        if problems:
            incomplete.append((entry.id, problems))
    assert incomplete == []


def test_comparisons_describe_each_side(kb):
    for entry in kb:
        if entry.compares:
            assert set(entry.contrast) == set(entry.compares), entry.id


def test_sources_are_headings_of_the_notes(kb):
    headings = set(heading_paths())
    assert {entry.source for entry in kb} - headings == set()


@pytest.mark.parametrize("alias, entity, entry_id", [
    ("sagemkaer", None, "amazon_sagemaker"), ("SageMaker", None, "amazon_sagemaker"),
    ("overfiting", None, "overfitting"), ("ANN", None, "artificial_neural_network"), ("p3", None, "ec2_p3"),
    ("ml.p3.2xlarge", "instance_type", "ec2_p3"),
])
def test_entries_are_found_by_name_alias_and_misspelling(kb, alias, entity, entry_id):
    assert kb.find(alias, entity).id == entry_id


def test_find_respects_the_entity_type(kb):
    assert kb.find("ml.m5.xlarge", "instance_type") is None  # not "ml" = machine learning
    assert kb.find("polly", "concept") is None
    assert kb.find("polly", "service").id == "amazon_polly"


@pytest.mark.parametrize("task, service", [
    ("extract text from scanned forms", "amazon_textract"),
    ("speech to text", "amazon_transcribe"),
    ("text to speech", "amazon_polly"),
    ("recommend products to my customers", "amazon_personalize"),
    ("spot fraudulent credit card transactions", "amazon_fraud_detector"),
])
def test_task_to_service(kb, task, service):
    assert kb.rank_for_task(task, ("service",))[0].entry.id == service


def test_longest_name_wins_and_offsets_point_into_the_text():
    index = PhraseIndex({"model": "ml_model", "model tuning": "model_tuning", "scikit learn": "scikit_learn"})
    text = "Is Model Tuning like scikit-learn?"
    matches = index.find(text)
    assert [(m.value, text[m.start:m.end]) for m in matches] == [
        ("model_tuning", "Model Tuning"), ("scikit_learn", "scikit-learn")]


def test_shipped_text_has_no_broken_characters():
    for path in [*ROOT.glob("*.yml"), *(ROOT / "knowledge").glob("*"), *(ROOT / "nlu_data").glob("*.yml")]:
        text = path.read_text(encoding="utf-8")
        assert not re.search("\u00e2\u20ac|\u00c3|\ufeff|\ufffd", text), path
