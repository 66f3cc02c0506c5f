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


def test_the_attribute_classifier_is_cached_by_the_images_it_trains_on(tmp_path, monkeypatch):
    import torch

    from benchmark import attr_classifier

    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (24, 3, 32, 32), generator=g, dtype=torch.uint8)
    attrs = torch.randint(0, 2, (24, 40), generator=g, dtype=torch.uint8)
    config = attr_classifier.AttrClassifierConfig(steps=3, batch_size=8, checkpoint_every=0)
    first, record = attr_classifier.fit(images, attrs, config, tmp_path, what="real")
    assert record["steps"] == 3 and first.predict(images).shape == (24, 40)
    monkeypatch.setattr(attr_classifier, "train", lambda model, batcher, steps, **kw: _loaded(model, kw, steps))
    again, record_again = attr_classifier.fit(images, attrs, config, tmp_path, what="real")
    assert record_again["key"] == record["key"]
    assert torch.equal(again.predict(images), first.predict(images)), "the cached weights are reused"
    monkeypatch.undo()
    _, other = attr_classifier.fit(images.flip(0), attrs, config, tmp_path / "other")
    assert other["key"] != record["key"], "other images are another classifier"


def _loaded(model, kw, steps):
    """The training loop when the checkpoint is finished: it only loads it."""
    import torch

    from benchmark.train import TrainResult

    state = torch.load(kw["checkpoint"], weights_only=False)
    assert state["step"] == steps, "a finished classifier is not trained again"
    model.load_training_state(state["model"])
    return TrainResult(steps_done=steps, finished=True)
