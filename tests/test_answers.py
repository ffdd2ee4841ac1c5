"""End to end: questions in, answers out, from the course.

The held-out questions in data/heldout_questions.yml were written separately from
nlu_data/ and never trained on; at least 90% must be understood as the right kind of
question. Whether an answer holds the fact asked for is the answer set's measure
(data/answer_set.yml, below), which replaced "the answer names the right entry": an answer
from the notes' own words need not name the knowledge base's entry, and one that names
it need not hold the fact.
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


def test_at_least_90_percent_of_heldout_questions_are_understood_as_the_right_kind(agent):
    report = check_answers(agent, HELDOUT["questions"])
    assert report.intent_right / report.total >= REQUIRED_SHARE, "\n".join(report.misses)


def test_out_of_scope_messages_get_no_course_answer(agent):
    texts = [item["text"] if isinstance(item, dict) else item for item in HELDOUT["out_of_scope"]]
    assert off_topic_share(agent, texts) >= 0.8


def test_compare_names_both_sides(agent):
    text = answer(agent, "c5 vs p3 whats the difference").casefold()
    assert "amazon ec2 c5 and c5n instances" in text and "amazon ec2 p3 instances" in text


def test_compare_with_the_previous_topic(agent):
    answer(agent, "what is overfitting", "compare-context")
    text = answer(agent, "how is that different from underfitting", "compare-context")
    assert "Overfitting" in text and "Underfitting" in text


def test_compare_takes_both_sides_from_the_message_not_the_previous_topic(agent):
    answer(agent, "what is overfitting", "two-kinds")
    text = answer(agent, "what's the difference between univariate and multivariate outliers", "two-kinds")
    assert "univariate: a single variation" in text and "multivariate: a variation of two" in text
    assert "Overfitting" not in text


def test_a_bare_difference_asks_what_to_compare(agent):
    text = answer(agent, "whats the difference", "bare-difference")
    assert "What should I compare?" in text and "Inference" not in text


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
    assert "After Feature engineering comes Select and train model" in answer(
        agent, '/ask_next_stage{"concept": "outliers"}')


def test_list_of_stages_is_in_order(agent):
    text = answer(agent, "list the stages of the ml pipeline")
    positions = [text.index(name) for name in ("Problem formulation", "Data collection", "Feature engineering",
                                               "Select and train model", "Evaluating and tuning model",
                                               "Deploy model")]
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


# -- the answer set and the answer engine in the conversation ------------------------------

ANSWER_SET = Path(__file__).parent / "data" / "answer_set.yml"


def test_the_answer_set_holds_its_ground(agent):
    """Floors under the figures in docs/benchmarks.md (measured with margin, since a model
    trained on another CPU differs): the set itself is frozen, the engine is what improves."""
    from bot.evaluation.answer_set import read_answer_set, run_answer_set

    def respond(sender: str, text: str) -> list:
        return agent.dialogue.handle(sender, text, agent.parse(text))

    report = run_answer_set(respond, read_answer_set(ANSWER_SET))
    assert report.share(report.questions) >= 0.90, report.by_section(conversations=False)
    assert report.share(report.conversations) >= 0.78
    assert report.declined_share(True) >= 0.88
    assert report.declined_share(False) <= 0.03


def test_an_answer_says_where_in_the_course_it_comes_from(agent):
    [reply] = agent.handle("which feature selection method is the fastest?", "source")
    assert "Filtering based" in reply["text"]
    assert reply["text"].endswith("From the course: ML Pipeline > Feature engineering")
    assert reply["custom"]["answer"]["source"] == "ML Pipeline > Feature engineering"


def test_a_question_is_never_answered_with_an_aws_action(agent):
    text = answer(agent, "how long is the AWS Educate course?", "no-action")
    assert "3-hour" in text and "credentials" not in text


def test_a_follow_up_is_read_with_the_question_before_it(agent):
    answer(agent, "what is a model in machine learning?", "follow-up")
    assert "megabytes" in answer(agent, "how big are they usually?", "follow-up")


def test_the_second_one_is_the_second_item_of_the_list_just_shown(agent):
    assert "Textract" in answer(agent, "what computer vision services does AWS have?", "ordinal")
    assert "extract text from images" in answer(agent, "the second one?", "ordinal")


def test_what_now_after_a_step_described_is_the_next_step(agent):
    text = answer(agent, "my notebook instance finally says InService, what now?", "what-now")
    assert "Open Jupyter" in text


def test_a_near_miss_is_declined_and_names_what_the_course_covers(agent):
    [reply] = agent.handle("how do I set up an EKS cluster with kubectl?", "near-miss")
    assert reply["custom"]["declined"] is True and reply["text"].startswith("The course doesn't cover that")


@pytest.mark.parametrize("text, declined", [
    ("how do I label my images with SageMaker Ground Truth", True),   # the notes hold few of its words
    ("how do I get one prediction at a time", False),                 # they hold all of them
])
def test_a_message_leaning_out_of_scope_is_answered_only_where_the_notes_clearly_do(agent, text, declined):
    parse = {**agent.parse(text), "leans_out_of_scope": True}
    replies = agent.dialogue.handle(f"leaning-{declined}", text, parse)
    said = "\n".join(reply.get("text", "") for reply in replies)
    assert any((reply.get("custom") or {}).get("declined") for reply in replies) is declined, said
    if not declined:
        assert "one prediction at a time" in said


def test_coursebot_test_answers_reports_by_section_and_writes_the_misses(course_copy, tmp_path):
    import json

    from tests.test_cli import coursebot

    small = tmp_path / "answers.yml"
    small.write_text(
        "version: 1\nquestions:\n"
        "  - {id: q1, section: 'Course: ML Pipeline > Feature engineering', text: 'fastest feature selection method?',"
        " any_of: [Filtering based]}\n"
        "  - {id: q2, section: Out of scope, text: 'how do I set up an EKS cluster?', out_of_scope: true}\n"
        "  - {id: q3, section: 'Course: AI and ML > Terms', text: 'what is a model?', any_of: [no such words here]}\n"
        "conversations: []\n", encoding="utf-8")
    result = coursebot("test", "--answers", str(small), "--out", str(tmp_path / "out"), project=course_copy)
    assert result.returncode == 0, result.stderr
    assert "MISS q3" in result.stdout and "Questions: 66.7% of 3" in result.stdout
    report = json.loads((tmp_path / "out" / "answers_report.json").read_text())
    assert [m["id"] for m in report["misses"]] == ["q3"] and report["misses"][0]["passages"]


@pytest.mark.parametrize("text, language", [
    ("qu'est-ce que l'apprentissage automatique ?", "fr"), ("wie funktioniert maschinelles lernen", "de"),
    ("¿qué es el aprendizaje automático?", "es"), ("o que é aprendizado de máquina", "pt"),
    ("what is backpropagation", None), ("how does k-means pick its initial centroids", None),
    ("blorf zyxt?", None), ("overfitting", None),
])
def test_another_language_is_told_apart_from_english(text, language):
    from bot.knowledge.language import other_language

    assert other_language(text) == language


def test_a_question_in_another_language_is_asked_for_in_english(agent):
    text = answer(agent, "qu'est-ce que l'apprentissage automatique ?", "french")
    assert "only answer in English" in text


def test_a_pointer_into_a_list_is_its_item_even_turns_later(agent):
    answer(agent, "what are the algorithm types?", "pointer")
    assert "clustering" in answer(agent, "an example of the second one?", "pointer")
    assert "racing car" in answer(agent, "and the third one?", "pointer")  # the list, not the last answer


def test_the_last_one_after_the_pipeline_is_its_last_stage(agent):
    answer(agent, "what are the stages of the ML pipeline?", "last-stage")
    answer(agent, "what comes after data collection?", "last-stage")
    assert "Deploy model" in answer(agent, "and the last one?", "last-stage").split("\n")[0]


def test_the_other_one_of_two_is_the_one_not_talked_about(agent):
    answer(agent, "what kinds of outliers are there?", "other")
    assert "two or more variables" in answer(agent, "the other one?", "other")
    assert "Jupyter" in answer(agent, "what other tools are there for ML?", "other")  # not a pointer


def test_then_walks_the_guide_from_where_to_begin(agent):
    assert "Step 1" in answer(agent, "how do I start setting up a sagemaker notebook?", "begin")
    assert "Step 2" in answer(agent, "ok, then?", "begin")
    assert "Step 3" in answer(agent, "what's next?", "begin")


def test_a_how_to_question_about_the_students_own_work_is_the_courses(agent):
    text = answer(agent, "can I write my own script in TensorFlow for SageMaker?", "how-to")
    assert "script in your framework" in text and "notebook instance be called" not in text


def test_a_bare_why_is_the_reason_the_answer_itself_gave(agent):
    answer(agent, "what is feature selection?", "why")
    assert "redundancy and overfitting" in answer(agent, "why?", "why")


def test_and_a_new_subject_is_the_last_question_asked_about_it(agent):
    assert "Fraud Detector" in answer(agent, "which service for fraud detection?", "new-subject")
    assert "Amazon Personalize" in answer(agent, "and recommendations?", "new-subject")


def test_the_opposite_of_one_of_two_is_the_other(agent):
    assert "Amazon Polly" in answer(agent, "which service does text to speech?", "opposite")
    assert "Amazon Transcribe" in answer(agent, "and the opposite?", "opposite").split("\n")[0]


def test_a_follow_up_after_a_guide_step_leans_on_that_step(agent):
    assert "Step 5" in answer(agent, "do I have to configure the additional settings?", "in-there")
    assert "Git repositories" in answer(agent, "what's in there?", "in-there")


def test_which_one_does_something_is_the_item_of_the_list_that_says_so(agent):
    answer(agent, "what are the feature selection methods?", "which-one")
    assert "Wrapper methods" in answer(agent, "and which one risks overfitting?", "which-one").split("\n")[0]


def test_a_new_subject_that_names_a_topic_is_still_the_last_question_about_it(agent):
    assert "P3" in answer(agent, "which instance is fastest for ML training?", "framed-topic")
    text = answer(agent, "and for compute-intensive workloads like inference?", "framed-topic")
    assert "C5" in text.split("\n")[0]
    assert "C5" in answer(agent, "how is that different from P3?", "framed-topic")  # "that" is C5, not inference


def leaning(agent, text: str) -> dict:
    """`text`'s parse, as the NLU gives one it reads as a course question leaning out of
    scope (made here, so that no borderline probability decides the test)."""
    top = {"name": "ask_concept", "confidence": 0.6}
    return {**agent.parse(text), "intent": top, "leans_out_of_scope": True,
            "intent_ranking": [top, {"name": "out_of_scope", "confidence": 0.3}]}


def test_a_question_naming_an_entry_the_notes_never_name_is_answered_even_when_it_leans_out_of_scope(agent):
    """The knowledge base's own entries (an instructor's "Epoch") are the course, though the
    notes cannot hold the question's words."""
    text = "is the ml blog worth reading"
    replies = agent.dialogue.handle("own-entry", text, leaning(agent, text))
    said = "\n".join(r.get("text", "") for r in replies)
    assert not said.startswith("The course doesn't cover that"), said
    assert "aws.amazon.com/blogs/machine-learning" in said or "AWS Machine Learning Blog" in said
    # a near miss naming topics the notes do name stays declined
    text = "how do I label my images with SageMaker Ground Truth?"
    said = "\n".join(r.get("text", "") for r in agent.dialogue.handle("near-miss", text, leaning(agent, text)))
    assert said.startswith("The course doesn't cover that"), said


