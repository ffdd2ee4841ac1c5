"""The Lex V2 code hook: realistic Lex events in, Lex responses out, the engine's own
dialogue in between (session attributes carry the context from one call to the next)."""

from __future__ import annotations

import json
import logging

import boto3
import pytest
from moto import mock_aws

from bot.aws import AwsServices
from bot.channels.lex import STATE_ATTRIBUTE, handle_event
from bot.dialogue.action_loader import ActionRegistry
from bot.dialogue.manager import DialogueManager
from bot.lex.schema import validate_code_hook_response
from bot.project import load_project
from lambda_handlers import fulfillment
from tests.conftest import ROOT, owner_tag

ROLE = "arn:aws:iam::123456789012:role/CourseRole"


@pytest.fixture(scope="module")
def course():
    return load_project(ROOT)


def dialogue_for(course, tmp_path, **aws_changes) -> DialogueManager:
    aws = AwsServices(course.settings.aws.with_changes(region="us-east-1", media_dir=tmp_path, **aws_changes))
    actions = ActionRegistry.for_project(course.root, course.domain, course.settings.dialogue.intent_titles)
    return DialogueManager.for_flows(course.domain, actions, course.knowledge, course.rules, course.stories, aws=aws,
                                     explicit=course.settings.dialogue.explicit())


def state_of(response: dict) -> dict:
    """The bot's own state in a response: signed JSON, "<json>|<signature>"."""
    return json.loads(response["sessionState"]["sessionAttributes"][STATE_ATTRIBUTE].rpartition("|")[0])


def slot(value: str) -> dict:
    return {"shape": "Scalar", "value": {"originalValue": value, "interpretedValue": value, "resolvedValues": [value]}}


def lex_event(intent: str, text: str, slots: dict | None = None, attributes: dict | None = None,
              mode: str = "Text", confirmation: str = "None", source: str = "DialogCodeHook") -> dict:
    """An event as Lex V2 sends it, with the fields we ignore too (AWS adds fields freely)."""
    lex_slots = {name: slot(value) if isinstance(value, str) else value for name, value in (slots or {}).items()}
    intent_state = {"name": intent, "slots": lex_slots, "state": "InProgress", "confirmationState": confirmation}
    return {
        "messageVersion": "1.0", "invocationSource": source, "inputMode": mode,
        "responseContentType": "text/plain; charset=utf-8" if mode == "Text" else "audio/pcm",
        "sessionId": "123456789012345", "inputTranscript": text, "invocationLabel": None,
        "bot": {"id": "ABCDEFGHIJ", "name": "CourseBot", "localeId": "en_US", "version": "DRAFT",
                "aliasId": "TSTALIASID", "aliasName": "TestBotAlias"},
        "interpretations": [{"interpretationSource": "Lex", "intent": intent_state, "nluConfidence": 0.93}],
        "proposedNextState": {"dialogAction": {"type": "Delegate"}, "intent": intent_state},
        "requestAttributes": {}, "transcriptions": [{"transcription": text, "transcriptionConfidence": 0.9}],
        "sessionState": {"sessionAttributes": attributes or {}, "activeContexts": [], "intent": intent_state,
                         "originatingRequestId": "b7f1c2"},
        "aFieldAwsAddsTomorrow": {"nested": [1, 2]},
    }


def checked(response: dict) -> dict:
    """`response`, once it is known to fit the lexv2-runtime model's shapes and limits."""
    problems = validate_code_hook_response(response)
    assert not problems, problems
    return response


def answer_to(event: dict, dialogue: DialogueManager) -> dict:
    return checked(handle_event(event, dialogue))


class LexSession:
    """Sends events like Lex: each call carries the session attributes the last answer set."""

    def __init__(self, dialogue: DialogueManager, mode: str = "Text"):
        self.dialogue, self.mode, self.attributes = dialogue, mode, {}

    def send(self, intent: str, text: str, slots: dict | None = None, confirmation: str = "None") -> dict:
        response = answer_to(lex_event(intent, text, slots, self.attributes, self.mode, confirmation), self.dialogue)
        self.attributes = response["sessionState"]["sessionAttributes"]
        return response

    @staticmethod
    def said(response: dict) -> str:
        return " ".join(m.get("content", "") for m in response["messages"])


