"""Pipelines: the driver that turns sweeps, DAGs and schedules into child runs (``driver``), what a
planner sees and decides (``model``), and the pipeline's structure compiled from its spec
(``structure``). The planners live beside: ``scheduler.sweeps``, ``scheduler.dag``,
``scheduler.schedules``."""