def read_as(agent, text: str, intent: str, confidence: float, leans_out_of_scope: bool | None = None,
            **entities: str) -> dict:
    """`text`'s parse with the NLU's reading pinned to `intent` (so that no borderline
    probability decides the test), and its entities and its lean out of scope, when given,
    pinned too."""
    parse = agent.parse(text)
    if leans_out_of_scope is not None:
        parse["leans_out_of_scope"] = leans_out_of_scope
    top = {"name": intent, "confidence": confidence}
    if entities:
        parse["entities"] = [{"entity": kind, "value": value, "start": 0, "end": 0, "confidence": 1.0,
                              "extractor": "test"} for kind, value in entities.items()]
    return {**parse, "intent": top, "intent_ranking": [top, {"name": "ask_concept", "confidence": 0.1}]}


def test_a_question_read_as_a_yes_asks_the_course_and_starts_nothing(agent):
    """After "it says Pending", "ok it's InService, now?" may read to the NLU as a yes; a
    question is never a yes, so it gets the next step of the guide, not the notebook form."""
    said = "\n".join(r.get("text", "") for r in agent.handle("I created the notebook instance, it says Pending",
                                                            "not-a-yes"))
    assert "InService" in said
    text = "ok it's InService, now?"
    replies = agent.dialogue.handle("not-a-yes", text, read_as(agent, text, "affirm", 0.2))
    said = "\n".join(r.get("text", "") for r in replies)
    assert "Open Jupyter" in said and "called?" not in said, said
    assert agent.dialogue.tracker_for("not-a-yes").active_loop is None


