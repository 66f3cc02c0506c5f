"""The L2-SVM probe (and the KNN on the same draws): oracle, degenerate, seeding, balance, and a direct check."""
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.svm import LinearSVC

from benchmark.protocols.svm import ProbeOptions, balanced_draw, knn_probe, svm_probe

FAST = ProbeOptions(per_class=5, n_classifiers=10, c_count=9)


def _splits(features, labels, n_pool, n_val):
    return ((features[:n_pool], labels[:n_pool]), (features[n_pool:n_pool + n_val], labels[n_pool:n_pool + n_val]),
            (features[n_pool + n_val:], labels[n_pool + n_val:]))


def test_features_equal_to_one_hot_labels_give_about_zero_error():
    labels = np.arange(600) % 10
    result = svm_probe(*_splits(np.eye(10)[labels], labels, 300, 100), seed=0, options=FAST)
    assert result["mean"] <= 0.01 and len(result["errors"]) == 10


def test_constant_features_give_chance():
    labels = np.arange(600) % 10
    result = svm_probe(*_splits(np.ones((600, 4)), labels, 300, 100), seed=0, options=FAST)
    assert result["mean"] == pytest.approx(0.9, abs=0.01)


def test_the_same_seed_gives_the_same_draws_and_errors_and_another_seed_other_draws():
    digits = load_digits()
    splits = _splits(digits.data, digits.target, 1000, 300)
    a, b = svm_probe(*splits, seed=3, options=FAST), svm_probe(*splits, seed=3, options=FAST)
    assert a["draws"] == b["draws"] and a["errors"] == b["errors"] and a["chosen"] == b["chosen"]
    assert svm_probe(*splits, seed=4, options=FAST)["draws"] != a["draws"]


def test_draws_are_class_balanced_and_fresh():
    labels = np.random.default_rng(0).integers(0, 10, 2000)
    rng = np.random.default_rng(1)
    first, second = balanced_draw(labels, 7, rng), balanced_draw(labels, 7, rng)
    assert np.bincount(labels[first], minlength=10).tolist() == [7] * 10
    assert len(set(first)) == 70 and first.tolist() != second.tolist()
    with pytest.raises(ValueError, match="fewer than"):
        balanced_draw(labels[:30], 7, rng)


def test_the_probe_equals_a_direct_linear_svc_computation_on_real_digits():
    """sklearn's 8x8 digits (real scanned digits): the protocol written out by hand gives the same numbers."""
    digits = load_digits()
    x, y = digits.data / 16.0, digits.target
    options = ProbeOptions(per_class=10, n_classifiers=5, c_log_min=-4, c_log_max=4, c_count=5)
    pool, val, test = _splits(x, y, 1000, 300)
    result = svm_probe(pool, val, test, seed=7, options=options)

    rng = np.random.default_rng(7)
    draws = [balanced_draw(pool[1], 10, rng) for _ in range(6)]
    solver_seed = int(rng.integers(2**31 - 1))
    grid = np.exp(np.linspace(-4, 4, 5))
    val_errors = [np.mean(LinearSVC(C=c, random_state=solver_seed).fit(pool[0][draws[0]], pool[1][draws[0]])
                          .predict(val[0]) != val[1]) for c in grid]
    c = grid[int(np.argmin(val_errors))]
    errors = [np.mean(LinearSVC(C=c, random_state=solver_seed).fit(pool[0][d], pool[1][d]).predict(test[0]) != test[1])
              for d in draws[1:]]
    assert result["chosen"] == pytest.approx(c)
    assert result["errors"] == pytest.approx(errors)
    assert result["mean"] == pytest.approx(np.mean(errors)) and result["std"] == pytest.approx(np.std(errors))
    assert 0.05 < result["mean"] < 0.4, "100 labels of real digits: a linear SVM is far better than chance"


def test_the_knn_baseline_uses_the_same_draws():
    digits = load_digits()
    splits = _splits(digits.data, digits.target, 1000, 300)
    svm, knn = svm_probe(*splits, seed=2, options=FAST), knn_probe(*splits, seed=2, options=FAST)
    assert knn["draws"] == svm["draws"] and knn["chosen"] in FAST.knn_neighbours
    assert knn["mean"] < 0.5
