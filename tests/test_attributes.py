"""The attribute protocol on hand-made predictions."""
import numpy as np
import pytest

from benchmark.protocols.attributes import attribute_scores, best_counts, row_summary


def test_accuracy_balanced_accuracy_and_f1_on_hand_made_predictions():
    truth = np.array([[1, 0], [1, 0], [0, 0], [0, 1]])
    pred = np.array([[1, 0], [0, 0], [0, 0], [0, 0]])
    s = attribute_scores(truth, pred)
    # attribute 0: TP 1, FN 1, TN 2 -> accuracy 3/4, recalls 1/2 and 1 -> balanced 3/4, F1 = 2/(2 + 1) = 2/3
    assert s["accuracy"][0] == pytest.approx(0.75) and s["balanced_accuracy"][0] == pytest.approx(0.75)
    assert s["f1"][0] == pytest.approx(2 / 3)
    # attribute 1, the constant "no" prediction: accuracy 3/4 (the majority rate), balanced 1/2, F1 0
    assert s["accuracy"][1] == pytest.approx(0.75) and s["balanced_accuracy"][1] == pytest.approx(0.5)
    assert s["f1"][1] == 0.0


def test_an_attribute_of_one_class_only_scores_its_recall():
    s = attribute_scores(np.zeros((4, 1)), np.array([[0], [0], [1], [0]]))
    assert s["balanced_accuracy"][0] == pytest.approx(0.75)


def test_best_counts_strict_winners_and_name_ties():
    scores = {"vae": [0.9, 0.5, 0.7], "ali": [0.8, 0.6, 0.7], "hali": [0.7, 0.4, 0.6]}
    out = best_counts(scores, ["Smiling", "Male", "Bald"])
    assert out["best"] == {"vae": 1, "ali": 1, "hali": 0}
    assert out["ties"] == [{"attribute": "Bald", "rows": ["vae", "ali"]}]


def test_row_summary_is_the_mean_and_population_std_over_attributes():
    assert row_summary([0.5, 1.0]) == {"mean": 0.75, "std": 0.25, "n_attributes": 2}


def test_mismatched_shapes_are_refused():
    with pytest.raises(ValueError, match="same"):
        attribute_scores(np.zeros((3, 2)), np.zeros((3, 1)))
