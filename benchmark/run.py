"""Run tables of the benchmark and store their results (then render them).

    python -m benchmark.run --table gmm_modes --profile small [--device auto|cpu|cuda] [--runs N]
    python -m benchmark.run --all --profile small
    python -m benchmark.run --list

Re-running skips the runs already stored; a run interrupted mid-way resumes from its last checkpoint.
Bad input (unknown name, config key, missing data) exits with code 2 and one message saying what to do.
"""
from __future__ import annotations

import argparse
import sys
import time

from benchmark.allocator import keep_freed_memory
from benchmark.cli import add_arguments, entry_point, resolve_data_root, resolve_device
from benchmark.config import parse_assignments
from benchmark.data._files import searched
from benchmark.errors import UserError
from benchmark.launch import LAUNCHERS, launch, status
from benchmark.registry import DATASETS, MODELS, PROFILES, TABLES
from benchmark.render import render_all
from benchmark.table_run import rerun_rows, rows_by_table, run_table
from benchmark.tables import RunContext


def format_status(table: str, profile: str, jobs: list[dict]) -> str:
    lines = [f"{table} ({profile}):"]
    for job in jobs:
        error = f"  {job['error']}" if job["error"] else ""
        job_id = f" [{job['job_id']}]" if job["job_id"] else ""
        lines.append(f"  {job['job']:<28} {job['state']:<14}{job_id} {job['cells']}{error}")
    return "\n".join(lines)


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
    add_arguments(parser, "bf16", "results_dir", "tables_dir", "cache_dir")
    parser.add_argument("--no-render", action="store_true", help="store results without rendering tables")
    parser.add_argument("--rows", action="append", default=[], metavar="ROW",
                        help="run only this row's cells (repeatable); the other rows stay as they are stored")
    parser.add_argument("--rerun", action="append", default=[], metavar="ROW",
                        help="run this row's stored runs again (repeatable), e.g. after a fix to its family; the "
                             "old runs are kept in the record under 'superseded'")
    parser.add_argument("--why", default="", help="with --rerun: why the old runs are superseded (kept with them "
                        "and printed under the table)")
    parser.add_argument("--launcher", choices=LAUNCHERS,
                        help="run the table's pending runs as submitit jobs: 'slurm' submits them to the cluster "
                             "(and returns), 'local' runs them as processes here (--jobs at once)")
    parser.add_argument("--slurm", action="append", default=[], metavar="KEY=VALUE",
                        help="an sbatch option of the jobs, by submitit's SlurmExecutor name (partition, time in "
                             "minutes, gpus_per_node, cpus_per_task, account, mem, qos, ...); over the table's own")
    parser.add_argument("--status", action="store_true",
                        help="show each job of the table: done, running, pending, interrupted or failed")
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
                     data_root=data_root, download=args.download, compile=args.compile, bf16=args.bf16,
                     results_dir=args.results_dir, tables_dir=args.tables_dir)
    if args.status:
        for name in names:
            print(format_status(name, args.profile, status(name, args.profile, overrides, args.runs, ctx)))
        return 0
    if args.rerun:
        for name, moved in rerun_rows(names, args.profile, overrides, ctx, args.runs, args.rerun,
                                      args.why).items():
            print(f"{name} ({args.profile}): {len(moved)} stored runs superseded, to run again: "
                  f"{', '.join(moved) or 'none'}")
    if args.launcher:
        if args.rows:
            raise UserError("--rows runs in this process; with --launcher every pending cell becomes a job (leave "
                            "--rows out, or run without --launcher)")
        if args.jobs < 1:
            raise UserError(f"--jobs must be at least 1, got {args.jobs}")
        slurm = parse_assignments(args.slurm)
        codes = [launch(name, args.profile, overrides, ctx, args.launcher, runs=args.runs, jobs=args.jobs,
                        slurm=slurm) for name in names]
        return max(codes)
    only = rows_by_table(names, args.rows, "--rows") if args.rows else {}
    for name in names:
        if args.rows and not only[name]:
            continue
        start = time.perf_counter()
        store = run_table(name, args.profile, overrides, ctx, args.runs, args.jobs, only.get(name))
        print(f"{name} ({args.profile}): {len(store.record['runs'])} runs stored in {store.path} "
              f"({time.perf_counter() - start:.1f} s this call)")
        if not args.no_render:
            for path in render_all(args.results_dir, args.tables_dir, [args.profile], [name]):
                print(f"  rendered {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
