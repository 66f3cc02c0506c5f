"""What every registered table must do: reproduce its pinned smoke results, resume an interrupted run to the same
numbers, skip what is stored, record (and render) a diverged run instead of raising, and keep what it stored when
its data is gone."""
import contextlib
import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from benchmark.compare import compare_table
from benchmark.data import DataUnavailable
from benchmark.machine import describe, machine_identity, numbers_comparable_here, reproduced_on
from benchmark.registry import DATASETS, TABLES
from benchmark.render import render_all
from benchmark.results import compare_records, load_record, write_json_atomic
from benchmark.table_run import pending_requests, run_table
from benchmark.tables import RunContext, gmm_modes
from fixtures import write_celeba, write_cifar10, write_mnist, write_svhn_partial


def _poison_gmm(monkeypatch):
    build = gmm_modes._build

    def poisoned(row, cfg, seeds, hparams, device):
        model = build(row, cfg, seeds, hparams, device)
        target = gmm_modes.run_seed(cfg, "gan", 1)
        if row == "gan" and target in seeds:
            with torch.no_grad():
                model.decoder[0].weight[seeds.index(target)].fill_(float("nan"))
        return model

    monkeypatch.setattr(gmm_modes, "_build", poisoned)


def _poison_svhn_gan(monkeypatch):
    from benchmark.models.gan import ImageGAN

    original = ImageGAN.init_from_data

    def poisoned(self, images):
        original(self, images)
        with torch.no_grad():
            next(self.decoder.parameters()).fill_(float("nan"))

    monkeypatch.setattr(ImageGAN, "init_from_data", poisoned)


def _poison_vae(monkeypatch):
    from benchmark.models.vae import ImageVAE

    original = ImageVAE.init_from_data

    def poisoned(self, images):
        original(self, images)
        with torch.no_grad():
            next(self.decoder.parameters()).fill_(float("nan"))

    monkeypatch.setattr(ImageVAE, "init_from_data", poisoned)


def _poison_feature_matching(seed):
    def poison(monkeypatch):
        from benchmark.models.gan_fm import FeatureMatchingGAN

        original = FeatureMatchingGAN.init_from_data

        def poisoned(self, images):
            original(self, images)
            if self.seed == seed:
                with torch.no_grad():
                    next(self.discriminator.parameters()).fill_(float("nan"))

        monkeypatch.setattr(FeatureMatchingGAN, "init_from_data", poisoned)

    return poison


def _poison_clustering_aae(monkeypatch):
    from benchmark.models.aae_semi import ClusteringAAE

    def poisoned(self, images):
        if self.seed == 1:
            with torch.no_grad():
                next(self.decoder.parameters()).fill_(float("nan"))

    monkeypatch.setattr(ClusteringAAE, "init_from_data", poisoned)


def _every_image_dataset(root):
    write_celeba(root, 60, 20, 30)
    write_svhn_partial(root, 300)
    write_mnist(root, 300, 200)
    write_cifar10(root, 250, 40)


# Per table: overrides of its smoke profile that keep it fast, the data it needs (written as a fixture), an update at
# which to interrupt it, how to make one run diverge, and which run that is.
ADAPTERS = {
    "gmm_modes": dict(overrides={"steps": 40, "variant_steps": 20, "runs": 2, "n_train": 1000, "n_heldout": 200,
                                 "n_eval_samples": 500, "figure_points": 50},
                      data=None, stop_after=15, poison=_poison_gmm, diverged="gan/1"),
    "mnist_semi": dict(overrides={}, data=lambda root: write_mnist(root, 300, 200), stop_after=1,
                       poison=_poison_feature_matching(1), diverged="gan_fm/1"),
    "mnist_cluster": dict(overrides={}, data=lambda root: write_mnist(root, 300, 200), stop_after=1,
                          poison=_poison_clustering_aae, diverged="aae_cluster/1"),
    "cifar10_semi": dict(overrides={}, data=lambda root: write_cifar10(root, 250, 40), stop_after=1,
                         poison=_poison_feature_matching(0), diverged="gan_fm_1000/0"),
    "svhn_semi": dict(overrides={}, data=lambda root: write_svhn_partial(root, 300), stop_after=1,
                      poison=_poison_svhn_gan, diverged="gan_d/0"),
    "celeba_attrs": dict(overrides={}, data=lambda root: write_celeba(root, 60, 5, 30), stop_after=1,
                         poison=_poison_vae, diverged="vae_a_accuracy/0"),
    "recon_error": dict(overrides={}, data=lambda root: _every_image_dataset(root), stop_after=1,
                        poison=_poison_vae, diverged="celeba_vae/0"),
    "sample_quality": dict(overrides={"n": 8}, data=lambda root: _every_image_dataset(root), stop_after=1,
                           poison=_poison_vae, diverged="celeba_vae/0"),
}


