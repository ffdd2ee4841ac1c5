"""The answer engine: from a question to the passages that answer it, or an honest no.

Retrieval is hybrid. The notes' passages are ranked by BM25 and by the sentence encoder,
fused by reciprocal rank; the knowledge base's passages are ranked the same way and act
as a router: the entries they belong to lift the notes' passages of those entries (a
question worded like an entry's summary finds the notes it was written from). Entities the
NLU found, and the conversation's current topic, lift their entries' passages too. The
lead passage is a passage of the notes when one is supported, else of the knowledge base,
so that answers say what the course says in the course's words.

A question is declined when nothing supports an answer: it names a product the course
never mentions ("AWS Glue"), or its words are ones the course never uses and no passage is
close enough, or no passage is close at all. The thresholds are chosen at train time on
in-scope and out-of-scope examples (bot/knowledge/index_build.py), not by hand.

Light: the dense half needs NumPy and a query vector; without them (the Lex code hook)
the engine answers from the lexical half, with its own thresholds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from bot.knowledge.answer_index import AnswerIndex
from bot.knowledge.base import KnowledgeBase
from bot.knowledge.lexical import words
from bot.knowledge.passages import BULLET, FROM_NOTES, HEADING, NOTE, Passage

_URL = re.compile(r"https?://\S+")
_ANNOUNCES = re.compile(r"\b(?:reasons|the following|as follows|several ways|these steps)\b|:\s*$", re.IGNORECASE)
MAX_ANNOUNCED = 6  # sentences of a bullet said after one that announces them
RRF_K = 10
RUNNER_UP = 0.85  # a second passage is said when it scores at least this share of the first
ROUTER_ENTRIES = 5
POOL = 60
MAX_LIST_ITEMS = 12  # a list introduced by a shown line ("Careers:") is shown up to this many items
MAX_NAME_WORDS = 4  # a lead this short is a name in a list, which a fuller line may say more about
CLOSE = 3  # the notes' best passages, of which one naming the topic asked about makes the notes the answer
RUNNERS_UP = 5  # how many passages after the lead may be that fuller line (BM25 ranks short ones high)


@dataclass
class Answer:
    """What answers a question: the lead passage, the passages that complete it (a list's
    items), the entry it is about, how sure the engine is, and whether it declines."""

    question: str
    lead: Passage | None
    more: list[Passage] = field(default_factory=list)
    entry: str | None = None
    support: float = 0.0
    declined: bool = False
    reason: str = ""
    nearest: str | None = None   # for a decline: the nearest thing the course covers
    ranked: list[Passage] = field(default_factory=list)
    aside: list[Passage] = field(default_factory=list)  # a close runner-up, said after the lead's own
    pointed: bool = False   # it answers "the second one?": the list pointed into stays the one to point into

    @property
    def passages(self) -> list[Passage]:
        return [p for p in (self.lead, *self.more, *self.aside) if p is not None]


class AnswerEngine:
    def __init__(self, index: AnswerIndex, knowledge: KnowledgeBase,
                 embed: Callable[[str], Any] | None = None):
        self.index = index
        self.knowledge = knowledge
        self._embed = embed if index.vectors is not None else None
        self._children: dict[int, list[Passage]] = {}
        for passage in index.passages:
            if passage.parent is not None:
                self._children.setdefault(passage.parent, []).append(passage)
        self._notes_text = " ".join(p.text.casefold() for p in index.passages if p.kind in FROM_NOTES)
        self._course_text = " ".join(" ".join(p.text.casefold().split()) for p in index.passages)
        self._last_step: dict[str, int] = {}  # a guide's entry -> its last step
        for passage in index.passages:
            if passage.step is not None and passage.entry:
                self._last_step[passage.entry] = max(passage.step, self._last_step.get(passage.entry, 0))
        self._by_group: dict[str, list[Passage]] = {}
        for passage in index.passages:
            self._by_group.setdefault(passage.group, []).append(passage)

    @property
    def dense(self) -> bool:
        return self._embed is not None

    @property
    def strong(self) -> float:
        """The support above which an answer stands even with words the course never uses."""
        return self.index.thresholds.get(f"{'dense' if self.dense else 'lexical'}_strong", 1.0)

    @property
    def floor(self) -> float:
        """The support below which no passage is close to a question."""
        return self.index.thresholds.get(f"{'dense' if self.dense else 'lexical'}_floor", 0.0)

    @property
    def overrule(self) -> float:
        """The share of a question's weight (see `_lexical_support`) the best passage must
        hold for the notes to answer what the NLU calls out of scope."""
        return self.index.thresholds.get("lexical_overrule", 0.0)

    def clearly_answers(self, answer: Answer) -> bool:
        """Whether the notes answer `answer`'s question even though the NLU reads it as out
        of scope: the answer is close in meaning and its passage holds the question's words.
        Closeness alone is not enough for a near miss: "how do I attach an EBS volume to an
        EC2 instance" is close to the notes' EC2 lines, which hold little of what it asks."""
        return (not answer.declined and answer.support >= self.strong
                and self._lexical_support(answer.question) >= self.overrule)

    def holds_every_word(self, question: str) -> bool:
        """Whether the notes' best passage for `question` holds every word it asks with."""
        return self._lexical_support(self.index.vocabulary.corrected(question)) >= 1.0

    def stands(self, answer: Answer) -> bool:
        """Whether an answer is good enough to say for a message that may not be a question
        at all ("and the IAM role?" read as "tell me more"): close in meaning, or close
        enough with a passage that holds the message's words. Short messages are never very
        close to a passage in meaning, however exactly their words are the passage's."""
        return not answer.declined and (answer.support >= self.strong or (
            answer.support >= self.floor and self._lexical_support(answer.question) >= self.overrule))

    def unfamiliar(self, question: str) -> list[str]:
        """The products and words of `question` the course never names: what gives a near miss away."""
        return [*self.unknown_products(question), *self.index.vocabulary.unknown(question)]

    def unknown_products(self, question: str) -> list[str]:
        """Products, acronyms and codes the course never names: "SageMaker Autopilot", "VPC",
        and "SageMaker Ground Truth", whose words the course uses, but never together."""
        vocabulary = self.index.vocabulary
        named = [m.group(1) for m in _PRODUCT_NAME.finditer(question)
                 if " ".join(m.group(1).casefold().split()) not in self._course_text]
        return [*vocabulary.unknown_products(question), *vocabulary.unknown_names(question), *named]

    def leans_out_of_scope(self, question: str) -> float | None:
        """The scope model's out-of-scope probability for `question` when it reaches the
        model's threshold, else None (and always None without a scope model): the Lex
        hook's stand-in for the NLU's "leans out of scope"."""
        scope = self.index.scope_model()
        return scope.leans_out_of_scope(question) if scope is not None else None

    @classmethod
    def load(cls, model_dir: Any, knowledge: KnowledgeBase, embed: Callable[[list[str]], Any] | None = None,
             ) -> AnswerEngine:
        """The engine over the index stored with a model; dense when `embed` is given.

        Raises:
            ModelError: the model has no usable answer index.
        """
        index = AnswerIndex.load(model_dir, vectors=embed is not None)
        return cls(index, knowledge, (lambda text: embed([text])[0]) if embed is not None else None)

    def passage(self, passage_id: int) -> Passage:
        return self.index.passages[passage_id]

    def children(self, passage: Passage) -> list[Passage]:
        """A new list each time: answers extend what they are given, and the index's own
        lists must never change (they did, and answers drifted turn after turn)."""
        return list(self._children.get(passage.id, ()))

    def group(self, passage: Passage) -> list[Passage]:
        return list(self._by_group.get(passage.group, ()))

    def heading(self, entry_id: str) -> Passage | None:
        """The heading of the notes' section that is about an entry, if one is."""
        return next((p for p in self.index.passages if p.kind == HEADING and p.entry == entry_id
                     and p.step is None), None)

    def overview(self, entry_id: str) -> Answer | None:
        """"What is feature engineering?" when the notes give it a section: the section's
        heading with what it lists."""
        # A guide's container heading ("Amazon SageMaker", over its steps) is not the topic's
        # definition; a later section about the same entry ("SageMaker") may be.
        headings = [p for p in self.index.passages if p.kind == HEADING and p.entry == entry_id and p.step is None
                    and not any(c.step is not None for c in self.children(p))
                    and not all(c.kind == HEADING for c in self.children(p))]  # nor a part's list of sections
        heading = headings[0] if headings else self._titled(entry_id)
        return self.outline(heading) if heading is not None else None

    def definition(self, entry_id: str) -> Answer | None:
        """The bullet of the notes that defines an entry ("Amazon SageMaker: SageMaker helps
        data scientists ..."), with what is nested under it."""
        entry = self.knowledge.get(entry_id)
        if entry is None:
            return None
        names = {n.casefold() for n in (entry.name, *entry.aliases)}
        for passage in self.index.passages:
            term = passage.context if passage.position == 0 and passage.group.startswith(BULLET) \
                else passage.text.split(":", 1)[0]
            if passage.kind == NOTE and passage.entry == entry_id and term.casefold() in names:
                return Answer(passage.text, passage, self.children(passage), entry_id, 1.0)
        return None

    def _titled(self, entry_id: str) -> Passage | None:
        """A titled box or bullet of the notes about the entry ("> [!note] Amazon Elastic
        Inference"): a line of the entry's own with the entry's sentences under it."""
        entry = self.knowledge.get(entry_id)
        names = {n.casefold() for n in (entry.name, *entry.aliases)} if entry is not None else set()
        return next((p for p in self.index.passages if p.kind == NOTE and p.entry == entry_id
                     and p.text.casefold().rstrip(":") in names and self.children(p)
                     and all(c.entry == entry_id for c in self.children(p))), None)  # not a list of others

    def outline(self, heading: Passage) -> Answer:
        """A heading of the notes with what it lists (and what its "Careers:" lines list)."""
        children = self._lines_under(heading)
        return Answer(heading.text, heading, children + self._items_of_intros(children, shown=[heading]),
                      heading.entry, 1.0)

    def _lines_under(self, heading: Passage) -> list[Passage]:
        """A heading's lines; for a section that is one line with its list under it ("ML
        stack layers": what a stack is, then the layers), that list too: it is what the
        section says."""
        children = self.children(heading)
        if len(children) == 1 and children[0].kind == NOTE:
            children += self.children(children[0])[:MAX_LIST_ITEMS]
        return children

    def compare(self, question: str, sides: list[str], **options: Any) -> Answer:
        """Both sides of "X vs Y" from the notes: for each entry named, its best passage
        (with what completes it), in the order the question names them."""
        answers = [self.answer(question, topics=[side], **options) for side in sides[:2]]
        chosen: list[Passage] = []
        for side, answer in zip(sides, answers):
            # The side's best passage in the notes, else what the knowledge base says it is
            # (the notes may not tie a passage to the entry), else the answer's own lead.
            ranked = ([p for p in answer.ranked if p.entry == side] or self._summaries(side)
                      or ([answer.lead] if answer.lead else []))
            lead = ranked[0] if ranked else None
            if lead is not None and lead not in chosen:
                chosen += [lead, *(p for p in self._completion(lead) if p not in chosen)]
        if len(chosen) < 2 or any(a.declined for a in answers):
            return self.answer(question, topics=sides, **options)
        return Answer(question, chosen[0], chosen[1:], sides[0], min(a.support for a in answers))

    def _summaries(self, entry_id: str) -> list[Passage]:
        return [p for p in self.index.passages if p.entry == entry_id and p.kind == "summary"]

    def more(self, shown: list[int], entry_id: str) -> Answer | None:
        """"Tell me more": the passages of the same place in the notes (the lead's section,
        or the entry's own passages) that were not said yet, in order."""
        said = set(shown)
        lead = self.passage(shown[0]) if shown and 0 <= shown[0] < len(self.index.passages) else None
        section = lead.section if lead is not None else None
        rest = [p for p in self.index.passages if p.id not in said and p.kind in FROM_NOTES
                and (p.section == section or p.entry == entry_id) and p.kind != HEADING]
        if not rest:
            rest = [p for p in self.index.passages if p.id not in said and p.entry == entry_id
                    and p.kind in ("detail", "example")]
        if not rest:
            return None
        first = rest[0]
        more = [p for p in rest[1:4] if p.parent == first.parent or p.group == first.group]
        return Answer("more", first, more, entry_id, 1.0)

    def then(self, answer: Answer) -> Answer:
        """"What now?" said at a step of a guide: the step after the one the answer found."""
        lead = answer.lead
        if lead is None or lead.step is None or lead.entry is None:
            return answer
        return self.step(lead.entry, lead.step + 1) or answer

    def step(self, entry_id: str, number: int) -> Answer | None:
        """A guide's step as the notes say it: its heading and its instructions."""
        heading = next((p for p in self.index.passages if p.kind == HEADING and p.entry == entry_id
                        and p.step == number), None)
        if heading is None:
            return None
        return Answer(heading.text, heading, self.children(heading), entry_id, 1.0)  # what a follow-up leans on

    def answer(self, question: str, *, topics: Iterable[str] = (), context_topic: str | None = None,
               kinds: Iterable[str] = (), exclude: Iterable[int] = ()) -> Answer:
        """The passages that answer `question`.

        Args:
            topics: entry ids the NLU found in the question (their passages come first).
            context_topic: the conversation's current topic (a lighter lift, for follow-ups).
            kinds: passage kinds this question prefers (e.g. "example", "step").
            exclude: passages already said (for "tell me more").
        """
        topics, kinds, excluded = list(dict.fromkeys(topics)), set(kinds), set(exclude)
        question = self.index.vocabulary.corrected(question)
        notes, entries, support, scores = self._rank(question, topics, context_topic, kinds, excluded)
        ranked = [self.index.passages[i] for i in notes[:20]]
        best_entry = next((self.index.passages[i].entry for i in entries if self.index.passages[i].entry), None)
        declined, reason = self._declines(question, support, topics)
        if declined:
            # "the nearest thing the course covers" is worth naming for a near miss only,
            # not for "tell me a joke"
            return Answer(question, None, support=support, declined=True, reason=reason,
                          nearest=best_entry if support >= self.floor else None, ranked=ranked)
        lead = self._lead(notes, entries, kinds, topics)
        if lead is not None and lead.kind == HEADING:
            lead = self._sharper(lead, question, notes)
        elif lead is not None and lead.kind == NOTE:
            lead = self._fuller(lead, question, notes)
        if lead is None:
            return Answer(question, None, support=support, declined=True, reason="nothing to say",
                          nearest=best_entry, ranked=ranked)
        more = list(self._completion(lead))
        more += self._items_of_intros([lead, *more], question=question)
        missing = next((what for asks, gives, what in _FACTS_ASKED
                        if asks.search(question) and not any(gives.search(p.searchable) for p in (lead, *more))), None)
        if missing is not None:
            # "when is the final evaluation due?": the lines about the final evaluation give
            # no date, and a date is what was asked
            return Answer(question, None, support=support, declined=True, reason=f"the course gives no {missing}",
                          nearest=lead.entry or best_entry, ranked=ranked)
        aside = self._runner_up(lead, more, notes, scores)
        aside += [p for a in aside for p in self._announced(a) if p not in more and p is not lead]
        aside += self._items_of_intros(aside, shown=[lead, *more])
        return Answer(question, lead, more, lead.entry or best_entry, support, ranked=ranked, aside=aside)

    def _runner_up(self, lead: Passage, more: list[Passage], notes: list[int],
                   scores: dict[int, float]) -> list[Passage]:
        """The next passage too, when it scores nearly as well and is not said already: two
        close candidates are more likely to hold the fact than one."""
        if lead.kind not in FROM_NOTES or len(notes) < 2:
            return []
        shown = {lead.id, *(p.id for p in more)}
        first = scores.get(lead.id, 0.0)
        for passage_id in notes[1:3]:
            passage = self.index.passages[passage_id]
            if passage_id in shown or passage.kind == HEADING:
                continue
            if scores.get(passage_id, 0.0) >= RUNNER_UP * first:
                return [passage]
            break
        return []

    # -- retrieval ---------------------------------------------------------------------

    def _rank(self, question: str, topics: list[str], context_topic: str | None, kinds: set[str],
              excluded: set[int]) -> tuple[list[int], list[int], float, dict[int, float]]:
        """Passage ids of the notes and of the knowledge base, best first, the support for
        an answer (the best cosine when dense, else the best BM25 coverage), and the notes'
        fused scores."""
        index = self.index
        note_lex = [index.note_ids[i] for i, _ in index.notes.search(question, POOL)]
        entry_lex = [index.entry_ids[i] for i, _ in index.knowledge.search(question, POOL)]
        note_dense: list[int] = []
        entry_dense: list[int] = []
        support = self._lexical_support(question)
        if self._embed is not None:
            import numpy as np

            # Rounded, so that two passages a float's last bits apart (another CPU, another
            # thread count) tie, and a tie goes to the earlier passage, in every process.
            similarity = np.round(index.vectors @ np.asarray(self._embed(question), dtype=np.float32), 3)
            order = np.argsort(-similarity, kind="stable")
            kinds_of = [p.kind for p in index.passages]
            note_dense = [int(i) for i in order if kinds_of[i] in FROM_NOTES][:POOL]
            entry_dense = [int(i) for i in order if kinds_of[i] not in FROM_NOTES][:POOL]
            support = float(similarity[order[0]])
        entry_scores = _fused(entry_lex, entry_dense)
        for passage_id in entry_scores:
            passage = index.passages[passage_id]
            if passage.kind in kinds:
                entry_scores[passage_id] += 1 / RRF_K
            if passage.entry in topics:
                entry_scores[passage_id] += 1 / RRF_K
        entries = sorted((i for i in entry_scores if i not in excluded), key=lambda i: (-entry_scores[i], i))
        router: dict[str, float] = {}
        steps: dict[tuple[str, int], float] = {}
        for passage_id in entries:
            passage = index.passages[passage_id]
            if passage.entry and passage.entry not in router and len(router) < ROUTER_ENTRIES:
                router[passage.entry] = 1 / (RRF_K + len(router))
            if passage.step is not None and passage.entry and len(steps) < ROUTER_ENTRIES:
                steps.setdefault((passage.entry, passage.step), 1 / (RRF_K + len(steps)))
        sources = {self.knowledge.get(e).source: weight for e, weight in router.items() if self.knowledge.get(e)}
        note_scores = _fused(note_lex, note_dense)
        why = bool(_ASKS_WHY.search(question))
        online = bool(_ASKS_WHERE_ONLINE.search(question))
        numbered = _STEP_NUMBER.search(question)
        step_asked = (int(numbered.group(1)) if numbered.group(1) else LAST) if numbered else None
        for passage_id in note_scores:
            passage = index.passages[passage_id]
            lift = max(router.get(passage.entry or "", 0.0), 0.5 * sources.get(passage.section, 0.0))
            if passage.step is not None and passage.entry:
                # A guide's step: only the steps the knowledge base's steps point at are lifted,
                # and the step the question numbers ("what's step 2 of the setup?") as a topic is.
                asked = passage.step == (self._last_step.get(passage.entry) if step_asked == LAST else step_asked)
                lift = steps.get((passage.entry, passage.step), 0.0) + (1 / RRF_K if asked else 0.0)
            note_scores[passage_id] += lift
            # Entities are weak evidence of what is asked ("Jupyter" in a question about
            # opening it), so they tip close calls rather than decide.
            if passage.entry in topics:
                note_scores[passage_id] += 0.5 / RRF_K
            elif context_topic and passage.entry == context_topic:
                note_scores[passage_id] += 0.3 / RRF_K
            # "Why do I need to prepare the data?": of close passages, the one that gives a reason
            if why and _GIVES_REASON.search(passage.text):
                note_scores[passage_id] += 0.5 / RRF_K
            # "where do I find ML solutions in the AWS Marketplace?": of close passages, the link
            if online and _URL.search(passage.text):
                note_scores[passage_id] += 0.5 / RRF_K
        notes = sorted((i for i in note_scores if i not in excluded), key=lambda i: (-note_scores[i], i))
        return notes, entries, support, note_scores

    def _lexical_support(self, question: str) -> float:
        """The share of the question's weight (its terms' IDF) that the best note passage holds."""
        index = self.index.notes
        asked = dict.fromkeys(index.terms(question))  # ordered: the same sums in every process
        terms = [t for t in asked if t in index.idf]
        # A term no passage holds weighs as much as the rarest one that some passage holds.
        rarest = max(index.idf.values(), default=1.0)
        total = sum(index.idf.get(t, rarest) for t in asked) or 1.0
        best = index.search(question, 1)
        if not best or not terms:
            return 0.0
        held = [t for t in terms if any(p == best[0][0] for p, _ in index.postings[t])]
        return sum(index.idf[t] for t in held) / total

    def _lead(self, notes: list[int], entries: list[int], kinds: set[str], topics: list[str]) -> Passage | None:
        """A passage of the notes, unless the question asks for a kind only the knowledge
        base has (an example of a named topic) and its best passage is one."""
        passages = self.index.passages
        if kinds and entries and passages[entries[0]].kind in kinds and (
                not notes or passages[entries[0]].entry in topics):
            return self._said_of(passages[entries[0]])
        if topics and notes and not any(self.in_notes(t) or self.mentions(passages[notes[0]], t) for t in topics):
            # The best passage does not name what was asked about: a close one that does
            # ("Validation: for fine-tuning ..." for the validation set), else, as when the
            # notes never name it (an instructor's new entry), what the knowledge base says.
            close = next((passages[i] for i in notes[1:CLOSE] if any(self.names(passages[i], t) for t in topics)), None)
            if close is not None:
                return close
            named = next((i for i in entries if passages[i].entry in topics), None)
            if named is not None:
                return self._said_of(passages[named])
        if notes:
            return passages[notes[0]]
        return self._said_of(passages[entries[0]]) if entries else None

    def _words_for(self, heading: Passage) -> set[str]:
        """The terms a heading goes by: its own, and its entry's names."""
        entry = self.knowledge.get(heading.entry or "")
        names = [heading.text, *((entry.name, *entry.aliases) if entry is not None else ())]
        return {t for name in names for t in self.index.notes.terms(name)}

    def _sharper(self, heading: Passage, question: str, notes: list[int]) -> Passage:
        """A passage under the heading that holds what the question asks beyond the
        heading's own words ("why get a *domain expert* during data collection?"), else the
        heading: the section's outline answers only a question about the section itself."""
        terms, idf = self.index.notes.terms, self.index.notes.idf
        extra = set(terms(question)) - self._words_for(heading)
        weight = sum(idf.get(t, 0.0) for t in extra)
        if not weight:
            return heading
        depth = {heading.id: 0}
        for passage in self.index.passages[heading.id + 1:]:
            if passage.parent not in depth:
                break
            depth[passage.id] = depth[passage.parent] + 1
        def holds(passage: Passage) -> bool:
            if passage.text.rstrip().endswith(":") and not self.children(passage):
                return False  # "... a couple of different methods:" is said by the lines after it
            said = set(terms(_URL.sub(" ", passage.searchable)))  # "machine-learning" in a link asks nothing
            return sum(idf.get(t, 0.0) for t in extra & said) >= weight / 2

        holding = [self.index.passages[i] for i in notes[:POOL] if depth.get(i, 0) > 0 and holds(self.index.passages[i])]
        # the outermost such passage: "Three types of data to consider:" rather than one of its items
        return min(holding, key=lambda p: depth[p.id]) if holding else heading

    def _fuller(self, lead: Passage, question: str, notes: list[int]) -> Passage:
        """A close runner-up that says what a bare name of a list says, and more of what was
        asked: "what are SageMaker's built in algorithms optimized for" matches the item
        "SageMaker built-in algorithm", but the line that answers it is "AWS SageMaker has
        built in ML algorithms that are optimized for speed, scale, and accuracy"."""
        terms = self.index.notes.terms
        named, size = set(terms(lead.text)), len(words(lead.text))
        if size > MAX_NAME_WORDS or not named:
            return lead
        # a name with a list under it ("Computer vision": its services) is that list, not its definition
        listing = bool(self.children(lead))
        asked = set(terms(question))
        # "does SageMaker have built-in algorithms?": a name in a list does not say yes; the
        # sentence that holds the whole name does
        yes_or_no = bool(_YES_OR_NO.match(question)) and not listing
        for passage_id in notes[1:RUNNERS_UP + 1]:
            passage = self.index.passages[passage_id]
            said = set(terms(passage.text))
            # or it opens with the name: "Jupyter notebooks are where you can create and share ..."
            opens = set(terms(" ".join(words(passage.text)[:size + 1]))) >= named
            sentence = len(words(passage.text)) > MAX_NAME_WORDS + 2
            if passage.kind == NOTE and named <= said and (len(asked & said) > len(asked & named)
                                                           or (opens and not listing) or (yes_or_no and sentence)):
                return passage
        return lead

    def in_notes(self, entry_id: str) -> bool:
        """Whether the notes name the entry, by its name or an alias."""
        entry = self.knowledge.get(entry_id)
        names = (entry.name, *entry.aliases) if entry is not None else ()
        return any(re.search(rf"\b{re.escape(name.casefold())}\b", self._notes_text) for name in names)

    def says(self, answer: Answer, words: str) -> bool:
        """Whether the answer's passages hold every term of `words` (stemmed, as the lexical
        ranker reads them): "how do I stop my notebook?" is answered by a line that says
        stop, not by the lines that best match "notebook instance"."""
        wanted = set(self.index.notes.terms(words))
        said = {term for passage in answer.passages for term in self.index.notes.terms(passage.searchable)}
        return wanted <= said

    def names(self, passage: Passage, entry_id: str) -> bool:
        """Whether a passage of another entry names the entry by the rarest word of one of
        its names ("Blogs: ..." names the ML blog; "ML on AWS website" does not, though it
        holds half of "ML blog")."""
        entry = self.knowledge.get(entry_id)
        if entry is None or passage.entry == entry_id:
            return entry is not None
        index = self.index.notes
        said = set(index.terms(_URL.sub(" ", passage.searchable)))
        for name in (entry.name, *entry.aliases):
            named = [t for t in index.terms(name) if t in index.idf]
            if named and max(named, key=lambda t: index.idf[t]) in said and self.mentions(passage, entry_id):
                return True
        return False

    def mentions(self, passage: Passage, entry_id: str) -> bool:
        """Whether a passage names the entry, or is its own: it holds at least half the
        terms of the entry's name or of an alias ("Feature selection: ..." names "feature
        selection methods"). A name with a word the notes never use is named by no passage
        of theirs: "training epoch", an instructor's new entry, is not named by every
        passage about training."""
        entry = self.knowledge.get(entry_id)
        if entry is None or passage.entry == entry_id:
            return True
        index = self.index.notes
        said = set(index.terms(_URL.sub(" ", passage.searchable)))  # a link's words name nothing
        for name in (entry.name, *entry.aliases):
            named = set(index.terms(name))
            if named and named <= index.idf.keys() and 2 * len(named & said) >= len(named):
                return True
        return False

    def _said_of(self, passage: Passage) -> Passage:
        """What to say for a knowledge-base passage: a task line ("turn text into speech")
        answers with what the entry is, its summary."""
        if passage.kind == "use":
            return next((p for p in self.group(passage) if p.kind == "summary"), passage)
        return passage

    def _completion(self, lead: Passage) -> list[Passage]:
        """What completes the lead, so that lists stay lists and a step stays whole: a
        heading's items, a guide step's other instructions, a bullet's sub-items, the
        definition that opens a long bullet, or the list a short item belongs to."""
        if lead.kind == HEADING:
            return self._lines_under(lead)
        if lead.kind != NOTE:
            return []
        if lead.step is not None:
            return [p for p in self.index.passages if p.section == lead.section and p.kind == NOTE and p is not lead
                    and p.parent is not None]
        children = self.children(lead)
        if children:
            return children + self._said_of_list(lead)
        group = self.group(lead)
        if self._announced(lead):
            return ([group[0]] if lead.position > 0 else []) + self._announced(lead)
        if lead.position > 0 and lead.group.startswith(BULLET):  # a sentence of a long bullet: its definition
            if lead.parent == group[0].id and lead.position > 1:
                # under a titled box the title defines nothing: its first sentence does ("Amazon
                # EC2 C5 instances deliver cost-effective high performance ...")
                return group[:2]
            return [group[0]]
        if lead.parent is not None:
            parent = self.passage(lead.parent)
            siblings = self.children(parent)
            # An item of a short list: the list, with what it lists. Under a heading, only
            # when the section is such a list (short items), not a section of paragraphs.
            short = all(len(p.text.split()) <= 8 for p in siblings if p.kind == NOTE)
            if len(siblings) <= 12 and (parent.kind == NOTE or short):
                return [parent, *(p for p in siblings if p is not lead), *self._said_of_list(parent)]
        return []

    def _said_of_list(self, intro: Passage) -> list[Passage]:
        """The line after a list that says something of all its items ("ML framework tools:
        PyTorch, ..., then "All supported and can be used from Amazon SageMaker"): without it
        the list does not answer "can I use PyTorch in SageMaker?"."""
        if intro.parent is None:
            return []
        after = [p for p in self.children(self.passage(intro.parent)) if p.id > intro.id]
        return after[:1] if after and _SAID_OF_ALL.match(after[0].text) else []

    def _announced(self, passage: Passage) -> list[Passage]:
        """"... for two reasons.": the sentences of the same bullet after it, which are what
        it announces."""
        if not (passage.group.startswith(BULLET) and _ANNOUNCES.search(passage.text)):
            return []
        return [p for p in self.group(passage) if p.position > passage.position][:MAX_ANNOUNCED]

    def _items_of_intros(self, lines: list[Passage], shown: Iterable[Passage] = (), question: str = ""
                         ) -> list[Passage]:
        """The items of the lines that introduce a list ("Careers:", or a label such as
        "Offers"): the line is nothing without them. When the question names some of those
        lines ("what does a framework *offer*?", "which *types of data*?"), only theirs, so
        that a section's outline does not become the whole section. `shown`: passages said
        already, not to repeat."""
        ids = {p.id for p in (*lines, *shown)}
        # a label over a list ("Offers", "Make it a ML model") is no sentence of its own
        intros = [p for p in lines if p.kind == NOTE and self.children(p)
                  and (p.text.rstrip().endswith(":") or not p.text.rstrip().endswith((".", "!", "?", ")")))]
        terms = self.index.notes.terms
        # the section's own words ("data" in Data collection, "ML" of "ML framework") name none of its lists
        asked = set(terms(question)) - {t for p in lines if p.kind == HEADING for t in self._words_for(p)}
        named = [p for p in intros if asked & set(terms(p.text))]
        introducing = [p for p in intros if p.text.rstrip().endswith(":")]
        items: list[Passage] = []
        for passage in named or introducing or intros:
            items += [p for p in self.children(passage)[:MAX_LIST_ITEMS] if p.id not in ids]
            ids |= {p.id for p in items}
        return items

    # -- declining ---------------------------------------------------------------------

    def _says_verbatim(self, question: str) -> bool:
        """"What does fully managed mean?": a term of two words or more that the notes use
        word for word is the course's, however far the sentence encoder puts it."""
        match = _WHAT_IS.match(question)
        if match is None:
            return False
        term = " ".join(match.group("term").casefold().split())
        return any(term in passage.text.casefold() for passage in self.index.passages if passage.kind in FROM_NOTES)

    def _declines(self, question: str, support: float, topics: list[str]) -> tuple[bool, str]:
        vocabulary, thresholds = self.index.vocabulary, self.index.thresholds
        # "SageMaker Autopilot": knowing SageMaker does not make Autopilot the course's; nor
        # does knowing notebook instances make "inside a VPC" the course's
        products = self.unknown_products(question)
        if products:
            return True, f"the course never mentions {products[0]}"
        mode = "dense" if self.dense else "lexical"
        floor = thresholds.get(f"{mode}_floor", 0.0)
        strong = thresholds.get(f"{mode}_strong", 1.0)
        unknown = vocabulary.unknown(question)
        if unknown and (support < strong or len(unknown) > 1):
            return True, f"the course never uses the word {unknown[0]!r}"
        if support < floor and not topics and not self._says_verbatim(question):
            return True, "no passage of the course is close"
        return False, ""


