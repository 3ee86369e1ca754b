"""Every reply the triage can give, rendered as a citizen would read it, and held to §11 and §12 of
domain.md: no unfilled placeholder, every article cited is on the allow-list and says what its
sentence claims, no 2005 numbering, the running clock first with its number, the other roads named.
"""

from __future__ import annotations

import itertools

import pytest

from actions.bureau import get_config
from actions.triage import engine
from actions.triage.citations import allow_list

RULES = engine.get_rules()
FACTS = get_config().template_values()


def _reachable_decisions():
    """Every matter × stage (or unknown) × no modifier, one modifier, or two situations."""
    modifier_sets = [()] + [(m,) for m in engine.MODIFIERS] + [
        pair for pair in itertools.combinations(engine.SITUATIONS, 2)]
    for matter in engine.MATTER_TYPES:
        for stage in (None,) + engine.STAGES:
            for modifiers in modifier_sets:
                yield RULES.decide(matter, stage, modifiers)


DECISIONS = list(_reachable_decisions())


def _replies():
    for decision in DECISIONS:
        yield decision, engine.render(decision, FACTS)
        if engine.insist_applies(decision):
            yield decision, engine.render_insist(decision, FACTS)


def _claim_lines(text: str):
    """The lines that make claims: the 依据 line only lists the basis."""
    return [line for line in text.splitlines() if not line.startswith("依据：")]


def test_every_reachable_reply_is_sound():
    allowed = allow_list()
    checked = 0
    problems = []
    for decision, text in _replies():
        where = f"{decision.matter_type}/{decision.stage}/{'+'.join(decision.modifiers)}"
        if "{" in text or "}" in text:
            problems.append(f"{where}: unfilled placeholder")
        if "《信访条例》" in text:
            problems.append(f"{where}: 2005 regulation")
        for line in _claim_lines(text):
            try:
                allowed.check_claims(line)
            except ValueError as exc:
                problems.append(f"{where}: {exc}")
        checked += 1
    print(f"\ntriage replies checked: {checked} ({len(DECISIONS)} decisions)")
    assert checked > 3000
    assert not problems, "\n".join(problems[:20])


def test_the_running_clock_comes_first_with_its_number():
    for decision in DECISIONS:
        text = engine.render(decision, FACTS)
        if not decision.clocks:
            assert "先看期限" not in text
            continue
        first = decision.clocks[0]
        assert f"{first.limit}内" in text
        assert text.index(f"{first.limit}内") < text.index("去哪里办："), decision
        if not all(clock.petition_only for clock in decision.clocks):
            assert "期限不会因为信访而停下" in text, decision


def test_the_other_roads_are_always_shown():
    for decision in DECISIONS:
        text = engine.render(decision, FACTS)
        for alternative in decision.alternatives:
            assert RULES.channel_names[alternative] in text, (decision, alternative)


@pytest.mark.parametrize("matter, stage, modifiers, must, must_not", [
    # a first-instance judgment: appeal in 15 days, not retrial
    ("house_refund", "first_instance", (), ["上诉", "15日"], ["申请再审"]),
    # won but not paid: enforcement in 2 years, not retrial
    ("wage_arrears", "not_enforced", (), ["强制执行", "2年"], ["申请再审"]),
    ("civil_dispute", "not_enforced", (), ["强制执行", "2年"], ["申请再审"]),
    # a labour award the worker disagrees with: suit in 15 days; set aside is the employer's
    ("labor_dispute", "award_received", (), ["起诉", "15日", "用人单位", "30日"], []),
    # review first: no direct suit
    ("admin_decision", "decision_received", ("review_first",), ["先申请行政复议", "60日"],
     ["直接向法院提起行政诉讼"]),
    # a criminal case the police refuse: reconsideration, then the procuratorate
    ("court_case", "police_refused", (), ["申请复议", "7日", "检察院"], []),
    # public-order inaction: review first
    ("civil_dispute", "police_inaction", (), ["行政复议", "60日"], []),
    # domestic violence: 110, 告诫书, protection order, never mediation first
    ("civil_dispute", None, ("domestic_violence",), ["告诫书", "人身安全保护令"], ["免费调解"]),
    # party sanction: party appeal, not administrative review
    ("admin_decision", "decision_received", ("party_sanction",), ["申诉", "复审"],
     ["申请行政复议"]),
    # a 复查 opinion: 复核 in 30 days
    ("land_expropriation", "recheck_answered", (), ["复核", "30日"], []),
])
def test_the_roads_issue_10_found_wrong(matter, stage, modifiers, must, must_not):
    text = engine.render(RULES.decide(matter, stage, modifiers), FACTS)
    for word in must:
        assert word in text, word
    for word in must_not:
        assert word not in text, word
