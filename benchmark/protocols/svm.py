"""Linear probes on fixed features: the L2-SVM protocol of ALI section 4.3 (official preprocess_representations +
semi_supervised_svhn.py) and a KNN on the same draws.

Both are pure functions of (features, labels, splits, seed, options):
1. draw 0: a class-balanced draw of `per_class` labelled examples per class from the pool picks the
   hyperparameter (the SVM's C = exp(t), t in linspace(c_log_min, c_log_max, c_count)) by validation error;
2. draws 1..n_classifiers: fresh class-balanced draws, each trains one classifier with that hyperparameter;
3. the result is the test error of each, their mean and population std (ddof 0) [code].
The official draws are unseeded; ours come from `seed` and are returned so a record can store them [ours].
"""
from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np
from joblib import Parallel, delayed
from sklearn.exceptions import ConvergenceWarning
from sklearn.neighbors import KNeighborsClassifier
from sklearn.svm import LinearSVC


@dataclass(frozen=True)
class ProbeOptions:
    per_class: int = 100  # [code] 100 labels per class (1000 on SVHN)
    n_classifiers: int = 100  # [code] 100 SVMs on 100 fresh draws
    c_log_min: float = -20.0  # [code] C = exp(t), t in linspace(-20, 20, 50)
    c_log_max: float = 20.0
    c_count: int = 50
    tol: float = 1e-4  # [code] scikit-learn LinearSVC defaults: squared hinge (L2-SVM), L2 penalty, one-vs-rest
    max_iter: int = 1000
    knn_neighbours: tuple[int, ...] = (1, 3, 5, 9, 15)  # [ours] the KNN baseline's k, chosen like C

    def c_grid(self) -> np.ndarray:
        return np.exp(np.linspace(self.c_log_min, self.c_log_max, self.c_count))


def balanced_draw(labels: np.ndarray, per_class: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of `per_class` examples of every class, drawn without replacement, in sorted order."""
    classes = np.unique(labels)
    picks = []
    for c in classes:
        members = np.flatnonzero(labels == c)
        if len(members) < per_class:
            raise ValueError(f"class {c} has {len(members)} examples in the pool, fewer than {per_class} per class")
        picks.append(rng.choice(members, per_class, replace=False))
    return np.sort(np.concatenate(picks))


def _error(classifier, x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(classifier.predict(x) != y))


def _linear_svc(c: float, random_state: int, options: ProbeOptions) -> LinearSVC:
    """liblinear visits the examples in a random order: seeded, so a probe is a function of its seed."""
    return LinearSVC(C=c, loss="squared_hinge", penalty="l2", dual=True, tol=options.tol, max_iter=options.max_iter,
                     random_state=random_state)


def _fit_and_score(make, param, solver_seed: int, x: np.ndarray, y: np.ndarray, eval_x: np.ndarray,
                   eval_y: np.ndarray) -> tuple[float, bool]:
    """(error on the evaluation split, whether the solver stopped at max_iter)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        classifier = make(param, solver_seed).fit(x, y)
    return _error(classifier, eval_x, eval_y), any(issubclass(w.category, ConvergenceWarning) for w in caught)


def _probe(make: Callable[[float, int], object], grid: list, pool: tuple, validation: tuple, test: tuple, seed: int,
           options: ProbeOptions, n_jobs: int) -> dict:
    (pool_x, pool_y), (val_x, val_y), (test_x, test_y) = pool, validation, test
    rng = np.random.default_rng(seed)
    draws = [balanced_draw(pool_y, options.per_class, rng) for _ in range(options.n_classifiers + 1)]
    solver_seed = int(rng.integers(2**31 - 1))
    parallel = Parallel(n_jobs=n_jobs)  # every fit is seeded: the numbers do not depend on n_jobs
    selection = parallel(delayed(_fit_and_score)(make, param, solver_seed, pool_x[draws[0]], pool_y[draws[0]], val_x,
                                                 val_y) for param in grid)
    validation_errors = [error for error, _ in selection]
    best = int(np.argmin(validation_errors))  # ties: the first (smallest C, fewest neighbours)
    tested = parallel(delayed(_fit_and_score)(make, grid[best], solver_seed, pool_x[d], pool_y[d], test_x, test_y)
                      for d in draws[1:])
    errors = [error for error, _ in tested]
    return {"errors": errors, "mean": float(np.mean(errors)), "std": float(np.std(errors)),
            "chosen": grid[best], "validation_errors": validation_errors, "draws": [d.tolist() for d in draws],
            "unconverged_fits": sum(flag for _, flag in selection + tested)}


def _svm(options: ProbeOptions):
    return functools.partial(_linear_svc, options=options)


def _knn(k: int, _random_state: int) -> KNeighborsClassifier:
    return KNeighborsClassifier(n_neighbors=k)


def svm_probe(pool: tuple, validation: tuple, test: tuple, seed: int, options: ProbeOptions = ProbeOptions(),
              n_jobs: int = -1) -> dict:
    """The L2-SVM protocol on (features, labels) pairs of the pool, validation and test splits; the fits run on
    `n_jobs` processes (-1: every core)."""
    grid = [float(c) for c in options.c_grid()]
    return _probe(_svm(options), grid, pool, validation, test, seed, options, n_jobs)


def knn_probe(pool: tuple, validation: tuple, test: tuple, seed: int, options: ProbeOptions = ProbeOptions(),
              n_jobs: int = -1) -> dict:
    """The same draws and selection with a k-nearest-neighbour classifier (Euclidean) [ours]."""
    grid = [k for k in options.knn_neighbours if k <= options.per_class * len(np.unique(pool[1]))]
    return _probe(_knn, grid, pool, validation, test, seed, options, n_jobs)
