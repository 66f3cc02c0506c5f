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
    """(the record, its one run)."""
    record = json.loads((tmp_path / "results" / "smoke" / "fit" / f"{name}.json").read_text())
    return record, record["runs"][f"{name.split('_')[0]}/0"]


@pytest.mark.parametrize("family, figures", [
    ("hali", {"samples", "reconstructions_z1", "reconstructions_z2", "interpolation_lerp", "interpolation_slerp",
              "inpainting"}),
    ("gan", {"samples"}),
])
def test_fit_trains_records_and_draws_the_figures(dirs, tmp_path, family, figures):
    assert fit.main(["--model", family, "--dataset", "mnist", "--profile", "smoke", *dirs]) == 0
    record, run = _record(tmp_path, f"{family}_mnist")
    assert run["status"] == "ok" and run["steps"] == run["extra"]["updates"] == 2 and run["extra"]["trained_now"]
    assert record["config"]["train_images"] == 40 and record["datasets"]["train"]["n"] == 40
    assert record["protocol"]["held_out"] == "test" and record["schema"] == 2
    assert set(run["extra"]["figures"]) == figures
    for path in run["extra"]["figures"].values():
        assert Image.open(path).size[0] > 28
    if family == "hali":
        assert set(run["values"]) == {"recon_l2_z1", "recon_l2_z2"}
        recon = Image.open(run["extra"]["figures"]["reconstructions_z1"])
        assert recon.size == (8 * 29 + 1, 5 * 29 + 1), "20 held-out images: 5 rows of 4 (real, reconstruction) pairs"


def test_fit_loads_a_finished_model_and_refuses_to_mix_a_new_config_into_its_record(dirs, tmp_path, capsys):
    args = ["--model", "vae", "--dataset", "mnist", "--profile", "smoke", *dirs]
    assert fit.main(args) == 0
    first, first_run = _record(tmp_path, "vae_mnist")
    assert fit.main(args) == 0
    again, again_run = _record(tmp_path, "vae_mnist")
    assert not again_run["extra"]["trained_now"], "the finished model is loaded, not trained again"
    assert again_run["extra"]["last_losses"] == first_run["extra"]["last_losses"]
    assert again["config_hash"] == first["config_hash"] and again_run["values"] == first_run["values"]
    changed = [*args, "--set", "steps=3"]
    assert fit.main(changed) == 2
    assert "holds results of another config" in capsys.readouterr().err
    (tmp_path / "results" / "smoke" / "fit" / "vae_mnist.json").rename(tmp_path / "old.json")
    assert fit.main(changed) == 0
    third, third_run = _record(tmp_path, "vae_mnist")
    assert third_run["steps"] == 3 and third_run["extra"]["trained_now"]
    assert third["config_hash"] != first["config_hash"]


def test_a_model_override_fits_into_a_record_and_figures_of_its_own(dirs, tmp_path):
    """The IAE's stochastic setting beside its default: two records, and the stochastic one draws each image's
    reconstructions under fresh local noise."""
    base = ["--model", "iae", "--dataset", "mnist", "--profile", "smoke", *dirs]
    assert fit.main(base) == 0
    assert fit.main([*base, "--set", "model.code_dim=10", "--set", "model.noise_dim=100"]) == 0
    default, default_run = _record(tmp_path, "iae_mnist")
    variant, variant_run = _record(tmp_path, "iae_mnist_code_dim-10_noise_dim-100")
    assert variant["config"]["model_config"]["noise_dim"] == 100 and default["config"]["model_config"]["noise_dim"] == 0
    assert "reconstructions_stochastic" in variant_run["extra"]["figures"]
    assert "reconstructions_stochastic" not in default_run["extra"]["figures"]
    grid = Image.open(variant_run["extra"]["figures"]["reconstructions_stochastic"])
    assert grid.size == (8 * 29 + 1, 8 * 29 + 1), "8 held-out images, each beside 7 decodings of its code"


def test_a_diverged_fit_is_recorded_as_failed_without_figures(dirs, tmp_path, monkeypatch):
    from benchmark import trained
    from benchmark.train import TrainResult

    monkeypatch.setattr(trained, "train", lambda *a, **k: TrainResult(
        steps_done=1, failures={0: {"step": 1, "reason": "non-finite d_loss (nan)"}}, finished=True))
    assert fit.main(["--model", "ali", "--dataset", "mnist", "--profile", "smoke", *dirs]) == 0
    _, run = _record(tmp_path, "ali_mnist")
    assert run["status"] == "failed" and run["failure"]["reason"] == "non-finite d_loss (nan)"
    assert run["extra"]["figures"] == {} and run["values"] == {}


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
    record, run = _record(tmp_path, "ali_cifar10")
    assert record["datasets"]["train"]["split"] == "train_first45k" and record["protocol"]["held_out"] == "test"
    assert record["config"]["arch"] == "cifar10" and run["status"] == "ok"
