"""The launcher: a table's runs as submitit jobs (the local executor here; SLURM only as far as its sbatch options).
Jobs writing one table at once lose nothing; a preempted job requeued by submitit, and a job killed and launched
again, give the numbers of a run never interrupted; a failed job is recorded and the others go on."""
import os
import shutil
import signal
import time

import pytest

from benchmark import launch as launch_module
from benchmark.errors import UserError
from benchmark.launch import JobState, TableJob, jobs_dir, launch, plan_jobs, slurm_parameters, status
from benchmark.results import compare_records, load_record, results_path
from benchmark.table_run import run_table
from benchmark.tables import RunContext
from fixtures import write_mnist

TABLE, PROFILE = "mnist_semi", "smoke"
ONE_RUN = {"runs": 1}
LONG = {"runs": 1, "steps": 400, "checkpoint_every": 10, "snapshot_epochs": 100.0}  # stopped mid-way; no curve


@pytest.fixture(scope="module")
def mnist_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    write_mnist(root, 300, 200)
    return root


def _ctx(tmp, root):
    return RunContext(device="cpu", cache_dir=tmp / "cache", progress=False, data_root=str(root),
                      results_dir=tmp / "results", tables_dir=tmp / "tables")


def _record(ctx):
    return load_record(results_path(ctx.results_dir, PROFILE, TABLE))


def test_jobs_writing_one_table_at_once_lose_nothing_and_render_it(tmp_path, mnist_root):
    reference = run_table(TABLE, PROFILE, dict(ONE_RUN), _ctx(tmp_path / "in_process", mnist_root)).record
    ctx = _ctx(tmp_path / "jobs", mnist_root)
    assert launch(TABLE, PROFILE, dict(ONE_RUN), ctx, "local", jobs=2, poll_s=0.2) == 0
    record = _record(ctx)
    assert compare_records(reference, record, rtol=0, atol=0) == []
    assert (ctx.tables_dir / PROFILE / f"{TABLE}.md").exists(), "the last job renders the table"
    states = {job["job"]: job["state"] for job in status(TABLE, PROFILE, dict(ONE_RUN), None, ctx)}
    assert set(states.values()) == {"done"} and {"gan_fm-0", "rest"} <= set(states)


def _submit_long_job(ctx, executor):
    job = next(j for j in plan_jobs(TABLE, PROFILE, dict(LONG), None, ctx) if j.name == "gan_fm-0")
    return job, executor.submit(job)


def _wait_for_checkpoint(ctx, handle, timeout_s=120):
    """The task's pid once the training loop has written a checkpoint (the job is then mid-run)."""
    state = JobState(jobs_dir(ctx, PROFILE, TABLE), "gan_fm-0")
    end = time.time() + timeout_s
    while time.time() < end:
        if list((ctx.cache_dir / "models").glob("gan_fm_*.pt")) and (state.read() or {}).get("state") == "running":
            return state.read()["pid"]
        assert not handle.done(), f"the job ended before it was stopped: {handle.stderr()}"
        time.sleep(0.05)
    raise AssertionError("no checkpoint appeared")


def _reference_cell(tmp, root):
    """The same job run here, never stopped."""
    ctx = _ctx(tmp / "never_stopped", root)
    next(j for j in plan_jobs(TABLE, PROFILE, dict(LONG), None, ctx) if j.name == "gan_fm-0")()
    return _record(ctx)["runs"]["gan_fm/0"]


def _record_runs(ctx):
    path = results_path(ctx.results_dir, PROFILE, TABLE)
    return load_record(path)["runs"] if path.exists() else {}


def _same_numbers(a, b):
    return all(a[k] == b[k] for k in ("values", "steps", "status", "seed"))


def test_a_preempted_job_is_requeued_and_resumes_to_the_same_numbers(tmp_path, mnist_root):
    """SIGUSR2 is what SLURM sends before preemption or the time limit: submitit checkpoints the job (the same
    TableJob) and requeues it; the training loop resumes from its checkpoint."""
    ctx = _ctx(tmp_path / "jobs", mnist_root)
    executor = launch_module.executor_for("local", jobs_dir(ctx, PROFILE, TABLE), {})
    _, handle = _submit_long_job(ctx, executor)
    os.kill(_wait_for_checkpoint(ctx, handle), signal.SIGUSR2)
    handle.result()
    assert "preempted" in handle.stderr(), "the job went through submitit's preemption path"
    assert _same_numbers(_record(ctx)["runs"]["gan_fm/0"], _reference_cell(tmp_path, mnist_root))


