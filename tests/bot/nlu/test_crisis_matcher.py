"""The crisis matcher's reading rules (bot/nlu/crisis_matcher.py), on small lexicons made for each
rule, and the Rasa component that applies its verdict (bot/nlu/crisis.py)."""

from __future__ import annotations

import pytest
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.crisis import CrisisDetector
from bot.nlu.crisis_matcher import CrisisLexicon, CrisisMatcher, default_matcher, lexicon_fingerprint

REFINEMENTS = {
    "max_gap": 4,
    "negation_window_before": 6,
    "negation_window_after": 8,
    "char_folds": "殺杀 樓楼",
    "variants": {"没": ["冒得", "没有"], "了": ["咯", "啦"], "什么": ["啥"]},
    "groups": {"他": ["他", "那个"]},
    "patterns": ["活着…没…意思", "杀了{他}"],
    "figures": ["跳楼价", "干活", "出人命"],
    "signals": {"despair": ["过不下去"], "means": ["绳子"]},
    "signal_pairs": [["despair", "means"]],
    "negators_immediate": ["不", "没"],
    "negations_before": ["没说", "不会"],
    "negation_blockers_before": ["逼", "就"],
    "negations_after": ["是不会", "不可能"],
    "negation_blockers_after": ["有人"],
}


def small(**changes) -> CrisisMatcher:
    return CrisisMatcher(CrisisLexicon(["不想活了", "跳楼", "想死", "闹出人命", "自杀"], {**REFINEMENTS, **changes}))


def crisis(matcher: CrisisMatcher, text: str) -> bool:
    return matcher.assess(text).crisis


def test_phrases_variants_and_folds():
    m = small()
    assert crisis(m, "工资要不回来我不想活了")
    assert crisis(m, "不想活咯") and crisis(m, "不想活啦")  # 了 spelled as people type it
    assert crisis(m, "准备跳樓")  # a traditional form folded
    assert crisis(m, "ＡＢ我想死")  # full width is no obstacle, and positions are kept:
    hit = m.assess("ＡＢ我想死").hits[0]
    assert (hit.start, hit.end, hit.text) == (3, 5, "想死")
    assert not crisis(m, "工资拖了三个月")


def test_gaps_stay_within_a_sentence_and_a_length():
    m = small()
    assert crisis(m, "活着真没意思") and crisis(m, "活着冒得意思") and crisis(m, "活着没啥意思")
    assert not crisis(m, "活着的时候，没意思")  # the gap does not cross a comma
    assert not crisis(m, "活着的那些年我们家真是没意思")  # nor more than max_gap characters


def test_groups():
    m = small()
    assert crisis(m, "我要杀了他") and crisis(m, "杀了那个")
    assert not crisis(m, "杀了一只鸡")


def test_a_figure_of_speech_cancels_the_phrase_it_covers_but_not_a_longer_one():
    m = small()
    verdict = m.assess("跳楼价甩卖")
    assert not verdict.crisis and [c.cancelled_by for c in verdict.cleared if c.kind == "crisis"] == ["跳楼价"]
    assert not crisis(m, "我不想干活了")  # 干活 overlaps the 活了 of 不想活了
    assert crisis(m, "再不管要闹出人命")  # 出人命 is a shorter piece inside 闹出人命


def test_negation_before_after_and_immediate():
    m = small()
    assert not crisis(m, "我又没说要自杀")
    assert not crisis(m, "我不会自杀的")
    assert not crisis(m, "我不想死")  # a one-character negator right before
    assert not crisis(m, "自杀？那是不可能的")  # after, across a question mark
    assert not crisis(m, "跳楼那种事我是不会干")


def test_what_undoes_a_negation():
    m = small()
    assert crisis(m, "你们不会逼我跳楼吧")  # 逼 between the cue and the phrase
    assert crisis(m, "不会给钱的话我就跳楼")  # conditional: 就
    assert crisis(m, "跳楼是不可能有人管的")  # after: 有人
    assert crisis(m, "不会的，我不想活了")  # another clause
    assert crisis(m, "不想活了不想活了")  # the 不想 of a crisis phrase is not a cue for the next


def test_negation_and_figures_are_reported_as_cleared():
    verdict = small().assess("我又没说要自杀，就是干活太累")
    assert not verdict.crisis
    assert {c.cancelled_by for c in verdict.cleared if c.kind == "crisis"} == {"没说"}


def test_two_signals_of_paired_kinds_in_one_sentence():
    m = small()
    assert crisis(m, "日子过不下去了，想找根绳子")
    assert not crisis(m, "日子过不下去了。绳子的钱还没给")  # not in one sentence
    assert not crisis(m, "买了根绳子晾衣服")  # one signal alone


def test_long_text_is_read_in_pieces_and_stops_at_the_first_crisis_phrase():
    m = small()
    filler = "工资拖欠了很久，"
    late = filler * 2000 + "我不想活了。" + filler * 10
    assert m.first_hit(late).text == "不想活了" and late[m.first_hit(late).start:].startswith("不想活了")
    negated = filler * 600 + "我又没说要自杀。" + filler * 600  # the cue just before a piece border
    assert m.first_hit(negated) is None
    at_border = "工" * 3998 + "我不想活了" + "工" * 5000
    assert m.first_hit(at_border) is not None


