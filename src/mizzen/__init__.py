"""Mizzen: run machine-learning workloads serverlessly, on one machine or on Kubernetes."""

__version__ = "0.1.0"