def test_a_concept_question_closes_with_the_answer_and_keeps_the_topic(course, tmp_path):
    lex = LexSession(dialogue_for(course, tmp_path))
    answer = lex.send("ask_concept", "what is overfitting", {"concept": "overfitting"})
    assert answer["sessionState"]["dialogAction"] == {"type": "Close"}
    assert answer["sessionState"]["intent"] == {"name": "ask_concept", "state": "Fulfilled"}
    assert answer["messages"][0]["contentType"] == "PlainText"
    assert answer["messages"][0]["content"].startswith("Overfitting:")
    assert state_of(answer)["slots"]["topic"] == "overfitting"
    # "Yes" to "Want an example?" needs the last turn, and "tell me more" the topic: both
    # come back from the session attributes alone.
    example = lex.send("affirm", "yes")
    assert "example" in LexSession.said(example).lower()
    more = lex.send("tell_more", "tell me more")
    assert "overfitting" in LexSession.said(more).lower()


def test_voice_gets_short_ssml_without_links_or_markdown(course, tmp_path):
    lex = LexSession(dialogue_for(course, tmp_path), mode="Speech")
    answer = lex.send("help", "what can you do")
    [message] = answer["messages"]
    assert message["contentType"] == "SSML"
    assert message["content"].startswith("<speak>") and message["content"].endswith("</speak>")
    assert "http" not in message["content"] and "\n-" not in message["content"] and "*" not in message["content"]


def test_choices_become_a_response_card_in_text(course, tmp_path):
    lex = LexSession(dialogue_for(course, tmp_path, role_arn=ROLE))
    lex.send("create_notebook", "create a notebook for me")
    ask = lex.send("create_notebook", "lab-notebook", {"notebook_name": "lab-notebook"})
    card = next(m for m in ask["messages"] if m["contentType"] == "ImageResponseCard")["imageResponseCard"]
    assert [b["value"] for b in card["buttons"]] == ["ml.t3.medium (about $0.050/hour)",
                                                     "ml.t3.large (about $0.100/hour)"]
    assert all(len(b["text"]) <= 50 for b in card["buttons"])


