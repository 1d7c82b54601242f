"""The Kubernetes executor: Plans as cluster objects, statuses and logs kept true by watching.

Importing this package stays light: the official ``kubernetes`` client is imported by ``adapter``
only when an adapter is made.
"""

from mizzen.executors.kubernetes.adapter import ApiFailure, KubeAdapter, RetryPolicy, WatchExpired
from mizzen.executors.kubernetes.executor import KubernetesExecutor
from mizzen.executors.kubernetes.logs import LogPosition
from mizzen.executors.kubernetes.reconciler import EVENTS_CONTAINER, Timeouts
from mizzen.executors.kubernetes.runs import OwnedRun

__all__ = [
    "EVENTS_CONTAINER",
    "ApiFailure",
    "KubeAdapter",
    "KubernetesExecutor",
    "LogPosition",
    "OwnedRun",
    "RetryPolicy",
    "Timeouts",
    "WatchExpired",
]
