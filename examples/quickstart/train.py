"""Quickstart: train a small classifier on scikit-learn's digits and track it with Mizzen.

Runs in a few seconds on a CPU. Under `mizzen run` it attaches to its managed run; run directly
(`python train.py`) it tracks into a run of its own when a Mizzen server is configured.
"""

from __future__ import annotations

import argparse
import pickle
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from mizzen import tracking


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lr", type=float, default=0.01, help="initial learning rate")
    parser.add_argument("--epochs", type=int, default=20, help="passes over the training set")
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    # Under `mizzen run` this attaches to the managed run; run directly, it creates a run of its own.
    run = tracking.init()
    run.log_inputs(lr=args.lr, epochs=args.epochs, seed=args.seed)

    digits = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(
        digits.data, digits.target, test_size=0.25, random_state=args.seed, stratify=digits.target
    )
    scaler = StandardScaler().fit(x_train)
    x_train, x_test = scaler.transform(x_train), scaler.transform(x_test)
    classes = np.unique(digits.target)

    model = SGDClassifier(loss="log_loss", learning_rate="adaptive", eta0=args.lr, random_state=args.seed)
    rng = np.random.default_rng(args.seed)
    accuracy = loss = 0.0
    for epoch in range(1, args.epochs + 1):
        order = rng.permutation(len(x_train))
        model.partial_fit(x_train[order], y_train[order], classes=classes)
        loss = float(log_loss(y_test, model.predict_proba(x_test), labels=classes))
        accuracy = float(accuracy_score(y_test, model.predict(x_test)))
        train_accuracy = float(accuracy_score(y_train, model.predict(x_train)))
        run.log_metrics(step=epoch, loss=loss, accuracy=accuracy, train_accuracy=train_accuracy)
        print(f"epoch {epoch:3d}  loss {loss:.4f}  accuracy {accuracy:.4f}", flush=True)

    model_path = Path(run.get_outputs_path()) / "model.pkl"
    model_path.parent.mkdir(parents=True, exist_ok=True)
    with model_path.open("wb") as fh:
        pickle.dump({"scaler": scaler, "model": model}, fh)
    run.log_model(str(model_path), name="digits-sgd", framework="scikit-learn")
    run.log_outputs(accuracy=round(accuracy, 4), loss=round(loss, 4))
    print(f"final: accuracy {accuracy:.4f}  loss {loss:.4f}  model {model_path}", flush=True)
    run.end()


if __name__ == "__main__":
    main()