_YES_OR_NO = re.compile(r"^\W*(?:does|do|is|are|can|could|will|has|have|did)\b", re.IGNORECASE)
_SAID_OF_ALL = re.compile(r"^\W*(?:all|each|both|these|they|those|most|many|none|every one)\b", re.IGNORECASE)
_ASKS_WHY = re.compile(r"\b(?:why|what(?:'s| is) the (?:point|purpose|reason)|how come)\b", re.IGNORECASE)
_ASKS_WHERE_ONLINE = re.compile(r"\b(?:link|url|web\s*site|web\s*page)s?\b|\bwhere\s+(?:can|do|could|should)\s+"
                                r"(?:i|we|you)\s+(?:find|get|read|look)\b", re.IGNORECASE)
_DEADLINE = re.compile(r"\b(?:due|deadlines?|due dates?|cut-?off dates?)\b", re.IGNORECASE)
# "how much does an ml.t2.medium notebook instance cost per hour?", "is it in the free tier?"
# (not "how much does it cut costs?")
_ASKS_PRICE = re.compile(r"\bhow much (?:does|do|will|would|is|are)\b[^?]*\bcost\b(?!s)|\b(?:price|pricing|per hour|hourly|free tier)\b",
                         re.IGNORECASE)
_GIVES_PRICE = re.compile(r"\$\s?\d|\b\d+(?:\.\d+)?\s*(?:usd|dollars?|cents?|percent)\b|%|\bper hour\b", re.IGNORECASE)
# What a question asks for that only a passage saying it answers: (asks, gives, what it is)
_FACTS_ASKED = ((_DEADLINE, _DEADLINE, "deadline"), (_ASKS_PRICE, _GIVES_PRICE, "price"))
# "what's step 2 of the setup?"; not a step's own heading ("Step 9: Start Coding"), which a
# follow-up is asked with
_STEP_NUMBER = re.compile(r"\bstep\s+(?:number\s+)?(\d{1,2})\b(?!\s*:)|\b(?:last|final)\s+step\b", re.IGNORECASE)
LAST = -1  # "the last step"
_GIVES_REASON = re.compile(r"\b(?:because|so that|in order to|to (?:improve|avoid|prevent|capture|reduce|ensure|save)|"
                           r"prevents?|reasons?)\b", re.IGNORECASE)
# A product as a student writes it: the brand, then up to three capitalised words.
_PRODUCT_NAME = re.compile(r"\b(?:AWS|Amazon|SageMaker|Sagemaker)\s+([A-Z][\w-]*(?:\s+[A-Z][\w-]*){0,2})")
_WHAT_IS = re.compile(r"^\W*(?:what(?:'s|s| is| are| does| do)|define|explain|meaning of)\s+(?:the\s+|an?\s+)?"
                      r"(?P<term>[\w'-]+(?:\s+[\w'-]+){1,4}?)(?:\s+means?)?\W*$", re.IGNORECASE)


def _fused(*rankings: list[int]) -> dict[int, float]:
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, passage_id in enumerate(ranking):
            scores[passage_id] = scores.get(passage_id, 0.0) + 1 / (RRF_K + rank)
    return scores
