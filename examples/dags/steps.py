"""The steps of examples/dags/pipeline.yaml and sweep_in_dag.yaml (a real program each op runs)."""

import sys
from pathlib import Path

from mizzen import tracking


def prepare(rows: int, outputs: str) -> None:
    path = Path(outputs) / "data.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x,y\n" + "".join(f"{i},{2 * i}\n" for i in range(rows)))
    tracking.init()
    tracking.log_outputs(rows=rows)
    print(f"prepare: wrote {rows} rows to data.csv")


def train(rows: int, upstream_file: str, copied: str) -> None:
    direct = Path(upstream_file).read_text().splitlines()
    copy = Path(copied).read_text().splitlines()
    assert direct == copy, "the init step's copy differs from the upstream file"
    score = sum(int(line.split(",")[1]) for line in copy[1:]) / rows
    tracking.init()
    tracking.log_outputs(score=score)
    print(f"train: read rows={rows} from prepare; data.csv has {len(copy) - 1} rows, first: {copy[1]}")
    print(f"train: score={score}")


def fit(lr: float, data: str) -> None:
    rows = [line.split(",") for line in Path(data).read_text().splitlines()[1:]]
    loss = sum((float(y) - 2 * float(x)) ** 2 for x, y in rows) + lr
    tracking.init()
    tracking.log_outputs(loss=loss)
    print(f"fit: lr={lr} on {len(rows)} rows: loss={loss}")


def report(score: float) -> None:
    print(f"report: train scored {score}")


if __name__ == "__main__":
    step, *args = sys.argv[1:]
    if step == "prepare":
        prepare(int(args[0]), args[1])
    elif step == "train":
        train(int(args[0]), args[1], args[2])
    elif step == "fit":
        fit(float(args[0]), args[1])
    else:
        report(float(args[0]))
