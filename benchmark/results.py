"""Result records: one JSON file per (profile, table), the single source of truth for every rendered table.

A record holds the resolved config, the protocol options and the hash of both, dataset provenance, and per run a
`RunRecord` (row, index, seed, hyperparameters, steps, status ok / failed / unavailable, the failure's step and
reason or the reason the data is missing, values, artifacts) stamped with device, git commit, library versions and
wall time; plus a summary (mean, std, min, max, n) per row and value recomputed from the runs on every write.
Bulky data (figure points, per-attribute arrays) go to artifact files beside the record
(`<table>.artifacts/<name>.json`); the record names them.  Writes are atomic (temporary file, then rename), so an
interrupted write never loses what was stored, and each write holds a lock on the record and first merges in what
other processes stored meanwhile, so several jobs can fill one table at once.
"""
from __future__ import annotations

import fcntl
import json
import math
import os
import platform
import re
import subprocess
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmark.config import config_hash
from benchmark.errors import UserError

SCHEMA_VERSION = 2  # 2: RunRecord runs, artifacts beside the record, the protocol options in the hash
STATUSES = ("ok", "failed", "unavailable")
STD_DDOF = 0  # population std over runs, as the official ALI SVM script reports; named under every table


@lru_cache(maxsize=1)
def environment() -> dict:
    """Git commit of the code that runs, and the versions of what it runs on."""
    root = Path(__file__).resolve().parent.parent

    def git(*args: str) -> str:
        try:
            out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=10)
            return out.stdout.strip() if out.returncode == 0 else ""
        except (OSError, subprocess.TimeoutExpired):
            return ""

    versions = {"python": platform.python_version()}
    for package in ("torch", "numpy", "scikit-learn", "pandas", "scipy"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "absent"
    return {
        "git_commit": git("rev-parse", "HEAD") or "unknown",
        # the code's changes only: results/ and tables/ are what runs write (a run that replaces a stored record, or
        # the record it is adding to, runs the committed code all the same)
        "git_dirty": bool(git("status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)results",
                              ":(exclude)tables")),
        "versions": versions,
        "platform": platform.platform(),
    }


def summarize(values: list[float]) -> dict:
    n = len(values)
    if n == 0:
        return {"n": 0}
    mean = sum(values) / n
    var = sum((v - mean) ** 2 for v in values) / max(n - STD_DDOF, 1)
    return {"mean": mean, "std": math.sqrt(var), "min": min(values), "max": max(values), "n": n}


_NUMBER_LIST = re.compile(r"\[\s+(-?[\d.eE+-]+(?:,\s+-?[\d.eE+-]+)*)\s+\]")


def to_json(obj: Any) -> str:
    """Indented, sorted JSON with each innermost list of numbers on one line (figure points stay readable)."""
    text = json.dumps(obj, indent=1, sort_keys=True, allow_nan=False)
    return _NUMBER_LIST.sub(lambda m: "[" + ", ".join(x.strip() for x in m.group(1).split(",")) + "]", text)


def write_json_atomic(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(to_json(obj) + "\n")
    os.replace(tmp, path)


def results_path(results_dir: Path, profile: str, table: str) -> Path:
    return Path(results_dir) / profile / f"{table}.json"


@contextmanager
def record_lock(path: Path):
    """An exclusive lock on a record (flock on a file beside it) for one read-merge-write, across processes."""
    lock = Path(path).with_name(f".{Path(path).name}.lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def load_record(path: Path) -> dict:
    try:
        record = json.loads(Path(path).read_text())
    except json.JSONDecodeError as e:
        raise UserError(f"{path} is not valid JSON ({e}); restore it from git or move it away to recompute") from None
    if record.get("schema") != SCHEMA_VERSION:
        raise UserError(f"{path} has schema {record.get('schema')!r}, this code reads {SCHEMA_VERSION}; move it away "
                        "to recompute it")
    return record


def record_hash(config: dict, protocol: dict) -> str:
    """What decides whether stored runs still match the code: the config and the protocol options together."""
    return config_hash({"config": config, "protocol": protocol})


@dataclass
class RunRecord:
    """One run of one row of a table (or one trained model of `benchmark.fit`), as the store writes it.

    status: "ok" (values hold its numbers), "failed" (diverged: `failure` = {"step", "reason"}) or "unavailable"
    (the data it needs is missing: `reason`; retried on the next call).  `artifacts` names bulky files written beside
    the record with `ResultStore.write_artifact`; `extra` holds what a table adds (the model it loaded, a base run).
    """

    row: str
    index: int
    seed: int
    status: str = "ok"
    hparams: dict = field(default_factory=dict)
    steps: int | None = None
    failure: dict | None = None
    reason: str | None = None
    values: dict = field(default_factory=dict)
    artifacts: dict = field(default_factory=dict)
    device: str = "cpu"
    wall_s: float = 0.0
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"run status {self.status!r} is not one of {STATUSES}")
        if self.status == "failed" and not self.failure:
            raise ValueError("a failed run needs its failure (step and reason)")
        if self.status == "unavailable" and not self.reason:
            raise ValueError("an unavailable run needs the reason its data is missing")

    @property
    def run_id(self) -> str:
        return f"{self.row}/{self.index}"

    @classmethod
    def from_training(cls, row: str, index: int, seed: int, failure: dict | None, values: dict, **fields):
        """ok with its values, or failed (and no values) when training diverged."""
        return cls(row, index, seed, status="failed" if failure else "ok", failure=failure,
                   values={} if failure else values, **fields)


def _differing_keys(a: dict, b: dict) -> list[str]:
    return sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))


