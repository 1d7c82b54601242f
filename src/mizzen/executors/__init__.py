"""Executors: the only code with side effects on compute. The protocol lives in ``base``."""

from mizzen.executors.base import Executor, ExecutorCapabilities, ExecutorEvents, RunRef

__all__ = ["Executor", "ExecutorCapabilities", "ExecutorEvents", "RunRef"]
