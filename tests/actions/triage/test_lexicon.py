"""The stage lexicon (actions/triage/lexicon.py over data/nlu/stages.yml): the matcher, the context
rules (negation, follow-ups) and what citizens' sentences are read as.

Written against lexicon values (``get_lexicon().values(text)``), not against engine decisions. The
Rasa-side extractor runs the same code; tests/bot/nlu/test_phrases.py checks that it agrees."""

from __future__ import annotations

import textwrap

import pytest
import yaml

from actions.triage.engine import MODIFIERS, STAGES
from actions.triage.lexicon import (
    STAGES_NLU_PATH,
    ContextRules,
    FollowUp,
    Negation,
    PhraseMatcher,
    get_lexicon,
    load_lexicon,
    read_phrases,
)

LEXICON = get_lexicon()


def values(text):
    return LEXICON.values(text)


# --- the matcher ------------------------------------------------------------------------------

def test_longest_phrase_wins_and_matches_never_overlap():
    matcher = PhraseMatcher({"t": ["起诉", "还没起诉", "判了但是不执行", "判了", "一审判了"]})
    found = matcher.find("还没起诉，上次那个判了但是不执行，一审判了")
    assert [(m.phrase, m.start) for m in found] == [("还没起诉", 0), ("判了但是不执行", 9),
                                                    ("一审判了", 17)]


def test_matching_ignores_case_and_keeps_the_text_as_written():
    matcher = PhraseMatcher({"t": ["打110没人管"]})
    assert [m.phrase for m in PhraseMatcher({"t": ["abc"]}).find("xxABCxx")] == ["ABC"]
    assert [m.phrase for m in matcher.find("打110没人管啊")] == ["打110没人管"]


def test_negation_needs_a_cue_close_before_in_the_same_clause():
    negation = Negation(cues=("没有", "不是"), window=3, breaks="，。",
                        values={"clause": "no_clause"})
    assert negation.applies("合同里没有仲裁条款", 5)
    assert negation.applies("没有写什么仲裁条款", 5)            # 写什么: 3 characters
    assert not negation.applies("没有写的是什么仲裁条款", 7)      # 5 characters: too far
    assert not negation.applies("没有钱，仲裁条款", 4)            # another clause
    assert negation.applies("合同 不是 仲裁条款", 6)               # spaces do not end a clause
    assert not negation.applies("仲裁条款", 0)


def test_context_rules_change_only_the_listed_values():
    rules = ContextRules(
        Negation(cues=("没",), window=2, breaks="，", values={"clause": "no_clause"}),
        (FollowUp(frozenset({"judged"}), ("不给",), 10, "not_enforced"),),
    )
    matcher = PhraseMatcher({"t": ["约定仲裁", "判了"]})
    synonyms = {"约定仲裁": "clause", "判了": "judged"}

    def read(text):
        return [(r.value, r.by_context) for r in read_phrases(text, matcher, synonyms, {"t": rules})]

    assert read("合同没约定仲裁") == [("no_clause", True)]
    assert read("合同约定仲裁") == [("clause", False)]
    assert read("法院判了，他就是不给") == [("not_enforced", True)]
    assert read("他不给钱，法院判了") == [("judged", False)]            # the cue must come after
    assert read("没判了") == [("judged", False)]                          # judged is not negatable
    assert read("法院判了" + "啊" * 11 + "不给") == [("judged", False)]   # beyond the window


def test_context_rules_come_from_the_data(tmp_path):
    """Cues, window and values are read from the stages file: change the data, change the reading."""
    path = tmp_path / "stages.yml"
    path.write_text(textwrap.dedent("""\
        version: "3.1"
        nlu:
        - lookup: matter_stage
          examples: |
            - 仲裁条款
        - synonym: arbitration_clause
          examples: |
            - 仲裁条款
        negation:
          window: 2
          cues: [木有]
          values:
            arbitration_clause: no_arbitration_clause
        """), encoding="utf-8")
    lexicon = load_lexicon(path)
    assert lexicon.values("合同木有仲裁条款") == ["no_arbitration_clause"]
    assert lexicon.values("合同没有仲裁条款") == ["arbitration_clause"]   # 没有 is not a cue here
    assert lexicon.values("木有写这个仲裁条款") == ["arbitration_clause"]  # beyond a window of 2


def test_unknown_rule_keys_are_refused(tmp_path):
    with pytest.raises(ValueError):
        Negation.from_dict({"cues": ["没"], "windw": 3})
    with pytest.raises(ValueError):
        FollowUp.from_dict({"values": ["judged"], "cues": [], "window": 3, "value": "x"})


# --- the stages file --------------------------------------------------------------------------

def test_context_rules_name_known_values_and_every_cue_is_plain_text():
    values_known = set(STAGES) | set(MODIFIERS)
    rules = LEXICON.rules
    assert rules.negation.cues and rules.negation.window > 0
    assert set(rules.negation.values) | set(rules.negation.values.values()) <= values_known
    assert rules.followed_by
    for rule in rules.followed_by:
        assert rule.values <= values_known and rule.value in values_known
        assert "first_instance" not in rule.values    # not in effect: nothing to enforce yet