def test_a_stage_question_naming_no_stage_answers_the_topic_it_names(agent):
    """"where can I learn more after the course?" reads like "what comes after X?"; it names
    the course's resources, not a stage, so it gets them, not "Which stage do you mean?"."""
    text = "where can I learn more after the course?"
    parse = read_as(agent, text, "ask_next_stage", 0.4, concept="wrap_up_resources")
    said = "\n".join(r.get("text", "") for r in agent.dialogue.handle("no-stage", text, parse))
    assert "ramp-up guide" in said.lower() and "Which stage" not in said, said
    assert "Which stage do you mean?" in "\n".join(
        r.get("text", "") for r in agent.dialogue.handle("no-stage-2", "what comes after?",
                                                         read_as(agent, "what comes after?", "ask_next_stage", 0.9)))


@pytest.mark.parametrize("text, intent, wanted", [
    # where the student is, said instead of numbered: the step after it
    ("ok im signed into the console now what", "next_step", "Navigate to Amazon SageMaker"),
    # a course question the NLU reads as "what next?" with nothing walked yet
    ("what do I do about missing values?", "next_step", "impute"),
    # asking for a link is asking, not "open my notebook"
    ("link to the AWS machine learning blog", "open_notebook", "https://aws.amazon.com/blogs/machine-learning/"),
])
def test_a_question_read_as_a_step_or_an_action_gets_the_course_answer(agent, text, intent, wanted):
    replies = agent.dialogue.handle(f"read-as-{intent}-{len(text)}", text, read_as(agent, text, intent, 0.5))
    said = "\n".join(r.get("text", "") for r in replies)
    assert wanted in said and "Next of what?" not in said and "credentials" not in said, said
    assert agent.dialogue.tracker_for(f"read-as-{intent}-{len(text)}").active_loop is None


