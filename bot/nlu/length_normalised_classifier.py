"""Rasa's logistic regression intent classifier, on features scaled to the same length per message.

The sparse featurizers count: a 150-character story has ten times the counts of a 15-character
question, so a linear model grows ten times as sure of whatever the story leans to (a long thank-you
that recounts three wasted trips read as crisis language at 0.96). Scaling each message's feature
vector to unit length (L2) makes a long message as sure as its content, not its length; with the
weaker regularisation this scaling needs (``C``), it is better on both held-out sets (docs/nlu.md).
Everything else (training, ranking, persistence) is Rasa's ``LogisticRegressionClassifier``.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.training_data.message import Message
from scipy.sparse import csr_matrix
from sklearn.preprocessing import normalize


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True
)
class LengthNormalisedLogisticRegressionClassifier(LogisticRegressionClassifier):
    """Logistic regression over L2-normalised sentence features."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**LogisticRegressionClassifier.get_default_config(), "C": 1.0}

    def __init__(self, config: Dict[Text, Any], name: Text, model_storage: ModelStorage, resource: Resource) -> None:
        super().__init__(config, name, model_storage, resource)
        self.clf.set_params(C=float(self.config["C"]))

    def _create_X(self, messages: List[Message]) -> csr_matrix:
        return normalize(super()._create_X(messages), norm="l2")
