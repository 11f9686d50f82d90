"""lstm-sentiment: an LSTM written from its gate equations, and the tool to train, evaluate and serve it."""

from .lstm import LSTM, LSTMCell
from .predict import Prediction, Predictor, load_model

__version__ = "0.1.0"
__all__ = ["LSTM", "LSTMCell", "Prediction", "Predictor", "__version__", "load_model"]
