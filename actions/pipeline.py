"""Walking the ML pipeline: all stages, and what comes after or before a stage."""

from __future__ import annotations

import re

from bot.dialogue.actions import Action, ActionContext
from bot.dialogue.answering import ask, engine_answers, remember_list, say_answer
from bot.dialogue.events import Event, SlotSet
from bot.knowledge.entry import Entry

from .concepts import answer_from_course
from .setup_guide import walk_guide
from .topics import remember, topics


class ActionListPipeline(Action):
    name = "action_list_pipeline"

    def run(self, context: ActionContext) -> list[Event]:
        stages = context.knowledge.pipeline_stages()
        stage = _stage_named(context)
        if stage is not None:
            context.say(_position(context, stage, stages))
            return [*remember(stage), SlotSet("pipeline_stage", stage.id)]
        overview = _overview(context, stages)
        about = _other_subject(context, overview)
        # "what are the parts of the problem framework?": parts of something, not the
        # pipeline's stages, which it never names
        unstaged = not _ABOUT_STAGES.search(context.text) and overview not in topics(context)
        if engine_answers(context) and (about is not None or unstaged):
            answer = ask(context, topics=[about.id] if about is not None else None)
            if about is not None and not answer.declined and answer.support >= context.answers.strong:
                # "which pipeline parts does SageMaker bring together?" (or "does it", SageMaker
                # being the topic): a question about that, which the notes may answer
                return answer_from_course(context)
            if about is None and context.answers.stands(answer):
                return answer_from_course(context)
            if answer.declined and answer.reason.startswith("the course never"):
                # "how many questions are on the AWS Certified ML Specialty exam": a product
                # the course never names, not the pipeline
                return say_answer(context, answer)
        title = overview.name if overview else "The ML pipeline"
        lines = "\n".join(f"{s.order}. {_name(context, s)}" for s in stages)
        context.say(f"{title} has {len(stages)} stages, in order:\n{lines}\n"
                    "Ask about any stage, or what comes after one.")
        headings = [context.answers.heading(s.id) for s in stages] if context.answers is not None else []
        listed = remember_list(context, headings) if all(headings) else []
        return [*(remember(overview) if overview else []), *listed]


class _Step(Action):
    offset = 0

    def run(self, context: ActionContext) -> list[Event]:
        if not _stage_named(context):
            walked = walk_guide(context, self.offset)  # "what comes next?" inside the setup guide
            if walked is not None:
                return walked
        kb = context.knowledge
        stages = kb.pipeline_stages()
        stage = _stage_named(context) or _stage_of(kb.get(context.slots.get("pipeline_stage") or "")
                                                    or kb.get(context.slots.get("topic") or ""), context)
        if stage is None and engine_answers(context) and topics(context):
            # "where can I learn more after the course?" names no stage but a topic the
            # notes answer: the question is about that, not about the pipeline.
            answer = ask(context)
            if not answer.declined and answer.support >= context.answers.strong:
                return answer_from_course(context)
        if stage is None:
            names = ", ".join(s.name for s in stages)
            context.say(f"Which stage do you mean? The stages are: {names}.")
            return []
        index = stages.index(stage) + self.offset
        if not 0 <= index < len(stages):
            edge = "last" if self.offset > 0 else "first"
            context.say(f"{_name(context, stage)} is the {edge} stage of the ML pipeline. "
                        f"{_position(context, stage, stages)}")
            return remember(stage)
        neighbour = stages[index]
        word = "After" if self.offset > 0 else "Before"
        context.say(f"{word} {_name(context, stage)} comes {_name(context, neighbour)} (stage {neighbour.order} of "
                    f"{len(stages)}): {neighbour.summary}")
        return [*remember(neighbour), SlotSet("pipeline_stage", neighbour.id)]


class ActionNextStage(_Step):
    name = "action_next_stage"
    offset = 1


class ActionPreviousStage(_Step):
    name = "action_previous_stage"
    offset = -1


_ABOUT_STAGES = re.compile(r"\b(?:pipelines?|stages?|steps?|phases?|process|workflow|lifecycle|life cycle)\b",
                           re.IGNORECASE)
_PRONOUN = re.compile(r"\b(?:it|its|they|them|their)\b", re.IGNORECASE)


def _other_subject(context: ActionContext, overview: Entry | None) -> Entry | None:
    """A topic the message asks about besides the pipeline: one it names, or the
    conversation's topic when it says "it"."""
    def other(entry: Entry | None) -> bool:
        return entry is not None and entry != overview and _stage_of(entry, context) is None

    named = [entry for entry in topics(context) if other(entry)]
    if named:
        return named[0]
    current = context.knowledge.get(context.slots.get("topic") or "")
    return current if _PRONOUN.search(context.text) and other(current) else None


def _name(context: ActionContext, stage: Entry) -> str:
    """A stage as the course notes title it ("Select and train model"), else its entry's name."""
    heading = context.answers.heading(stage.id) if context.answers is not None else None
    return heading.text if heading is not None else stage.name


def _stage_named(context: ActionContext) -> Entry | None:
    for entry in topics(context):
        stage = _stage_of(entry, context)
        if stage is not None:
            return stage
    return None


def _stage_of(entry: Entry | None, context: ActionContext) -> Entry | None:
    """The stage an entry is, or the stage whose sub-steps include it."""
    if entry is None:
        return None
    if entry.order is not None:
        return entry
    return next((s for s in context.knowledge.pipeline_stages() if entry.id in s.substeps), None)


def _overview(context: ActionContext, stages: list[Entry]) -> Entry | None:
    ids = [s.id for s in stages]
    return next((e for e in context.knowledge if list(e.substeps) == ids), None)


def _position(context: ActionContext, stage: Entry, stages: list[Entry]) -> str:
    index = stages.index(stage)
    text = f"{_name(context, stage)} is stage {stage.order} of {len(stages)} in the ML pipeline"
    if index > 0:
        text += f", after {_name(context, stages[index - 1])}"
    if index + 1 < len(stages):
        text += f"{',' if index > 0 else ''} before {_name(context, stages[index + 1])}"
    return f"{text}. {stage.summary}"
