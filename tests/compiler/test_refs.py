"""hubRef, pathRef and urlRef resolution, through compile_files, with located errors."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from functools import partial
from http.server import HTTPServer, SimpleHTTPRequestHandler
from pathlib import Path

import pytest
from compile_support import compile_error

from mizzen.compiler.compile import compile_files
from mizzen.compiler.refs import BUILTIN_HUB, RefError, RefResolver
from mizzen.errors import CompileError
from mizzen.settings import Settings

COMPONENT = """
version: 1.1
kind: component
name: {name}
inputs:
- {{name: lr, type: float, value: 0.1, isOptional: true}}
run:
  kind: job
  container: {{image: "img:{name}", command: "python train.py --lr={{{{ lr }}}}"}}
"""

Write = Callable[[str, str], Path]


def test_path_ref_is_relative_to_the_referring_file(write: Write) -> None:
    write("components/train.yaml", COMPONENT.format(name="train"))
    op = write("ops/run.yaml", "kind: operation\npathRef: ../components/train.yaml\nparams: {lr: 0.5}\n")
    compiled = compile_files([op])
    assert compiled.plan is not None
    assert compiled.plan.main.pod.main.args == []  # type: ignore[union-attr]
    assert compiled.plan.main.pod.main.command == ["python", "train.py", "--lr=0.5"]  # type: ignore[union-attr]
    assert compiled.plan.name == "train"


def test_path_ref_inside_a_referenced_operation_is_relative_to_that_file(write: Write) -> None:
    write("lib/base.yaml", COMPONENT.format(name="base"))
    write("lib/op.yaml", "kind: operation\npathRef: base.yaml\nparams: {lr: 0.2}\n")
    top = write("top.yaml", "kind: operation\npathRef: lib/op.yaml\n")
    compiled = compile_files([top])
    assert compiled.plan is not None and compiled.plan.params["lr"] == 0.2


def test_missing_path_ref_is_located(write: Write) -> None:
    op = write("op.yaml", "kind: operation\nname: x\npathRef: nowhere.yaml\n")
    problem = compile_error(op).first
    assert (problem.file, problem.line, problem.field_path) == (str(op), 3, "pathRef")
    assert "no such file" in problem.message and problem.message.endswith("nowhere.yaml")


def test_reference_cycles_are_rejected(write: Write) -> None:
    write("a.yaml", "kind: operation\npathRef: b.yaml\n")
    b = write("b.yaml", "kind: operation\npathRef: a.yaml\n")
    with pytest.raises(CompileError, match="reference cycle"):
        compile_files([b])


@pytest.mark.parametrize(
    ("ref", "image"),
    [
        ("train", "img:latest"),
        ("train:v2", "img:v2"),
        ("acme/train:v2", "img:v2"),
        ("acme/train", "img:latest"),
    ],
)
def test_hub_ref_forms_resolve_to_name_and_tag_files(
    write: Write, tmp_path: Path, ref: str, image: str
) -> None:
    write("hub/train/latest.yaml", COMPONENT.format(name="latest"))
    write("hub/train/v2.yaml", COMPONENT.format(name="v2"))
    op = write("op.yaml", f"kind: operation\nhubRef: {ref}\n")
    compiled = compile_files([op], settings=Settings(hub_path=str(tmp_path / "hub")))
    assert compiled.plan is not None and compiled.plan.main.pod.main.image == image  # type: ignore[union-attr]


def test_hub_folders_are_searched_in_order_before_the_builtin_hub(write: Write, tmp_path: Path) -> None:
    write("first/train/latest.yaml", COMPONENT.format(name="first"))
    write("second/train/latest.yaml", COMPONENT.format(name="second"))
    write("second/tensorboard/latest.yaml", COMPONENT.format(name="shadow"))
    op = write("op.yaml", "kind: operation\nhubRef: train\n")
    hub = f"{tmp_path / 'first'}:{tmp_path / 'second'}"
    compiled = compile_files([op], settings=Settings(hub_path=hub))
    assert compiled.plan is not None and compiled.plan.main.pod.main.image == "img:first"  # type: ignore[union-attr]
    shadowed = write("tb.yaml", "kind: operation\nhubRef: tensorboard\n")
    compiled = compile_files([shadowed], settings=Settings(hub_path=hub))
    assert compiled.plan is not None and compiled.plan.main.pod.main.image == "img:shadow"  # type: ignore[union-attr]


@pytest.mark.parametrize("component", sorted(p.name for p in BUILTIN_HUB.iterdir() if p.is_dir()))
def test_every_builtin_hub_component_compiles(write: Write, component: str) -> None:
    for tag in sorted(p.stem for p in (BUILTIN_HUB / component).glob("*.yaml")):
        params = "params: {uuid: abc}\n" if tag == "run" else ""
        if component == "mizzen-random-tuner":  # an iterative sweep gives its tuner these
            params = "params: {matrix: {value: {params: {}}}, iteration: {value: 0}}\n"
        op = write(f"{component}-{tag}.yaml", f"kind: operation\nhubRef: {component}:{tag}\n{params}")
        compiled = compile_files([op], settings=Settings(hub_path=""), strict=True)
        assert compiled.plan is not None
        args = compiled.plan.main.pod.main.args  # type: ignore[union-attr]
        assert not [a for a in args if "{{" in a], args
        if compiled.plan.kind == "notifier":  # hooks' notifiers (webhook, slack): no service
            continue
        if component == "mizzen-random-tuner":  # a job that logs suggestions
            assert compiled.plan.kind == "job"
            continue
        assert compiled.plan.kind == "service"
        assert compiled.plan.service is not None and compiled.plan.service.ports


def test_builtin_tensorboard_renders_ports_and_base_url(write: Write) -> None:
    op = write("tb.yaml", "kind: operation\nhubRef: tensorboard\nparams: {path: r1/outputs}\n")
    plan = compile_files([op]).plan
    assert plan is not None
    args = plan.main.pod.main.args  # type: ignore[union-attr]
    assert "--logdir=/mizzen/context/artifacts/r1/outputs" in args
    assert "--port=6006" in args
    assert "--path_prefix=/services/v1/default/default/runs/00000000000000000000000000000000" in args


def test_unknown_hub_component_names_the_folders_and_the_tags(write: Write, tmp_path: Path) -> None:
    write("hub/train/v1.yaml", COMPONENT.format(name="v1"))
    op = write("op.yaml", "kind: operation\nhubRef: train:v9\n")
    error = compile_error(op, settings=Settings(hub_path=str(tmp_path / "hub")))
    message = error.first.message
    assert "train/v9.yaml not found" in message and "train:v1" in message and "MIZZEN_HUB_PATH" in message
    assert error.first.line == 2 and error.first.field_path == "hubRef"


def test_malformed_hub_ref_is_rejected() -> None:
    with pytest.raises(RefError, match="expected NAME, NAME:TAG or OWNER/NAME:TAG"):
        RefResolver().hub_ref("a/b/c")


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 serving tmp_path/served."""
    served = tmp_path / "served"
    served.mkdir()
    handler = partial(SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_url_ref_is_fetched_over_http(write: Write, http_server: str) -> None:
    write("served/components/train.yaml", COMPONENT.format(name="served"))
    op = write(
        "op.yaml", f"kind: operation\nurlRef: {http_server}/components/train.yaml\nparams: {{lr: 0.3}}\n"
    )
    compiled = compile_files([op])
    assert compiled.plan is not None
    assert compiled.plan.main.pod.main.image == "img:served"  # type: ignore[union-attr]
    assert compiled.plan.params["lr"] == 0.3


def test_url_ref_errors_name_the_status_or_the_reason(write: Write, http_server: str) -> None:
    missing = write("op.yaml", f"kind: operation\nurlRef: {http_server}/nothing.yaml\n")
    with pytest.raises(CompileError, match="the server answered 404"):
        compile_files([missing])
    closed = write("op2.yaml", "kind: operation\nurlRef: http://127.0.0.1:9/train.yaml\n")
    error = compile_error(closed)
    assert "cannot be reached" in error.first.message and "MIZZEN_URL_MIRRORS" in error.first.message
    assert error.first.field_path == "urlRef"


def test_url_ref_under_a_mirrored_prefix_reads_the_folder(write: Write, tmp_path: Path) -> None:
    write("mirror/scheduling/train.yaml", COMPONENT.format(name="mirrored"))
    op = write(
        "op.yaml", "kind: operation\nurlRef: https://example.invalid/repo/master/scheduling/train.yaml\n"
    )
    settings = Settings(url_mirrors=f"https://example.invalid/repo/master/={tmp_path / 'mirror'}")
    compiled = compile_files([op], settings=settings)
    assert compiled.plan is not None and compiled.plan.main.pod.main.image == "img:mirrored"  # type: ignore[union-attr]


def test_url_ref_mirror_refuses_paths_outside_its_folder(tmp_path: Path) -> None:
    (tmp_path / "secret.yaml").write_text("x: 1\n")
    resolver = RefResolver(url_mirrors={"https://m/": tmp_path / "mirror"})
    with pytest.raises(RefError, match="leaves the mirror folder"):
        resolver.url_ref("https://m/../secret.yaml")
    with pytest.raises(RefError, match="which does not exist"):
        resolver.url_ref("https://m/absent.yaml")


def test_url_ref_with_another_scheme_is_refused() -> None:
    with pytest.raises(RefError, match="only http:// and https://"):
        RefResolver().url_ref("file:///etc/passwd")
