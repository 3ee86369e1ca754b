"""The statutory-channel triage engine (诉访分离, 依法分类处理). Plain Python, no Rasa imports.

The rules are data (``rules.yml`` next to this file); this module loads and validates them and
answers three questions:

* ``decide(matter_type, stage, modifiers)``: where does this matter belong? -> ``Decision``
* ``needs_stage_question(matter_type, stage)``: must the assistant ask the one stage question?
* ``render(decision, facts)`` / ``render_insist(decision, facts)``: the citizen-facing texts,
  filled with the bureau's facts (``actions.bureau.get_config().template_values()``).

Stages come from the ``matter_stage`` entity (lookup table + synonyms in
``data/nlu/stages.yml``); ``pick_stage`` turns the extracted values into one stage and the
modifiers, ``stage_from_answer`` reads a typed answer to the stage question, and
``stage_from_text`` applies the same lookup table the way Rasa's RegexEntityExtractor does
(for tests and as a fallback).
"""

from __future__ import annotations

import re
import string
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import yaml

from .citations import AllowList, CitationError, allow_list, citation_text
from .lexicon import STAGES_NLU_PATH, get_lexicon, normalise_answer  # noqa: F401 (re-exported)

HERE = Path(__file__).resolve().parent
RULES_PATH = HERE / "rules.yml"

# Fixed by the contract (../shared/docs/contract.md).
MATTER_TYPES: Tuple[str, ...] = (
    "housing_delivery", "house_refund", "resettlement", "land_expropriation", "utilities",
    "school_enrollment", "wage_arrears", "labor_dispute", "social_security", "court_case",
    "admin_decision", "official_misconduct", "civil_dispute", "consumer", "environment",
    "medical", "suggestion",
)
CHANNELS: Tuple[str, ...] = (
    "litigation", "judicial_procedure", "administrative_review", "arbitration",
    "law_enforcement", "discipline_inspection", "party_appeal", "mediation", "petition",
)
# The stage vocabulary (values of the `matter_stage` entity); what each means: rules.yml `stages`.
STAGES: Tuple[str, ...] = (
    "none", "in_court", "first_instance", "judged", "judgment_final", "not_enforced",
    "award_received", "police_refused", "police_inaction", "review_pending",
    "arbitration_pending", "decision_received", "petition_answered", "recheck_answered",
)
# Modifiers: other values of the same entity. `arbitration_clause` is resolved per matter; the
# others are situations that decide the road whatever the matter (rules.yml `situations`), applied
# in this order, so a later one wins (domestic violence over divorce).
# "没有仲裁条款": cancels a clause found elsewhere; a matter may also give it a rule of its own.
NO_CLAUSE = "no_arbitration_clause"
MATTER_MODIFIERS: Tuple[str, ...] = ("arbitration_clause", NO_CLAUSE)
SITUATIONS: Tuple[str, ...] = (
    "agency_act", "review_first", "divorce", "party_sanction", "domestic_violence",
)
MODIFIERS: Tuple[str, ...] = MATTER_MODIFIERS + SITUATIONS
UNKNOWN = "unknown"   # modifier-override key for "stage not known"

FIELDS = ("channel", "alternatives", "where", "why", "basis", "clocks", "bring", "offer_lawyer")
TEXT_FIELDS = ("where", "why", "bring")
CLOCK_FIELDS = ("what", "limit", "start", "basis")
LIMIT_RE = re.compile(r"^\d+(日|个月|年)$")
# Placeholders render() itself provides to the texts section, besides the bureau's facts.
RENDER_FIELDS = frozenset({"label", "where", "why", "basis", "clocks", "bring", "alternatives",
                           "what", "limit", "start", "legal_aid_scope", "reminder"})
COURT_CHANNELS = frozenset({"judicial_procedure", "litigation", "arbitration",
                            "administrative_review"})


class RulesError(ValueError):
    """The rules file is inconsistent; the message names the offending place."""


