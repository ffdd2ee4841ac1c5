"""End to end: questions in, answers out, from the knowledge base.

The held-out questions in data/heldout_questions.yml were written separately from
nlu_data/ and never trained on; at least 90% must get an answer naming the right entry.
"""

from pathlib import Path

import pytest
import yaml

from bot.evaluation import check_answers, off_topic_share
from bot.text import normalize

HELDOUT = yaml.safe_load((Path(__file__).parent / "data" / "heldout_questions.yml").read_text(encoding="utf-8"))
REQUIRED_SHARE = 0.90


def answer(agent, text: str, sender: str = "answers") -> str:
    return "\n".join(reply.get("text", "") for reply in agent.handle(text, sender))


def test_heldout_questions_are_not_in_the_training_data(course_project):
    trained = {normalize(example.text) for example in course_project.nlu.examples}
    assert [q["text"] for q in HELDOUT["questions"] if normalize(q["text"]) in trained] == []
    assert len(HELDOUT["questions"]) >= 60


def test_at_least_90_percent_of_heldout_questions_name_the_right_entry(agent):
    report = check_answers(agent, HELDOUT["questions"])
    assert report.share >= REQUIRED_SHARE, f"{report.share:.1%} right; misses:\n" + "\n".join(report.misses)


def test_out_of_scope_messages_get_no_course_answer(agent):
    texts = [item["text"] if isinstance(item, dict) else item for item in HELDOUT["out_of_scope"]]
    assert off_topic_share(agent, texts) >= 0.8


def test_compare_names_both_sides(agent):
    text = answer(agent, "c5 vs p3 whats the difference")
    assert "Amazon EC2 C5 and C5n instances" in text and "Amazon EC2 P3 instances" in text


def test_compare_with_the_previous_topic(agent):
    answer(agent, "what is overfitting", "compare-context")
    text = answer(agent, "how is that different from underfitting", "compare-context")
    assert "Overfitting" in text and "Underfitting" in text


def test_compare_with_one_known_topic_explains_it(agent):
    text = answer(agent, '/compare{"concept": "feature"}', "compare-one")
    assert text.startswith("Feature:") and "second topic" in text


def test_pipeline_walks_both_ways_and_stops_at_the_ends(agent):
    assert "comes Feature engineering" in answer(agent, "what comes after data collection")
    assert "comes Problem formulation" in answer(agent, "what comes before data collection?")
    assert "last stage" in answer(agent, '/ask_next_stage{"pipeline_stage": "model_deployment"}')
    assert "first stage" in answer(agent, '/ask_previous_stage{"pipeline_stage": "problem_formulation"}')
    assert "Which stage do you mean?" in answer(agent, "/ask_next_stage", "fresh-sender")


def test_a_pipeline_topic_leads_to_its_stage(agent):
    assert "After Feature engineering comes Select and train a model" in answer(
        agent, '/ask_next_stage{"concept": "outliers"}')


def test_list_of_stages_is_in_order(agent):
    text = answer(agent, "list the stages of the ml pipeline")
    positions = [text.index(name) for name in ("Problem formulation", "Data collection", "Feature engineering",
                                               "Select and train a model", "Evaluate and tune the model",
                                               "Deploy the model")]
    assert positions == sorted(positions)


@pytest.mark.parametrize("question, expected", [
    ("how do i set up a sagemaker notebook", "10. Save Your Work"),
    ("what's step 4 of the notebook setup", "IAM role"),
    ("show me the third step", "Create a New Notebook Instance"),
])
def test_setup_guide(agent, question, expected):
    assert expected in answer(agent, question)


def test_setup_guide_step_out_of_range_shows_the_overview(agent):
    text = answer(agent, "what's step 12 of the notebook setup")
    assert "in 10 steps" in text and "step 12 of" not in text


def test_instance_for_a_need(agent):
    assert "AWS IoT Greengrass" in answer(agent, "what do i use to run ml on edge devices")


def test_service_for_a_task_with_nothing_to_match(agent):
    assert "couldn't match that task" in answer(agent, "/service_for_task")


def test_unknown_topic_is_said_honestly(agent):
    assert 'notes on "quantum annealing"' in answer(agent, '/ask_concept{"concept": "quantum annealing"}')


def test_example_of_the_previous_topic(agent):
    answer(agent, "what is clustering", "example-context")
    assert answer(agent, "/ask_example", "example-context").startswith("An example of Clustering")


def test_resources_come_with_their_link(agent):
    assert "https://aws.amazon.com/blogs/machine-learning/" in answer(agent, "what is the aws ml blog")
