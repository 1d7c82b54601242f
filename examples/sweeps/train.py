"""A sweep's trial: train a small classifier on scikit-learn's digits and track its validation loss.

Each epoch logs `loss` (validation log loss) and `accuracy`, so a sweep's early stopping can judge a
running trial; the last values are also the trial's outputs, which the tuner optimises.
"""

from __future__ import annotations

import argparse

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
    parser.add_argument("--alpha", type=float, default=1e-4, help="L2 regularisation")
    parser.add_argument("--epochs", type=int, default=10, help="passes over the training set")
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    run = tracking.init()
    digits = load_digits()
    x_train, x_val, y_train, y_val = train_test_split(
        digits.data, digits.target, test_size=0.25, random_state=args.seed, stratify=digits.target
    )
    scaler = StandardScaler().fit(x_train)
    x_train, x_val = scaler.transform(x_train), scaler.transform(x_val)
    classes = np.unique(digits.target)
    model = SGDClassifier(
        loss="log_loss", learning_rate="adaptive", eta0=args.lr, alpha=args.alpha, random_state=args.seed
    )
    rng = np.random.default_rng(args.seed)
    loss = accuracy = 0.0
    for epoch in range(1, args.epochs + 1):
        order = rng.permutation(len(x_train))
        model.partial_fit(x_train[order], y_train[order], classes=classes)
        loss = float(log_loss(y_val, model.predict_proba(x_val), labels=classes))
        accuracy = float(accuracy_score(y_val, model.predict(x_val)))
        run.log_metrics(step=epoch, loss=loss, accuracy=accuracy)
        print(f"epoch {epoch:3d}  loss {loss:.4f}  accuracy {accuracy:.4f}", flush=True)
    run.log_outputs(loss=loss, accuracy=accuracy)


if __name__ == "__main__":
    main()