@pytest.fixture(autouse=True)
def _fixture_data_only(monkeypatch):
    monkeypatch.delenv("BENCHMARK_DATA", raising=False)


def _run(name, tmp: Path, stop_after=None, cache="cache"):
    adapter = ADAPTERS[name]
    data_root = tmp / "data" if adapter["data"] else None
    if data_root is not None and not data_root.exists():
        adapter["data"](data_root)
    ctx = RunContext(device="cpu", cache_dir=tmp / cache, progress=False, stop_after=stop_after,
                     data_root=str(data_root) if data_root else None, results_dir=tmp / "results",
                     tables_dir=tmp / "tables")
    return run_table(name, "smoke", dict(adapter["overrides"]), ctx)


def test_every_registered_table_is_tested_here():
    assert set(ADAPTERS) == set(TABLES.names())


@pytest.mark.parametrize("name", sorted(ADAPTERS))
def test_the_pinned_smoke_results_are_reproduced(name, repo, data_root, monkeypatch):
    if ADAPTERS[name]["data"] and data_root is None:
        pytest.skip("the pinned smoke results of this table were made on the real data (BENCHMARK_DATA)")
    if data_root is not None:
        monkeypatch.setenv("BENCHMARK_DATA", str(data_root))
    comparable = numbers_comparable_here(repo / "results", "smoke", name)
    problems = compare_table(name, "smoke", repo / "results", rtol=1e-5, measured_numbers=comparable)
    assert problems == [], f"re-run on {describe(machine_identity())}"
    if not comparable:
        checked_on = "; ".join(describe(m["identity"]) for m in reproduced_on(repo / "results", "smoke"))
        pytest.skip(f"ids, seeds, statuses and keys match; the numbers were not compared: the pins are recorded as "
                    f"reproduced on {checked_on or 'no machine'}, not yet on this {describe(machine_identity())} "
                    f"(CPUs of another kind round otherwise: benchmark.machine)")


@pytest.mark.parametrize("name", sorted(ADAPTERS))
def test_an_interrupted_table_resumes_to_the_same_numbers(name, tmp_path):
    whole = _run(name, tmp_path / "whole").record
    interrupted = _run(name, tmp_path / "parts", stop_after=ADAPTERS[name]["stop_after"]).record
    assert set(interrupted["runs"]) < set(whole["runs"]), "an interrupted call stores only what it finished"
    resumed = _run(name, tmp_path / "parts").record
    assert compare_records(whole, resumed, rtol=0, atol=0) == []


@pytest.mark.parametrize("name", sorted(ADAPTERS))
def test_stored_runs_are_skipped(name, tmp_path, monkeypatch):
    from benchmark import train as train_module
    from benchmark import trained

    first = _run(name, tmp_path).record
    for module in (train_module, trained, gmm_modes):
        if hasattr(module, "train"):
            monkeypatch.setattr(module, "train", lambda *a, **k: pytest.fail("a stored run was trained again"))
    again = _run(name, tmp_path).record
    assert again["runs"] == first["runs"]


@pytest.mark.parametrize("name", sorted(ADAPTERS))
def test_a_diverged_run_is_recorded_and_rendered_not_raised(name, tmp_path, monkeypatch):
    ADAPTERS[name]["poison"](monkeypatch)
    record = _run(name, tmp_path).record
    failed = record["runs"][ADAPTERS[name]["diverged"]]
    assert failed["status"] == "failed" and failed["failure"]["step"] == 1
    assert "non-finite" in failed["failure"]["reason"]
    others = [r for k, r in record["runs"].items() if k != ADAPTERS[name]["diverged"]]
    assert any(r["status"] == "ok" for r in others), "the other runs go on"
    assert all(r["status"] in ("ok", "failed", "unavailable") for r in others)
    render_all(tmp_path / "results", tmp_path / "tables")
    table = (tmp_path / "tables" / "smoke" / f"{name}.md").read_text()
    assert f"`{ADAPTERS[name]['diverged']}`: diverged at update 1" in table


