"""The ORM rows (SQLAlchemy 2 typed mappings). One module per concern; all share ``Base.metadata``."""

from mizzen.store.orm.artifacts import ArtifactRow, LineageRow
from mizzen.store.orm.base import Base
from mizzen.store.orm.metrics import MetricRow, MetricSummaryRow
from mizzen.store.orm.runs import ProjectRow, RunRow, StatusConditionRow
from mizzen.store.orm.system import AgentRow, IdempotencyRow

__all__ = [
    "AgentRow",
    "ArtifactRow",
    "Base",
    "IdempotencyRow",
    "LineageRow",
    "MetricRow",
    "MetricSummaryRow",
    "ProjectRow",
    "RunRow",
    "StatusConditionRow",
]
