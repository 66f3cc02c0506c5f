"""Typed table configs: profile sizes, user overrides that reject unknown keys, and a stable hash."""
from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

from benchmark.errors import UserError


def _coerce(value: Any, current: Any, key: str) -> Any:
    """Turn a CLI string into the type of the field's current value."""
    if not isinstance(value, str) or isinstance(current, str):
        return value
    try:
        if isinstance(current, bool):
            if value.lower() in ("1", "true", "yes"):
                return True
            if value.lower() in ("0", "false", "no"):
                return False
            raise ValueError(value)
        if isinstance(current, int):
            return int(value)
        if isinstance(current, float):
            return float(value)
        if isinstance(current, (tuple, list)):
            parsed = json.loads(value)
            return tuple(parsed) if isinstance(current, tuple) else list(parsed)
    except (ValueError, json.JSONDecodeError):
        raise UserError(f"config key {key!r} expects a value like {current!r}, got {value!r}") from None
    return value


def with_overrides(config: Any, overrides: dict[str, Any], source: str) -> Any:
    """Return a copy of the dataclass `config` with `overrides` applied; unknown keys are an error."""
    fields = {f.name for f in dataclasses.fields(config)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise UserError(
            f"unknown config key(s) {', '.join(map(repr, unknown))} in {source} for {type(config).__name__}; "
            f"valid keys: {', '.join(sorted(fields))}"
        )
    coerced = {k: _coerce(v, getattr(config, k), k) for k, v in overrides.items()}
    return dataclasses.replace(config, **coerced)


def parse_assignments(pairs: list[str]) -> dict[str, str]:
    """Parse ["key=value", ...] from the CLI's --set."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UserError(f"--set expects key=value, got {pair!r}")
        out[key.strip()] = value.strip()
    return out


def to_jsonable(config: Any) -> dict[str, Any]:
    return json.loads(json.dumps(dataclasses.asdict(config)))


def config_hash(config: dict[str, Any]) -> str:
    blob = json.dumps(config, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


