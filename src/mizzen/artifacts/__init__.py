"""mizzen.artifacts: the artifacts store, for the server, the local executor and the renderer.

``store`` (fsspec; each run's folder confined by ``paths`` and, on a local disk, ``local``),
``connections`` (the store behind a connection) and ``location`` (where pods find the store; pure,
no fsspec: the renderer imports only this).
"""
