"""The local executor: Plans as processes on this machine (the embedded default)."""

from mizzen.executors.local.executor import LocalExecutor
from mizzen.executors.local.gpus import GpuDevice, GpuInventory
from mizzen.executors.local.supervisor import Backoff

__all__ = ["Backoff", "GpuDevice", "GpuInventory", "LocalExecutor"]