def test_a_comparison_of_two_things_the_course_never_names_is_declined_and_a_bare_one_asks(agent):
    """"L1 vs L2 regularization" names two things, neither the course's: it says so, rather
    than "What should I compare?" (or, as the fuzzy matcher once read "difference", Inference).
    A bare "what's the difference?" still asks which two."""
    text = "what's the difference between L1 and L2 regularization"
    replies = agent.dialogue.handle("compare-unknown", text, read_as(agent, text, "compare", 0.9, False))
    said = "\n".join(r.get("text", "") for r in replies)
    assert any((r.get("custom") or {}).get("declined") for r in replies), said
    assert "doesn't cover" in said and "Inference" not in said, said
    bare = "what's the difference?"
    said = "\n".join(r.get("text", "") for r in agent.dialogue.handle("compare-bare", bare,
                                                                       read_as(agent, bare, "compare", 0.9, False)))
    assert "What should I compare?" in said, said


def test_a_question_the_nlu_takes_for_the_guide_that_names_what_the_course_never_does_is_declined(agent):
    """"how do I put my notebook instance inside a VPC" is close to step 4 in every word but
    the one it is about; it gets "the course doesn't cover that", not the ten steps."""
    text = "how do I put my notebook instance inside a VPC"
    replies = agent.dialogue.handle("guide-vpc", text, read_as(agent, text, "setup_guide", 0.9, False))
    said = "\n".join(r.get("text", "") for r in replies)
    assert any((r.get("custom") or {}).get("declined") for r in replies), said
    assert "in 10 steps" not in said and "doesn't cover" in said, said


