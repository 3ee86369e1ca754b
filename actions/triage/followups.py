"""Answers to follow-up questions on each road (followups.yml): where, how, cost, by when, how long,
what to bring, what next, anonymity, for the road the citizen asks about or was given.

Knows nothing of Rasa: actions/road_questions.py adapts it. The file is validated when it is loaded
(placeholders, citations against sources.yml, a time limit for every road with a clock), so an answer
that cites an article for something it does not say never reaches a citizen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import yaml

from actions.triage.citations import AllowList, CitationError, allow_list
from actions.triage.engine import CHANNELS, STAGES, Decision, fill, join_basis, placeholders

FOLLOWUPS_PATH = Path(__file__).with_name("followups.yml")
TOPICS: Tuple[str, ...] = ("time_limit", "where", "how", "cost", "duration", "bring", "next", "anonymous",
                           "retaliation")
TEXTS = ("unknown_topic", "other_road", "no_road", "clock_first", "again")
# Placeholders an answer may use besides the bureau's facts.
ANSWER_FIELDS = frozenset({"where", "road", "gist"})


class FollowupsError(ValueError):
    """followups.yml is inconsistent; the message names the place."""


@dataclass(frozen=True)
class Road:
    key: str
    name: str
    channel: str
    intent: Optional[str]
    clock: Optional[str]
    stages: Tuple[str, ...]
    words: Tuple[str, ...]
    for_matters: Tuple[str, ...]
    summary: Tuple[str, ...]
    answers: Mapping[str, str]


@dataclass(frozen=True)
class Question:
    """What the citizen asks: the road and the topics (none: the road's summary)."""

    road: Road
    topics: Tuple[str, ...]


class Followups:
    def __init__(self, data: Mapping, allowed: AllowList, facts: Iterable[str] = ()) -> None:
        self.topics: Dict[str, re.Pattern] = {}
        for topic, patterns in (data.get("topics") or {}).items():
            if topic not in TOPICS:
                raise FollowupsError(f"topics: unknown topic {topic!r} (known: {TOPICS})")
            self.topics[topic] = re.compile("|".join(f"(?:{p})" for p in patterns))
        self.texts = {key: data[key] for key in TEXTS}
        self.roads: Dict[str, Road] = {}
        for key, spec in (data.get("roads") or {}).items():
            self.roads[key] = Road(
                key=key, name=spec["name"], channel=spec["channel"], intent=spec.get("intent"),
                clock=spec.get("clock"), stages=tuple(spec.get("stages") or ()),
                words=tuple(spec.get("words") or ()), for_matters=tuple(spec.get("for_matters") or ()),
                summary=tuple(spec.get("summary") or ()), answers=dict(spec.get("answers") or {}),
            )
        self._validate(allowed, frozenset(facts))

    # -- checks ------------------------------------------------------------------------------------

    def _validate(self, allowed: AllowList, facts: frozenset) -> None:
        known = facts | ANSWER_FIELDS
        for key, text in self.texts.items():
            self._check_text(f"{key}", text, allowed, known)
        for road in self.roads.values():
            where = f"roads.{road.key}"
            if road.channel not in CHANNELS:
                raise FollowupsError(f"{where}: unknown channel {road.channel!r}")
            for stage in road.stages:
                if stage not in STAGES:
                    raise FollowupsError(f"{where}: unknown stage {stage!r}")
            for topic in set(road.answers) | set(road.summary):
                if topic not in TOPICS:
                    raise FollowupsError(f"{where}: unknown topic {topic!r}")
            for topic in road.summary:
                if topic not in road.answers:
                    raise FollowupsError(f"{where}: summary topic {topic!r} has no answer")
            if road.clock and "time_limit" not in road.answers:
                raise FollowupsError(f"{where}: a road with a clock needs a time_limit answer")
            for topic, text in road.answers.items():
                self._check_text(f"{where}.answers.{topic}", text, allowed, known)
            if road.clock:
                self._check_text(f"{where}.clock", road.clock, allowed, known)
                if not re.search(r"\d", road.clock):
                    raise FollowupsError(f"{where}.clock: a time limit is said with its number")

    @staticmethod
    def _check_text(where: str, text: str, allowed: AllowList, known: frozenset) -> None:
        unknown = [name for name in placeholders(text) if name not in known]
        if unknown:
            raise FollowupsError(f"{where}: unknown placeholders {unknown}")
        if "《信访条例》" in text:
            raise FollowupsError(f"{where}: the 2005 regulation is never cited")
        try:
            allowed.check_claims(text)
        except CitationError as error:
            raise FollowupsError(f"{where}: {error}") from None

    # -- reading the question ----------------------------------------------------------------------

    def topics_of(self, text: str) -> Tuple[str, ...]:
        return tuple(topic for topic, pattern in self.topics.items() if pattern.search(text or ""))

    def road_for(self, *, intent: Optional[str], text: str, channel: Optional[str],
                 stage: Optional[str], matter_type: Optional[str]) -> Optional[Road]:
        """The road asked about: the one the intent names, else the one triage gave (``channel``).
        Several roads share an intent or a channel (上诉, 再审, 执行 are all judicial): the words of
        the question decide, then the stage of the matter, then the matter type; the first listed
        is the default."""
        by_intent = [r for r in self.roads.values() if intent and r.intent == intent]
        candidates = by_intent or [r for r in self.roads.values() if channel and r.channel == channel]
        if by_intent and channel and any(r.channel == channel for r in by_intent):
            candidates = [r for r in by_intent if r.channel == channel] + [
                r for r in by_intent if r.channel != channel]
        if not candidates:
            return None
        for road in candidates:
            if any(word in (text or "") for word in road.words):
                return road
        if stage:
            for road in candidates:
                if stage in road.stages:
                    return road
        if matter_type:
            for road in candidates:
                if matter_type in road.for_matters:
                    return road
        return candidates[0]

    def question(self, **kwargs) -> Optional[Question]:
        road = self.road_for(**kwargs)
        if road is None:
            return None
        return Question(road, self.topics_of(kwargs.get("text") or ""))

    # -- answering ---------------------------------------------------------------------------------

    def answer(self, question: Question, facts: Mapping[str, str],
               decision: Optional[Decision] = None) -> str:
        """The answer, the time limit first: the clocks of the citizen's own matter when triage put
        this road among its roads, else the road's own clock; then each topic asked (none: the
        road's summary); a topic the road has no answer for gets the way to someone who knows."""
        road = question.road
        on_this_road = decision is not None and road.channel in decision.channels
        where = fill(decision.where, facts) if on_this_road else ""
        values = dict(facts, where=where, road=road.name)
        unknown = [t for t in question.topics if t not in road.answers]
        asked = [t for t in question.topics if t in road.answers] or list(road.summary)
        topics = [t for t in TOPICS if t in asked]  # the time limit first (domain.md §11)
        lines: List[str] = []
        if decision is not None and not on_this_road:
            lines.append(fill(self.texts["other_road"], values))
        if on_this_road and decision.clocks:
            # The matter's own clocks say the time limit better than the road's general answer.
            lines.append(fill(self.texts["clock_first"], values) + self.clock_reminder(road, decision))
            topics = [t for t in topics if t != "time_limit"]
        elif road.clock and "time_limit" not in topics:
            lines.append(fill(self.texts["clock_first"], values) + road.clock)
        said = 0
        for topic in topics:
            text = road.answers[topic]
            if "{where}" in text and not where:
                continue  # the competent body depends on a matter not described yet
            lines.append(fill(text, values))
            said += 1
        if unknown or not (said or (on_this_road and decision.clocks)):
            lines.append(fill(self.texts["unknown_topic"], values))
        return "\n".join(lines)

    def again(self, answer: str, facts: Mapping[str, str]) -> str:
        """What to say instead of ``answer`` when the conversation has already had it: the first
        sentence of each of its lines, and the way to a person."""
        gist = "".join(re.match(r"[^。]*。?", line).group(0) for line in answer.splitlines() if line)
        return fill(self.texts["again"], dict(facts, gist=gist))

    @staticmethod
    def clock_reminder(road: Road, decision: Optional[Decision]) -> str:
        """The running clock in one sentence: the matter's own (from triage), else the road's."""
        if decision is not None and decision.clocks:
            return "；".join(f"{c.start}{c.limit}内{c.what}（{join_basis(c.basis)}）" for c in decision.clocks) + "。"
        return road.clock or ""


def load_followups(path: Path | str = FOLLOWUPS_PATH, allowed: Optional[AllowList] = None,
                   facts: Sequence[str] = ()) -> Followups:
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    return Followups(data, allowed or allow_list(), facts)


@lru_cache(maxsize=1)
def get_followups() -> Followups:
    from actions.bureau import get_config

    return load_followups(facts=tuple(get_config().template_values()))