@dataclass(frozen=True)
class Clock:
    """A running statutory time limit: ``{start}{limit}内{what}`` (basis)."""

    what: str
    limit: str
    start: str
    basis: Tuple[str, ...]

    @property
    def petition_only(self) -> bool:
        """A clock of the petition procedure itself (复查, 复核)."""
        return all(c.startswith("《信访工作条例》") for c in self.basis)

    def text(self) -> str:
        return f"{self.start}{self.limit}内{self.what}"


@dataclass(frozen=True)
class Decision:
    """Where a matter belongs. Texts hold ``{placeholders}`` until ``fill``/``render``."""

    channel: str
    alternatives: Tuple[str, ...]
    where: str
    why: str
    basis: Tuple[str, ...]
    clocks: Tuple[Clock, ...]
    bring: str
    offer_lawyer: bool
    offer_legal_aid: bool = False
    legal_aid_scope: str = ""
    matter_type: str = ""
    stage: Optional[str] = None
    modifiers: Tuple[str, ...] = ()
    label: str = ""

    @property
    def channels(self) -> Tuple[str, ...]:
        """The channel first, then the alternatives."""
        return (self.channel,) + self.alternatives

    @property
    def deadline(self) -> Optional[str]:
        """The running clocks as one sentence, or None where no statutory clock runs."""
        if not self.clocks:
            return None
        return "；".join(f"{c.text()}（{join_basis(c.basis)}）" for c in self.clocks)

    def fill(self, facts: Mapping[str, str]) -> "Decision":
        """A copy with the placeholders of every text filled from ``facts``."""
        return replace(self, **{name: fill(getattr(self, name), facts) for name in TEXT_FIELDS})

    def to_dict(self) -> Dict[str, Any]:
        data = asdict(self)
        for name in ("alternatives", "basis", "modifiers"):
            data[name] = list(data[name])
        data["clocks"] = [dict(c, basis=list(c["basis"])) for c in data["clocks"]]
        return data


@dataclass(frozen=True)
class StageButton:
    title: str
    stage: str


@dataclass(frozen=True)
class StageQuestion:
    text: str
    buttons: Tuple[StageButton, ...]


# --------------------------------------------------------------------------- placeholders ----

class _Strict(dict):
    def __missing__(self, key: str) -> str:
        raise KeyError(f"no value for placeholder {{{key}}}")


def placeholders(template: Optional[str]) -> List[str]:
    """The ``{names}`` used by a template."""
    if not template:
        return []
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


def join_basis(basis: Sequence[str]) -> str:
    """《信访工作条例》第二十八条、第三十一条；《人民调解法》 -- consecutive articles of one law
    share its title."""
    parts: List[str] = []
    last_law = None
    for citation in basis:
        match = re.match(r"^(《[^》]+》)(.*)$", citation)
        law, rest = (match.group(1), match.group(2)) if match else (None, citation)
        if law == last_law and rest and parts:
            parts[-1] += "、" + rest
        else:
            parts.append(citation)
        last_law = law if rest else None
    return "；".join(parts)


def fill(template: str, facts: Mapping[str, str]) -> str:
    """Fill ``{placeholders}``; a missing value raises KeyError instead of leaking braces."""
    return template.format_map(_Strict(facts))


# --------------------------------------------------------------------------- rules ----------

@dataclass
class MatterRules:
    name: str
    label: str
    ask_stage: bool
    legal_aid: str                 # the 法律援助法 Art. 31 claims this matter covers; "" = none
    ignore_stages: bool
    ignore_situations: Tuple[str, ...]
    stage_buttons: Tuple[str, ...]
    default: Dict[str, Any]
    stages: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    modifiers: Dict[str, Dict[str, Dict[str, Any]]] = field(default_factory=dict)


@dataclass
class SituationRules:
    name: str
    title: str
    default: Dict[str, Any]                                   # complete
    stages: Dict[str, Dict[str, Any]] = field(default_factory=dict)   # partial, by stage
    legal_aid: Optional[str] = None   # replaces the matter's legal-aid scope when given
    label: Optional[str] = None       # replaces the matter's label when given
    yields_to: Tuple[str, ...] = ()   # stages at which the stage's own rule stays in force