def test_asking_for_a_link_gets_the_link(agent):
    """"link to the AWS machine learning blog": the entry's own URL, not only its summary."""
    text = "link to the AWS machine learning blog"
    replies = agent.dialogue.handle("link", text, read_as(agent, text, "ask_concept", 0.9, False))
    said = "\n".join(r.get("text", "") for r in replies)
    assert "https://aws.amazon.com/blogs/machine-learning/" in said, said


def said_as(agent, sender: str, text: str, intent: str, confidence: float = 0.9) -> str:
    """The reply to `text` in `sender`'s conversation, the NLU's reading pinned to `intent`."""
    replies = agent.dialogue.handle(sender, text, read_as(agent, text, intent, confidence, False))
    return "\n".join(r.get("text", "") for r in replies)


def test_what_is_a_service_is_its_definition_not_a_line_that_names_it_in_passing(agent):
    """"In Amazon SageMaker, the virtual machines that you create are ..." names SageMaker,
    but it is about notebooks; "what's Amazon SageMaker?" is what SageMaker is."""
    assert "prepare, build, train, and deploy" in said_as(agent, "define", "what's Amazon SageMaker?", "ask_concept")


def test_a_pipeline_question_about_another_topic_is_about_that_topic(agent):
    said_as(agent, "sagemaker-pipeline", "what's Amazon SageMaker?", "ask_concept")
    text = said_as(agent, "sagemaker-pipeline", "which parts of the pipeline does it cover?", "ask_pipeline")
    assert "except problem formulation" in text and "6 stages" not in text, text
    assert "6 stages" in said_as(agent, "pipeline", "which stages does the pipeline have?", "ask_pipeline")


def test_and_a_field_of_the_step_just_shown_is_that_field_not_more_of_the_guide(agent):
    said_as(agent, "field", "step 4 of the setup guide", "setup_guide")
    text = said_as(agent, "field", "and the IAM role?", "tell_more", 0.3)
    assert "Any S3 bucket" in text and "Step 1" not in text, text


@pytest.mark.parametrize("text, step", [
    ("I have Jupyter open now, how do I make a notebook?", "Step 8"),  # the step after the one that opens Jupyter
    ("I'm on the SageMaker dashboard, how do I create a notebook instance?", "Step 3"),  # read as one message
])
def test_where_the_student_is_then_a_question_is_the_step_that_answers_it_from_there(agent, text, step):
    assert step in said_as(agent, f"report-{step}", text, "setup_guide")


def replies_as(agent, sender: str, text: str, intent: str, confidence: float = 0.9) -> list[dict]:
    return agent.dialogue.handle(sender, text, read_as(agent, text, intent, confidence, False))


def declined(replies: list[dict]) -> bool:
    return any((r.get("custom") or {}).get("declined") is True for r in replies)


