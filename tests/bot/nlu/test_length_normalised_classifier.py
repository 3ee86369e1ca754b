"""The intent classifier reads what a message says, not how long it is."""

import numpy as np
import scipy.sparse
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.length_normalised_classifier import LengthNormalisedLogisticRegressionClassifier


def message(counts, intent=None):
    data = {"text": "x"}
    if intent:
        data["intent"] = intent
    m = Message(data=data)
    m.add_features(Features(scipy.sparse.coo_matrix(np.array([counts], dtype=float)), "sentence", "text", "counts"))
    return m


def test_a_message_repeated_ten_times_is_exactly_as_sure(tmp_path):
    classifier = LengthNormalisedLogisticRegressionClassifier(
        {**LengthNormalisedLogisticRegressionClassifier.get_default_config(), "C": 100.0},
        "intents", LocalModelStorage(tmp_path), Resource("intents"),
    )
    assert classifier.clf.C == 100.0
    training = [message([1, 0, 0], "thank"), message([0, 1, 0], "crisis"), message([0, 0, 1], "goodbye"),
                message([1, 0, 1], "thank"), message([0, 1, 1], "crisis")]
    classifier.train(TrainingData(training))
    short, long = message([1, 1, 1]), message([10, 10, 10])
    classifier.process([short, long])
    assert short.get("intent")["name"] == long.get("intent")["name"]
    assert abs(short.get("intent")["confidence"] - long.get("intent")["confidence"]) < 1e-9