MATTER_KEYS = {"label", "ask_stage", "legal_aid", "ignore_stages", "ignore_situations",
               "stage_buttons", "default", "stages", "modifiers"}


class TriageRules:
    """The loaded, validated rules file."""

    def __init__(self, data: Mapping[str, Any], allowed: Optional[AllowList] = None,
                 source: str = "rules.yml") -> None:
        self.source = source
        self.allowed = allowed or allow_list()
        self.raw = data
        self._load(data)
        self.validate()

    # -- loading --
    def _err(self, where: str, message: str) -> RulesError:
        return RulesError(f"{self.source}: {where}: {message}")

    def _load(self, data: Mapping[str, Any]) -> None:
        for key in ("stages", "modifiers", "stage_precedence", "stage_question", "texts",
                    "channel_names", "insist_basis", "defaults_by_stage", "situations",
                    "matters"):
            if key not in data:
                raise self._err(key, "missing section")
        self.stage_titles = {s: spec["title"] for s, spec in data["stages"].items()}
        self.modifier_titles = {m: spec["title"] for m, spec in data["modifiers"].items()}
        self.precedence: Tuple[str, ...] = tuple(data["stage_precedence"])
        question = data["stage_question"]
        self.question_text: str = question["text"]
        self.question_buttons: Tuple[str, ...] = tuple(question["buttons"])
        self.none_answers: Tuple[str, ...] = tuple(question.get("none_answers", []))
        self.unknown_answers: Tuple[str, ...] = tuple(question.get("unknown_answers", []))
        self.texts: Dict[str, str] = dict(data["texts"])
        self.channel_names: Dict[str, str] = dict(data["channel_names"])
        self.insist_basis: Dict[str, Tuple[str, ...]] = {
            key: tuple(value) for key, value in data["insist_basis"].items()}
        self.defaults_by_stage: Dict[str, Dict[str, Any]] = dict(data["defaults_by_stage"])
        self.situations: Dict[str, SituationRules] = {}
        for name, spec in (data["situations"] or {}).items():
            self.situations[name] = SituationRules(
                name=name, title=self.modifier_titles.get(name, name),
                default=dict(spec.get("default") or {}),
                stages={k: dict(v) for k, v in (spec.get("stages") or {}).items()},
                legal_aid=spec.get("legal_aid"),
                label=spec.get("label"),
                yields_to=tuple(spec.get("yields_to") or ()),
            )
        self.matters: Dict[str, MatterRules] = {}
        for name, spec in data["matters"].items():
            unknown_keys = set(spec) - MATTER_KEYS
            if unknown_keys:
                raise self._err(f"matters.{name}", f"unknown keys {sorted(unknown_keys)}")
            if "default" not in spec or "ask_stage" not in spec or "label" not in spec:
                raise self._err(f"matters.{name}", "needs label, ask_stage and default")
            legal_aid = spec.get("legal_aid") or ""
            if not isinstance(legal_aid, str):
                raise self._err(f"matters.{name}.legal_aid",
                                "name the claims of 《法律援助法》第三十一条 this matter covers")
            self.matters[name] = MatterRules(
                name=name,
                label=spec["label"],
                ask_stage=bool(spec["ask_stage"]),
                legal_aid=legal_aid,
                ignore_stages=bool(spec.get("ignore_stages", False)),
                ignore_situations=tuple(spec.get("ignore_situations", ())),
                stage_buttons=tuple(spec.get("stage_buttons", self.question_buttons)),
                default=dict(spec["default"]),
                stages={k: dict(v) for k, v in (spec.get("stages") or {}).items()},
                modifiers={m: {k: dict(v) for k, v in (by_stage or {}).items()}
                           for m, by_stage in (spec.get("modifiers") or {}).items()},
            )

    # -- validation --
    def validate(self) -> None:
        if tuple(self.stage_titles) != STAGES:
            raise self._err("stages", f"must be exactly {list(STAGES)}")
        if tuple(self.modifier_titles) != MODIFIERS:
            raise self._err("modifiers", f"must be exactly {list(MODIFIERS)}")
        if sorted(self.precedence) != sorted(STAGES):
            raise self._err("stage_precedence", "must list every stage once")
        if set(self.matters) != set(MATTER_TYPES):
            missing = sorted(set(MATTER_TYPES) - set(self.matters))
            extra = sorted(set(self.matters) - set(MATTER_TYPES))
            raise self._err("matters", f"missing {missing}, unknown {extra}")
        if set(self.situations) != set(SITUATIONS):
            raise self._err("situations", f"must be exactly {sorted(SITUATIONS)}")
        if set(self.channel_names) != set(CHANNELS):
            raise self._err("channel_names", "needs a name for every contract channel")
        if set(self.insist_basis) != {"judicial", "statutory"}:
            raise self._err("insist_basis", "needs `judicial` and `statutory`")
        for stage in self.question_buttons:
            self._check_stage(stage, "stage_question.buttons")
        if set(self.defaults_by_stage) != set(STAGES) - {"none"}:
            raise self._err("defaults_by_stage", "needs every stage except none")
        for stage, layer in self.defaults_by_stage.items():
            self._check_layer(layer, f"defaults_by_stage.{stage}", complete=True)
        for name, situation in self.situations.items():
            here = f"situations.{name}"
            self._check_layer(situation.default, f"{here}.default", complete=True)
            for stage, layer in situation.stages.items():
                self._check_stage(stage, f"{here}.stages")
                self._check_layer(layer, f"{here}.stages.{stage}", complete=False)
            for stage in situation.yields_to:
                self._check_stage(stage, f"{here}.yields_to")
                if stage in situation.stages:
                    raise self._err(here, f"{stage} is both yielded to and overridden")
        for name, matter in self.matters.items():
            here = f"matters.{name}"
            self._check_layer(matter.default, f"{here}.default", complete=True)
            for situation in matter.ignore_situations:
                if situation not in SITUATIONS:
                    raise self._err(f"{here}.ignore_situations", f"unknown {situation!r}")
            for stage in matter.stage_buttons:
                self._check_stage(stage, f"{here}.stage_buttons")
            for stage, layer in matter.stages.items():
                self._check_stage(stage, f"{here}.stages")
                self._check_layer(layer, f"{here}.stages.{stage}", complete=False)
            for modifier, by_stage in matter.modifiers.items():
                if modifier not in MATTER_MODIFIERS:
                    raise self._err(f"{here}.modifiers", f"unknown modifier {modifier!r}")
                for stage, layer in by_stage.items():
                    if stage != UNKNOWN:
                        self._check_stage(stage, f"{here}.modifiers.{modifier}")
                    self._check_layer(layer, f"{here}.modifiers.{modifier}.{stage}",
                                      complete=False)
        # Every combination resolves to a coherent decision whose texts cite their basis, and
        # every sentence that cites an article says what that article says.
        for decision in self.all_decisions():
            here = f"{decision.matter_type}/{decision.stage}/{','.join(decision.modifiers)}"
            if decision.channel in decision.alternatives:
                raise self._err(here, "the channel is repeated among the alternatives")
            self._check_inline(decision.basis, [getattr(decision, f) for f in TEXT_FIELDS], here)
            for clock in decision.clocks:
                for citation in clock.basis:
                    self._check_clock_claim(citation, clock, here)
            if decision.offer_legal_aid:
                self._check_inline(("《法律援助法》第三十一条",),
                                   [self.legal_aid_text(decision)], f"{here}.legal_aid")
        for key, text in self.texts.items():
            if key.startswith("insist_"):
                kind = key[len("insist_"):]
                self._check_inline(self.insist_basis[kind], [text], f"texts.{key}")
            elif key in ("legal_aid",):
                continue   # checked per decision above, with its scope filled in
            elif list(self.allowed.inline(text)):
                raise self._err(f"texts.{key}", "only texts.insist_* and texts.legal_aid "
                                "may cite articles")
        for kind, basis in self.insist_basis.items():
            for citation in basis:
                self._check_citation(citation, f"insist_basis.{kind}")

    def _check_stage(self, stage: str, where: str) -> None:
        if stage not in STAGES:
            raise self._err(where, f"unknown stage {stage!r}")

    def _check_citation(self, citation: str, where: str) -> None:
        try:
            self.allowed.parse(citation)
        except CitationError as exc:
            raise self._err(where, str(exc)) from None

    def _check_clock_claim(self, citation: str, clock: Clock, where: str) -> None:
        parsed = self.allowed.parse(citation)
        if not self.allowed.supports(parsed, clock.text()):
            raise self._err(where, f"the clock “{clock.text()}” cites {citation}, which says: "
                            f"{self.allowed.says.get(parsed)}")

    def _check_layer(self, layer: Mapping[str, Any], where: str, complete: bool) -> None:
        unknown = set(layer) - set(FIELDS)
        if unknown:
            raise self._err(where, f"unknown fields {sorted(unknown)}")
        if complete and set(layer) != set(FIELDS):
            raise self._err(where, f"missing fields {sorted(set(FIELDS) - set(layer))}")
        if "channel" in layer and layer["channel"] not in CHANNELS:
            raise self._err(where, f"channel {layer['channel']!r} is not a contract value")
        for alt in layer.get("alternatives", []) or []:
            if alt not in CHANNELS:
                raise self._err(where, f"alternative {alt!r} is not a contract value")
        if "basis" in layer:
            if not layer["basis"]:
                raise self._err(where, "a rule needs at least one basis")
            for citation in layer["basis"]:
                self._check_citation(citation, f"{where}.basis")
        for name in TEXT_FIELDS:
            if name in layer and not (isinstance(layer[name], str) and layer[name].strip()):
                raise self._err(where, f"{name} must be a non-empty text")
        if "clocks" in layer:
            if not isinstance(layer["clocks"], list):
                raise self._err(where, "clocks must be a list ([] where no statutory clock runs)")
            for i, clock in enumerate(layer["clocks"]):
                here = f"{where}.clocks[{i}]"
                if not isinstance(clock, dict) or set(clock) != set(CLOCK_FIELDS):
                    raise self._err(here, f"a clock has exactly {list(CLOCK_FIELDS)}")
                if not LIMIT_RE.match(str(clock["limit"])):
                    raise self._err(here, f"limit {clock['limit']!r}: write a number and "
                                    "日/个月/年, e.g. 15日")
                if not clock["basis"]:
                    raise self._err(here, "a clock needs its basis")
                for citation in clock["basis"]:
                    self._check_citation(citation, f"{here}.basis")
        if "offer_lawyer" in layer and not isinstance(layer["offer_lawyer"], bool):
            raise self._err(where, "offer_lawyer must be true or false")

    def _check_inline(self, basis: Sequence[str], texts: Iterable[Optional[str]],
                      where: str) -> None:
        cited = {self.allowed.parse(c) for c in basis}
        for text in texts:
            if not text:
                continue
            try:
                named = self.allowed.check_claims(text)
            except CitationError as exc:
                raise self._err(where, f"{exc}") from None
            for citation in named:
                if citation not in cited:
                    raise self._err(where, f"the text cites "
                                    f"{citation_text(citation.law, citation.article)} "
                                    f"but the basis does not")

    # -- resolution --
    def decide(self, matter_type: str, stage: Optional[str] = None,
               modifiers: Iterable[str] = ()) -> Decision:
        try:
            matter = self.matters[matter_type]
        except KeyError:
            raise ValueError(f"unknown matter type {matter_type!r}") from None
        if stage is not None and stage not in STAGES:
            raise ValueError(f"unknown stage {stage!r}")
        given = {modifiers} if isinstance(modifiers, str) else set(modifiers or ())
        unknown_mods = given - set(MODIFIERS)
        if unknown_mods:
            raise ValueError(f"unknown modifiers {sorted(unknown_mods)}")
        if NO_CLAUSE in given:
            given.discard("arbitration_clause")
        modifiers = tuple(m for m in MODIFIERS if m in given)
        layers: List[Mapping[str, Any]] = [matter.default]
        legal_aid, label = matter.legal_aid, matter.label
        if not matter.ignore_stages:
            if stage is not None and stage != "none":
                layers.append(self.defaults_by_stage[stage])
            if stage is not None and stage in matter.stages:
                layers.append(matter.stages[stage])
            for modifier in modifiers:
                by_stage = matter.modifiers.get(modifier, {})
                key = stage if stage is not None else UNKNOWN
                if key in by_stage:
                    layers.append(by_stage[key])
        for name in SITUATIONS:
            situation = self.situations[name]
            if (name in modifiers and name not in matter.ignore_situations
                    and stage not in situation.yields_to):
                layers.append(situation.default)
                if stage in situation.stages:
                    layers.append(situation.stages[stage])
                if situation.legal_aid is not None:
                    legal_aid = situation.legal_aid
                label = situation.label or label
        merged: Dict[str, Any] = {}
        for layer in layers:
            merged.update(layer)
        return Decision(
            channel=merged["channel"],
            alternatives=tuple(merged["alternatives"] or ()),
            where=merged["where"],
            why=merged["why"],
            basis=tuple(merged["basis"]),
            clocks=tuple(Clock(c["what"], str(c["limit"]), c["start"], tuple(c["basis"]))
                         for c in merged["clocks"]),
            bring=merged["bring"],
            offer_lawyer=bool(merged["offer_lawyer"]),
            offer_legal_aid=bool(legal_aid),
            legal_aid_scope=legal_aid,
            matter_type=matter_type,
            stage=stage,
            modifiers=modifiers,
            label=label,
        )

    def all_decisions(self) -> List[Decision]:
        """Every (matter, stage or unknown, with and without each modifier) decision."""
        out = []
        for matter in MATTER_TYPES:
            for stage in (None,) + STAGES:
                for mods in ((),) + tuple((m,) for m in MODIFIERS):
                    out.append(self.decide(matter, stage, mods))
        return out

    def needs_stage_question(self, matter_type: str, stage: Optional[str]) -> bool:
        if matter_type not in self.matters:
            raise ValueError(f"unknown matter type {matter_type!r}")
        return self.matters[matter_type].ask_stage and stage is None

    def stage_question(self, matter_type: Optional[str] = None) -> StageQuestion:
        stages = (self.matters[matter_type].stage_buttons if matter_type
                  else self.question_buttons)
        return StageQuestion(self.question_text,
                             tuple(StageButton(self.stage_titles[s], s) for s in stages))

    def pick_stage(self, values: Iterable[Optional[str]]) -> Tuple[Optional[str], Tuple[str, ...]]:
        """One stage (the furthest along) and the modifiers, from extracted entity values."""
        values = [v for v in values if v]
        stages = [v for v in values if v in STAGES]
        modifiers = tuple(m for m in MODIFIERS if m in values)
        stage = min(stages, key=self.precedence.index) if stages else None
        return stage, modifiers

    # -- texts --
    def legal_aid_text(self, decision: Decision) -> str:
        return self.texts["legal_aid"].replace("{legal_aid_scope}", decision.legal_aid_scope)

    def render(self, decision: Decision, facts: Mapping[str, str]) -> str:
        """The answer: running clocks first, then where, why, basis, other roads, what to bring."""
        filled = decision.fill(facts)
        alternatives = "；".join(self.channel_names[c] for c in decision.alternatives)
        values = dict(facts, label=decision.label, where=filled.where, why=filled.why,
                      basis=join_basis(decision.basis), bring=filled.bring,
                      alternatives=alternatives)
        t = self.texts
        lines = [fill(t["intro"], values)]
        if decision.clocks:
            lines.append(fill(t["clocks"], values))
            for clock in decision.clocks:
                lines.append(fill(t["clock"], dict(values, what=clock.what, limit=clock.limit,
                                                   start=clock.start,
                                                   basis=join_basis(clock.basis))))
            if not all(clock.petition_only for clock in decision.clocks):
                lines.append(fill(t["not_a_substitute"], values))
        lines += [fill(t["where"], values), fill(t["why"], values), fill(t["basis"], values)]
        if decision.alternatives:
            lines.append(fill(t["alternatives"], values))
        lines.append(fill(t["bring"], values))
        if decision.offer_lawyer:
            lines.append(fill(t["lawyer"], values))
        if decision.offer_legal_aid:
            lines.append(fill(self.legal_aid_text(decision), values))
        return "\n".join(lines)

    def insist_kind(self, decision: Decision) -> str:
        """诉访分离 (Art. 28) is for matters in court, procuratorate or police procedure; other
        matters with a statutory road are 依法分类处理 (Art. 31)."""
        return "judicial" if decision.channel == "judicial_procedure" else "statutory"

    def render_insist(self, decision: Decision, facts: Mapping[str, str]) -> str:
        """The respectful explanation for a citizen who insists on petitioning."""
        filled = decision.fill(facts)
        kind = self.insist_kind(decision)
        values = dict(facts, label=decision.label, where=filled.where, why=filled.why,
                      basis=join_basis(self.insist_basis[kind]), bring=filled.bring)
        reminder = ""
        if decision.clocks:
            first = decision.clocks[0]
            reminder = fill(self.texts["clock_reminder"], dict(
                values, what=first.what, limit=first.limit, start=first.start))
        return fill(self.texts[f"insist_{kind}"], dict(values, reminder=reminder))

    def render_text(self, key: str, facts: Mapping[str, str]) -> str:
        """Any other text of the `texts` section (e.g. ``more_matters``, ``lawyer``)."""
        return fill(self.texts[key], facts)


