import json

import pytest

from benchmark import render
from benchmark.errors import UserError
from benchmark.registry import TABLES
from benchmark.results import ResultStore, RunRecord, compare_records, load_record, read_artifact, summarize


def _store(tmp_path, config=None):
    return ResultStore(tmp_path, "t", "smoke", config or {"a": 1}, {"option": "x"}, {"d": {"n": 3}})


def _run(row, value, index=0, **fields):
    return RunRecord(row, index, seed=1, values={"m": value}, **fields)


def test_summary_is_recomputed_from_the_runs_and_failures_are_counted(tmp_path):
    store = _store(tmp_path)
    store.put_run(_run("r", 2))
    store.put_run(_run("r", 4, 1))
    store.put_run(RunRecord.from_training("r", 2, 1, {"step": 3, "reason": "nan"}, {"m": 9}))
    summary = load_record(store.path)["summary"]["r"]
    assert summary["n_runs"] == 3 and summary["n_failed"] == 1
    assert summary["metrics"]["m"] == {"mean": 3.0, "std": 1.0, "min": 2, "max": 4, "n": 2}


def test_population_std_over_runs():
    assert summarize([1.0, 3.0]) == {"mean": 2.0, "std": 1.0, "min": 1.0, "max": 3.0, "n": 2}
    assert summarize([]) == {"n": 0}


def test_reopening_keeps_runs_and_refuses_another_config(tmp_path):
    store = _store(tmp_path)
    store.put_run(_run("r", 2))
    again = _store(tmp_path)
    assert again.run("r/0")["values"] == {"m": 2}
    with pytest.raises(UserError, match="differs in: a"):
        _store(tmp_path, {"a": 2})
    assert load_record(store.path)["runs"]["r/0"]["values"] == {"m": 2}, "nothing stored may be lost"


def test_runs_record_their_provenance_and_non_finite_values_become_null(tmp_path):
    store = _store(tmp_path)
    store.put_run(_run("r", float("nan")))
    run = json.loads(store.path.read_text())["runs"]["r/0"]
    assert run["values"]["m"] is None
    assert {"git_commit", "versions", "platform"} <= set(run)


def test_a_corrupt_record_gives_a_clear_error(tmp_path):
    path = tmp_path / "smoke" / "t.json"
    path.parent.mkdir()
    path.write_text("{not json")
    with pytest.raises(UserError, match="not valid JSON"):
        _store(tmp_path)


def test_compare_is_exact_on_integers_and_tolerant_on_floats(tmp_path):
    a = _store(tmp_path / "a")
    b = _store(tmp_path / "b")
    a.put_run(RunRecord("r", 0, 1, values={"count": 5, "err": 1.0}))
    b.put_run(RunRecord("r", 0, 1, values={"count": 5, "err": 1.0 + 1e-9}))
    assert compare_records(a.record, b.record) == []
    b.put_run(RunRecord("r", 0, 1, values={"count": 6, "err": 1.0}))
    problems = compare_records(a.record, b.record)
    assert any("count" in p for p in problems)


def test_compare_without_measured_numbers_still_checks_structure_and_missing_numbers(tmp_path):
    a = _store(tmp_path / "a")
    b = _store(tmp_path / "b")
    a.put_run(RunRecord("r", 0, 1, values={"count": 5, "err": 1.0}))
    b.put_run(RunRecord("r", 0, 1, values={"count": 7, "err": 1.5}))
    assert compare_records(a.record, b.record, measured_numbers=False) == []
    assert compare_records(a.record, b.record) != []
    b.put_run(RunRecord("r", 0, 1, values={"count": 7, "err": float("nan")}))  # stored as null
    assert any("err" in p for p in compare_records(a.record, b.record, measured_numbers=False))
    b.put_run(RunRecord("r", 0, 1, values={"count": 7}))
    assert any("err" in p and "only one" in p for p in compare_records(a.record, b.record, measured_numbers=False))
    b.put_run(RunRecord("r", 0, 2, values={"count": 7, "err": 1.5}))
    assert any("seed" in p for p in compare_records(a.record, b.record, measured_numbers=False))


