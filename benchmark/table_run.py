"""Running one table in this process: open its record (config and names checked), pre-train its pending models in
parallel processes (`--jobs`), then let the table fill its cells.  The CLI (benchmark.run) and the launcher's jobs
(benchmark.launch) both run tables through here."""
from __future__ import annotations

import dataclasses
import multiprocessing
import os
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed

import torch

from benchmark.data import DataUnavailable
from benchmark.errors import UserError
from benchmark.registry import PROFILES, TABLES
from benchmark.results import ResultStore, environment
from benchmark.tables import RunContext, TableSpec
from benchmark.trained import train_or_load


def stop_when_parent_goes(parent: int, poll_s: float = 1.0) -> None:
    """In a `--jobs` worker: end this process once its table process `parent` is gone.  A table process ended by a
    signal (kill, a session's end) cannot shut its pool down, and its workers would train on unseen, each holding a
    core; what they trained stays in their last checkpoint, which the next run resumes."""
    def watch():
        while os.getppid() == parent:
            time.sleep(poll_s)
        print(f"worker {os.getpid()}: its table process {parent} is gone; stopping (the checkpoint resumes this "
              "model)", file=sys.stderr, flush=True)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="stop-when-parent-goes").start()


def _train_in_worker(request, ctx: RunContext, threads: int) -> str:
    """One model of a table, trained (or found finished) in a worker process with `threads` CPU threads."""
    environment()  # stamp the commit this worker's code was imported from, not the one current when it finishes
    torch.set_num_threads(threads)
    if ctx.device == "cpu":
        torch.use_deterministic_algorithms(True)
    try:
        trained = train_or_load(request, ctx)
    except DataUnavailable:
        return "data unavailable (the table records it)"
    return "stopped early" if trained is None else trained.record["status"]


def pending_requests(spec, config, store: ResultStore) -> list:
    """The models of `spec.requests` that serve a cell not stored yet (of the cells the store fills)."""
    return [r for cells, r in spec.model_requests(config) if not all(store.done(cell) for cell in cells)]


def pretrain(spec, config, store: ResultStore, ctx: RunContext, jobs: int) -> None:
    """Train the models a table loads in `jobs` processes at once, each with its share of the CPU threads (small
    networks use several threads poorly; `benchmark.perf --seeds` measures the gain); the table then loads them.
    A model whose cells are all stored is skipped (its checkpoint may be gone); finished models are loaded, not
    trained again, so this is a no-op the second time."""
    if jobs <= 1 or spec.requests is None:
        return
    requests = pending_requests(spec, config, store)
    threads = max(1, torch.get_num_threads() // jobs)
    worker_ctx = dataclasses.replace(ctx, progress=False)
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"),
                             initializer=stop_when_parent_goes, initargs=(os.getpid(),)) as pool:
        futures = {pool.submit(_train_in_worker, r, worker_ctx, threads): r for r in requests}
        for future in as_completed(futures):
            r = futures[future]
            print(f"  {r.family} on {r.dataset}, seed {r.fit.seed}: {future.result()}", flush=True)


def open_table(name: str, profile: str, overrides: dict, ctx: RunContext, runs: int | None = None,
               superseding: tuple[str, ...] = ()) -> tuple[TableSpec, object, ResultStore]:
    """The table's spec, its resolved config and its record opened for adding runs (bad names, keys and counts
    refused; `superseding`: see ResultStore), with the run-wide set-up: the commit stamped as the code starts,
    deterministic kernels on the CPU."""
    spec = TABLES.get(name)
    PROFILES.get(profile)
    if runs is not None:
        if runs < 1:
            raise UserError(f"--runs must be at least 1, got {runs}")
        overrides = {**overrides, "runs": runs}
    config = spec.config(profile, overrides)
    protocol = spec.protocol(config)
    if ctx.bf16 and ctx.device == "cpu":  # named only when asked, so the records of fp32 CPU runs keep their hash
        protocol = {**protocol, "cpu_numerics": "bf16 autocast of the image networks (--bf16)"}
    store = ResultStore(ctx.results_dir, name, profile, spec.hashed_config(config), protocol,
                        spec.datasets(config), row_local=spec.row_local, superseding=superseding)
    environment()  # the commit and versions of the code as it starts, not as the tree is when a run ends
    if ctx.device == "cpu":
        torch.use_deterministic_algorithms(True)
    torch.manual_seed(0)  # nothing should draw from the global stream; this pins it if something does
    return spec, config, store


def rows_by_table(names: list[str], rows: list[str], option: str) -> dict[str, list[str]]:
    """{table: the rows of `rows` it trains}; a row none of the named tables trains is refused."""
    trained_rows = {name: {r.key for r in TABLES.get(name).rows if not r.cited_only} for name in names}
    unknown = [r for r in rows if not any(r in keys for keys in trained_rows.values())]
    if unknown:
        valid = ", ".join(sorted(set().union(*trained_rows.values())))
        raise UserError(f"{option} {', '.join(unknown)}: not a row these tables train; valid: {valid}")
    return {name: [r for r in rows if r in trained_rows[name]] for name in names}


def rerun_rows(names: list[str], profile: str, overrides: dict, ctx: RunContext, runs: int | None,
               rows: list[str], why: str = "") -> dict[str, list[str]]:
    """Supersede the stored runs of `rows` in each named table that has them (kept under the record's
    `superseded` with `why`), so that the next run computes them again, e.g. after a fix to their family or at
    another value of a config key only they read (the record is extended to it); {table: run ids}."""
    moved = {}
    for name, mine in rows_by_table(names, rows, "--rerun").items():
        if mine:
            _, _, store = open_table(name, profile, overrides, ctx, runs, superseding=tuple(mine))
            moved[name] = store.supersede(mine, why or f"--rerun {' '.join(mine)}")
    return moved


def run_table(name: str, profile: str, overrides: dict, ctx: RunContext, runs: int | None = None,
              jobs: int = 1, rows: list[str] | None = None) -> ResultStore:
    """Fill the table's pending cells (with `rows`, only those rows' cells; the others stay as stored)."""
    if jobs < 1:
        raise UserError(f"--jobs must be at least 1, got {jobs}")
    spec, config, store = open_table(name, profile, overrides, ctx, runs)
    if rows is not None:
        store.assign([f"{row}/{index}" for row in rows for index in range(config.runs)])
    pretrain(spec, config, store, ctx, jobs)
    spec.run(config, store, ctx)
    return store
