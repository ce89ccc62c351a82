"""fastw2v: fast, faithful word2vec on Numba (skip-gram/CBOW, negative sampling/hierarchical softmax)."""
from .config import Config, ConfigError
from .train import TrainingError, Word2Vec, train
from .vocab import Vocabulary

__version__ = "0.1.0.dev0"

__all__ = ["Config", "ConfigError", "TrainingError", "Vocabulary", "Word2Vec", "train", "__version__"]