@pytest.mark.parametrize("name", sorted(n for n in ADAPTERS if TABLES.get(n).requests is not None))
def test_jobs_train_only_the_models_of_cells_not_stored(name, tmp_path):
    """--jobs pre-trains a model only while some cell it serves is not stored (the cache may be gone)."""
    store = _run(name, tmp_path)
    spec = TABLES.get(name)
    config = spec.config("smoke", ADAPTERS[name]["overrides"])
    pairs = spec.requests(config)
    served = {cell for cells, _ in pairs for cell in cells}
    assert served <= set(store.record["runs"]), "every cell a model serves is a cell of the table"
    unavailable = [r for cells, r in pairs if all(store.run(c)["status"] == "unavailable" for c in cells)]
    assert pending_requests(spec, config, store) == unavailable, "only cells whose data was missing are tried again"
    cells, request = next((cells, r) for cells, r in pairs if r not in unavailable)
    del store.record["runs"][cells[0]]
    expected = [r for c, r in pairs if r in unavailable or cells[0] in c]  # every model that cell needs
    assert request in expected and pending_requests(spec, config, store) == expected


def test_a_jobs_worker_stops_once_its_table_process_is_killed(tmp_path):
    """A --jobs worker whose table process is killed (no chance to shut its pool down) ends by itself."""
    log = tmp_path / "worker.log"
    worker = ("import sys, time; from benchmark.table_run import stop_when_parent_goes; "
              "stop_when_parent_goes(int(sys.argv[1]), poll_s=0.05); time.sleep(120)")
    parent = ("import os, subprocess, sys, time; "
              f"w = subprocess.Popen([sys.executable, '-c', {worker!r}, str(os.getpid())], "
              f"stderr=open({str(log)!r}, 'w')); print(w.pid, flush=True); time.sleep(120)")
    table_process = subprocess.Popen([sys.executable, "-c", parent], stdout=subprocess.PIPE, text=True)
    worker_pid = int(table_process.stdout.readline())
    table_process.kill()
    table_process.wait()
    try:
        deadline = time.monotonic() + 60
        while "is gone" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert f"its table process {table_process.pid} is gone" in log.read_text()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(worker_pid, signal.SIGKILL)


@pytest.mark.parametrize("name", sorted(n for n in ADAPTERS if ADAPTERS[n]["data"]))
def test_data_gone_after_a_run_loses_none_of_its_runs(name, tmp_path, monkeypatch):
    """Run a table, take one stored run out, then run it again with every split unavailable: every other stored run
    is still there as it was, and the cell still to fill says 'unavailable' with the reason."""
    path = _run(name, tmp_path).path
    record = load_record(path)
    stored = {k: r for k, r in record["runs"].items() if r["status"] in ("ok", "failed")}
    pending = sorted(stored)[-1]
    del record["runs"][pending], stored[pending]
    write_json_atomic(path, record)

    def gone(*args, **kwargs):
        raise DataUnavailable("the split is gone")

    monkeypatch.setattr(DATASETS, "_entries", {n: dataclasses.replace(e, load=gone) for n, e in DATASETS.items()})
    again = _run(name, tmp_path).record
    assert {k: again["runs"].get(k) for k in stored} == stored
    assert again["runs"][pending]["status"] == "unavailable" and again["runs"][pending]["reason"] == "the split is gone"


def test_mnist_semi_declares_each_epochs_field_local_to_exactly_the_rows_that_train_for_it():
    """So a row re-run at another length (its old runs superseded) extends the record instead of refusing it."""
    from benchmark.tables import mnist_semi

    local = TABLES.get("mnist_semi").row_local
    for row, (_, field, _) in mnist_semi.FAMILIES.items():
        assert row in local[field]
        assert all(row not in local[other] for other in mnist_semi.EPOCHS_ROWS if other != field)
    assert local["fm_epochs"] == ("gan_fm",)
