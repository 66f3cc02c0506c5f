"""Run tables afresh into a temporary folder and compare them with the stored results.

    python -m benchmark.compare --profile smoke [--table T] [--rtol 1e-5] [--record-machine]

Integers and strings must match exactly, floats to --rtol.  Exit 0 when all match, 1 when something differs,
2 on bad input.  CI runs this on the smoke profile, whose results are pinned in results/smoke/.  Floats match only
on a machine whose kernels round as the pinning machine's did (benchmark.machine); --record-machine adds this
machine to results/<profile>/reproduced_on.json when every stored table of the profile matched here.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from benchmark.cli import add_arguments, entry_point
from benchmark.errors import UserError
from benchmark.machine import (describe, machine_identity, numbers_comparable_here, record_reproduced_here,
                               reproduced_on_path)
from benchmark.registry import PROFILES, TABLES
from benchmark.results import compare_records, load_record, results_path
from benchmark.table_run import run_table
from benchmark.tables import RunContext


def compare_table(name: str, profile: str, results_dir: Path, rtol: float, progress: bool = False,
                  measured_numbers: bool = True) -> list[str]:
    stored_path = results_path(results_dir, profile, name)
    if not stored_path.exists():
        raise UserError(f"no stored results at {stored_path}; run `python -m benchmark.run --table {name} "
                        f"--profile {profile}` first")
    stored = load_record(stored_path)
    with tempfile.TemporaryDirectory() as tmp:
        ctx = RunContext(device="cpu", cache_dir=Path(tmp) / "cache", progress=progress,
                         results_dir=Path(tmp) / "results", tables_dir=Path(tmp) / "tables")
        runs = stored["config"].get("runs")
        fresh = run_table(name, profile, {}, ctx, runs).record
    return compare_records(stored, fresh, rtol=rtol, measured_numbers=measured_numbers)


@entry_point
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmark.compare", description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="smoke")
    parser.add_argument("--table", action="append", help="table(s) to compare (default: all stored)")
    add_arguments(parser, "results_dir")
    parser.add_argument("--rtol", type=float, default=1e-5)
    parser.add_argument("--record-machine", action="store_true",
                        help="when every stored table of the profile matches, list this machine as one that "
                             "reproduces its numbers")
    args = parser.parse_args(argv)
    PROFILES.get(args.profile)
    names = args.table or [n for n in TABLES.names() if results_path(args.results_dir, args.profile, n).exists()]
    if args.record_machine and args.table:
        raise UserError("--record-machine compares every stored table of the profile; drop --table")
    failed = False
    for name in names:
        TABLES.get(name)
        problems = compare_table(name, args.profile, args.results_dir, args.rtol)
        print(f"{name} ({args.profile}): {'matches' if not problems else f'{len(problems)} differences'}")
        if problems and not numbers_comparable_here(args.results_dir, args.profile, name):
            print(f"  (this machine, {describe(machine_identity())}, is not listed as reproducing this record: float "
                  f"differences may come from its kernels, not from the code)")
        for line in problems[:50]:
            print(f"  {line}")
        failed |= bool(problems)
    if args.record_machine and not failed:
        record_reproduced_here(args.results_dir, args.profile, names)
        print(f"{describe(machine_identity())}: listed in {reproduced_on_path(args.results_dir, args.profile)} as "
              f"reproducing {len(names)} records")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
