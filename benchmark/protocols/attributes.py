"""The CelebA attribute protocol of the celeba_attrs table as pure functions: per-attribute scores of binary
predictions against the true attributes, and per row the mean, std and "# best" over the attributes.

HALI's slides give mean / std / # best over the 40 attributes without naming the score (PROTOCOLS.md, celeba_attrs).
Every score here is computed, each by scikit-learn: accuracy, balanced accuracy (the mean of the two class recalls,
0.5 for a constant prediction) and F1 of the positive class (0 when nothing is predicted positive).  "# best" [ours]
counts the attributes on which a row's score is strictly above every other compared row's; an attribute where the
best score is shared is a tie, listed with the rows that share it and counted for none, so the counts of a table
may sum to less than the number of attributes (HALI's 5 + 3 + 27 + 3 = 38 of 40).
"""
from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score

SCORES = ("accuracy", "balanced_accuracy", "f1")


def attribute_scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, np.ndarray]:
    """Per attribute (columns of the (N, A) 0/1 arrays): {"accuracy", "balanced_accuracy", "f1"}, each (A,)."""
    y_true, y_pred = np.asarray(y_true).astype(bool), np.asarray(y_pred).astype(bool)
    if y_true.shape != y_pred.shape or y_true.ndim != 2:
        raise ValueError(f"predictions {y_pred.shape} and attributes {y_true.shape} must be the same (N, A)")
    columns = range(y_true.shape[1])
    return {
        "accuracy": np.array([accuracy_score(y_true[:, a], y_pred[:, a]) for a in columns]),
        "balanced_accuracy": np.array([_balanced(y_true[:, a], y_pred[:, a]) for a in columns]),
        "f1": np.array([f1_score(y_true[:, a], y_pred[:, a], zero_division=0.0) for a in columns]),
    }


def _balanced(truth: np.ndarray, pred: np.ndarray) -> float:
    """Balanced accuracy; an attribute whose test images are all of one class scores that class's recall."""
    if truth.all() or not truth.any():
        return float((pred == truth).mean())
    return float(balanced_accuracy_score(truth, pred))


def best_counts(scores: dict[str, np.ndarray], names: list[str] | None = None) -> dict:
    """Over the rows of `scores` (row -> (A,) scores of one metric): {"best": row -> the number of attributes on
    which it is strictly best, "ties": [{"attribute", "rows"}] where the best score is shared}."""
    rows = list(scores)
    table = np.stack([np.asarray(scores[r], dtype=float) for r in rows])
    names = names or [str(a) for a in range(table.shape[1])]
    best = {r: 0 for r in rows}
    ties = []
    for a in range(table.shape[1]):
        top = np.flatnonzero(np.isclose(table[:, a], table[:, a].max(), rtol=0, atol=1e-12))
        if len(top) == 1:
            best[rows[top[0]]] += 1
        else:
            ties.append({"attribute": names[a], "rows": [rows[i] for i in top]})
    return {"best": best, "ties": ties}


def row_summary(scores: np.ndarray) -> dict:
    """Mean and population std (ddof 0) over the attributes of one row's scores."""
    scores = np.asarray(scores, dtype=float)
    return {"mean": float(scores.mean()), "std": float(scores.std()), "n_attributes": int(scores.size)}