def test_how_to_do_what_the_bot_can_do_is_answered_only_by_a_line_that_says_how(agent):
    """"how do I stop my notebook instance?" read as stopping it: the set-up guide's lines
    about notebook instances say nothing of stopping one, so the course does not cover it."""
    stop = replies_as(agent, "how-stop", "how do I stop my notebook instance?", "stop_notebook")
    assert declined(stop) and "Step" not in stop[0]["text"], stop
    assert agent.dialogue.tracker_for("how-stop").active_loop is None
    # the same shape, where the notes do say how: "... delete a collection of resources by deleting stacks"
    stack = replies_as(agent, "how-delete", "how do I delete a whole collection of resources at once?",
                       "delete_notebook")
    assert not declined(stack) and "stack" in stack[0]["text"].lower(), stack


def test_a_plain_question_the_course_is_far_from_is_declined_not_misread(agent):
    """Every word known, a whole question, nothing in the course close: "did you mean"
    would offer what the student did not ask."""
    text = "do I get a certificate when I finish this course"
    replies = replies_as(agent, "far", text, "nlu_fallback", 0.14)
    assert declined(replies) and not replies[0].get("buttons"), replies
    gibberish = replies_as(agent, "far-2", "blorf zyxt?", "nlu_fallback", 0.14)
    assert "Did you mean" in gibberish[0]["text"], gibberish


def test_them_in_a_follow_up_is_what_the_last_answer_listed_though_it_names_somewhere(agent):
    said_as(agent, "them", "what are the ML frameworks?", "ask_concept")
    text = said_as(agent, "them", "can I use them in SageMaker?", "ask_about_other", 0.2)
    assert "All supported and can be used from Amazon SageMaker" in text, text


def test_a_follow_up_close_to_a_topic_name_is_still_asked_in_the_conversation(agent):
    """"benefit" is close to "benefits" (the ML benefits); after the AWS Marketplace, the
    developers' benefit is the Marketplace's. "ML" said outright is a new subject."""
    said_as(agent, "developers", "what's AWS Marketplace?", "ask_concept")
    text = said_as(agent, "developers", "how do developers benefit?", "ask_concept")
    assert "Developers make money" in text or "charge other SageMaker users" in text, text
    said_as(agent, "new-subject", "how does classical programming work?", "ask_concept")
    text = said_as(agent, "new-subject", "how is ML different?", "compare")
    assert "derives rules from the data" in text, text


@pytest.mark.parametrize("text, intent, wanted", [
    # names an example; asks what kind of problem it is
    ("what kind of ML problem is the fraud example?", "ask_example", "binary classification"),
    # asks about the parts of something that is not the pipeline
    ("what are the parts of the problem framework?", "ask_pipeline", "quantitative goal"),
    # when to use the other one: the when-to-use-ML section, not the two definitions
    ("when should I use classical programming instead of ML?", "when_to_use_ml", "Rules can be coded"),
])
def test_an_intent_that_misreads_the_question_still_gets_the_course_answer(agent, text, intent, wanted):
    assert wanted in said_as(agent, f"misread-{intent}", text, intent, 0.5)


def test_asking_for_an_example_still_gets_the_examples(agent):
    said_as(agent, "examples", "what is clustering?", "ask_concept")
    assert "Customer segmentation" in said_as(agent, "examples", "example?", "ask_example")
    assert "An example of Supervised learning" in said_as(agent, "examples-2", "example of supervised learning?",
                                                           "ask_example")


def test_the_second_of_the_methods_a_sentence_announces_is_that_method(agent):
    said_as(agent, "methods", "what deployment methods does SageMaker have?", "ask_concept")
    text = said_as(agent, "methods", "the second one?", "hesitate", 0.25)
    assert "entire dataset" in text and "one prediction at a time" not in text, text