class ResultStore:
    """The record of one table at one profile, opened for adding runs."""

    def __init__(self, results_dir: Path, table: str, profile: str, config: dict, protocol: dict, datasets: dict,
                 row_local: dict[str, tuple[str, ...]] | None = None, superseding: tuple[str, ...] = ()):
        """`row_local` names the config keys (and `protocol.<key>`s) that only some rows read: a stored record that
        differs from `config` only in such keys, and holds no run of the rows that read them, is extended to the
        new config (the change is listed under `config_extensions`), since none of its numbers depended on them.
        `superseding` names rows whose stored runs the caller supersedes next (a re-run at another length): their
        runs do not hold the record to its config; the caller must call `supersede` with them before writing."""
        self.path = results_path(results_dir, profile, table)
        self._written = set()
        digest = record_hash(config, protocol)
        if self.path.exists():
            self.record = load_record(self.path)
            if self.record["config_hash"] != digest:
                keys = _differing_keys(self.record["config"], config)
                keys += [f"protocol.{k}" for k in _differing_keys(self.record.get("protocol", {}), protocol)]
                if self._extend(keys, row_local or {}, config, protocol, digest, set(superseding)):
                    self.record["datasets"] = datasets
                    return
                keys = ", ".join(keys) or "(unknown)"
                raise UserError(
                    f"{self.path} holds results of another config of {table!r} (differs in: {keys}); results of "
                    "different configs are never mixed. Run with the stored config, or move that file away to start anew."
                )
        else:
            self.record = {"schema": SCHEMA_VERSION, "table": table, "profile": profile, "config_hash": digest,
                           "config": config, "protocol": protocol, "runs": {}, "artifacts": {}, "summary": {}}
        self.record["datasets"] = datasets

    _written: set  # run ids and table artifacts this store put (they win over the file's on a merge)
    _assigned: frozenset | None = None  # the cells this store fills (None: all)
    _excluded: frozenset = frozenset()  # cells another job fills

    def assign(self, cells=None, exclude=()) -> "ResultStore":
        """Fill only `cells` (None: every cell) and never `exclude`: `done` says True for every other cell, so a
        table's runner skips it (a job of the launcher fills its own cells of a table that other jobs share)."""
        self._assigned = None if cells is None else frozenset(cells)
        self._excluded = frozenset(exclude)
        return self

    def _extend(self, keys: list[str], row_local: dict, config: dict, protocol: dict, digest: str,
                superseding: set[str]) -> bool:
        stored_rows = {run["row"] for run in self.record["runs"].values()} - superseding
        if not keys or any(k not in row_local or stored_rows & set(row_local[k]) for k in keys):
            return False
        self.record.setdefault("config_extensions", []).append(
            {"keys": keys, "from_hash": self.record["config_hash"], "to_hash": digest,
             "why": "read only by rows with no stored run"})
        self.record.update(config=config, protocol=protocol, config_hash=digest)
        return True

    @property
    def config_hash(self) -> str:
        return self.record["config_hash"]

    def run(self, run_id: str) -> dict | None:
        return self.record["runs"].get(run_id)

    def fills(self, run_id: str) -> bool:
        """Whether the cell is this store's to fill (see `assign`)."""
        return run_id not in self._excluded and (self._assigned is None or run_id in self._assigned)

    def done(self, run_id: str) -> bool:
        """Finished (ok or failed), or not this store's to fill (see `assign`); a run whose data was unavailable is
        tried again on the next call."""
        return not self.fills(run_id) or self.stored(run_id)

    def stored(self, run_id: str) -> bool:
        """Finished (ok or failed) in the record, whoever filled it."""
        run = self.run(run_id)
        return run is not None and run["status"] in ("ok", "failed")

    def unavailable(self, run_id: str) -> bool:
        """Recorded as data unavailable (tried again on the next call)."""
        run = self.run(run_id)
        return run is not None and run["status"] == "unavailable"

    def settled(self, run_id: str) -> bool:
        """Stored, or recorded as data unavailable: nothing more to do for it until the data changes."""
        return self.stored(run_id) or self.unavailable(run_id)

    def runs_of(self, row: str) -> dict[str, dict]:
        return {k: v for k, v in self.record["runs"].items() if v["row"] == row}

    def supersede(self, rows: list[str], why: str) -> list[str]:
        """Take the stored runs of `rows` out of the table (their cells run again) and keep them under
        `superseded`, each with `why` and the commit that superseded it: nothing computed is lost."""
        with record_lock(self.path):
            self._merge_stored()
            moved = sorted(k for k, run in self.record["runs"].items() if run["row"] in rows)
            for run_id in moved:
                run = self.record["runs"].pop(run_id)
                versions = self.record.setdefault("superseded", {}).setdefault(run_id, [])
                versions.append({**run, "artifacts": self._set_aside(run.get("artifacts", {}), len(versions)),
                                 "superseded_why": why, "superseded_at": environment()["git_commit"]})
                self._written.discard(("runs", run_id))
            self.record["summary"] = self.summary()
            write_json_atomic(self.path, self.record)
        return moved

    def _set_aside(self, artifacts: dict[str, str], version: int) -> dict[str, str]:
        """Move a superseded run's artifact files to names of their own (<name>.superseded-<version>.json), since
        the run that replaces it writes its artifacts under the same names; returns the paths to record."""
        kept = {}
        for key, relative in artifacts.items():
            path = self.path.parent / relative
            aside = path.with_name(f"{path.stem}.superseded-{version}{path.suffix}")
            if path.exists():
                os.replace(path, aside)
            kept[key] = str(aside.relative_to(self.path.parent))
        return kept

    def put_run(self, run: RunRecord) -> None:
        self._stage(run)
        self.save()

    def _stage(self, run: RunRecord) -> None:
        """Put `run` into the record in memory (the next save writes it)."""
        stored = {**asdict(run), "wall_s": round(run.wall_s, 3), **environment()}
        stored["values"] = {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                            for k, v in run.values.items()}
        self.record["runs"][run.run_id] = stored
        self._written.add(("runs", run.run_id))

    def put_unavailable(self, rows, index: int, seed: int, reason: str) -> None:
        """Record run `index` of every row in `rows` as unavailable (the data it needs is missing: `reason`), except
        the runs already finished or not this store's to fill: a missing file never replaces a computed result.
        One write for all of them."""
        pending = [row for row in rows if not self.done(f"{row}/{index}")]
        for row in pending:
            self._stage(RunRecord(row, index, seed, status="unavailable", reason=reason))
        if pending:
            self.save()

    def write_artifact(self, name: str, obj: Any) -> str:
        return write_artifact(self.path, name, obj)

    def put_artifact(self, key: str, obj: Any) -> None:
        """A table-level artifact (e.g. the data points a figure draws), named in the record under `artifacts`."""
        self.record["artifacts"][key] = self.write_artifact(key, obj)
        self._written.add(("artifacts", key))
        self.save()

    def save(self) -> None:
        """Write the record, under its lock, after merging in the runs and artifacts other processes stored."""
        with record_lock(self.path):
            self._merge_stored()
            self.record["summary"] = self.summary()
            write_json_atomic(self.path, self.record)

    def refresh(self) -> None:
        """Read in what other processes stored since this store last wrote."""
        with record_lock(self.path):
            self._merge_stored()

    def _merge_stored(self) -> None:
        if not self.path.exists():
            return
        stored = load_record(self.path)
        known = {self.config_hash} | {e["from_hash"] for e in self.record.get("config_extensions", [])}
        if stored["config_hash"] not in known:
            raise UserError(f"{self.path} was written with another config of {self.record['table']!r} while this "
                            "run was going; results of different configs are never mixed. Move one of them away.")
        for part in ("runs", "artifacts"):
            mine = {k: v for k, v in self.record[part].items() if (part, k) in self._written}
            self.record[part] = {**stored.get(part, {}), **mine}
        if "superseded" in stored:  # written under the lock by `supersede`, never by a merge
            self.record["superseded"] = stored["superseded"]

    def summary(self) -> dict:
        out: dict[str, dict] = {}
        for run in self.record["runs"].values():
            row = out.setdefault(run["row"], {"n_runs": 0, "n_failed": 0, "metrics": {}})
            if run["status"] == "unavailable":
                row["unavailable"] = run["reason"]
                continue
            row["n_runs"] += 1
            if run["status"] != "ok":
                row["n_failed"] += 1
                continue
            for k, v in run["values"].items():
                if v is not None:
                    row["metrics"].setdefault(k, []).append(v)
        for row in out.values():
            row["metrics"] = {k: summarize(v) for k, v in sorted(row["metrics"].items())}
        return out