def test_compare_without_measured_numbers_takes_a_hyperparameter_chosen_otherwise_but_not_another_name(tmp_path):
    a = _store(tmp_path / "a")
    b = _store(tmp_path / "b")
    a.put_run(RunRecord("r", 0, 1, hparams={"C": 2e-9, "kernel": "linear"}, values={"err": 1.0}))
    b.put_run(RunRecord("r", 0, 1, hparams={"C": 5e8, "kernel": "linear"}, values={"err": 1.0}))
    assert compare_records(a.record, b.record, measured_numbers=False) == []
    assert any("hparams.C" in p for p in compare_records(a.record, b.record))
    b.put_run(RunRecord("r", 0, 1, hparams={"C": 5e8, "kernel": "rbf"}, values={"err": 1.0}))
    assert any("kernel" in p for p in compare_records(a.record, b.record, measured_numbers=False))
    b.put_run(RunRecord("r", 0, 1, hparams={"gamma": 5e8, "kernel": "linear"}, values={"err": 1.0}))
    assert any("only one" in p for p in compare_records(a.record, b.record, measured_numbers=False))


def test_only_a_recorded_machine_compares_numbers_and_only_for_the_record_it_matched(tmp_path, monkeypatch):
    from benchmark import machine

    _store(tmp_path).put_run(_run("r", 1.0))
    assert not machine.numbers_comparable_here(tmp_path, "smoke", "t")
    machine.record_reproduced_here(tmp_path, "smoke", ["t"])
    machine.record_reproduced_here(tmp_path, "smoke", ["t"])
    assert machine.numbers_comparable_here(tmp_path, "smoke", "t")
    assert len(machine.reproduced_on(tmp_path, "smoke")) == 1
    other = dict(machine.machine_identity(), cpu_capability="some other kernel level")
    with monkeypatch.context() as patch:
        patch.setattr(machine, "machine_identity", lambda: other)
        assert not machine.numbers_comparable_here(tmp_path, "smoke", "t")
    _store(tmp_path).put_run(_run("r", 2.0))  # the pin re-made: the old listing no longer vouches for it
    assert not machine.numbers_comparable_here(tmp_path, "smoke", "t")


def test_unavailable_data_is_shown_and_retried_not_counted_as_a_run(tmp_path):
    from benchmark.render import render_markdown
    from benchmark.tables import Column, PaperValue, RowSpec, TableSpec

    store = _store(tmp_path)
    store.put_run(RunRecord("r", 0, 1, status="unavailable", reason="SVHN test images are not present"))
    store.record["datasets"] = {"d": {"dataset": "SVHN", "split": "train", "full_or_subset": "subset (1083 of 73257)"}}
    assert not store.done("r/0")
    assert store.summary()["r"] == {"n_runs": 0, "n_failed": 0, "metrics": {},
                                    "unavailable": "SVHN test images are not present"}
    spec = TableSpec("t", "T", "src", dict, {}, (RowSpec("r", "Row", {"m": PaperValue("1.0", 1.0, "paper")}),),
                     (Column("m", "m"),), (), None, None, None,
                     stand_ins=lambda config: ("labelled train split in two",))
    store.save()
    text = render_markdown(spec, store.record, tmp_path, [])
    assert "| data unavailable" in text
    assert "Data unavailable for Row: SVHN test images are not present" in text
    assert "**Stand-in data (not the paper's protocol): labelled train split in two**" in text
    assert "Subset data: d: SVHN train, subset (1083 of 73257)." in text


def test_json_keeps_number_lists_on_one_line_and_round_trips():
    from benchmark.results import to_json

    obj = {"points": [[0.1, -2e-05], [3, 4]], "names": ["a", "b"], "nested": [{"x": [1, 2]}], "v": -1.5e-07}
    text = to_json(obj)
    assert json.loads(text) == obj
    assert "[0.1, -2e-05]" in text and "[1, 2]" in text


