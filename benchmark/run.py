"""Run tables of the benchmark and store their results (then render them).

    python -m benchmark.run --table gmm_modes --profile small [--device auto|cpu|cuda] [--runs N]
    python -m benchmark.run --all --profile small
    python -m benchmark.run --list

Re-running skips the runs already stored; a run interrupted mid-way resumes from its last checkpoint.
Bad input (unknown name, config key, missing data) exits with code 2 and one message saying what to do.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch

from benchmark.allocator import keep_freed_memory
from benchmark.config import parse_assignments
from benchmark.data._files import searched
from benchmark.errors import UserError
from benchmark.registry import DATASETS, MODELS, PROFILES, TABLES
from benchmark.render import render_all
from benchmark.results import ResultStore, environment
from benchmark.tables import RunContext


def resolve_device(name: str) -> str:
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda was asked for but torch sees no CUDA device; use --device cpu or auto")
    if name not in ("cpu", "cuda"):
        raise UserError(f"unknown device {name!r}; valid devices: auto, cpu, cuda")
    return name


def resolve_data_root(arg: str | None) -> str | None:
    """The explicit --data-root, checked; the loaders search it, then BENCHMARK_DATA, then ./data."""
    for source, root in (("--data-root", arg), ("BENCHMARK_DATA", os.environ.get("BENCHMARK_DATA"))):
        if root and not Path(root).is_dir():
            raise UserError(f"{source} {root!r} is not a folder; point it at the folder that holds the datasets")
    return arg


def run_table(name: str, profile: str, overrides: dict, ctx: RunContext, results_dir: Path,
              runs: int | None = None) -> ResultStore:
    spec = TABLES.get(name)
    PROFILES.get(profile)
    if runs is not None:
        if runs < 1:
            raise UserError(f"--runs must be at least 1, got {runs}")
        overrides = {**overrides, "runs": runs}
    config = spec.config(profile, overrides)
    store = ResultStore(results_dir, name, profile, spec.hashed_config(config), spec.protocol(config),
                        spec.datasets(config))
    environment()  # the commit and versions of the code as it starts, not as the tree is when a run ends
    if ctx.device == "cpu":
        torch.use_deterministic_algorithms(True)
    torch.manual_seed(0)  # nothing should draw from the global stream; this pins it if something does
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
    parser.add_argument("--profile", default="small", help="smoke, small or paper (default small)")
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    parser.add_argument("--runs", type=int, help="runs per row (default: the profile's)")
    parser.add_argument("--data-root", help="folder holding the datasets (else BENCHMARK_DATA, else ./data)")
    parser.add_argument("--download", action="store_true", help="download missing datasets (torchvision)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override one config key of the table (unknown keys are refused)")
    parser.add_argument("--results-dir", type=Path, default=Path("results"))
    parser.add_argument("--tables-dir", type=Path, default=Path("tables"))
    parser.add_argument("--cache-dir", type=Path, default=Path(os.environ.get("BENCHMARK_CACHE", ".cache/benchmark")),
                        help="checkpoints (default .cache/benchmark or BENCHMARK_CACHE)")
    parser.add_argument("--no-render", action="store_true", help="store results without rendering tables")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # argparse itself exits 2 on malformed arguments
    keep_freed_memory()
    try:
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
                         data_root=data_root, download=args.download)
        for name in names:
            start = time.perf_counter()
            store = run_table(name, args.profile, overrides, ctx, args.results_dir, args.runs)
            print(f"{name} ({args.profile}): {len(store.record['runs'])} runs stored in {store.path} "
                  f"({time.perf_counter() - start:.1f} s this call)")
            if not args.no_render:
                for path in render_all(args.results_dir, args.tables_dir, [args.profile], [name]):
                    print(f"  rendered {path}")
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: stored runs and checkpoints are kept; run the same command again to resume",
              file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
