from pathlib import Path

import pytest
import torch

from benchmark.compare import compare_table
from benchmark.render import render_all
from benchmark.results import compare_records
from benchmark.run import run_table
from benchmark.tables import RunContext, gmm_modes

FAST = {"steps": 40, "variant_steps": 20, "runs": 2, "n_train": 1000, "n_heldout": 200, "n_eval_samples": 500,
        "figure_points": 50}


def _run(tmp: Path, stop_after=None, overrides=FAST, cache="cache"):
    ctx = RunContext(device="cpu", cache_dir=tmp / cache, progress=False, stop_after=stop_after,
                     results_dir=tmp / "results", tables_dir=tmp / "tables")
    return run_table("gmm_modes", "smoke", dict(overrides), ctx)


def test_the_pinned_smoke_results_are_reproduced(repo):
    problems = compare_table("gmm_modes", "smoke", repo / "results", rtol=1e-5)
    assert problems == []


def test_an_interrupted_table_resumes_to_the_same_numbers(tmp_path):
    whole = _run(tmp_path / "whole").record
    interrupted = _run(tmp_path / "parts", stop_after=15)
    assert interrupted.record["runs"] == {}, "an unfinished group stores nothing"
    resumed = _run(tmp_path / "parts").record
    assert set(resumed["runs"]) == {"ali/0", "ali/1", "gan/0", "gan/1", "gan_inverse/0", "gan_posthoc/0", "vae/0"}
    assert compare_records(whole, resumed, rtol=0, atol=0) == []


def test_stored_runs_are_skipped_and_more_runs_add_only_the_new_ones(tmp_path, monkeypatch):
    first = _run(tmp_path).record
    monkeypatch.setattr(gmm_modes, "train", lambda *a, **k: pytest.fail("a stored run was retrained"))
    again = _run(tmp_path).record
    assert again["runs"] == first["runs"]
    monkeypatch.undo()
    more = _run(tmp_path, overrides={**FAST, "runs": 3}).record
    assert {"ali/2", "gan/2"} <= set(more["runs"])
    for run_id in ("ali/0", "ali/1", "gan/0", "gan/1"):
        assert more["runs"][run_id]["values"] == first["runs"][run_id]["values"]


def test_a_diverged_run_is_recorded_and_rendered_not_raised(tmp_path, monkeypatch):
    build = gmm_modes._build

    def poisoned(row, cfg, seeds, hparams, device):
        model = build(row, cfg, seeds, hparams, device)
        target = gmm_modes.run_seed(cfg, "gan", 1)
        if row == "gan" and target in seeds:
            with torch.no_grad():
                model.decoder[0].weight[seeds.index(target)].fill_(float("nan"))
        return model

    monkeypatch.setattr(gmm_modes, "_build", poisoned)
    record = _run(tmp_path).record
    failed = record["runs"]["gan/1"]
    assert failed["status"] == "failed" and failed["failure"]["step"] == 1
    assert "non-finite" in failed["failure"]["reason"]
    assert record["summary"]["gan"]["n_failed"] == 1
    assert record["runs"]["gan_inverse/0"]["extra"]["base_run"] == "gan/0"
    render_all(tmp_path / "results", tmp_path / "tables")
    table = (tmp_path / "tables" / "smoke" / "gmm_modes.md").read_text()
    assert "1 (1 failed)" in table
    assert "`gan/1`: diverged at update 1" in table


def test_hyperparameters_are_drawn_in_their_ranges_and_shared_by_the_rows():
    cfg = gmm_modes.GMMModesConfig()
    draws = [gmm_modes.draw_hparams(cfg, i) for i in range(50)]
    assert all(cfg.lr_range[0] <= d["lr"] <= cfg.lr_range[1] for d in draws)
    assert all(0.5 <= d["beta1"] <= 0.9 for d in draws)
    assert all(cfg.init_std_range[0] <= d["init_std"] <= cfg.init_std_range[1] for d in draws)
    assert len({d["lr"] for d in draws}) == 50
    assert gmm_modes.run_seed(cfg, "ali", 0) != gmm_modes.run_seed(cfg, "gan", 0)


def test_best_run_breaks_ties_by_quality_then_index():
    runs = {f"gan/{i}": {"status": "ok", "index": i, "values": {"modes_covered": m, "hq_modes": h}}
            for i, (m, h) in enumerate([(20, 5), (22, 3), (22, 9), (22, 9)])}
    runs["gan/4"] = {"status": "failed", "index": 4, "values": {}}
    assert gmm_modes.best_run(runs) == "gan/2"


def test_committed_tables_equal_a_fresh_render_of_the_committed_results(repo, tmp_path):
    written = render_all(repo / "results", tmp_path)
    texts = [p for p in written if p.suffix in (".md", ".csv", ".tex")]
    assert texts, "no committed results to render"
    for path in texts:
        committed = repo / "tables" / path.relative_to(tmp_path)
        assert committed.exists(), f"{committed} is not committed"
        assert committed.read_text() == path.read_text(), f"{committed} differs from a fresh render"