def test_a_run_record_refuses_an_unknown_status_and_a_failure_without_its_reason():
    with pytest.raises(ValueError, match="status"):
        RunRecord("r", 0, 1, status="done")
    with pytest.raises(ValueError, match="failure"):
        RunRecord("r", 0, 1, status="failed")
    with pytest.raises(ValueError, match="reason"):
        RunRecord("r", 0, 1, status="unavailable")


def test_another_protocol_option_is_another_record(tmp_path):
    _store(tmp_path).put_run(_run("r", 2))
    with pytest.raises(UserError, match="protocol.option"):
        ResultStore(tmp_path, "t", "smoke", {"a": 1}, {"option": "y"}, {})


def test_artifacts_are_written_beside_the_record_and_named_in_it(tmp_path):
    from benchmark.results import read_artifact

    store = _store(tmp_path)
    rel = store.write_artifact("r-0", {"points": [[1, 2]]})
    store.put_run(_run("r", 2, artifacts={"figure": rel}))
    record = load_record(store.path)
    assert read_artifact(store.path, record["runs"]["r/0"]["artifacts"]["figure"]) == {"points": [[1, 2]]}
    assert (tmp_path / "smoke" / "t.artifacts" / "r-0.json").is_file()


def test_a_record_extends_to_keys_read_only_by_rows_it_has_no_run_of(tmp_path):
    _store(tmp_path).put_run(_run("r", 2))
    local = {"semi_epochs": ("s",), "protocol.semi": ("s",)}
    extended = ResultStore(tmp_path, "t", "smoke", {"a": 1, "semi_epochs": 9}, {"option": "x", "semi": "y"}, {},
                           row_local=local)
    assert extended.record["config"]["semi_epochs"] == 9 and extended.run("r/0")["values"] == {"m": 2}
    assert extended.record["config_extensions"][0]["keys"] == ["semi_epochs", "protocol.semi"]
    extended.put_run(_run("s", 1))
    # once a row that reads the key has a run, changing the key is another config again
    with pytest.raises(UserError, match="semi_epochs"):
        ResultStore(tmp_path, "t", "smoke", {"a": 1, "semi_epochs": 8}, {"option": "x", "semi": "y"}, {},
                    row_local=local)
    # and a key the table does not declare row-local never extends a record
    with pytest.raises(UserError, match="differs in: a"):
        ResultStore(tmp_path, "t", "smoke", {"a": 2, "semi_epochs": 9}, {"option": "x", "semi": "y"}, {},
                    row_local=local)


def test_a_row_superseded_as_its_store_opens_frees_the_record_for_its_new_length(tmp_path):
    """--rerun of a row at another value of a key only it reads: its stored runs set aside, the record extended."""
    store = _store(tmp_path)
    store.put_run(_run("r", 2))
    store.put_run(_run("s", 1))
    local = {"semi_epochs": ("s",)}
    config, protocol = {"a": 1, "semi_epochs": 9}, {"option": "x"}
    with pytest.raises(UserError, match="semi_epochs"):  # a stored run of s: another config
        ResultStore(tmp_path, "t", "smoke", config, protocol, {}, row_local=local)
    rerun = ResultStore(tmp_path, "t", "smoke", config, protocol, {}, row_local=local, superseding=("s",))
    assert rerun.supersede(["s"], "longer") == ["s/0"]
    record = load_record(rerun.path)
    assert record["config"]["semi_epochs"] == 9 and list(record["runs"]) == ["r/0"]
    assert record["superseded"]["s/0"][0]["superseded_why"] == "longer"
    assert record["config_extensions"][0]["keys"] == ["semi_epochs"]
    # the record now opens at the new length without superseding anything
    assert ResultStore(tmp_path, "t", "smoke", config, protocol, {}, row_local=local).run("r/0")["values"] == {"m": 2}
    # superseding a row does not free keys other rows read
    with pytest.raises(UserError, match="differs in: a"):
        ResultStore(tmp_path, "t", "smoke", {"a": 2, "semi_epochs": 9}, protocol, {}, row_local=local,
                    superseding=("r",))


