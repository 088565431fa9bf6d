"""minidl: a small deep-learning engine on torch tensor operations, every backward written by hand."""

from .activations import ReLU, Tanh
from .io import load, save
from .layers import Linear
from .losses import MSE
from .module import Loss, Module
from .optim import SGD
from .sequential import Sequential
from .training import BatchRecord, DivergedError, EpochRecord, TrainingControl, fit

__version__ = "0.1.0"
__all__ = ["MSE", "SGD", "BatchRecord", "DivergedError", "EpochRecord", "Linear", "Loss", "Module", "ReLU",
           "Sequential", "Tanh", "TrainingControl", "fit", "load", "save"]
