"""`mizzen agent`: the process that runs the API's runs on a Kubernetes namespace.

It claims created runs through the API (``mizzen.scheduler.api_source.ApiRunSource``), compiles and
submits them with the Kubernetes executor under the same ``RunScheduler`` loop that drives the local
executor, heartbeats, and after a restart adopts the runs it already owns. It lives outside
``mizzen.cli`` because the CLI never imports the scheduler; ``mizzen.cli.agent`` only parses options.
"""
