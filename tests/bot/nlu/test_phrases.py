from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.crisis import CrisisDetector
from bot.nlu.lookup_extractor import LookupEntityExtractor
from bot.nlu.phrases import PhraseMatcher


def test_longest_phrase_wins_so_negations_are_read():
    matcher = PhraseMatcher({"matter_stage": ["起诉", "还没起诉", "判了但是不执行", "判了"]})
    found = matcher.find("还没起诉，上次那个判了但是不执行")
    assert [m.phrase for m in found] == ["还没起诉", "判了但是不执行"]


def training_data():
    return TrainingData(lookup_tables=[
        {"name": "crisis_terms", "elements": ["不想活", "跳楼"]},
        {"name": "matter_stage", "elements": ["起诉了", "还没起诉"]},
    ])


def test_crisis_overrides_the_classified_intent(tmp_path):
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    storage = LocalModelStorage(tmp_path)
    detector = CrisisDetector.create(CrisisDetector.get_default_config(), storage, Resource("crisis"), None)
    detector.train(training_data())
    message = Message({"text": "工资要不回来我真的不想活了",
                       "intent": {"name": "matter_wage_arrears", "confidence": 0.9},
                       "intent_ranking": [{"name": "matter_wage_arrears", "confidence": 0.9}]})
    loaded = CrisisDetector.load(CrisisDetector.get_default_config(), storage, Resource("crisis"), None)
    loaded.process([message])
    assert message.get("intent")["name"] == "crisis"
    assert [e["name"] for e in message.get("intent_ranking")] == ["crisis", "matter_wage_arrears"]


def test_stage_phrases_become_entities(tmp_path):
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    storage = LocalModelStorage(tmp_path)
    config = {"entities": ["matter_stage"]}
    extractor = LookupEntityExtractor.create(config, storage, Resource("stages"), None)
    extractor.train(training_data())
    message = Message({"text": "欠薪的事还没起诉"})
    LookupEntityExtractor.load(config, storage, Resource("stages"), None).process([message])
    assert [(e["entity"], e["value"], e["start"]) for e in message.get("entities")] == [("matter_stage", "还没起诉", 4)]
