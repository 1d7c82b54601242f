"""Repositories: small functions over a session, one module per concern. No network I/O in here:
callers do their file or HTTP work after the transaction commits."""
