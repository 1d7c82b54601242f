"""DAG pipelines: which op runs when (``planner``)."""
