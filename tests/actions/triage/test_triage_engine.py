"""Unit tests of the triage engine (actions/triage): plain Python, no Rasa."""

from __future__ import annotations

import copy

import pytest
import yaml

from actions.bureau import get_config
from actions.triage import engine
from actions.triage.citations import CitationError, allow_list, cn_to_int, int_to_cn
from actions.triage.engine import (
    RULES_PATH,
    Decision,
    RulesError,
    TriageRules,
    decide,
    insist_applies,
    needs_stage_question,
    pick_stage,
    render,
    render_insist,
    stage_from_answer,
    stage_from_text,
    stage_question,
)


@pytest.fixture(scope="module")
def facts():
    return get_config().template_values()


@pytest.fixture()
def raw_rules():
    with open(RULES_PATH, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


# --- decide -----------------------------------------------------------------------------------

@pytest.mark.parametrize("matter, stage, modifiers, channel", [
    ("wage_arrears", None, (), "law_enforcement"),
    ("wage_arrears", "none", (), "law_enforcement"),
    ("wage_arrears", "arbitration_pending", (), "arbitration"),
    ("land_expropriation", "review_pending", (), "administrative_review"),
    ("wage_arrears", "not_enforced", (), "judicial_procedure"),
    ("wage_arrears", "police_refused", (), "law_enforcement"),
    ("labor_dispute", "none", (), "arbitration"),
    ("labor_dispute", "decision_received", (), "administrative_review"),
    ("housing_delivery", "none", (), "litigation"),
    ("housing_delivery", "none", ("arbitration_clause",), "arbitration"),
    ("housing_delivery", None, ("arbitration_clause",), "arbitration"),
    ("housing_delivery", "in_court", ("arbitration_clause",), "judicial_procedure"),
    ("house_refund", "judged", (), "judicial_procedure"),
    ("land_expropriation", "decision_received", (), "administrative_review"),
    ("land_expropriation", "petition_answered", (), "petition"),
    ("resettlement", None, (), "administrative_review"),
    ("court_case", None, (), "judicial_procedure"),
    ("court_case", "none", (), "litigation"),
    ("admin_decision", None, (), "administrative_review"),
    ("admin_decision", "in_court", (), "judicial_procedure"),
    ("official_misconduct", None, (), "discipline_inspection"),
    ("official_misconduct", "judged", (), "discipline_inspection"),
    ("civil_dispute", None, (), "mediation"),
    ("civil_dispute", None, ("arbitration_clause",), "arbitration"),
    ("civil_dispute", "not_enforced", (), "judicial_procedure"),
    ("consumer", None, (), "law_enforcement"),
    ("environment", None, (), "law_enforcement"),
    ("environment", "police_refused", (), "law_enforcement"),
    ("medical", None, (), "mediation"),
    ("medical", "in_court", (), "judicial_procedure"),
    ("suggestion", None, (), "petition"),
    ("suggestion", "not_enforced", (), "petition"),     # ignore_stages
    ("suggestion", None, ("domestic_violence",), "petition"),   # ignore_situations
    # the roads issue 10 found wrong
    ("court_case", "first_instance", (), "judicial_procedure"),
    ("wage_arrears", "award_received", (), "litigation"),
    ("labor_dispute", "award_received", (), "litigation"),
    ("labor_dispute", None, (), "arbitration"),
    ("civil_dispute", "not_enforced", (), "judicial_procedure"),
    ("civil_dispute", None, ("domestic_violence",), "law_enforcement"),
    ("civil_dispute", "none", ("domestic_violence", "divorce"), "law_enforcement"),
    ("civil_dispute", None, ("divorce",), "litigation"),
    ("admin_decision", "decision_received", ("party_sanction",), "party_appeal"),
    ("official_misconduct", "decision_received", ("party_sanction",), "party_appeal"),
    ("official_misconduct", "decision_received", (), "discipline_inspection"),
    ("social_security", None, ("agency_act",), "administrative_review"),
    ("admin_decision", "decision_received", ("review_first",), "administrative_review"),
    ("admin_decision", "police_inaction", (), "administrative_review"),
    ("court_case", "police_refused", (), "judicial_procedure"),
    ("housing_delivery", "none", ("arbitration_clause", "no_arbitration_clause"), "litigation"),
    ("land_expropriation", "recheck_answered", (), "petition"),
    ("utilities", None, (), "law_enforcement"),
    ("school_enrollment", None, (), "administrative_review"),
    ("social_security", "decision_received", (), "administrative_review"),
])
def test_decide_channel(matter, stage, modifiers, channel):
    decision = decide(matter, stage, modifiers)
    assert isinstance(decision, Decision)
    assert decision.channel == channel
    assert decision.matter_type == matter and decision.stage == stage


def test_decision_carries_every_field():
    decision = decide("wage_arrears", "none")
    assert decision.alternatives == ("arbitration", "litigation")
    assert decision.channels[0] == "law_enforcement"
    assert "《劳动争议调解仲裁法》第二十七条" in decision.basis
    assert "1年" in decision.deadline and decision.clocks[0].limit == "1年"
    assert decision.bring and decision.where and decision.why
    assert decision.offer_lawyer is True and decision.offer_legal_aid is True
    data = decision.to_dict()
    assert data["alternatives"] == ["arbitration", "litigation"]
    assert isinstance(data["basis"], list)
    assert data["clocks"][0]["basis"] == ["《劳动争议调解仲裁法》第二十七条"]


def test_partial_override_keeps_the_other_fields():
    # labor_dispute.stages.police_refused only sets the alternatives: texts and clocks come from
    # defaults_by_stage.
    refused = decide("labor_dispute", "police_refused")
    assert refused.alternatives == ("arbitration",)
    assert refused.where == decide("housing_delivery", "police_refused").where
    assert refused.clocks == decide("housing_delivery", "police_refused").clocks
    assert refused.channel == "judicial_procedure"


def test_review_deadlines_use_2022_articles_and_the_named_laws():
    decision = decide("admin_decision", None)
    assert "60日" in decision.deadline and "6个月" in decision.deadline
    assert "《行政复议法》第二十条" in decision.basis
    assert "《行政诉讼法》第四十六条" in decision.basis
    answered = decide("resettlement", "petition_answered")
    assert "30日" in answered.deadline
    assert {"《信访工作条例》第三十五条", "《信访工作条例》第三十六条"} <= set(answered.basis)


def test_decide_rejects_unknown_values():
    with pytest.raises(ValueError):
        decide("parking", None)
    with pytest.raises(ValueError):
        decide("wage_arrears", "appealed")
    with pytest.raises(ValueError):
        decide("wage_arrears", None, ["contract_clause"])


def test_modifier_given_as_a_string():
    assert decide("house_refund", "none", "arbitration_clause").channel == "arbitration"


# --- the stage question -----------------------------------------------------------------------

@pytest.mark.parametrize("matter, asks", [
    ("housing_delivery", True), ("house_refund", True), ("resettlement", True),
    ("land_expropriation", True), ("wage_arrears", True), ("labor_dispute", True),
    ("utilities", False), ("school_enrollment", False), ("social_security", False),
    ("court_case", False), ("admin_decision", False), ("official_misconduct", False),
    ("civil_dispute", False), ("consumer", False), ("environment", False), ("medical", False),
    ("suggestion", False),
])
def test_needs_stage_question(matter, asks):
    assert needs_stage_question(matter, None) is asks
    # a stated stage never triggers the question
    assert needs_stage_question(matter, "none") is False
    assert needs_stage_question(matter, "judged") is False


def test_stage_question_buttons():
    question = stage_question()
    assert question.text.endswith("？")
    assert [b.stage for b in question.buttons] == [
        "none", "in_court", "first_instance", "judgment_final", "not_enforced",
        "petition_answered"]
    wage = stage_question("wage_arrears")
    assert "not_enforced" in [b.stage for b in wage.buttons]
    for button in wage.buttons:
        # typing a button's title gives the same stage as clicking it
        assert stage_from_answer(button.title) == button.stage


@pytest.mark.parametrize("answer, stage", [
    ("没有", "none"), ("没", "none"), ("还没有呢", "none"), ("都没有，只找过老板", "none"),
    ("没有。", "none"), ("还没走任何程序", "none"), ("没找过任何部门", "none"),
    ("判了但是不执行", "not_enforced"), ("判了，但是对方不执行判决", "not_enforced"),
    ("已经申请仲裁了", "arbitration_pending"), ("申请了劳动仲裁还没结果", "arbitration_pending"),
    ("已经申请行政复议了", "review_pending"),
    ("起诉了", "in_court"), ("正在审理", "in_court"), ("判决生效了", "judgment_final"),
    ("二审维持", "judgment_final"), ("已经信访收到答复", "petition_answered"),
    ("一审判了我不服", "first_instance"), ("复查意见也不满意", "recheck_answered"),
    ("收到处罚决定书", "decision_received"), ("派出所不立案", "police_refused"),
    ("不知道", None), ("不清楚啊", None), ("嗯", None), ("", None),
])
def test_stage_from_answer(answer, stage):
    assert stage_from_answer(answer) == stage


# --- stage extraction -------------------------------------------------------------------------

@pytest.mark.parametrize("text, stage, modifiers", [
    ("还没起诉，想问问怎么办", "none", ()),
    ("已经起诉了，还在等开庭", "in_court", ()),
    ("一审判了，二审维持原判，我想申请再审", "judgment_final", ()),
    ("刚收到一审判决书，我不服", "first_instance", ()),
    ("仲裁裁决了公司不给钱", "not_enforced", ()),
    ("判了但是不执行，对方是老赖", "not_enforced", ()),
    ("法院判了，对方不执行判决", "not_enforced", ()),
    ("我想起诉他", "none", ()),
    ("报警没人管", "police_inaction", ()),
    ("派出所不予立案", "police_refused", ()),
    ("合同里没有仲裁条款，只写了向法院起诉", None, ("no_arbitration_clause",)),
    ("合同约定争议提交市仲裁委员会仲裁", None, ("arbitration_clause",)),
    ("申请了劳动仲裁还没结果", "arbitration_pending", ()),
    ("下了征收决定，我不服", "decision_received", ()),
    ("已经信访收到答复，不满意", "petition_answered", ()),
    ("合同约定仲裁，开发商不交房", None, ("arbitration_clause",)),
    ("合同约定仲裁，已经申请仲裁了", "arbitration_pending", ("arbitration_clause",)),
    ("开发商不交房", None, ()),
    ("去医院复查发现误诊了", None, ()),         # 复查 at a hospital is not a petition review
    ("政府不执行政策", None, ()),               # bare 不执行 is not a court enforcement
    ("还没申请仲裁", "none", ()),               # a negation beats the bare verb
    ("想申请复议", "none", ()),
])
def test_stage_from_text(text, stage, modifiers):
    assert stage_from_text(text) == (stage, modifiers)


def test_pick_stage_takes_the_stage_furthest_along():
    assert pick_stage(["in_court", "judged"]) == ("judged", ())
    assert pick_stage(["judged", "not_enforced"]) == ("not_enforced", ())
    assert pick_stage(["none", "decision_received"]) == ("decision_received", ())
    assert pick_stage(["arbitration_clause"]) == (None, ("arbitration_clause",))
    assert pick_stage([None, "none", "arbitration_clause"]) == ("none", ("arbitration_clause",))
    assert pick_stage([]) == (None, ())


# --- rendering --------------------------------------------------------------------------------

def test_render_fills_the_bureau_facts(facts):
    text = render(decide("wage_arrears", "none"), facts)
    assert "{" not in text and "}" not in text
    assert facts["hotline_human_resources"] in text
    assert facts["lawyer_days"] in text                     # offer_lawyer
    assert facts["hotline_legal_services"] in text          # legal aid
    assert "依据：" in text and "第二十七条" in text
    assert "先看期限" in text and "带上材料：" in text
    # the running clock comes before everything else of substance
    assert text.index("1年") < text.index("去哪里办：")
    assert "信访不能代替" in text


def test_render_without_deadline_or_lawyer(facts):
    text = render(decide("suggestion", None), facts)
    assert "先看期限" not in text and "信访不能代替" not in text
    assert facts["lawyer_days"] not in text
    assert "第二十九条" in text
    assert facts["online_url"] in text


def test_render_follows_the_configuration(facts):
    changed = dict(facts, hotline_environment="99999", lawyer_days="每周二")
    text = render(decide("environment", None), changed)
    assert "99999" in text and facts["hotline_environment"] not in text
    assert "每周二" in render(decide("medical", None), changed)


def test_render_fails_loudly_on_a_missing_fact(facts):
    incomplete = {k: v for k, v in facts.items() if k != "hotline_human_resources"}
    with pytest.raises(KeyError):
        render(decide("wage_arrears", "none"), incomplete)


def test_fill_returns_a_filled_copy(facts):
    decision = decide("court_case", None)
    filled = decision.fill(facts)
    assert "{hotline_legal_services}" in decision.where
    assert facts["hotline_legal_services"] in filled.where and "{" not in filled.where
    assert filled.basis == decision.basis


def test_render_insist_is_respectful_and_cites_28_and_31(facts):
    decision = decide("court_case", "judged")
    text = render_insist(decision, facts)
    assert "第二十八条" in text and "第三十一条" in text
    assert "诉访分离" in text
    assert "理解您的心情" in text
    assert facts["lawyer_days"] in text
    assert "{" not in text
    assert facts["hotline_procuratorate"] in text         # the decision's `where`
    assert insist_applies(decision)
    assert not insist_applies(decide("suggestion", None))


def test_render_insist_on_an_administrative_matter_is_not_called_separation(facts):
    """诉访分离 (Art. 28) is for litigation-rights relief; a school or land matter is 依法分类处理."""
    for matter in ("school_enrollment", "land_expropriation", "resettlement", "admin_decision"):
        text = render_insist(decide(matter, None), facts)
        assert "诉访分离" not in text and "第二十八条" not in text, matter
        assert "依法分类处理" in text and "第三十一条" in text, matter
        assert "期限不会因为信访而停下" in text, matter


def test_after_a_petition_answer_the_other_roads_and_their_clocks_stay(facts):
    for matter in ("land_expropriation", "admin_decision", "wage_arrears", "labor_dispute",
                   "social_security", "resettlement"):
        decision = decide(matter, "petition_answered")
        text = render(decision, facts)
        assert "复查" in text and "30日" in text, matter
        assert decision.alternatives and "也可以走的路" in text, matter
        assert any(not clock.petition_only for clock in decision.clocks), matter
        assert "信访不能代替" in text, matter


def test_domestic_violence_never_sends_to_mediation_first(facts):
    for matter in ("civil_dispute", "court_case", "medical"):
        decision = decide(matter, None, ("domestic_violence",))
        assert decision.channel == "law_enforcement" and "mediation" not in decision.alternatives
        text = render(decision, facts)
        assert text.index(facts["hotline_police"]) < text.index("人身安全保护令")
        assert "告诫书" in text and "不需要先起诉" in text and "不适合先调解" in text


def test_more_matters_text(facts):
    text = engine.get_rules().render_text("more_matters", facts)
    assert "另一件" in text


# --- validation -------------------------------------------------------------------------------

def _load(raw):
    return TriageRules(raw, allow_list(), source="test")


def test_the_shipped_rules_validate(raw_rules):
    rules = _load(raw_rules)
    assert len(rules.all_decisions()) == 17 * (len(engine.STAGES) + 1) * (len(engine.MODIFIERS) + 1)


def test_validation_rejects_a_channel_outside_the_contract(raw_rules):
    raw = copy.deepcopy(raw_rules)
    raw["matters"]["consumer"]["default"]["channel"] = "complaint"
    with pytest.raises(RulesError, match="not a contract value"):
        _load(raw)


def test_validation_rejects_a_2005_citation(raw_rules):
    raw = copy.deepcopy(raw_rules)
    raw["matters"]["suggestion"]["default"]["basis"] = ["《信访条例》第三十三条"]
    with pytest.raises(RulesError, match="superseded"):
        _load(raw)


def test_validation_rejects_an_article_outside_the_allow_list(raw_rules):
    raw = copy.deepcopy(raw_rules)
    raw["matters"]["suggestion"]["default"]["basis"] = ["《信访工作条例》第五十一条"]
    with pytest.raises(RulesError, match="allow-list"):
        _load(raw)


def test_validation_rejects_a_text_citing_outside_its_basis(raw_rules):
    raw = copy.deepcopy(raw_rules)
    raw["matters"]["suggestion"]["default"]["why"] += "受理后一般60日内办结（第三十四条）。"
    with pytest.raises(RulesError, match="basis does not"):
        _load(raw)


def test_validation_rejects_an_article_cited_for_what_it_does_not_say(raw_rules):
    """Art. 28 is 诉访分离, not the procuratorate (domain.md §12)."""
    raw = copy.deepcopy(raw_rules)
    raw["defaults_by_stage"]["police_refused"]["why"] = "不立案的，由检察院依法监督（第二十八条）。"
    raw["defaults_by_stage"]["police_refused"]["basis"].append("《信访工作条例》第二十八条")
    with pytest.raises(RulesError, match="does not say"):
        _load(raw)


def test_validation_rejects_labour_article_53_for_arbitration_before_suit(raw_rules):
    raw = copy.deepcopy(raw_rules)
    raw["matters"]["labor_dispute"]["default"]["why"] = (
        "劳动争议要先申请劳动仲裁，对裁决不服再起诉（《劳动争议调解仲裁法》第五十三条）。")
    with pytest.raises(RulesError, match="does not say"):
        _load(raw)


def test_validation_rejects_a_clock_without_a_number(raw_rules):
    raw = copy.deepcopy(raw_rules)
    raw["matters"]["medical"]["default"]["clocks"] = [
        {"what": "起诉", "limit": "有诉讼时效", "start": "知道之日起",
         "basis": ["《民法典》第一百八十八条"]}]
    with pytest.raises(RulesError, match="limit"):
        _load(raw)


def test_validation_rejects_a_clock_its_article_does_not_set(raw_rules):
    raw = copy.deepcopy(raw_rules)
    raw["matters"]["medical"]["default"]["clocks"] = [
        {"what": "向法院起诉", "limit": "1年", "start": "受到伤害之日起",
         "basis": ["《民法典》第一百八十八条"]}]
    with pytest.raises(RulesError, match="clock"):
        _load(raw)


def test_validation_rejects_a_missing_matter(raw_rules):
    raw = copy.deepcopy(raw_rules)
    del raw["matters"]["medical"]
    with pytest.raises(RulesError, match="medical"):
        _load(raw)


def test_validation_rejects_an_incomplete_default(raw_rules):
    raw = copy.deepcopy(raw_rules)
    del raw["matters"]["medical"]["default"]["bring"]
    with pytest.raises(RulesError, match="missing fields"):
        _load(raw)


def test_validation_rejects_an_unknown_stage_override(raw_rules):
    raw = copy.deepcopy(raw_rules)
    raw["matters"]["medical"]["stages"]["appealed"] = {"alternatives": []}
    with pytest.raises(RulesError, match="unknown stage"):
        _load(raw)


def test_validation_rejects_a_channel_repeated_as_alternative(raw_rules):
    raw = copy.deepcopy(raw_rules)
    raw["matters"]["medical"]["default"]["alternatives"] = ["mediation"]
    with pytest.raises(RulesError, match="repeated"):
        _load(raw)


# --- citations --------------------------------------------------------------------------------

@pytest.mark.parametrize("number", [1, 10, 11, 20, 22, 31, 34, 40, 45, 50, 83, 100, 105, 563])
def test_chinese_numerals_round_trip(number):
    assert cn_to_int(int_to_cn(number)) == number


def test_allow_list_parsing():
    allowed = allow_list()
    assert allowed.parse("《信访工作条例》第三十四条").article == 34
    assert allowed.parse("《信访工作条例》第三十一条第一项").article == 31
    assert allowed.parse("《人民调解法》").article is None
    assert allowed.parse("《中华人民共和国行政复议法》第二十条").law == "行政复议法"
    for bad in ("《信访工作条例》第五十一条", "《行政复议法》第九条", "《行政复议法》",
                "《信访条例》第三十三条", "《治安管理处罚法》第一条", "信访工作条例第三十条"):
        with pytest.raises(CitationError):
            allowed.parse(bad)


def test_inline_articles_continue_the_named_law():
    allowed = allow_list()
    cited = allowed.inline("（《医疗纠纷预防和处理条例》第二十二条、第四十条；第三十一条）")
    assert [(c.law, c.article) for c in cited] == [
        ("医疗纠纷预防和处理条例", 22), ("医疗纠纷预防和处理条例", 40), ("信访工作条例", 31)]
