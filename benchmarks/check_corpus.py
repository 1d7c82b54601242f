"""Check the whole polyaxonfile corpus with Mizzen and with the reference (polyaxon 2.18.0), side by side.

    python benchmarks/check_corpus.py [--repeat 5] [--corpus PATH]

The reference is installed by this script into its own venv (benchmarks/.venvs/polyaxon, from the
package registry) and runs in-process there the way `polyaxon check -f FILE -P ...` does: load,
resolve references (hubRef/urlRef served offline from the corpus's mirrors), check params, then
compile the operation. Mizzen runs `compile_files` (what `mizzen check` does) on the same rows with
the same params. Each side runs in a fresh process per repetition; the best of the repetitions is
kept. Printed first: the ratio of the whole process (interpreter start + imports + checking loop),
the figure the target is about (Mizzen at least 5x faster); then the table of the checking loop,
the whole process and its imports, and `mizzen --help` vs `polyaxon --help`.
This file runs under both interpreters: `--side reference` never imports Mizzen, and a side imports
only what it needs (the driver's modules are imported by the driver).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
VENV = HERE / ".venvs" / "polyaxon"
REFERENCE = "polyaxon==2.18.0"
RAW = "https://raw.githubusercontent.com/polyaxon"
SUFFIX = " (commented-out cmd lines dropped)"


def default_corpus() -> Path:
    return Path(os.environ.get("MIZZEN_CORPUS") or REPO.parent / "shared" / "corpus" / "polyaxonfiles")


def rows(corpus: Path) -> list[tuple[Path, list[str], bool]]:
    """(file, params as name=value strings, reference verdict with those params is ok)."""
    out = []
    with (corpus / "MANIFEST.tsv").open(newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            path = corpus / row["path"]
            if not path.exists():
                path = corpus / row["path"].replace(SUFFIX, "")
            params = [p for p in re.split(r"\s+(?=[A-Za-z_][\w-]*=)", row["params_to_compile"].strip()) if p]
            out.append((path, params, row["ref_verdict"] == "ok" or bool(params)))
    return out


# -- the two sides (each runs in its own process) --------------------------------------------------


def run_reference(corpus: Path) -> dict[str, float | int]:
    started = time.perf_counter()
    from polyaxon._config.spec import ConfigSpec
    from polyaxon._polyaxonfile.check import check_polyaxonfile
    from polyaxon._polyaxonfile.specs import CompiledOperationSpecification, OperationSpecification

    mirrors = {
        f"{RAW}/{repo}/master/": corpus / repo for repo in ("polyaxon-quick-start", "polyaxon-examples")
    }

    def read_from_url(cls: type, url: str) -> dict:  # the corpus's offline mirror of raw GitHub
        for prefix, folder in mirrors.items():
            if url.startswith(prefix):
                return cls.read_from(str(folder / url[len(prefix) :]))  # type: ignore[attr-defined]
        raise ValueError(f"offline: {url}")

    def read_from_custom_hub(cls: type, hub: str) -> dict:  # polyaxon-hub/NAME/TAG.yaml
        name, _, tag = hub.rsplit("/", maxsplit=1)[-1].partition(":")
        path = corpus / "polyaxon-hub" / name / f"{tag or 'latest'}.yaml"
        if not path.is_file():
            raise ValueError(f"offline: hub component not in polyaxon-hub mirror: {name}")
        return cls.read_from(str(path))  # type: ignore[attr-defined]

    ConfigSpec.read_from_url = classmethod(read_from_url)  # type: ignore[method-assign,assignment]
    ConfigSpec.read_from_custom_hub = classmethod(read_from_custom_hub)  # type: ignore[method-assign,assignment]
    imported = time.perf_counter()
    ok = 0
    for path, params, _ in rows(corpus):
        try:
            operation = check_polyaxonfile(
                polyaxonfile=str(path), params=params or None, is_cli=False, verbose=False
            )
            compiled, op_params = OperationSpecification.compile_operation_with_params(operation)
            CompiledOperationSpecification.apply_params(compiled, params=op_params)
            CompiledOperationSpecification.apply_operation_contexts(compiled)
            ok += 1
        except Exception:  # a rejection is a verdict, not a failure of the benchmark
            pass
    finished = time.perf_counter()
    return {"import": imported - started, "loop": finished - imported, "ok": ok}


def run_mizzen(corpus: Path) -> dict[str, float | int]:
    started = time.perf_counter()
    from mizzen.compiler.compile import compile_files
    from mizzen.errors import MizzenError
    from mizzen.settings import Settings

    mirrors = ",".join(
        f"{RAW}/{repo}/master/={corpus / repo}" for repo in ("polyaxon-quick-start", "polyaxon-examples")
    )
    settings = Settings(hub_path=str(corpus / "polyaxon-hub"), url_mirrors=mirrors)
    imported = time.perf_counter()
    ok = 0
    for path, params, _ in rows(corpus):
        try:
            compile_files([path], dict(p.split("=", 1) for p in params), settings)
            ok += 1
        except MizzenError:
            pass
    finished = time.perf_counter()
    return {"import": imported - started, "loop": finished - imported, "ok": ok}


# -- the driver ------------------------------------------------------------------------------------


def ensure_reference_venv() -> Path:
    import subprocess

    python = VENV / "bin" / "python"
    marker = VENV / ".installed"
    if not marker.exists():
        print(f"installing {REFERENCE} into {VENV} (once)...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", REFERENCE], check=True
        )
        marker.write_text(REFERENCE + "\n")
    return python


def compile_mizzen_bytecode() -> None:
    """Write Mizzen's bytecode, as installing a package does (the reference's venv has its own).

    A source checkout run with PYTHONDONTWRITEBYTECODE set would compile every module at each start.
    """
    import compileall

    compileall.compile_dir(REPO / "src" / "mizzen", quiet=1)


def timed_side(python: Path, side: str, corpus: Path) -> dict[str, float | int]:
    import subprocess

    started = time.perf_counter()
    done = subprocess.run(
        [str(python), str(Path(__file__)), "--side", side, "--corpus", str(corpus)],
        capture_output=True, text=True, check=True, cwd=REPO,
    )  # fmt: skip
    result: dict[str, float | int] = json.loads(done.stdout.strip().splitlines()[-1])
    result["process"] = time.perf_counter() - started
    return result


def help_time(command: list[str], repeat: int) -> float:
    import statistics
    import subprocess

    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=default_corpus())
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--side", choices=("reference", "mizzen"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side == "reference":
        print(json.dumps(run_reference(args.corpus)))
        return
    if args.side == "mizzen":
        print(json.dumps(run_mizzen(args.corpus)))
        return

    reference_python = ensure_reference_venv()
    compile_mizzen_bytecode()
    count = len(rows(args.corpus))
    reference_runs, mizzen_runs = [], []
    for _ in range(args.repeat):  # interleaved, so both sides see the same machine load
        reference_runs.append(timed_side(reference_python, "reference", args.corpus))
        mizzen_runs.append(timed_side(Path(sys.executable), "mizzen", args.corpus))
    best_ref = {k: min(r[k] for r in reference_runs) for k in ("loop", "process", "import")}
    best_miz = {k: min(r[k] for r in mizzen_runs) for k in ("loop", "process", "import")}
    print(f"corpus: {count} files ({args.corpus}), best of {args.repeat} runs each")
    whole = best_ref["process"] / best_miz["process"]
    loop = best_ref["loop"] / best_miz["loop"]
    print(
        f"Mizzen is {whole:.1f}x faster than polyaxon 2.18.0 over the whole process "
        f"(interpreter start + imports + checking loop; target 5x); the checking loop alone: {loop:.1f}x"
    )
    print(f"{'':28}{'polyaxon 2.18.0':>18}{'mizzen':>12}{'ratio':>9}")
    for label, key in (
        ("checking loop", "loop"),
        ("whole process", "process"),
        ("  of which imports", "import"),
    ):
        ratio = best_ref[key] / best_miz[key] if best_miz[key] else float("inf")
        print(f"{label:28}{best_ref[key]:>17.3f}s{best_miz[key]:>11.3f}s{ratio:>8.1f}x")
    print(f"{'files accepted':28}{reference_runs[0]['ok']:>18}{mizzen_runs[0]['ok']:>12}")
    mizzen_cli = Path(sys.executable).with_name("mizzen")
    polyaxon_cli = VENV / "bin" / "polyaxon"
    ref_help = help_time([str(polyaxon_cli), "--help"], args.repeat)
    miz_help = help_time([str(mizzen_cli), "--help"], args.repeat)
    print(f"{'--help (median wall time)':28}{ref_help:>17.3f}s{miz_help:>11.3f}s{ref_help / miz_help:>8.1f}x")


if __name__ == "__main__":
    main()
