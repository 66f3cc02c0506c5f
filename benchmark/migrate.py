"""Bring stored result records of schema 1 to the current schema, without touching a number.

    python -m benchmark.migrate results/small/gmm_modes.json [...]

Schema 2 keeps each run as a RunRecord (table-specific fields under `extra`), moves bulky figure data into
artifact files beside the record, and hashes the protocol options with the config.  The runs' values, seeds, commits
and wall times are carried over as they are: they stay the output of the code that produced them.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields
from pathlib import Path

from benchmark.cli import entry_point
from benchmark.errors import UserError
from benchmark.results import SCHEMA_VERSION, RunRecord, record_hash, write_artifact, write_json_atomic

_RUN_FIELDS = {f.name for f in fields(RunRecord)}
_STAMPS = ("git_commit", "git_dirty", "versions", "platform")


def migrate(path: Path) -> Path:
    old = json.loads(Path(path).read_text())
    if old.get("schema") == SCHEMA_VERSION:
        return path
    if old.get("schema") != 1:
        raise UserError(f"{path} has schema {old.get('schema')!r}; this command migrates schema 1 records")
    path = Path(path)
    record = {"schema": SCHEMA_VERSION, "table": old["table"], "profile": old["profile"],
              "config_hash": record_hash(old["config"], old["protocol"]), "config": old["config"],
              "protocol": old["protocol"], "datasets": old["datasets"], "runs": {}, "artifacts": {},
              "summary": old["summary"]}
    for key, value in old.get("extras", {}).items():
        record["artifacts"][key] = write_artifact(path, key, value)
    for run_id, run in old["runs"].items():
        new = {k: run[k] for k in _RUN_FIELDS & set(run) if k != "extra"}
        new.setdefault("index", int(run_id.rsplit("/", 1)[1]))
        new.setdefault("reason", None)
        new.setdefault("failure", None)
        new["artifacts"] = {}
        if "figure" in run:
            new["artifacts"]["figure"] = write_artifact(path, run_id.replace("/", "-"), run["figure"])
        new["extra"] = {k: v for k, v in run.items() if k not in _RUN_FIELDS and k not in _STAMPS and k != "figure"}
        new.update({k: run[k] for k in _STAMPS if k in run})
        record["runs"][run_id] = new
    write_json_atomic(path, record)
    return path


@entry_point
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmark.migrate", description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path)
    for path in parser.parse_args(argv).paths:
        if not path.is_file():
            raise UserError(f"{path} is not a result record")
        print(f"migrated {migrate(path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
