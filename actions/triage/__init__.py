"""Statutory-channel triage (诉访分离, 依法分类处理): plain Python, no Rasa imports.

    from actions.triage import decide, needs_stage_question, render
    decision = decide("wage_arrears", "not_enforced")
    text = render(decision, get_config().template_values())
"""

from .engine import (
    CHANNELS,
    MATTER_TYPES,
    MODIFIERS,
    STAGES,
    Decision,
    RulesError,
    StageButton,
    StageQuestion,
    TriageRules,
    decide,
    get_lexicon,
    get_rules,
    insist_applies,
    load_rules,
    needs_stage_question,
    pick_stage,
    render,
    render_insist,
    stage_from_answer,
    stage_from_text,
    stage_question,
)

__all__ = [
    "CHANNELS", "MATTER_TYPES", "MODIFIERS", "STAGES", "Decision", "RulesError", "StageButton",
    "StageQuestion", "TriageRules", "decide", "get_lexicon", "get_rules", "insist_applies",
    "load_rules", "needs_stage_question", "pick_stage", "render", "render_insist",
    "stage_from_answer", "stage_from_text", "stage_question",
]