def write_artifact(record_path: Path, name: str, obj: Any) -> str:
    """Write bulky data beside a record, in <record stem>.artifacts/ (compact JSON, atomically); returns its path
    relative to the record's folder, which is how the record names it."""
    path = record_path.with_name(f"{record_path.stem}.artifacts") / f"{name.replace('/', '-')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False) + "\n")
    os.replace(tmp, path)
    return str(path.relative_to(record_path.parent))


def read_artifact(record_path: Path, relative: str) -> Any:
    """An artifact a record names, read from beside the record file."""
    return json.loads((Path(record_path).parent / relative).read_text())


COMPARED_RUN_FIELDS = ("row", "index", "seed", "hparams", "status", "failure", "values")
MEASURED_RUN_FIELDS = ("hparams", "values")  # their numbers depend on the machine's rounding (compare_records)


def compare_records(stored: dict, fresh: dict, rtol: float = 1e-5, atol: float = 1e-8,
                    measured_numbers: bool = True) -> list[str]:
    """Differences between two records of the same table: integers and strings exactly, floats to a tolerance.

    With measured_numbers=False the numbers a run measured (its values, its hyperparameters and the summary) are
    only required to be numbers on both sides (a non-finite one is stored as null): the comparison for a machine
    whose floats round otherwise (benchmark.machine).  Hyperparameters count as measured there because some are
    chosen from the features (the SVM's C, by validation: another rounding can pick another C); ids, seeds,
    statuses, the hyperparameters' names and other non-numbers, keys and lengths are still compared exactly."""
    problems: list[str] = []

    def walk(a: Any, b: Any, where: str, exact: bool = True) -> None:
        if isinstance(a, bool) or isinstance(b, bool):
            if a != b:
                problems.append(f"{where}: {a!r} != {b!r}")
        elif isinstance(a, (int, float)) and isinstance(b, (int, float)) and not exact:
            pass  # a number measured on another machine: any number will do
        elif isinstance(a, int) and isinstance(b, int):
            if a != b:
                problems.append(f"{where}: {a!r} != {b!r}")
        elif isinstance(a, (int, float)) and isinstance(b, (int, float)):
            if not math.isclose(a, b, rel_tol=rtol, abs_tol=atol):
                problems.append(f"{where}: {a!r} != {b!r} (rtol {rtol})")
        elif isinstance(a, dict) and isinstance(b, dict):
            for k in sorted(set(a) | set(b)):
                if k not in a or k not in b:
                    problems.append(f"{where}.{k}: present in only one record")
                else:
                    walk(a[k], b[k], f"{where}.{k}", exact)
        elif isinstance(a, list) and isinstance(b, list):
            if len(a) != len(b):
                problems.append(f"{where}: lengths {len(a)} != {len(b)}")
            for i, (x, y) in enumerate(zip(a, b)):
                walk(x, y, f"{where}[{i}]", exact)
        elif a != b:
            problems.append(f"{where}: {a!r} != {b!r}")

    walk(stored["config_hash"], fresh["config_hash"], "config_hash")
    runs_a, runs_b = stored["runs"], fresh["runs"]
    walk(sorted(runs_a), sorted(runs_b), "run ids")
    for run_id in sorted(set(runs_a) & set(runs_b)):
        for key in COMPARED_RUN_FIELDS:
            walk(runs_a[run_id].get(key), runs_b[run_id].get(key), f"runs[{run_id}].{key}",
                 measured_numbers or key not in MEASURED_RUN_FIELDS)
    walk(stored["summary"], fresh["summary"], "summary", measured_numbers)
    return problems