@pytest.mark.parametrize("text, intent, wanted", [
    # a yes-or-no question: the sentence that says so, not the bare name in a list
    ("does SageMaker have built-in algorithms?", "ask_concept", "optimized for speed, scale, and accuracy"),
    # where to find something online: the line with its link
    ("where do I find ML solutions in the AWS Marketplace?", "ask_concept", "marketplace/solutions/machine-learning"),
])
def test_the_line_that_answers_the_kind_of_question_leads(agent, text, intent, wanted):
    assert wanted in said_as(agent, f"kind-{len(text)}", text, intent)


def test_a_passage_holding_every_word_asked_overrules_a_sure_out_of_scope(agent):
    """Sure is not enough against "You can use the second way to get predictions on an
    entire dataset" for "how do I get predictions on a whole dataset?"; "tell me a joke" stays out."""
    text = "how do I get predictions on a whole dataset?"
    replies = replies_as(agent, "sure-oos", text, "out_of_scope", 0.9)
    assert not declined(replies) and "entire dataset" in replies[0]["text"], replies
    assert declined(replies_as(agent, "sure-oos-2", "tell me a joke", "out_of_scope", 0.9))


def test_a_label_over_a_list_comes_with_its_items(agent):
    """"Make it a ML model" says nothing without the line under it: "The goal is a binary
    classification problem"."""
    said_as(agent, "label", "give me an example framework", "ask_example")
    text = said_as(agent, "label", "what kind of ML problem is it?", "ask_concept")
    assert "binary classification" in text, text


def test_a_question_that_does_not_open_as_one_is_still_a_question_and_a_request_still_a_request(agent):
    text = "besides the course videos is there a project or an exam or something"
    assert "do a project" in said_as(agent, "inside", text, "help", 0.3)
    routing = agent.dialogue.routing
    for request in ("hey can you start my notebook", "i think i should stop my notebook now"):
        intent = "start_notebook" if "start" in request else "stop_notebook"
        routed = routing.route(request, read_as(agent, request, intent, 0.8, False), agent.dialogue.answers)
        assert routed["intent"]["name"] == intent, routed


def test_a_deadline_the_notes_never_give_is_declined_never_an_action(agent):
    """The notes name the final evaluations, but no date: "when is it due?" is not answered
    with the lines about evaluation, nor read as the student's training job."""
    replies = replies_as(agent, "due", "when is the final evaluation due?", "training_job_status", 0.5)
    text = replies[0]["text"]
    assert declined(replies) and "credentials" not in text and "Iterative" not in text, replies


def test_a_price_the_notes_never_give_is_declined_but_a_share_of_cost_they_give_is_said(agent):
    text = "how much does an ml.t2.medium notebook instance cost per hour?"
    replies = replies_as(agent, "price", text, "instance_for_need", 0.5)
    assert declined(replies) and "low-cost" not in replies[0]["text"], replies
    assert "90 percent" in said_as(agent, "price-2", "how much does inference cost?", "ask_concept")
    assert declined(replies_as(agent, "price-3", "is SageMaker covered by the AWS free tier", "compare", 0.2))


def test_tell_me_more_again_goes_on_and_never_comes_back_to_what_was_said(agent):
    first = said_as(agent, "more-chain", "what is overfitting?", "ask_concept")
    said = [first] + [said_as(agent, "more-chain", "tell me more", "tell_more", 0.99) for _ in range(2)]
    lines = [line for text in said for line in text.splitlines()
             if line.strip() and not line.startswith(("From the course", "More on", "Want an"))]
    assert len(lines) == len(set(lines)), said


def test_a_pipeline_reading_of_a_question_about_a_product_the_course_never_names_is_declined(agent):
    """A new intent can tip "how many questions are on the AWS Certified Machine Learning
    Specialty exam" into ask_pipeline; it is no question about the stages."""
    text = "how many questions are on the AWS Certified Machine Learning Specialty exam"
    replies = replies_as(agent, "certified", text, "ask_pipeline", 0.32)
    assert declined(replies) and "6 stages" not in replies[0]["text"], replies