def test_two_stores_writing_one_record_lose_nothing_and_double_nothing(tmp_path):
    """Two writers opened on the same record (as two jobs of one table): each write merges what the other stored."""
    first, second = _store(tmp_path), _store(tmp_path)
    first.put_run(_run("a", 1))
    second.put_run(_run("b", 2))
    first.put_run(_run("a", 3, 1))
    second.put_artifact("figure", [1, 2])
    record = load_record(first.path)
    assert sorted(record["runs"]) == ["a/0", "a/1", "b/0"]
    assert record["summary"]["a"]["n_runs"] == 2 and record["summary"]["b"]["n_runs"] == 1
    assert set(record["artifacts"]) == {"figure"}
    second.put_run(_run("b", 5))  # the same cell again: replaced, not doubled
    assert load_record(first.path)["runs"]["b/0"]["values"] == {"m": 5}
    first.refresh()
    assert first.stored("b/0") and first.run("b/0")["values"] == {"m": 5}


def test_a_store_assigned_some_cells_treats_the_others_as_done(tmp_path):
    store = _store(tmp_path).assign(["r/0"])
    assert not store.done("r/0") and store.done("r/1") and not store.stored("r/1")
    store = _store(tmp_path).assign(exclude=["r/1"])
    assert not store.done("r/0") and store.done("r/1")


def test_a_record_rewritten_with_another_config_meanwhile_is_refused_not_mixed(tmp_path):
    store = _store(tmp_path)
    store.put_run(_run("r", 1))
    store.path.unlink()
    other = _store(tmp_path, {"a": 2})
    other.put_run(_run("r", 7))
    with pytest.raises(UserError, match="another config"):
        store.put_run(_run("r", 2, 1))
    assert load_record(store.path)["runs"]["r/0"]["values"] == {"m": 7}


def test_superseded_runs_leave_the_table_and_stay_in_the_record(tmp_path):
    """--rerun's store side: the row's runs leave `runs` (their cells run again), are kept under `superseded`, and
    a store opened before the supersede does not bring them back when it saves."""
    store = _store(tmp_path)
    for i in range(2):
        store.put_run(_run("old", 5, i))
    store.put_run(_run("kept", 1))
    earlier = _store(tmp_path)
    assert store.supersede(["old"], "--rerun old") == ["old/0", "old/1"]
    assert not store.stored("old/0") and store.stored("kept/0")
    earlier.put_run(_run("other", 2))  # its merge reads the file: the superseded runs stay out
    record = load_record(store.path)
    assert set(record["runs"]) == {"kept/0", "other/0"} and "old" not in record["summary"]
    assert [v["values"] for v in record["superseded"]["old/0"]] == [{"m": 5}]
    assert record["superseded"]["old/0"][0]["superseded_why"] == "--rerun old"
    store.put_run(_run("old", 7))
    store.supersede(["old"], "--rerun old")
    assert [v["values"]["m"] for v in load_record(store.path)["superseded"]["old/0"]] == [5, 7], "every version kept"


def test_a_superseded_runs_artifacts_survive_the_run_that_replaces_it(tmp_path):
    """The new run of a cell writes its artifacts under the old run's names: the old files are set aside first and
    the superseded version names them, every version its own."""
    store = _store(tmp_path)
    for curve in ([3, 2], [9, 8], [5, 4]):
        if store.stored("old/0"):
            store.supersede(["old"], "--rerun old")
        store.put_run(_run("old", curve[-1], artifacts={"curve": store.write_artifact("old/0", curve)}))
    record = load_record(store.path)
    assert read_artifact(store.path, record["runs"]["old/0"]["artifacts"]["curve"]) == [5, 4]
    assert [read_artifact(store.path, v["artifacts"]["curve"]) for v in record["superseded"]["old/0"]] == \
        [[3, 2], [9, 8]]


