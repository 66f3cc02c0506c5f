from pathlib import Path


from benchmark.render import render_all
from benchmark.table_run import run_table
from benchmark.tables import RunContext, gmm_modes

FAST = {"steps": 40, "variant_steps": 20, "runs": 2, "n_train": 1000, "n_heldout": 200, "n_eval_samples": 500,
        "figure_points": 50}


def _run(tmp: Path, stop_after=None, overrides=FAST, cache="cache"):
    ctx = RunContext(device="cpu", cache_dir=tmp / cache, progress=False, stop_after=stop_after,
                     results_dir=tmp / "results", tables_dir=tmp / "tables")
    return run_table("gmm_modes", "smoke", dict(overrides), ctx)


def test_more_runs_add_only_the_new_ones(tmp_path):
    first = _run(tmp_path).record
    more = _run(tmp_path, overrides={**FAST, "runs": 3}).record
    assert {"ali/2", "gan/2", "iae/2"} <= set(more["runs"])
    for run_id in ("ali/0", "ali/1", "gan/0", "gan/1", "iae/0", "iae/1"):
        assert more["runs"][run_id]["values"] == first["runs"][run_id]["values"]


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


def test_learning_curve_is_stored_per_run_and_taking_it_changes_no_number(tmp_path):
    curved = _run(tmp_path, overrides={**FAST, "curve_every": 10}, cache="a").record
    plain = _run(tmp_path / "plain", overrides=FAST, cache="b").record
    for run_id, run in curved["runs"].items():
        curve = run["extra"]["curve"]
        assert [p["step"] for p in curve] == ([10, 20, 30, 40] if run["row"] in ("ali", "gan", "iae") else [10, 20])
        assert {k: curve[-1][k] for k in gmm_modes.CURVE_VALUES} == \
            {k: run["values"][k] for k in gmm_modes.CURVE_VALUES}
        assert run["values"] == plain["runs"][run_id]["values"]
    assert [p["step"] for p in plain["runs"]["ali/0"]["extra"]["curve"]] == [40]  # the final evaluation only
    written = render_all(tmp_path / "results", tmp_path / "tables")
    assert "gmm_modes_learning_curves.png" in {p.name for p in written}


def test_an_interrupted_run_keeps_the_curve_points_taken_before_it_stopped(tmp_path):
    overrides = {**FAST, "curve_every": 10, "checkpoint_every": 5}
    whole = _run(tmp_path / "whole", overrides=overrides).record
    assert _run(tmp_path / "parts", overrides=overrides, stop_after=25).record["runs"] == {}
    resumed = _run(tmp_path / "parts", overrides=overrides).record
    for run_id in ("ali/0", "ali/1", "gan/0", "gan/1"):
        assert resumed["runs"][run_id]["extra"]["curve"] == whole["runs"][run_id]["extra"]["curve"]


def test_rows_fill_only_their_own_cells(tmp_path):
    """--rows gan: the GAN's runs and nothing else (no ALI, IAE or variant is trained); the rest follows later."""
    ctx = RunContext(device="cpu", cache_dir=tmp_path / "cache", progress=False, results_dir=tmp_path / "results",
                     tables_dir=tmp_path / "tables")
    only_gan = run_table("gmm_modes", "smoke", dict(FAST), ctx, rows=["gan"]).record
    assert set(only_gan["runs"]) == {"gan/0", "gan/1"}
    everything = run_table("gmm_modes", "smoke", dict(FAST), ctx).record
    assert {"ali/0", "iae/1", "vae/0"} <= set(everything["runs"])
    assert everything["runs"]["gan/0"]["values"] == only_gan["runs"]["gan/0"]["values"]