def test_modifier_phrases_do_not_swallow_stage_phrases():
    """A modifier phrase containing a stage phrase would hide that stage (离婚官司输了 must still
    say judged). The few that do are deliberate: the stage word belongs to the modifier there."""
    deliberate = {"当场开罚单", "处分申诉", "向纪委申诉"}
    for phrase in LEXICON.phrases:
        value = LEXICON.synonyms[phrase]
        if value not in MODIFIERS or phrase in deliberate:
            continue
        for other in LEXICON.phrases:
            if other != phrase and other in phrase and LEXICON.synonyms[other] in STAGES:
                pytest.fail(f"{phrase} ({value}) contains {other} ({LEXICON.synonyms[other]})")


def test_stages_file_sections_are_only_what_rasa_and_the_lexicon_read():
    with open(STAGES_NLU_PATH, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    assert set(data) == {"version", "nlu", "negation", "followed_by"}


# --- what citizens write ----------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    # the arbitration clause, read the right way round
    ("合同里没有仲裁条款", ["no_arbitration_clause"]),
    ("合同里面没有写仲裁条款", ["no_arbitration_clause"]),
    ("合同上根本没写什么仲裁条款", ["no_arbitration_clause"]),
    ("合同里没有约定由仲裁委仲裁", ["no_arbitration_clause"]),
    ("合同未约定仲裁", ["no_arbitration_clause"]),
    ("我们的合同不是仲裁条款那种", ["no_arbitration_clause"]),
    ("合同 没有 仲裁条款", ["no_arbitration_clause"]),
    ("合同只写了向法院起诉", ["no_arbitration_clause"]),
    ("合同约定由法院管辖", ["no_arbitration_clause"]),
    ("合同约定争议提交市仲裁委", ["arbitration_clause"]),
    ("合同写的去仲裁委", ["arbitration_clause"]),
    ("合同上说有纠纷找市仲裁委", ["arbitration_clause"]),
    ("争议由县仲裁委员会仲裁", ["arbitration_clause"]),
    ("签过仲裁协议的", ["arbitration_clause"]),
    ("合同里有仲裁条款", ["arbitration_clause"]),
    ("他没钱，合同约定了仲裁", ["arbitration_clause"]),     # the cue is in another clause
    # judgments: first instance, undetermined, in effect, won but not performed
    ("一审判了我不服", ["first_instance"]),
    ("一审判我输了，判决书刚拿到", ["first_instance", "first_instance"]),
    ("刚收到判决书 想上诉", ["first_instance", "first_instance"]),
    ("判了我不服", ["judged"]),
    ("官司输了", ["judged"]),
    ("二审维持原判", ["judgment_final"]),
    ("二审判了，过了上诉期了", ["judgment_final", "judgment_final"]),
    ("再审被驳回了", ["judgment_final"]),
    ("判了他不给钱", ["not_enforced"]),
    ("抚养费判了他不给", ["not_enforced"]),
    ("仲裁裁决了不给钱", ["not_enforced"]),
    ("法院判了他还我五万，两个月了一分钱没见着", ["not_enforced"]),
    ("调解书上写好每月还三千，还了一次就不还了", ["not_enforced"]),
    ("对方没钱，判了也不给", ["not_enforced"]),
    ("法院判决不给我赔偿，我不服", ["judged"]),                # what the judgment says, not non-payment
    ("仲裁裁决不给加班费 我不服", ["award_received"]),
    # arbitration awards
    ("仲裁输了 不服", ["award_received"]),
    ("裁决书下来了我不服", ["award_received"]),
    ("仲裁结果不公", ["award_received"]),
    # the police
    ("报警了派出所不出警", ["police_inaction"]),
    ("报警了没人管", ["police_inaction"]),
    ("派出所和稀泥", ["police_inaction"]),
    ("派出所不予立案", ["police_refused"]),
    ("公安说是经济纠纷不立案", ["police_refused", "police_refused"]),
    ("报案不受理", ["police_refused"]),
    # petitions
    ("收到了处理意见书 不满意", ["petition_answered"]),
    ("复查意见下来了还是维持", ["recheck_answered"]),
    ("复查结果不满意", ["recheck_answered"]),
    # administrative acts
    ("交警当场罚款两百", ["review_first"]),
    ("林地确权的决定我们不服", ["review_first"]),
    ("申请信息公开他们说不予公开", ["review_first", "review_first"]),
    ("税务局让补税", ["review_first"]),
    ("收到处罚决定书", ["decision_received"]),
    # the citizen's own disciplinary sanction; an agency's own decision
    ("我被开除党籍了", ["party_sanction"]),
    ("给了我党内警告处分", ["party_sanction"]),
    ("社保局算的养老金少了", ["agency_act"]),
    ("医保不给报销", ["agency_act"]),
    ("低保被取消了", ["agency_act"]),
    # family
    ("我老公经常打我 怎么办", ["domestic_violence"]),
    ("他又动手了", ["domestic_violence"]),
    ("人身安全保护令怎么申请", ["domestic_violence"]),
    ("要离婚他不同意", ["divorce"]),
    ("离婚官司输了", ["divorce", "judged"]),
    ("老公打我，我想离婚", ["domestic_violence", "divorce"]),
    # nothing begun
    ("还没起诉", ["none"]),
    ("没申请仲裁", ["none"]),
])
def test_citizens_sentences(text, expected):
    assert values(text) == expected


@pytest.mark.parametrize("text", [
    "去医院复查才发现开错了药",      # a medical check-up, not a petition review
    "邻居家的狗咬了我孩子",
    "老板拖欠工资 一直不给",         # non-payment with no judgment is no stage
    "想问问仲裁委在哪",
])
def test_everyday_words_are_not_stages(text):
    assert values(text) == []