def test_a_killed_job_submitted_again_resumes_to_the_same_numbers(tmp_path, mnist_root):
    ctx = _ctx(tmp_path / "jobs", mnist_root)
    executor = launch_module.executor_for("local", jobs_dir(ctx, PROFILE, TABLE), {})
    job, handle = _submit_long_job(ctx, executor)
    os.kill(_wait_for_checkpoint(ctx, handle), signal.SIGKILL)
    with pytest.raises(Exception):
        handle.result()
    states = {job["job"]: job["state"] for job in status(TABLE, PROFILE, dict(LONG), None, ctx)}
    assert states["gan_fm-0"] == "interrupted" and "gan_fm/0" not in _record_runs(ctx)
    executor.submit(job).result()
    assert _same_numbers(_record(ctx)["runs"]["gan_fm/0"], _reference_cell(tmp_path, mnist_root))


def test_a_failed_job_is_recorded_and_the_others_go_on(tmp_path, mnist_root, monkeypatch):
    ctx = _ctx(tmp_path / "jobs", mnist_root)
    real_plan = launch_module.plan_jobs

    def with_a_broken_job(*args, **kwargs):
        jobs = real_plan(*args, **kwargs)
        broken = TableJob(table=TABLE, profile=PROFILE, overrides={"no_such_key": 1}, runs=None, ctx=ctx,
                          name="aae_semi-0", cells=("aae_semi/0",))
        return [broken if j.name == "aae_semi-0" else j for j in jobs]

    monkeypatch.setattr(launch_module, "plan_jobs", with_a_broken_job)
    assert launch(TABLE, PROFILE, dict(ONE_RUN), ctx, "local", jobs=2, poll_s=0.2) == 1
    runs = _record(ctx)["runs"]
    assert "aae_semi/0" not in runs and runs["gan_fm/0"]["status"] == "ok" and runs["hali_kplus1/0"]
    jobs = {job["job"]: job for job in status(TABLE, PROFILE, dict(ONE_RUN), None, ctx)}
    assert jobs["aae_semi-0"]["state"] == "failed" and "no_such_key" in jobs["aae_semi-0"]["error"]
    assert jobs["gan_fm-0"]["state"] == "done"
    assert not (ctx.tables_dir / PROFILE / f"{TABLE}.md").exists(), "an incomplete table is not rendered"


def test_slurm_options_reach_sbatch_and_unknown_ones_are_refused(tmp_path):
    from submitit.slurm.slurm import _make_sbatch_string

    options = slurm_parameters({"time": 600, "gpus_per_node": 1}, {"partition": "gpu", "account": "lab", "time": 90})
    sbatch = _make_sbatch_string(command="python -m x", folder=tmp_path, **options)
    for line in ("#SBATCH --partition=gpu", "#SBATCH --account=lab", "#SBATCH --time=90", "#SBATCH --gpus-per-node=1"):
        assert line in sbatch
    with pytest.raises(UserError, match="unknown --slurm option.*partitio"):
        slurm_parameters({}, {"partitio": "gpu"})


def test_the_slurm_launcher_without_slurm_exits_2_with_what_to_do(tmp_path, capsys):
    from benchmark import run

    if shutil.which("srun"):
        pytest.skip("this machine has SLURM")
    code = run.main(["--table", TABLE, "--profile", PROFILE, "--launcher", "slurm", "--cache-dir",
                     str(tmp_path / "cache"), "--results-dir", str(tmp_path / "results")])
    assert code == 2 and "--launcher local" in capsys.readouterr().err


def test_a_job_whose_data_is_missing_says_unavailable_and_the_table_still_renders(tmp_path, mnist_root,
                                                                                   monkeypatch):
    """recon_error's model jobs train on CelebA, absent from this data root: each ends 'unavailable' naming its
    cells (never 'done'), and the table renders once the rest job is in."""
    monkeypatch.delenv("BENCHMARK_DATA", raising=False)  # CI points it at the real data, CelebA included
    ctx = _ctx(tmp_path, mnist_root)
    for job in plan_jobs("recon_error", PROFILE, {}, None, ctx):
        job()
    jobs = {j["job"]: j for j in status("recon_error", PROFILE, {}, None, ctx)}
    models = [j for name, j in jobs.items() if name != "rest"]
    assert models and all(j["state"] == "unavailable" and "celeba" in j["error"] for j in models)
    assert jobs["rest"]["state"] == "done"
    assert (ctx.tables_dir / PROFILE / "recon_error.md").exists()
