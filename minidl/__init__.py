"""minidl: a small deep-learning engine on torch tensor operations, every backward written by hand."""

from .activations import ReLU, Sigmoid, Tanh
from .io import load, save
from .layers import Linear
from .losses import MSE, CrossEntropy
from .module import Loss, Module
from .optim import SGD, Adam
from .sequential import Sequential
from .training import BatchRecord, DivergedError, EpochRecord, TrainingControl, fit

__version__ = "0.1.0"
__all__ = ["MSE", "SGD", "Adam", "BatchRecord", "CrossEntropy", "DivergedError", "EpochRecord", "Linear", "Loss",
           "Module", "ReLU", "Sequential", "Sigmoid", "Tanh", "TrainingControl", "fit", "load", "save"]
