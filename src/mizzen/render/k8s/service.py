"""service -> apps/v1 Deployment + v1 Service (the Service only when the run exposes ports)."""

from __future__ import annotations

from typing import Any

from mizzen.errors import ExecutorError
from mizzen.render.k8s import metadata
from mizzen.render.k8s.containers import MAIN_CONTAINER, add_ports
from mizzen.render.k8s.names import port_name
from mizzen.render.k8s.pod import RunRender, render_pod_template

EXTERNAL = "mizzen.dev/external"
REWRITE_PATH = "mizzen.dev/rewrite-path"


def render_service(run: RunRender) -> list[dict[str, Any]]:
    plan = run.plan
    replica = plan.main
    env = replica.pod.environment
    if env.restart_policy not in (None, "Always"):
        raise ExecutorError(
            f"environment.restartPolicy '{env.restart_policy}' is not allowed for a service: "
            "a service's pods always restart (remove restartPolicy or set Always)"
        )
    service = plan.service
    replicas = service.replicas if service else replica.replicas
    template = render_pod_template(run, replica, MAIN_CONTAINER, restart_policy="Always")
    main = template["spec"]["containers"][0]
    ports = list(dict.fromkeys(service.ports if service else []))
    add_ports(main, {number: port_name(f"port-{number}") for number in ports})
    if not ports:
        ports = [p["containerPort"] for p in main.get("ports", [])]
    selector = {metadata.RUN_UUID: run.labels[metadata.RUN_UUID], **metadata.role_labels(replica.role)}
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": run.object_metadata(user=env),
        "spec": {"replicas": replicas, "selector": {"matchLabels": selector}, "template": template},
    }
    objects: list[dict[str, Any]] = [deployment]
    if ports:
        meta = run.object_metadata(user=env)
        if service and service.is_external:
            meta["annotations"][EXTERNAL] = "true"
        if service and service.rewrite_path:
            meta["annotations"][REWRITE_PATH] = "true"
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": meta,
                "spec": {
                    "type": "ClusterIP",
                    "selector": selector,
                    "ports": [
                        {"name": port_name(f"port-{n}"), "port": n, "targetPort": n, "protocol": "TCP"}
                        for n in ports
                    ],
                },
            }
        )
    return objects
