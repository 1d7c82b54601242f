"""Keys of a run's ``meta`` that mean something to Mizzen itself (the rest is the user's).

The CLI writes them through the API, the store filters on them in SQL, the schedulers read them:
so they live here, below all three.
"""

from __future__ import annotations

# A run created with meta {"upload": "pending"} waits until its code is uploaded (`mizzen run -u`),
# which then sets {"upload": "done"}.
UPLOAD_KEY = "upload"
UPLOAD_PENDING = "pending"
UPLOAD_DONE = "done"
OWNER_KEY = "owner"  # the scheduler instance that claimed the run
