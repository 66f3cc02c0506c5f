"""Table specs: rows (model x protocol), the papers' numbers with their sources, the named choices, the runner."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from benchmark.config import to_jsonable, with_overrides


@dataclass(frozen=True)
class PaperValue:
    """A number as a paper prints it, with where it comes from and what its error bar means."""

    text: str
    mean: float | None
    source: str
    error_bar: str = ""


@dataclass(frozen=True)
class RowSpec:
    key: str  # the row id used in run ids ("ali", "gan", ...)
    label: str  # as the rendered table prints it
    paper: PaperValue | None = None
    cited_only: bool = False  # a row we cannot train: shown as cited, never as ours


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    digits: int = 2
    scale: float = 1.0  # e.g. 100 to print a fraction as a percentage


@dataclass
class RunContext:
    """What the CLI passes to a table's runner besides the config."""

    device: str = "cpu"
    cache_dir: Path = Path(".cache/benchmark")
    data_root: str | None = None  # --data-root (else BENCHMARK_DATA, else ./data)
    download: bool = False  # let torchvision download missing datasets
    progress: bool = True
    stop_after: int | None = None  # end training early (tests of resume); the run is left unfinished


@dataclass(frozen=True)
class TableSpec:
    name: str
    title: str
    source: str
    config_cls: type
    profiles: dict[str, dict[str, Any]]  # profile -> overrides of the config defaults (the paper's values)
    rows: tuple[RowSpec, ...]
    main_metric: Metric
    other_metrics: tuple[Metric, ...]
    choices: tuple[str, ...]  # every [ours] / [code] choice, printed under the table
    run: Callable  # (config, store, ctx) -> None
    protocol: Callable  # config -> dict of named protocol options, stored in the record
    datasets: Callable  # config -> dict of provenance records
    hparam_columns: tuple[str, ...] = ()
    stand_ins: tuple[str, ...] = ()  # stand-in splits the spec allows (e.g. SVHN train split in two), printed
    scale_note: Callable | None = None  # stored config -> how this profile's sizes compare with the paper's
    figures: Callable | None = None  # (record, out_dir) -> list of written paths
    unhashed_keys: tuple[str, ...] = ("runs", "checkpoint_every")  # change no result, so never split a record

    def config(self, profile: str, overrides: dict[str, Any] | None = None):
        base = with_overrides(self.config_cls(), self.profiles.get(profile, {}), f"profile {profile!r}")
        return with_overrides(base, overrides or {}, "--set") if overrides else base

    def hashed_config(self, config) -> dict:
        return {k: v for k, v in to_jsonable(config).items() if k not in self.unhashed_keys}

    def row(self, key: str) -> RowSpec:
        return next(r for r in self.rows if r.key == key)