def test_missing_data_never_replaces_a_computed_run(tmp_path):
    """A table that finds its data gone records the cells still to fill as unavailable, and leaves the finished
    ones (ok or failed) and the ones another store fills as they are."""
    store = _store(tmp_path)
    store.put_run(_run("r", 3))
    store.put_run(RunRecord.from_training("f", 0, 1, {"step": 3, "reason": "nan"}, {}))
    store.assign(exclude=["other/0"]).put_unavailable(["r", "f", "new", "other"], 0, 1, "the data is gone")
    runs = load_record(store.path)["runs"]
    assert runs["r/0"]["status"] == "ok" and runs["r/0"]["values"] == {"m": 3}
    assert runs["f/0"]["status"] == "failed"
    assert runs["new/0"]["status"] == "unavailable" and runs["new/0"]["reason"] == "the data is gone"
    assert "other/0" not in runs


def test_runs_table_shows_each_models_training_and_counts_a_shared_model_once():
    """A cell's own wall time (evaluation) and its model's training time are two columns; the provenance line sums
    the training of the distinct models, so two rows reading one train-once model count it once."""
    spec = TABLES.get("mnist_semi")
    model = {"model": "m1", "model_wall_s": 600.0, "ms_per_update": 20.0}
    base = {"status": "ok", "values": {}, "steps": 30000, "git_commit": "0" * 40, "versions": {}}
    record = {"runs": {"a/0": {**base, "wall_s": 2.0, "extra": model},
                       "b/0": {**base, "wall_s": 3.0, "extra": model},
                       "c/0": {**base, "wall_s": 1.0, "extra": {**model, "model": "m2", "model_wall_s": 300.0}}},
              "datasets": {}}
    frame = render.runs_frame(spec, record)
    assert list(frame["cell wall (s)"]) == ["2.0", "3.0", "1.0"]
    assert list(frame["model training (s)"]) == ["600.0", "600.0", "300.0"]
    assert list(frame["ms / update"]) == ["20.0"] * 3
    line = render._provenance_lines(record)[0]
    assert "summed cell wall time 0.1 min; training of the 2 model(s) they evaluated 15.0 min" in line
    assert "trained on" not in frame  # no run recorded its machine


def test_runs_table_names_the_machine_each_model_trained_on():
    """ms per update compares only within one CPU and thread count, so the runs table names both, in order for a
    model resumed elsewhere, and says so where a record predates the machine being stored."""
    spec = TABLES.get("mnist_semi")
    base = {"status": "ok", "values": {}, "steps": 10, "wall_s": 1.0, "git_commit": "0" * 40, "versions": {}}
    record = {"runs": {"a/0": {**base, "extra": {"model_ran_on": [{"cpu": "CPU A", "threads": 2}]}},
                       "b/0": {**base, "extra": {"model_ran_on": [{"cpu": "CPU A", "threads": 1},
                                                                  {"cpu": "CPU B", "threads": 2}]}},
                       "c/0": {**base, "extra": {}}},
              "datasets": {}}
    assert list(render.runs_frame(spec, record)["trained on"]) == [
        "CPU A, 2 thread(s)", "CPU A, 1 thread(s) then CPU B, 2 thread(s)", "not recorded"]


def test_every_tables_scale_note_reads_a_stored_non_smoke_config():
    """A stored record's config holds no run count (runs is not part of a model's identity): each table's scale
    note must render from the config as stored at the small profile, not only at smoke."""
    from dataclasses import asdict

    from benchmark.registry import TABLES

    for name in TABLES.names():
        spec = TABLES.get(name)
        if spec.scale_note is None or "small" not in spec.profiles:
            continue
        config = {k: v for k, v in asdict(spec.config_cls(**spec.profiles["small"])).items() if k != "runs"}
        assert spec.scale_note(config), name
