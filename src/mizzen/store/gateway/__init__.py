"""The store's facade: what the server and the scheduler call instead of opening sessions.

One module per concern. Each function takes the ``Database`` and plain arguments, runs its own
transaction (a multi-step change is one call, so it commits or rolls back as a unit) and returns
plain frozen records (``mizzen.store.records``) that outlive the session. Errors are the store's
usual ``NotFound`` / ``Conflict`` / ``InvalidTransition`` / ``InvalidInput`` from ``mizzen.errors``.
Callers validate requests before the call and publish events after it returns, so no network call
ever runs inside a transaction.
"""
