"""Hooks: notifier runs started when a run reaches a status its ``hooks:`` trigger on (see loop.py)."""