def load_rules(path: Path | str = RULES_PATH, allowed: Optional[AllowList] = None) -> TriageRules:
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    return TriageRules(data, allowed, source=str(path))


@lru_cache(maxsize=1)
def get_rules() -> TriageRules:
    """The rules of this process, read and validated once."""
    return load_rules()


# --------------------------------------------------------------------------- module API ----

def decide(matter_type: str, stage: Optional[str] = None,
           modifiers: Iterable[str] = ()) -> Decision:
    """Where the matter belongs. ``stage`` None means the stage is not known."""
    return get_rules().decide(matter_type, stage, modifiers)


def needs_stage_question(matter_type: str, stage: Optional[str]) -> bool:
    """True when the assistant must ask the one stage question before deciding."""
    return get_rules().needs_stage_question(matter_type, stage)


def stage_question(matter_type: Optional[str] = None) -> StageQuestion:
    return get_rules().stage_question(matter_type)


def pick_stage(values: Iterable[Optional[str]]) -> Tuple[Optional[str], Tuple[str, ...]]:
    """From all `matter_stage` entity values of a message: (stage or None, modifiers)."""
    return get_rules().pick_stage(values)


def stage_from_text(text: str) -> Tuple[Optional[str], Tuple[str, ...]]:
    """The stage and modifiers the lookup table finds in a message (as Rasa would)."""
    return pick_stage(get_lexicon().values(text))