def test_a_form_elicits_each_slot_reprompts_an_invalid_one_and_confirms_before_creating(course, tmp_path, monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        lex = LexSession(dialogue_for(course, tmp_path, role_arn=ROLE))
        first = lex.send("create_notebook", "create a notebook instance")
        assert first["sessionState"]["dialogAction"] == {"type": "ElicitSlot", "slotToElicit": "notebook_name"}
        assert "What should your notebook instance be called?" in LexSession.said(first)
        # Lex could not fill the slot with "my notebook!": the transcript is validated and re-asked.
        again = lex.send("create_notebook", "my notebook!", {"notebook_name": None})
        assert again["sessionState"]["dialogAction"] == {"type": "ElicitSlot", "slotToElicit": "notebook_name"}
        assert "not a valid notebook instance name" in LexSession.said(again)
        typed = lex.send("create_notebook", "lex-notebook", {"notebook_name": "lex-notebook"})
        assert typed["sessionState"]["dialogAction"]["slotToElicit"] == "notebook_instance_type"
        refused = lex.send("create_notebook", "ml.p3.2xlarge", {"notebook_instance_type": "ml.p3.2xlarge"})
        assert "not allowed for notebook instances" in LexSession.said(refused)
        confirm = lex.send("create_notebook", "ml.t3.medium", {"notebook_instance_type": "ml.t3.medium"})
        assert confirm["sessionState"]["dialogAction"] == {"type": "ConfirmIntent"}
        assert "$0.050 per hour" in LexSession.said(confirm)
        sagemaker = boto3.client("sagemaker", region_name="us-east-1")
        assert sagemaker.list_notebook_instances()["NotebookInstances"] == []
        done = lex.send("create_notebook", "yes", confirmation="Confirmed")
        assert done["sessionState"]["dialogAction"] == {"type": "Close"}
        assert "is being created" in LexSession.said(done)
        created = sagemaker.describe_notebook_instance(NotebookInstanceName="lex-notebook")
        assert owner_tag(ROOT, "123456789012345") in \
            sagemaker.list_tags(ResourceArn=created["NotebookInstanceArn"])["Tags"]


def test_a_denied_confirmation_creates_nothing(course, tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        lex = LexSession(dialogue_for(course, tmp_path, role_arn=ROLE))
        lex.send("create_notebook", "create a notebook called lex-two", {"notebook_name": "lex-two"})
        assert lex.send("create_notebook", "ml.t3.medium",
                        {"notebook_instance_type": "ml.t3.medium"})["sessionState"]["dialogAction"]["type"] \
            == "ConfirmIntent"
        denied = lex.send("create_notebook", "no", confirmation="Denied")
        assert "Nothing was started" in LexSession.said(denied)
        assert boto3.client("sagemaker", region_name="us-east-1").list_notebook_instances()["NotebookInstances"] == []


def test_the_fallback_intent_offers_what_the_bot_can_do(course, tmp_path):
    lex = LexSession(dialogue_for(course, tmp_path))
    answer = lex.send("FallbackIntent", "purple monkey dishwasher")
    assert answer["sessionState"]["dialogAction"]["type"] == "Close"
    assert LexSession.said(answer)


@pytest.mark.parametrize("event", [{}, {"sessionState": {}}, {"sessionId": "x", "sessionState": {"intent": {}}},
                                   {"sessionId": "x", "sessionState": {"intent": {"name": ""}}}, "not a dict"])
def test_a_malformed_event_gets_a_safe_close_and_a_log_line(event, caplog):
    with caplog.at_level(logging.ERROR):
        answer = checked(fulfillment.handler(event, None))
    assert answer["sessionState"]["dialogAction"] == {"type": "Close"}
    assert answer["messages"][0]["content"].startswith("Sorry")
    assert "malformed Lex event" in caplog.text


def test_the_lambda_entry_point_loads_the_project_once_and_answers(caplog):
    first = fulfillment.handler(lex_event("ask_concept", "what is a feature", {"concept": "feature"}), None)
    assert first["messages"][0]["content"].lower().startswith("feature")
    assert fulfillment.dialogue() is fulfillment.dialogue()


def first_examples(course) -> list[tuple[str, str]]:
    examples = {}
    for example in course.nlu.examples:
        examples.setdefault(example.intent, example.text)
    return [(intent, examples.get(intent, intent.replace("_", " "))) for intent in course.domain.intents]


@pytest.mark.parametrize("mode", ["Text", "Speech"])
def test_every_intent_gets_a_well_formed_answer_and_never_the_apology(course, tmp_path, mode):
    from tests.conftest import unreachable_aws

    actions = ActionRegistry.for_project(course.root, course.domain, course.settings.dialogue.intent_titles)
    dialogue = DialogueManager.for_flows(course.domain, actions, course.knowledge, course.rules, course.stories,
                                         aws=unreachable_aws(course))
    for intent, text in first_examples(course):
        answer = answer_to(lex_event(intent, text, mode=mode), dialogue)
        action = answer["sessionState"]["dialogAction"]
        assert action["type"] in ("Close", "ElicitSlot", "ConfirmIntent"), intent
        assert answer["messages"], intent
        content = " ".join(m.get("content", "") for m in answer["messages"])
        assert "something went wrong" not in content, (intent, content)
        if mode == "Speech":
            assert all(m["contentType"] == "SSML" for m in answer["messages"]), intent
        assert len(answer["sessionState"]["sessionAttributes"][STATE_ATTRIBUTE]) <= 8_000


def test_a_turn_the_engine_has_nothing_to_say_to_is_delegated_back_to_lex(tiny):
    from tests.conftest import edit

    edit(tiny / "domain.yml", "  - ask_concept\n", "  - ask_concept\n  - spell_it\n")
    edit(tiny / "nlu_data" / "rules.yml", "rules:\n", "rules:\n  - rule: Lex spells it\n    steps:\n"
                                                     "      - intent: spell_it\n      - action: action_listen\n")
    project = load_project(tiny)
    actions = ActionRegistry.for_project(project.root, project.domain)
    dialogue = DialogueManager.for_flows(project.domain, actions, project.knowledge, project.rules, project.stories)
    answer = answer_to(lex_event("spell_it", "spell it", {"concept": "gizmo"}), dialogue)
    assert answer["sessionState"]["dialogAction"] == {"type": "Delegate"}
    assert answer["sessionState"]["intent"]["slots"]["concept"]["value"]["interpretedValue"] == "gizmo"
    assert "messages" not in answer


def test_lex_confirmed_is_a_yes_only_when_the_transcript_says_yes(course, tmp_path, monkeypatch):
    """Lex marks "hmm" Confirmed when its own model is unsure; nothing may come of that."""
    from moto import mock_aws

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        lex = LexSession(dialogue_for(course, tmp_path, role_arn=ROLE))
        lex.send("create_notebook", "create a notebook named lex-hmm on ml.t3.medium",
                 {"notebook_name": "lex-hmm", "notebook_instance_type": "ml.t3.medium"})
        for text in ("hmm", "uh"):
            answer = lex.send("create_notebook", text, confirmation="Confirmed")
            assert "is being created" not in LexSession.said(answer)
        sagemaker = boto3.client("sagemaker", region_name="us-east-1")
        assert sagemaker.list_notebook_instances()["NotebookInstances"] == []


# -- the code hook as Lex drives it, and as a hostile client would ------------------------

def notebook_session(course, tmp_path, **changes) -> LexSession:
    lex = LexSession(dialogue_for(course, tmp_path, role_arn=ROLE, **changes))
    lex.send("create_notebook", "create a notebook for me")
    return lex


def test_every_elicit_slot_names_a_slot_of_the_intent_it_returns(course, tmp_path):
    lex = notebook_session(course, tmp_path)
    for intent, text in [("FallbackIntent", "what is an instance type?"), ("setup_guide", "how do I set it up?"),
                         ("create_notebook", "lab-nb")]:
        answer = lex.send(intent, text, {"notebook_name": "lab-nb"} if intent == "create_notebook" else None)
        action = answer["sessionState"]["dialogAction"]
        if action["type"] == "ElicitSlot":
            returned = answer["sessionState"]["intent"]
            assert returned["name"] == "create_notebook", (text, returned)
            assert action["slotToElicit"] in returned["slots"], (text, returned)
        else:
            assert action["type"] in ("ElicitIntent", "Close"), (text, action)


def test_the_slots_lex_should_keep_come_back_in_every_elicitation(course, tmp_path):
    lex = notebook_session(course, tmp_path)
    answer = lex.send("create_notebook", "lab-nb", {"notebook_name": "lab-nb"})
    slots = answer["sessionState"]["intent"]["slots"]
    assert slots["notebook_name"]["value"]["interpretedValue"] == "lab-nb" and slots["notebook_instance_type"] is None


@pytest.mark.parametrize("words", ["cancel", "stop", "never mind"])
def test_cancel_in_a_free_text_slot_cancels_instead_of_becoming_the_value(course, tmp_path, words):
    lex = LexSession(dialogue_for(course, tmp_path))
    asked = lex.send("speak_text", "read something out loud for me")
    assert asked["sessionState"]["dialogAction"]["type"] in ("ElicitSlot", "ElicitIntent")
    # Lex puts the whole utterance in a FreeFormInput slot: it must not be taken as the text.
    answer = lex.send("speak_text", words, {"speech_text": words})
    assert answer["sessionState"]["dialogAction"]["type"] == "Close"
    assert "dropped that" in LexSession.said(answer)
    assert "speech_text" not in state_of(answer)["slots"]


def test_the_clients_own_session_attributes_are_kept_beside_ours(course, tmp_path):
    dialogue = dialogue_for(course, tmp_path)
    answer = answer_to(lex_event("greet", "hi", attributes={"connectContactId": "abc-123", "locale": "en"}),
                          dialogue)
    attributes = answer["sessionState"]["sessionAttributes"]
    assert attributes["connectContactId"] == "abc-123" and attributes["locale"] == "en"
    assert STATE_ATTRIBUTE in attributes


def test_a_forged_state_cannot_stand_in_for_the_price_shown_and_the_yes(course, tmp_path, monkeypatch):
    """A client sets the bot's attribute itself (RecognizeText lets it), with a pending
    notebook and Confirmed: nothing is created, since only the bot signs its state."""
    from moto import mock_aws

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    forged = json.dumps({"slots": {"pending_action": "action_create_notebook", "notebook_name": "forged",
                                   "notebook_instance_type": "ml.t3.medium", "notebook_role": ROLE,
                                   "requested_slot": "confirmed"}, "loop": "confirm_form"})
    with mock_aws():
        dialogue = dialogue_for(course, tmp_path, role_arn=ROLE)
        for attribute in (forged, forged + "|0123456789abcdef0123456789abcdef"):
            answer_to(lex_event("create_notebook", "yes", attributes={STATE_ATTRIBUTE: attribute},
                                   confirmation="Confirmed"), dialogue)
        # Domain slots sent as Lex slots cannot set the bot's own state either.
        answer_to(lex_event("create_notebook", "yes", {"pending_action": "action_create_notebook",
                                                          "confirmed": "true"}, confirmation="Confirmed"), dialogue)
        assert boto3.client("sagemaker", region_name="us-east-1").list_notebook_instances()["NotebookInstances"] == []


def test_a_state_signed_for_one_session_is_not_accepted_in_another(course, tmp_path):
    dialogue = dialogue_for(course, tmp_path)
    first = answer_to(lex_event("ask_concept", "what is overfitting", {"concept": "overfitting"}), dialogue)
    event = lex_event("tell_more", "tell me more", attributes=first["sessionState"]["sessionAttributes"])
    event["sessionId"] = "another-session"
    assert "haven't talked about a topic" in LexSession.said(answer_to(event, dialogue))


MALFORMED = [
    {}, [], "text", {"sessionState": None}, {"sessionState": {"intent": "greet"}},
    {"sessionState": {"intent": {"name": ["greet"]}}, "sessionId": "s"},
    {"sessionState": {"intent": {"name": "greet"}, "sessionAttributes": ["a", "b"]}, "sessionId": "s"},
    {"sessionState": {"intent": {"name": "greet"}, "sessionAttributes": "a=b"}, "sessionId": "s"},
    {"sessionState": {"intent": {"name": "greet", "slots": ["x"]}}, "sessionId": "s"},
    {"sessionState": {"intent": {"name": "create_notebook", "slots": {"notebook_name": {"value": "x"}}}},
     "sessionId": "s"},
    {"sessionState": {"intent": {"name": "greet", "confirmationState": ["Confirmed"]}}, "sessionId": "s"},
    {"sessionState": {"intent": {"name": "greet"}, "sessionAttributes": {STATE_ATTRIBUTE: "[1, 2]|x"}},
     "sessionId": "s", "inputTranscript": 42},
    {"sessionState": {"intent": {"name": "greet"}}, "sessionId": {"deep": [[[[[[[[[[[]]]]]]]]]]]}},
    {"sessionState": {"intent": {"name": "greet", "slots": {"a": {"value": {"interpretedValue": [1]}}}}},
     "sessionId": "s"},
]


@pytest.mark.parametrize("event", MALFORMED)
def test_the_handler_never_raises_whatever_arrives(course, tmp_path, event):
    answer = answer_to(event, dialogue_for(course, tmp_path))
    assert answer["sessionState"]["dialogAction"]["type"] in ("Close", "ElicitSlot", "ElicitIntent", "Delegate")
    assert isinstance(answer.get("messages", []), list)


def test_the_state_stays_within_its_budget_whatever_the_input(course, tmp_path):
    dialogue = dialogue_for(course, tmp_path)
    huge = "overfitting " * 100_000  # a 1 MB transcript
    answer = answer_to(lex_event("ask_concept", huge, {"concept": "overfitting"}), dialogue)
    assert len(answer["sessionState"]["sessionAttributes"][STATE_ATTRIBUTE]) <= 8_000
    assert all(len(m.get("content", "")) <= 1_000 for m in answer["messages"])


def test_polly_audio_is_said_in_the_bots_voice_and_given_as_words_in_text(course, tmp_path):
    from bot.channels.lex import _messages

    reply = {"text": "Here it is, in Joanna's voice.",
             "attachment": {"type": "audio", "payload": {"src": "/media/speech-1.mp3", "text": "hello class"}}}
    [spoken] = _messages([reply], speech=True)
    assert "hello class" in spoken["content"] and "/media/" not in spoken["content"]
    [written] = _messages([reply], speech=False)
    assert "hello class" in written["content"] and "/media/" not in written["content"]


def test_in_lex_the_image_question_asks_for_an_s3_object_not_a_local_file(course, tmp_path):
    dialogue = DialogueManager.for_flows(course.domain, ActionRegistry.for_project(course.root, course.domain),
                                         course.knowledge, course.rules, course.stories, channel="lex",
                                         aws=AwsServices(course.settings.aws.with_changes(region="us-east-1")))
    answer = answer_to(lex_event("detect_labels", "what is in my picture?"), dialogue)
    said = LexSession.said(answer)
    assert "s3://" in said and "photos/cat.jpg" not in said


@pytest.mark.parametrize("wrong, problem", [
    ({"sessionState": {"dialogAction": {"type": "Elicit"}}}, "'Elicit' is not one of"),
    ({"sessionState": {"dialogAction": {"type": "Close"}}, "messages": [{"contentType": "PlainText",
                                                                         "content": "x" * 1025}]}, "at most 1024"),
    ({"sessionState": {"dialogAction": {"type": "ElicitSlot"}, "intent": {"slots": {}}}}, "intent.name: required"),
    ({"sessionState": {"dialogAction": {"type": "Close"}, "sessionAttributes": {"n": 1}}}, "must be a text"),
    ({"sessionState": {"dialogAction": {"type": "Close"}}, "messages": [{"contentType": "Text", "content": "hi"}]},
     "'Text' is not one of"),
])
def test_the_response_check_rejects_what_lex_would(wrong, problem):
    assert any(problem in found for found in validate_code_hook_response(wrong)), validate_code_hook_response(wrong)


@pytest.fixture(scope="module")
def lexical_dialogue(course_project, agent, tmp_path_factory) -> DialogueManager:
    """The course as the Lambda serves it: the trained model's lexical answer engine (with
    its scope model) and the project's routing."""
    from bot.dialogue.routing import QuestionRouting
    from bot.knowledge.answers import AnswerEngine
    from bot.nlu import training

    answers = AnswerEngine.load(training.model_dir(course_project), course_project.knowledge)
    aws = AwsServices(course_project.settings.aws.with_changes(region="us-east-1",
                                                               media_dir=tmp_path_factory.mktemp("media")))
    return DialogueManager.for_flows(course_project.domain, ActionRegistry.for_project(course_project.root,
                                                                                       course_project.domain),
                                     course_project.knowledge, course_project.rules, course_project.stories, aws=aws,
                                     explicit=course_project.settings.dialogue.explicit(), answers=answers,
                                     routing=QuestionRouting.for_answers(course_project.settings.answers),
                                     channel="lex")


@pytest.mark.parametrize("text", ["how do i cook rice", "how many calories are in a pizza"])
def test_what_lex_cannot_place_is_declined_when_it_is_not_the_course(lexical_dialogue, text):
    said = LexSession.said(answer_to(lex_event("FallbackIntent", text), lexical_dialogue))
    assert said.startswith("The course doesn't cover that"), said


def test_what_lex_cannot_place_is_answered_from_the_notes_when_it_is_the_course(lexical_dialogue):
    said = LexSession.said(answer_to(lex_event("FallbackIntent", "which feature selection method is the fastest"),
                                     lexical_dialogue))
    assert "Filtering based" in said


def test_only_what_lex_could_not_place_is_read_for_its_scope(lexical_dialogue, monkeypatch):
    """Lex's own intents stand as Lex read them: the scope model is asked about
    FallbackIntent's transcripts alone."""
    from bot.channels.lex import LexRequest
    from bot.nlu.message import LEANS_OUT_OF_SCOPE

    monkeypatch.setattr(lexical_dialogue.answers.index.scope_model(), "threshold", 0.0)  # every message leans
    fallback = LexRequest.from_event(lex_event("FallbackIntent", "what is overfitting"), lexical_dialogue).parse()
    assert fallback[LEANS_OUT_OF_SCOPE] is True
    assert {r["name"] for r in fallback["intent_ranking"]} == {"nlu_fallback", "out_of_scope"}
    placed = LexRequest.from_event(lex_event("ask_concept", "what is overfitting", {"concept": "overfitting"}),
                                   lexical_dialogue).parse()
    assert LEANS_OUT_OF_SCOPE not in placed and placed["intent"] == {"name": "ask_concept", "confidence": 1.0}


def test_the_answer_set_through_the_lex_hook_holds_its_ground(lexical_dialogue):
    """Floors under docs/benchmarks.md's Lex figures (81.8% of questions, 70.3% of out of
    scope declined, 1.8% wrongly declined), as `benchmarks/lex_answers.py` measures them:
    every single question a FallbackIntent event in a session of its own."""
    from bot.evaluation.answer_set import read_answer_set, run_answer_set
    from tests.test_answers import ANSWER_SET

    def respond(sender: str, text: str) -> list[dict]:
        event = lex_event("FallbackIntent", text)
        event["sessionId"] = sender
        said = LexSession.said(answer_to(event, lexical_dialogue))
        declined = said.startswith("The course doesn't cover that")
        return [{"text": said, **({"custom": {"declined": True}} if declined else {})}]

    report = run_answer_set(respond, [item for item in read_answer_set(ANSWER_SET) if not item.is_conversation])
    assert report.share(report.questions) >= 0.80, report.by_section(conversations=False)
    assert report.declined_share(True) >= 0.65
    assert report.declined_share(False) <= 0.03
