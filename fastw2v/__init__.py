"""fastw2v: fast, faithful word2vec on Numba (skip-gram/CBOW, negative sampling/hierarchical softmax)."""
from .config import Config, ConfigError
from .monitor import CallbackAny2Vec
from .train import TrainingError, TrainingInterrupted, TrainingWarning, Word2Vec, resume, train
from .vectors import KeyedVectors, VectorFileError
from .vocab import Vocabulary

__version__ = "0.1.0.dev0"

__all__ = ["CallbackAny2Vec", "Config", "ConfigError", "KeyedVectors", "TrainingError", "TrainingInterrupted",
           "TrainingWarning", "VectorFileError", "Vocabulary", "Word2Vec", "resume", "train", "__version__"]