def stage_from_answer(text: str) -> Optional[str]:
    """Read a typed answer to the stage question: 没有 -> none, 判了但是不执行 -> not_enforced.

    Returns None when the answer does not tell (不知道, 是的 ...): decide with stage None then.
    """
    rules = get_rules()
    answer = normalise_answer(text)
    for title_stage, title in rules.stage_titles.items():   # a button's title, typed
        if answer == normalise_answer(title):
            return title_stage
    stage, _ = stage_from_text(text)
    if stage:
        return stage
    if any(answer.startswith(u) for u in rules.unknown_answers):
        return None
    if answer and any(answer.startswith(n) for n in rules.none_answers):
        return "none"
    return None


def render(decision: Decision, facts: Mapping[str, str]) -> str:
    """The citizen-facing answer: where to go, why and basis, deadline, what to bring."""
    return get_rules().render(decision, facts)


def render_insist(decision: Decision, facts: Mapping[str, str]) -> str:
    """The respectful 诉访分离 explanation (Art. 28, 31) with the lawyer offer."""
    return get_rules().render_insist(decision, facts)


def insist_applies(decision: Decision) -> bool:
    """Whether the 诉访分离 explanation fits (the matter belongs to a legal procedure)."""
    return decision.channel in COURT_CHANNELS
