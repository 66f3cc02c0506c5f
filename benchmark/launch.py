"""A table's pending runs as jobs through submitit: on a SLURM cluster (`--launcher slurm`) or as processes on this
machine (`--launcher local`, submitit's local executor, which is how the tests run it).

The jobs of a table: one per trained model that serves a cell not stored yet (the table's `requests`: the job trains
the model, resumably, and fills that model's cells), and one for the cells no model job serves (a KNN-on-pixels row,
or every cell of a table without `requests`, such as gmm_modes, whose runs train stacked in one job).  Every job opens
the table's record and writes its runs through the result store's lock, so jobs of one table run at once without
losing or doubling a run; the job that finds every cell stored renders the table.  A job is Checkpointable: a
preempted or timed-out job is requeued by submitit and resumes from the training loop's last checkpoint.  Each job
writes its state (running, done, failed with the error) beside submitit's files under
<cache-dir>/jobs/<profile>/<table>/, which `benchmark.run --status` reads.
"""
from __future__ import annotations

import dataclasses
import json
import os
import socket
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import submitit
import torch

from benchmark.errors import UserError
from benchmark.registry import TABLES
from benchmark.render import render_all
from benchmark.results import record_lock, write_json_atomic
from benchmark.table_run import open_table
from benchmark.tables import RunContext

LAUNCHERS = ("local", "slurm")
REST = "rest"  # the job of the cells no model job serves
LOCAL_TIMEOUT_MIN = 7 * 24 * 60  # submitit's local default is 2 minutes, after which it requeues a job


def jobs_dir(ctx: RunContext, profile: str, table: str) -> Path:
    return Path(ctx.cache_dir) / "jobs" / profile / table


def model_job_name(cells: tuple[str, ...]) -> str:
    """A job's name from the first cell it fills ("gan_fm/2" -> "gan_fm-2")."""
    return cells[0].replace("/", "-")


@dataclass
class TableJob(submitit.helpers.Checkpointable):
    """Fill `cells` of one table (None: every cell not in `served`, i.e. those no model job fills), then render the
    table if every cell is stored.  Requeued as it is on preemption (the training loop's checkpoint resumes it)."""

    table: str
    profile: str
    overrides: dict
    runs: int | None
    ctx: RunContext
    name: str
    cells: tuple[str, ...] | None
    served: tuple[str, ...] = ()
    threads: int = 0
    render: bool = True

    def __call__(self) -> dict:
        state = JobState(jobs_dir(self.ctx, self.profile, self.table), self.name)
        state.write("running")
        try:
            if self.threads:
                torch.set_num_threads(self.threads)
            spec, config, store = open_table(self.table, self.profile, self.overrides, self.ctx, self.runs)
            spec.run(config, store.assign(self.cells, exclude=self.served if self.cells is None else ()), self.ctx)
            filled = sorted(c for c in self.cells or () if store.stored(c))
            unavailable = sorted(c for c in self.cells or () if store.unavailable(c))
            state.write("unavailable" if unavailable else "done", filled=filled, unavailable=unavailable)
            rendered = self.render and render_if_complete(self.table, self.profile, self.overrides, self.runs,
                                                          self.ctx)
        except Exception as e:
            state.write("failed", error=f"{type(e).__name__}: {e}", traceback=traceback.format_exc())
            raise
        except BaseException:  # requeued (submitit exits the process) or interrupted: resumes from the checkpoint
            state.write("interrupted")
            raise
        return {"name": self.name, "filled": filled, "rendered": bool(rendered)}


class JobState:
    """<folder>/<name>.state.json: what a job last said of itself, with where and when."""

    def __init__(self, folder: Path, name: str):
        self.path = Path(folder) / f"{name}.state.json"

    def write(self, state: str, **fields) -> None:
        write_json_atomic(self.path, {"state": state, "host": socket.gethostname(), "pid": os.getpid(),
                                      "time": time.strftime("%Y-%m-%d %H:%M:%S"), **fields})

    def read(self) -> dict | None:
        return json.loads(self.path.read_text()) if self.path.exists() else None


def plan_jobs(table: str, profile: str, overrides: dict, runs: int | None, ctx: RunContext,
              threads: int = 0) -> list[TableJob]:
    """The jobs that fill the cells of `table` not stored yet: one per pending trained model, then the rest job
    (always: it fills what no model serves and renders a table that is complete)."""
    spec, config, store = open_table(table, profile, overrides, ctx, runs)
    pairs = spec.model_requests(config)
    served = tuple(sorted({cell for cells, _ in pairs for cell in cells}))
    base = dict(table=table, profile=profile, overrides=overrides, runs=runs, ctx=ctx, threads=threads)
    jobs = [TableJob(name=model_job_name(cells), cells=tuple(cells), **base)
            for cells, _ in pairs if not all(store.stored(c) for c in cells)]
    return jobs + [TableJob(name=REST, cells=None, served=served, **base)]


def render_if_complete(table: str, profile: str, overrides: dict, runs: int | None, ctx: RunContext) -> bool:
    """Render the table (under its record's lock, so two last jobs do not write it at once) when no model job has
    a cell left (each is stored or recorded unavailable) and the rest job is done."""
    spec, config, store = open_table(table, profile, overrides, ctx, runs)
    pairs = spec.model_requests(config)
    rest = JobState(jobs_dir(ctx, profile, table), REST).read()
    if any(not store.settled(c) for cells, _ in pairs for c in cells) or (rest or {}).get("state") != "done":
        return False
    with record_lock(store.path):
        render_all(ctx.results_dir, ctx.tables_dir, [profile], [table])
    return True


