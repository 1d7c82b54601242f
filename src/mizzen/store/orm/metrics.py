"""Metric points and the per-run, per-metric summaries maintained on ingest."""

from __future__ import annotations

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from mizzen.store.orm.base import Base
from mizzen.store.types import BigId


class MetricRow(Base):
    __tablename__ = "metrics"
    # Covers the history read (an index-only scan, already in step order) at the cost of a wider index.
    __table_args__ = (Index("ix_metrics_history", "run_id", "name", "step", "timestamp", "value"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    step: Mapped[int | None] = mapped_column(BigInteger)
    timestamp: Mapped[float] = mapped_column(Float)  # seconds since the epoch
    value: Mapped[float] = mapped_column(Float)


class MetricSummaryRow(Base):
    """One row per (run, metric): what run lists filter and sort on without touching ``metrics``."""

    __tablename__ = "metric_summaries"
    __table_args__ = (Index("ix_metric_summaries_name_last", "name", "last"),)

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    last: Mapped[float] = mapped_column(Float)
    min: Mapped[float] = mapped_column(Float)
    max: Mapped[float] = mapped_column(Float)
    count: Mapped[int] = mapped_column(Integer)
    last_step: Mapped[int | None] = mapped_column(BigInteger)
    last_timestamp: Mapped[float] = mapped_column(Float)
