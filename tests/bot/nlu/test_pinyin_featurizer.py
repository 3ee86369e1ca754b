"""The pinyin featurizer: slips that keep the sound get the features of the word meant."""

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.pinyin_featurizer import PinyinFeaturizer, syllables
from bot.nlu.tokenizer import PetitionTokenizer


@pytest.mark.parametrize(
    "typed, meant",
    [("上纺", "上访"), ("仲才", "仲裁"), ("援主", "援助"), ("公资", "工资"), ("拆签", "拆迁"), ("预越", "预约")],
)
def test_slips_that_keep_the_sound_read_alike(typed, meant):
    assert syllables(typed) == syllables(meant)


def test_fuzzy_merges_the_sounds_many_speakers_merge():
    assert syllables("投述") != syllables("投诉")
    assert syllables("投述", fuzzy=True) == syllables("投诉", fuzzy=True) == "tou su"
    assert syllables("工程", fuzzy=True) == "gong cen"
    assert syllables("zf", fuzzy=True) == "zf"  # not Chinese: left as typed


def test_different_sounds_stay_apart():
    assert syllables("上访") != syllables("上网")
    assert syllables("仲裁", fuzzy=True) != syllables("中介", fuzzy=True)


@pytest.fixture()
def featurized(tmp_path):
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), "test")
    tokenizer = PetitionTokenizer.create(
        {**PetitionTokenizer.get_default_config()}, storage, Resource("tokenizer"), context
    )
    featurizer = PinyinFeaturizer.create(
        {**PinyinFeaturizer.get_default_config(), "fuzzy": True}, storage, Resource("pinyin"), context
    )
    training = TrainingData([Message(data={"text": text, "intent": "x"}) for text in ("我要上访", "申请仲裁", "投诉工资")])
    tokenizer.process_training_data(training)
    featurizer.train(training)

    def features(text):
        message = Message(data={"text": text})
        tokenizer.process([message])
        featurizer.process([message])
        sequence, sentence = message.get_sparse_features("text", [featurizer._identifier])
        return sentence.features.toarray().tolist()

    return features


def test_a_slip_gets_the_sentence_features_of_the_word_meant(featurized):
    assert featurized("我要上纺") == featurized("我要上访")
    assert featurized("申请仲才") == featurized("申请仲裁")
    assert featurized("我要上纺") != featurized("申请仲裁")
