"""Run tables of the benchmark and store their results (then render them).

    python -m benchmark.run --table gmm_modes --profile small [--device auto|cpu|cuda] [--runs N]
    python -m benchmark.run --all --profile small
    python -m benchmark.run --list

Re-running skips the runs already stored; a run interrupted mid-way resumes from its last checkpoint.
Bad input (unknown name, config key, missing data) exits with code 2 and one message saying what to do.
"""
from __future__ import annotations

import argparse
import dataclasses
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed

import torch

from benchmark.allocator import keep_freed_memory
from benchmark.cli import add_arguments, entry_point, resolve_data_root, resolve_device
from benchmark.config import parse_assignments
from benchmark.data import DataUnavailable
from benchmark.data._files import searched
from benchmark.errors import UserError
from benchmark.registry import DATASETS, MODELS, PROFILES, TABLES
from benchmark.render import render_all
from benchmark.results import ResultStore, environment
from benchmark.tables import RunContext
from benchmark.trained import train_or_load


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
    """The models of `spec.requests` that serve a cell not stored yet."""
    return [r for cells, r in spec.requests(config) if not all(store.done(cell) for cell in cells)]


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
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {pool.submit(_train_in_worker, r, worker_ctx, threads): r for r in requests}
        for future in as_completed(futures):
            r = futures[future]
            print(f"  {r.family} on {r.dataset}, seed {r.fit.seed}: {future.result()}", flush=True)


def run_table(name: str, profile: str, overrides: dict, ctx: RunContext, runs: int | None = None,
              jobs: int = 1) -> ResultStore:
    spec = TABLES.get(name)
    PROFILES.get(profile)
    if runs is not None:
        if runs < 1:
            raise UserError(f"--runs must be at least 1, got {runs}")
        overrides = {**overrides, "runs": runs}
    if jobs < 1:
        raise UserError(f"--jobs must be at least 1, got {jobs}")
    config = spec.config(profile, overrides)
    store = ResultStore(ctx.results_dir, name, profile, spec.hashed_config(config), spec.protocol(config),
                        spec.datasets(config), row_local=spec.row_local)
    environment()  # the commit and versions of the code as it starts, not as the tree is when a run ends
    if ctx.device == "cpu":
        torch.use_deterministic_algorithms(True)
    torch.manual_seed(0)  # nothing should draw from the global stream; this pins it if something does
    pretrain(spec, config, store, ctx, jobs)
    spec.run(config, store, ctx)
    return store


def list_everything(data_root: str | None) -> str:
    lines = ["Tables:"]
    for name, spec in TABLES.items():
        rows = ", ".join(r.label for r in spec.rows)
        lines.append(f"  {name:<14} {spec.title}\n  {'':<14} rows: {rows}; profiles: {', '.join(spec.profiles)}")
    lines.append("Models:")
    for name, entry in MODELS.items():
        lines.append(f"  {name:<14} {entry.description} [archs: {', '.join(sorted(entry.archs))}]")
    lines.append("Profiles:")
    for name, description in PROFILES.items():
        lines.append(f"  {name:<14} {description}")
    lines.append(f"Datasets (searched: {searched(data_root)}):")
    for name, entry in DATASETS.items():
        found = entry.locate(data_root)
        lines.append(f"  {name:<14} {entry.description}\n  {'':<14} {found['status']}: {found['found']}, "
                     f"counts {found['counts']}")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmark.run", description=__doc__.splitlines()[0])
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--table", action="append", help="a registered table (repeatable); see --list")
    what.add_argument("--all", action="store_true", help="every registered table")
    what.add_argument("--list", action="store_true", help="list tables, models, profiles and datasets")
    add_arguments(parser, "profile", "device")
    parser.add_argument("--runs", type=int, help="runs per row (default: the profile's)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="train the table's models in this many processes at once (CPU threads split among them)")
    add_arguments(parser, "data_root", "download")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override one config key of the table (unknown keys are refused)")
    parser.add_argument("--compile", action="store_true", help="torch.compile the image networks")
    add_arguments(parser, "results_dir", "tables_dir", "cache_dir")
    parser.add_argument("--no-render", action="store_true", help="store results without rendering tables")
    add_arguments(parser, "quiet")
    return parser


@entry_point
def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # argparse itself exits 2 on malformed arguments
    keep_freed_memory()
    data_root = resolve_data_root(args.data_root)
    if args.list:
        print(list_everything(data_root))
        return 0
    PROFILES.get(args.profile)
    names = TABLES.names() if args.all else args.table
    for name in names:
        TABLES.get(name)
    overrides = parse_assignments(args.set)
    ctx = RunContext(device=resolve_device(args.device), cache_dir=args.cache_dir, progress=not args.quiet,
                     data_root=data_root, download=args.download, compile=args.compile,
                     results_dir=args.results_dir, tables_dir=args.tables_dir)
    for name in names:
        start = time.perf_counter()
        store = run_table(name, args.profile, overrides, ctx, args.runs, args.jobs)
        print(f"{name} ({args.profile}): {len(store.record['runs'])} runs stored in {store.path} "
              f"({time.perf_counter() - start:.1f} s this call)")
        if not args.no_render:
            for path in render_all(args.results_dir, args.tables_dir, [args.profile], [name]):
                print(f"  rendered {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
