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
# A restarted or copied run runs the code its original uploaded: the run that holds that upload.
CODE_RUN_KEY = "code_run"
# The `mizzen run` process uploading the run's code ("host:pid:upload"): if it is gone while the
# upload is pending, the code will never come and the next local scheduler fails the run.
UPLOADER_KEY = "uploader"
# `isApproved: false` in a polyaxonfile: meta {"approved": false} holds the run (or a whole pipeline)
# unclaimed until `mizzen ops approve` sets it true.
APPROVED_KEY = "approved"
WAITING_FOR_APPROVAL = "WaitingForApproval"  # the reason a held run's `created` condition gives
# A run that ended with its driver (the `mizzen run` or server process was killed): a resumed
# pipeline starts such children again instead of counting them as failures.
ORPHANED_REASON = "orphaned"
# A run with `cache:` skipped because a succeeded run had its cache key: {"uuid": that run, "key": ...};
# its outputs are that run's. `mizzen ops invalidate` leaves {"key", "at", "runs"} on the run dropped.
CACHE_HIT_KEY = "cache_hit"
CACHE_INVALIDATED_KEY = "cache_invalidated"
