"""benchmark.fit: a family trained on a dataset from the CLI, its record and its figures."""
import json

import pytest
from PIL import Image

from benchmark import fit
from fixtures import write_mnist


@pytest.fixture
def dirs(tmp_path, monkeypatch):
    monkeypatch.delenv("BENCHMARK_DATA", raising=False)
    root = write_mnist(tmp_path / "data", n_train=40, n_test=20)
    return ["--data-root", str(root), "--results-dir", str(tmp_path / "results"), "--tables-dir",
            str(tmp_path / "tables"), "--cache-dir", str(tmp_path / "cache"), "--quiet", "--device", "cpu"]


def _record(tmp_path, name):
    return json.loads((tmp_path / "results" / "smoke" / "fit" / f"{name}.json").read_text())


@pytest.mark.parametrize("family, figures", [
    ("hali", {"samples", "reconstructions_z1", "reconstructions_z2", "interpolation_lerp", "interpolation_slerp",
              "inpainting"}),
    ("gan", {"samples"}),
])
def test_fit_trains_records_and_draws_the_figures(dirs, tmp_path, family, figures):
    assert fit.main(["--model", family, "--dataset", "mnist", "--profile", "smoke", *dirs]) == 0
    record = _record(tmp_path, f"{family}_mnist")
    assert record["status"] == "ok" and record["steps_done"] == record["steps"] == 2 and record["finished"]
    assert record["train_images"] == 40 and record["data"]["n"] == 40 and record["held_out"]["source"] == "test"
    assert set(record["figures"]) == figures
    for path in record["figures"].values():
        assert Image.open(path).size[0] > 28
    if family == "hali":
        assert set(record["held_out_recon_l2"]) == {"z1", "z2"}
        recon = Image.open(record["figures"]["reconstructions_z1"])
        assert recon.size == (8 * 29 + 1, 5 * 29 + 1), "20 held-out images: 5 rows of 4 (real, reconstruction) pairs"


def test_fit_resumes_a_finished_run_and_a_new_key_is_a_new_run(dirs, tmp_path):
    args = ["--model", "vae", "--dataset", "mnist", "--profile", "smoke", *dirs]
    assert fit.main(args) == 0
    first = _record(tmp_path, "vae_mnist")
    assert fit.main(args) == 0
    again = _record(tmp_path, "vae_mnist")
    assert again["last_losses"] == first["last_losses"] and again["config_hash"] == first["config_hash"]
    assert fit.main([*args, "--set", "steps=3", "--set", "model.lr=0.001"]) == 0
    third = _record(tmp_path, "vae_mnist")
    assert third["steps_done"] == 3 and third["model_config"]["lr"] == 0.001
    assert third["config_hash"] != first["config_hash"]


def test_a_diverged_fit_is_recorded_as_failed_without_figures(dirs, tmp_path, monkeypatch):
    from benchmark.train import TrainResult

    monkeypatch.setattr(fit, "train", lambda *a, **k: TrainResult(
        steps_done=1, failures={0: {"step": 1, "reason": "non-finite d_loss (nan)"}}, finished=True))
    assert fit.main(["--model", "ali", "--dataset", "mnist", "--profile", "smoke", *dirs]) == 0
    record = _record(tmp_path, "ali_mnist")
    assert record["status"] == "failed" and record["failure"]["reason"] == "non-finite d_loss (nan)"
    assert record["figures"] == {} and record["held_out_recon_l2"] == {}


@pytest.mark.parametrize("extra, message", [
    (["--model", "nope", "--dataset", "mnist"], "unknown model 'nope'"),
    (["--model", "ali", "--dataset", "gmm25"], "trains on the image datasets"),
    (["--model", "ali", "--dataset", "mnist", "--set", "stepz=3"], "unknown config key(s) 'stepz'"),
    (["--model", "ali", "--dataset", "mnist", "--set", "model.beta3=1"], "unknown config key(s) 'beta3'"),
    (["--model", "ali", "--dataset", "mnist", "--arch", "svhn"], "the svhn networks take (3, 32, 32)"),
    (["--model", "ali", "--dataset", "cifar10"], "CIFAR-10"),
    (["--model", "aae", "--dataset", "mnist", "--set", "model.posterior=flow"], "unknown AAE posterior 'flow'"),
])
def test_fit_bad_input_exits_2_with_one_message(dirs, capsys, extra, message):
    assert fit.main([*extra, "--profile", "smoke", *dirs]) == 2
    assert message in capsys.readouterr().err


def test_fit_on_the_real_cifar10_subset(data_root, tmp_path):
    if data_root is None:
        pytest.skip("BENCHMARK_DATA does not point at the real data")
    args = ["--model", "ali", "--dataset", "cifar10", "--profile", "smoke", "--quiet", "--device", "cpu",
            "--results-dir", str(tmp_path / "results"), "--tables-dir", str(tmp_path / "tables"),
            "--cache-dir", str(tmp_path / "cache")]
    assert fit.main(args) == 0
    record = _record(tmp_path, "ali_cifar10")
    assert record["data"]["split"] == "train_first45k" and record["held_out"]["source"] == "test"
    assert record["arch"] == "cifar10" and record["status"] == "ok"
