"""mizzen.render.k8s: Plan -> Kubernetes manifests (pure; the Kubernetes executor submits them)."""

from mizzen.artifacts.location import StoreLocation
from mizzen.render.k8s.containers import MAIN_CONTAINER, SIDECAR_CONTAINER, main_container_name
from mizzen.render.k8s.names import run_object_name
from mizzen.render.k8s.options import RenderOptions
from mizzen.render.k8s.render import RENDERERS, render_plan

__all__ = [
    "MAIN_CONTAINER",
    "RENDERERS",
    "SIDECAR_CONTAINER",
    "RenderOptions",
    "StoreLocation",
    "main_container_name",
    "render_plan",
    "run_object_name",
]
