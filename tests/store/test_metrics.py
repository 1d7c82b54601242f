from __future__ import annotations

import threading

import pytest

from mizzen.store import Database
from mizzen.store.database import read_session, write_session
from mizzen.store.repos import metrics, runs
from mizzen.store.repos.metrics import Point


def _run_id(db: Database) -> int:
    with write_session(db) as session:
        run, _ = runs.create_run(session, runs.NewRun())
        return run.id


def _summary(db: Database, run_id: int, name: str) -> tuple[float, float, float, int, int | None]:
    with read_session(db) as session:
        (row,) = [s for s in metrics.summaries(session, run_id) if s.name == name]
        return row.last, row.min, row.max, row.count, row.last_step


def test_ingest_stores_points_and_summaries(database: Database) -> None:
    run_id = _run_id(database)
    points = [Point("loss", step, 100.0 + step, 1.0 / (step + 1)) for step in range(10)]
    points += [Point("acc", step, 100.0 + step, step / 10) for step in range(10)]
    with write_session(database) as session:
        assert metrics.ingest(session, run_id, points) == 20
    with read_session(database) as session:
        history = metrics.history(session, run_id, "loss")
    assert history.steps == list(range(10))
    assert history.timestamps == [100.0 + s for s in range(10)]
    assert history.values == pytest.approx([1.0 / (s + 1) for s in range(10)])
    assert _summary(database, run_id, "loss") == pytest.approx((0.1, 0.1, 1.0, 10, 9))
    assert _summary(database, run_id, "acc") == pytest.approx((0.9, 0.0, 0.9, 10, 9))


def test_later_batches_fold_into_the_summary(database: Database) -> None:
    run_id = _run_id(database)
    with write_session(database) as session:
        metrics.ingest(session, run_id, [Point("loss", 1, 1.0, 0.5), Point("loss", 2, 2.0, 0.4)])
    with write_session(database) as session:
        metrics.ingest(session, run_id, [Point("loss", 3, 3.0, 0.9), Point("loss", 4, 4.0, 0.1)])
    assert _summary(database, run_id, "loss") == pytest.approx((0.1, 0.1, 0.9, 4, 4))


def test_a_late_upload_of_older_points_does_not_move_last(database: Database) -> None:
    """A tracking journal replayed after an outage brings old steps after new ones."""
    run_id = _run_id(database)
    with write_session(database) as session:
        metrics.ingest(session, run_id, [Point("loss", 10, 10.0, 0.2)])
    with write_session(database) as session:
        metrics.ingest(session, run_id, [Point("loss", 5, 5.0, 0.05), Point("loss", 6, 6.0, 0.9)])
    assert _summary(database, run_id, "loss") == pytest.approx((0.2, 0.05, 0.9, 3, 10))
    with read_session(database) as session:
        assert metrics.history(session, run_id, "loss").steps == [5, 6, 10]


def test_points_without_steps_are_ordered_by_time(database: Database) -> None:
    run_id = _run_id(database)
    with write_session(database) as session:
        metrics.ingest(session, run_id, [Point("lr", None, 3.0, 0.3), Point("lr", None, 1.0, 0.1)])
    with read_session(database) as session:
        history = metrics.history(session, run_id, "lr")
    assert (history.steps, history.timestamps) == ([None, None], [1.0, 3.0])
    assert _summary(database, run_id, "lr") == pytest.approx((0.3, 0.1, 0.3, 2, None))


def test_history_of_an_unknown_metric_is_empty(database: Database) -> None:
    run_id = _run_id(database)
    with read_session(database) as session:
        assert metrics.history(session, run_id, "nothing") == metrics.History([], [], [])


def test_concurrent_batches_lose_nothing(database: Database) -> None:
    run_id = _run_id(database)
    errors: list[BaseException] = []

    def upload(worker: int) -> None:
        try:
            for batch in range(5):
                base = worker * 1000 + batch * 100
                with write_session(database) as session:
                    metrics.ingest(
                        session,
                        run_id,
                        [Point("loss", base + i, float(base + i), float(base + i)) for i in range(100)],
                    )
        except BaseException as error:  # asserted below
            errors.append(error)

    threads = [threading.Thread(target=upload, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    last, low, high, count, last_step = _summary(database, run_id, "loss")
    assert (low, high, count, last_step) == (0.0, 3499.0, 2000, 3499)
    assert last == 3499.0
    with read_session(database) as session:
        assert len(metrics.history(session, run_id, "loss").values) == 2000


def test_large_batches_are_inserted_in_chunks(database: Database) -> None:
    run_id = _run_id(database)
    points = [Point("loss", i, float(i), float(i % 97)) for i in range(45_000)]
    with write_session(database) as session:
        assert metrics.ingest(session, run_id, points) == 45_000
    with read_session(database) as session:
        history = metrics.history(session, run_id, "loss")
    assert len(history.values) == 45_000
    assert history.steps[-1] == 44_999
    assert _summary(database, run_id, "loss") == pytest.approx((44_999 % 97, 0.0, 96.0, 45_000, 44_999))