def slurm_parameters(table_defaults: dict, options: dict) -> dict:
    """The sbatch options of a table's jobs: what the table declares, then what the user gives (`--slurm
    KEY=VALUE`, submitit's SlurmExecutor names: partition, time (minutes), gpus_per_node, cpus_per_task, account,
    mem, qos, constraint, ...).  Unknown names are refused."""
    valid = submitit.SlurmExecutor._valid_parameters()
    unknown = sorted(set(options) - valid)
    if unknown:
        raise UserError(f"unknown --slurm option(s) {', '.join(unknown)}; valid: {', '.join(sorted(valid))}")
    return {**table_defaults, **options}


def executor_for(launcher: str, folder: Path, slurm: dict):
    if launcher == "local":
        executor = submitit.LocalExecutor(folder=folder)
        executor.update_parameters(timeout_min=LOCAL_TIMEOUT_MIN)
        return executor
    if launcher != "slurm":
        raise UserError(f"unknown launcher {launcher!r}; valid: {', '.join(LAUNCHERS)}")
    try:
        executor = submitit.SlurmExecutor(folder=folder)
    except RuntimeError as e:
        raise UserError(f"--launcher slurm: {e} (on this machine use --launcher local)") from None
    executor.update_parameters(**slurm)
    return executor


def launch(table: str, profile: str, overrides: dict, ctx: RunContext, launcher: str, *, runs: int | None = None,
           jobs: int = 1, slurm: dict | None = None, poll_s: float = 1.0) -> int:
    """Submit the table's pending jobs.  SLURM: submit them all and return (the last job renders the table;
    `--status` follows them).  Local: run at most `jobs` at once, each with its share of the CPU threads, until all
    are in; returns 1 when a job failed (its error is in its state; the others went on), else 0."""
    spec = TABLES.get(table)
    folder = jobs_dir(ctx, profile, table)
    sbatch = slurm_parameters(spec.slurm, slurm or {}) if launcher == "slurm" else {}
    threads = max(1, torch.get_num_threads() // max(jobs, 1)) if launcher == "local" else 0
    executor = executor_for(launcher, folder, sbatch)
    planned = plan_jobs(table, profile, overrides, runs, dataclasses.replace(ctx, progress=False), threads)
    registry = folder / "jobs.json"
    submitted = json.loads(registry.read_text()) if registry.exists() else {}
    failed = []

    def submit(job: TableJob):
        handle = executor.submit(job)
        submitted[job.name] = {"job_id": str(handle.job_id), "launcher": launcher,
                               "cells": list(job.cells) if job.cells else None}
        write_json_atomic(registry, submitted)
        print(f"  {table}: job {job.name} submitted ({launcher} {handle.job_id})", flush=True)
        return handle

    if launcher == "slurm":
        for job in planned:
            submit(job)
        return 0
    waiting, running = list(planned), []
    while waiting or running:
        while waiting and len(running) < jobs:
            job = waiting.pop(0)
            running.append((job, submit(job)))
        time.sleep(poll_s)
        for job, handle in [r for r in running if r[1].done()]:
            running.remove((job, handle))
            try:
                handle.result()
                print(f"  {table}: job {job.name} done", flush=True)
            except Exception as e:  # the job recorded its error in its state; the others go on
                failed.append(job.name)
                print(f"  {table}: job {job.name} failed: {str(e).strip().splitlines()[-1]}", flush=True)
    return 1 if failed else 0


def status(table: str, profile: str, overrides: dict, runs: int | None, ctx: RunContext) -> list[dict]:
    """Every job of the table as the plan sees it now: name, cells, job id, and state: done (its cells stored),
    unavailable (it ended with cells whose data is missing, named in the error column), failed (with the error),
    running, interrupted (requeued or killed; the next launch resumes it), pending
    (submitted, not started) or not submitted."""
    spec, config, store = open_table(table, profile, overrides, ctx, runs)
    folder = jobs_dir(ctx, profile, table)
    registry = json.loads((folder / "jobs.json").read_text()) if (folder / "jobs.json").exists() else {}
    pairs = spec.model_requests(config)
    rows = [(model_job_name(tuple(cells)), tuple(cells)) for cells, _ in pairs] + [(REST, None)]
    out = []
    for name, cells in rows:
        said = JobState(folder, name).read() or {}
        entry = registry.get(name, {})
        if cells is not None and all(store.stored(c) for c in cells):
            state = "done"
        elif said.get("state") in ("failed", "interrupted", "done", "unavailable"):
            state = said["state"]
        elif said.get("state") == "running":
            state = "running" if _alive(said) else "interrupted"
        else:
            state = "pending" if entry else "not submitted"
        out.append({"job": name, "state": state, "job_id": entry.get("job_id", ""),
                    "cells": ", ".join(cells) if cells else "the cells no model job serves",
                    "error": said.get("error", "") if state == "failed" else
                    ", ".join(said.get("unavailable", [])) if state == "unavailable" else ""})
    return out


def _alive(said: dict) -> bool:
    """A job that says it is running: on another host trust it; here check its process."""
    if said.get("host") != socket.gethostname():
        return True
    try:
        os.kill(int(said["pid"]), 0)
    except (OSError, KeyError, ValueError):
        return False
    return True
