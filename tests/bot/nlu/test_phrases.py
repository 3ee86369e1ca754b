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


def test_the_rasa_extractor_reads_stages_exactly_as_the_lexicon(tmp_path):
    """LookupEntityExtractor + EntitySynonymMapper, trained on data/nlu/stages.yml, give the values
    actions.triage.lexicon gives, negation and follow-ups included, on every phrase, on the triage
    evaluation set and on all the training examples."""
    from pathlib import Path

    import yaml
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.nlu.extractors.entity_synonyms import EntitySynonymMapper
    from rasa.shared.nlu.training_data.loading import load_data

    from actions.triage.lexicon import STAGES_NLU_PATH, get_lexicon

    root = Path(__file__).resolve().parents[3]
    storage = LocalModelStorage(tmp_path)
    data = load_data(str(STAGES_NLU_PATH))
    config = {**LookupEntityExtractor.get_default_config(), "entities": ["matter_stage"]}
    extractor = LookupEntityExtractor.create(config, storage, Resource("stages"), None)
    extractor.train(data)
    extractor = LookupEntityExtractor.load(config, storage, Resource("stages"), None)
    mapper = EntitySynonymMapper.create(EntitySynonymMapper.get_default_config(), storage,
                                        Resource("synonyms"), None)
    mapper.train(data)

    lexicon = get_lexicon()
    cases = yaml.safe_load((root / "tests" / "triage" / "cases.yml").read_text(encoding="utf-8"))
    texts = list(lexicon.phrases) + [case["text"] for case in cases["cases"]]
    texts += [m.get("text") for m in load_data(str(root / "data" / "nlu")).intent_examples]
    texts += ["合同里没有约定由仲裁委仲裁", "合同 没有 仲裁条款", "他没钱，合同约定了仲裁",
              "法院判了他还我五万，两个月了一分钱没见着", "法院判决不给我赔偿，我不服"]
    messages = [Message({"text": text}) for text in texts]
    mapper.process(extractor.process(messages))
    negated = 0
    for text, message in zip(texts, messages):
        found = [e["value"] for e in message.get("entities", []) if e["entity"] == "matter_stage"]
        assert found == lexicon.values(text), text
        negated += "no_arbitration_clause" in found
    assert negated >= 3


def test_rasa_retrains_the_extractor_when_only_the_context_rules_change(tmp_path):
    """Rasa's reader ignores the rules, so its training cache would not see them change: they are
    part of the component's fingerprint instead."""
    from actions.triage.lexicon import STAGES_NLU_PATH

    changed = tmp_path / "stages.yml"
    changed.write_text(STAGES_NLU_PATH.read_text(encoding="utf-8").replace("window: 4", "window: 3"),
                       encoding="utf-8")
    config = {**LookupEntityExtractor.get_default_config(), "entities": ["matter_stage"]}
    here = LookupEntityExtractor.fingerprint_addon(config)
    assert here == LookupEntityExtractor.fingerprint_addon(dict(config))
    assert here != LookupEntityExtractor.fingerprint_addon({**config, "stages_file": str(changed)})
