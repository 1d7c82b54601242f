"""`mizzen ops stop|resume|restart|delete` of pipelines, through the real CLI, on what earlier
commands made: final statuses, no process left, and exactly the trials the sweep specifies."""

from __future__ import annotations

from pathlib import Path

import pytest
from pipeline_support import (
    all_gone,
    children_of,
    eventually,
    json_of,
    mizzen,
    pids_in,
    pipeline_of,
    runs,
    start,
    sweep,
)

from mizzen.settings import Settings

VALUES = [0.1, 0.2, 0.3, 0.4]


def test_stop_then_resume_then_delete_a_sweep(settings: Settings, tmp_path: Path) -> None:
    release = tmp_path / "release"
    spec = sweep(tmp_path, VALUES, slow_unless=release)
    watcher = start("run", "-f", str(spec))
    try:
        eventually(lambda: len(pids_in(tmp_path)) == 2, "two trials running")
        pipeline = pipeline_of()
        stopped = mizzen("ops", "stop", pipeline["uuid"][:8], "--yes")
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
        assert f"Run {pipeline['uuid']} stopped." in stopped.stdout
        out, err = watcher.communicate(timeout=120)
    finally:
        if watcher.poll() is None:
            watcher.kill()
    assert watcher.returncode == 1, out + err  # the pipeline did not succeed
    assert "✗ matrix tune stopped" in out
    eventually(lambda: all_gone(pids_in(tmp_path)), "the stopped trials' processes to end", timeout=30)
    trials = children_of(pipeline["uuid"])
    assert pipeline_of()["status"] == "stopped"
    assert len(trials) == 2 and {t["status"] for t in trials} == {"stopped"}

    release.touch()
    resumed = mizzen("ops", "resume", pipeline["uuid"][:8])
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert pipeline_of()["status"] == "succeeded"
    trials = children_of(pipeline["uuid"])
    assert sorted(t["params"]["lr"] for t in trials) == VALUES  # the stopped two ran again, once
    assert {t["status"] for t in trials} == {"succeeded"}

    artifacts = settings.home / "artifacts"
    kept = [t["uuid"] for t in trials if (artifacts / t["uuid"]).exists()]
    assert kept, "the trials stored nothing: the check below would prove nothing"
    deleted = mizzen("ops", "delete", pipeline["uuid"][:8], "--yes")
    assert deleted.returncode == 0, deleted.stderr
    assert f"Deleted run {pipeline['uuid']} and its runs." in deleted.stdout
    assert runs() == []
    assert [uuid for uuid in kept if (artifacts / uuid).exists()] == []


@pytest.mark.parametrize("how", ["restart", "copy"])
def test_restart_or_copy_of_a_sweep_makes_a_new_one_with_its_own_trials(
    settings: Settings, tmp_path: Path, how: str
) -> None:
    spec = sweep(tmp_path, VALUES)
    assert mizzen("run", "-f", str(spec)).returncode == 0
    original = pipeline_of()
    restarted = mizzen("ops", how, original["uuid"][:8])
    assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    assert "trials: 4/4 done (4 succeeded)" in restarted.stdout
    pipelines = [run for run in runs() if run["kind"] == "matrix"]
    (new,) = [p for p in pipelines if p["uuid"] != original["uuid"]]
    assert (
        new["status"] == "succeeded"
        and json_of("ops", "get", new["uuid"])["original_uuid"] == original["uuid"]
    )
    for pipeline in (original, new):
        trials = children_of(pipeline["uuid"])
        assert sorted(t["params"]["lr"] for t in trials) == VALUES
        assert {t["status"] for t in trials} == {"succeeded"}


def test_restart_of_one_trial_runs_it_again_with_its_values(settings: Settings, tmp_path: Path) -> None:
    spec = sweep(tmp_path, VALUES)
    assert mizzen("run", "-f", str(spec)).returncode == 0
    pipeline = pipeline_of()
    (trial,) = [t for t in children_of(pipeline["uuid"]) if t["params"]["lr"] == 0.2]
    restarted = mizzen("ops", "restart", trial["uuid"][:12])
    assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    again = [t for t in children_of(pipeline["uuid"]) if t.get("original_uuid") == trial["uuid"]]
    assert len(again) == 1 and again[0]["status"] == "succeeded"
    assert again[0]["params"] == {"lr": 0.2}
    metrics = json_of("ops", "metrics", again[0]["uuid"])
    assert [(m["name"], round(m["last"], 6)) for m in metrics] == [("loss", 0.1)]
    assert pipeline_of()["status"] == "succeeded"  # the sweep itself is not touched