def test_excerpt_is_the_part_around_the_crisis_phrase():
    m = small()
    text = "工地干了十个月。" * 100 + "我真的不想活了。" + "包工头跑了。" * 100
    excerpt = m.excerpt(text, 60)
    assert "不想活了" in excerpt and len(excerpt) <= 60
    assert excerpt.startswith("工地干了") or excerpt.startswith("我真的")  # whole sentences
    assert m.excerpt("工资拖欠。" * 50, 60) is None
    assert m.excerpt("我不想活了", 60) == "我不想活了"
    one_sentence = "工" * 500 + "我不想活了" + "工" * 500
    assert "不想活了" in m.excerpt(one_sentence, 60) and len(m.excerpt(one_sentence, 60)) == 60


@pytest.mark.parametrize("changes, message", [
    ({"patterns": ["{无此组}跳"]}, "unknown group"),
    ({"patterns": ["…跳"]}, "gap"),
    ({"char_folds": "殺杀樓"}, "pairs"),
    ({"signal_pairs": [["despair", "nothing"]]}, "signal_pairs"),
])
def test_a_lexicon_mistake_fails_loudly(changes, message):
    with pytest.raises(ValueError, match=message):
        small(**changes)


def test_the_reviewed_files_load_and_their_digest_follows_them(tmp_path):
    assert default_matcher().is_crisis("活着冒得意思")
    terms = tmp_path / "terms.yml"
    lexicon = tmp_path / "lexicon.yml"
    terms.write_text('nlu:\n  - lookup: crisis_terms\n    examples: |\n      - 不想活\n', encoding="utf-8")
    lexicon.write_text("max_gap: 4\n", encoding="utf-8")
    before = lexicon_fingerprint(terms, lexicon)
    lexicon.write_text("max_gap: 5\n", encoding="utf-8")
    assert lexicon_fingerprint(terms, lexicon) != before
    assert lexicon_fingerprint(terms, tmp_path / "missing.yml") == "missing"
    assert CrisisMatcher.from_files(terms, lexicon).is_crisis("我不想活了")


# --------------------------------------------------------------------------- the Rasa component


@pytest.fixture
def detector(tmp_path):
    lexicon = tmp_path / "lexicon.yml"
    import yaml

    lexicon.write_text(yaml.safe_dump(REFINEMENTS, allow_unicode=True), encoding="utf-8")
    (tmp_path / "model").mkdir()
    storage = LocalModelStorage(tmp_path / "model")
    config = {**CrisisDetector.get_default_config(), "lexicon": str(lexicon)}
    trained = CrisisDetector.create(config, storage, Resource("crisis"), None)
    trained.train(TrainingData(lookup_tables=[{"name": "crisis_terms", "elements": ["不想活了", "自杀"]}]))
    return CrisisDetector.load(config, storage, Resource("crisis"), None)


def classified(text: str, *ranking) -> Message:
    entries = [{"name": name, "confidence": confidence} for name, confidence in ranking]
    return Message({"text": text, "intent": dict(entries[0]), "intent_ranking": entries})


def test_the_component_sets_crisis_over_the_classifier(detector):
    message = classified("工资要不回来我真的不想活了", ("matter_wage_arrears", 0.9), ("greet", 0.1))
    detector.process([message])
    assert message.get("intent") == {"name": "crisis", "confidence": 1.0}
    assert [e["name"] for e in message.get("intent_ranking")] == ["crisis", "matter_wage_arrears", "greet"]
    assert detector.matcher.is_crisis("活着冒得意思")  # the refinements were stored with the model


def test_a_negated_crisis_word_turns_down_the_classifier(detector):
    message = classified("我又没说要自杀，房子的事怎么办", ("crisis", 0.95), ("matter_resettlement", 0.4))
    detector.process([message])
    assert message.get("intent")["name"] == "matter_resettlement"
    assert "crisis" not in [e["name"] for e in message.get("intent_ranking")]


def test_a_figure_of_speech_turns_down_the_classifier_even_when_sure(detector):
    message = classified("出人命了你们负责", ("crisis", 0.9), ("out_of_scope", 0.1))
    detector.process([message])
    assert message.get("intent") == {"name": "nlu_fallback", "confidence": 0.3}  # the next one is below 0.3


def test_an_unsure_classifier_crisis_without_crisis_language_is_turned_down(detector):
    message = classified("我再考虑考虑", ("crisis", 0.45), ("deny", 0.35))
    detector.process([message])
    assert message.get("intent")["name"] == "deny"


def test_a_sure_classifier_crisis_without_anything_against_it_stands(detector):
    message = classified("明天你们就见不到我了", ("crisis", 0.8), ("goodbye", 0.1))
    detector.process([message])
    assert message.get("intent") == {"name": "crisis", "confidence": 0.8}


def test_other_intents_are_left_alone(detector):
    message = classified("工资拖了三个月", ("matter_wage_arrears", 0.7))
    detector.process([message])
    assert message.get("intent")["name"] == "matter_wage_arrears"


def test_slips_that_sound_like_a_long_crisis_term_are_read_as_it():
    m = CrisisMatcher(CrisisLexicon(["喝农药", "同归于尽", "自杀"], REFINEMENTS))
    assert crisis(m, "我想和农药")  # 和 for 喝, same sound
    hit = m.assess("老板不给钱我要跟他铜归于尽").hits[0]
    assert hit.text == "铜归于尽" and hit.entry == "同归于尽"  # positions and the typed text are kept
    # The negation rules still apply to a repaired term.
    assert not crisis(m, "我不会和他铜归于尽的")
    # Two syllables are too few to go by sound: 紫砂 (a teapot) is not 自杀.
    assert not crisis(m, "买了个紫砂壶")
    assert not crisis(m, "和农业局反映过")  # only the whole term's sound counts
