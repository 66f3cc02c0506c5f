"""Which CPU and PyTorch build floating-point results belong to, and the machines the pinned smoke results were
checked on.

CPU runs are deterministic on one machine, but their floats are not the same across CPUs: MKL and oneDNN choose
kernels by vendor, instruction set and cache sizes, so sums round differently, and a few GAN updates amplify that
(seen in CI on another machine: 383 mnist_semi smoke errors where this code makes 400 here, gmm_modes runs covering
8 modes where they cover 10).  The smoke pins are compared number by number only on a machine listed in
results/<profile>/reproduced_on.json for the record as it is now (by its digest), which
`python -m benchmark.compare --record-machine` writes after every table of the profile matched there; elsewhere their
structure is compared.
"""
from __future__ import annotations

import datetime
import hashlib
import json
from functools import lru_cache
from pathlib import Path

from benchmark.results import environment, results_path, write_json_atomic

_CPUINFO_FIELDS = {"vendor_id": "vendor", "cpu family": "family", "model": "model", "model name": "model_name"}


@lru_cache(maxsize=1)
def machine_identity() -> dict[str, str]:
    """The CPU (vendor, family, model, as /proc/cpuinfo names them), torch's kernel level and torch's version: read
    once a process (every pinned test and every compared table asks)."""
    import platform

    import torch

    identity = {"vendor": platform.processor() or platform.machine(), "family": "", "model": "", "model_name": ""}
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().split("\n\n")[0].splitlines():
            key, _, value = line.partition(":")
            if key.strip() in _CPUINFO_FIELDS:
                identity[_CPUINFO_FIELDS[key.strip()]] = value.strip()
    identity["cpu_capability"] = torch.backends.cpu.get_cpu_capability()
    identity["torch"] = torch.__version__
    return identity


def describe(identity: dict[str, str]) -> str:
    return (f"{identity['model_name'] or identity['vendor']} (family {identity['family']}, model {identity['model']}, "
            f"{identity['cpu_capability']}), torch {identity['torch']}")


def reproduced_on_path(results_dir: Path, profile: str) -> Path:
    return Path(results_dir) / profile / "reproduced_on.json"


def reproduced_on(results_dir: Path, profile: str) -> list[dict]:
    """The machines on which stored tables of `profile` were re-run and matched, each with the digest of every record
    it matched (empty when none is recorded)."""
    path = reproduced_on_path(results_dir, profile)
    return json.loads(path.read_text())["machines"] if path.exists() else []


def _digest(results_dir: Path, profile: str, table: str) -> str:
    return hashlib.sha256(results_path(results_dir, profile, table).read_bytes()).hexdigest()


def numbers_comparable_here(results_dir: Path, profile: str, table: str) -> bool:
    """True when this machine matched the stored record of `table` as it is now (a record re-made since does not
    count until the machine is recorded again)."""
    here, digest = machine_identity(), _digest(results_dir, profile, table)
    return any(entry["identity"] == here and entry["pins"].get(table) == digest
               for entry in reproduced_on(results_dir, profile))


def record_reproduced_here(results_dir: Path, profile: str, tables: list[str]) -> None:
    """List this machine as reproducing the stored records of `tables` (replacing what it was listed for)."""
    here, env = machine_identity(), environment()
    machines = [entry for entry in reproduced_on(results_dir, profile) if entry["identity"] != here]
    machines.append({"identity": here, "pins": {t: _digest(results_dir, profile, t) for t in sorted(tables)},
                     "git_commit": env["git_commit"], "git_dirty": env["git_dirty"],
                     "date": datetime.date.today().isoformat()})
    write_json_atomic(reproduced_on_path(results_dir, profile), {"machines": machines})
