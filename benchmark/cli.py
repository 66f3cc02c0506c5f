"""What every command-line entry point shares: the defaults (one place), their arguments, the checks of device and
data root, and one wrapper that gives every entry point the same exit codes (bad input 2, Ctrl-C 130)."""
from __future__ import annotations

import argparse
import functools
import os
import sys
from pathlib import Path
from typing import Callable

from benchmark.errors import UserError

DEFAULTS = {
    "profile": "small",
    "device": "auto",
    "results_dir": "results",
    "tables_dir": "tables",
    "cache_dir": os.environ.get("BENCHMARK_CACHE", ".cache/benchmark"),
    "data_root": None,  # the loaders then search BENCHMARK_DATA, then ./data
}

_ARGUMENTS = {
    "profile": lambda p: p.add_argument("--profile", default=DEFAULTS["profile"],
                                        help=f"smoke, small or paper (default {DEFAULTS['profile']})"),
    "device": lambda p: p.add_argument("--device", default=DEFAULTS["device"],
                                       help="auto (CUDA when present), cpu or cuda"),
    "data_root": lambda p: p.add_argument("--data-root", default=DEFAULTS["data_root"],
                                          help="folder holding the datasets (else BENCHMARK_DATA, else ./data)"),
    "download": lambda p: p.add_argument("--download", action="store_true",
                                         help="download missing datasets (torchvision)"),
    "results_dir": lambda p: p.add_argument("--results-dir", type=Path, default=Path(DEFAULTS["results_dir"])),
    "tables_dir": lambda p: p.add_argument("--tables-dir", type=Path, default=Path(DEFAULTS["tables_dir"])),
    "cache_dir": lambda p: p.add_argument("--cache-dir", type=Path, default=Path(DEFAULTS["cache_dir"]),
                                          help="checkpoints, trained models and features (default .cache/benchmark "
                                          "or BENCHMARK_CACHE)"),
    "quiet": lambda p: p.add_argument("--quiet", action="store_true", help="no progress bars"),
    "bf16": lambda p: p.add_argument("--bf16", action="store_true",
                                     help="on the CPU too, autocast the image networks' forward to bfloat16 (CUDA "
                                     "runs always do): about 1.8x faster on CPUs with native bf16; the models' "
                                     "identity records it, so fp32 and bf16 models never mix"),
}


def add_arguments(parser: argparse.ArgumentParser, *names: str) -> None:
    """Add the shared arguments `names` (keys of DEFAULTS and the flags above) to `parser`."""
    for name in names:
        _ARGUMENTS[name](parser)


def resolve_device(name: str) -> str:
    import torch

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


def entry_point(main: Callable[..., int]) -> Callable[..., int]:
    """Bad input (a UserError) prints one line and returns 2; Ctrl-C keeps what is stored and returns 130."""

    @functools.wraps(main)
    def wrapped(*args, **kwargs) -> int:
        try:
            return main(*args, **kwargs)
        except UserError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("interrupted: stored results and checkpoints are kept; run the same command again to resume",
                  file=sys.stderr)
            return 130

    return wrapped
