"""Table specs: rows (model x protocol), columns (metric x setting), the papers' numbers per cell with their sources,
the named choices, and the runner that fills the cells."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from benchmark.cli import DEFAULTS
from benchmark.config import to_jsonable, with_overrides


#: [ours] what a job of a table asks a SLURM cluster for by default: one GPU, 8 cores, 24 hours (a job that runs out of
#: time is requeued and resumes from its checkpoint)
SLURM_DEFAULTS = {"gpus_per_node": 1, "cpus_per_task": 8, "time": 24 * 60}


@dataclass(frozen=True)
class PaperValue:
    """A number as a paper prints it, with where it comes from and what its error bar means (1σ, 3σ, unstated)."""

    text: str
    mean: float | None
    source: str
    error_bar: str = "unstated"


@dataclass(frozen=True)
class Column:
    """One cell of every row: a stored run value (`key`) under one setting, e.g. test error at 1000 labels."""

    key: str
    label: str
    digits: int = 2
    scale: float = 1.0  # e.g. 100 to print a fraction as a percentage
    show_range: bool = False  # print min and max over runs beside mean ± std
    value: str = ""  # the run value shown (default: `key`); two columns may show one value, e.g. at 1σ and 3σ
    sigma: float = 1.0  # the ± printed is sigma x the std over runs (3: the convention of some papers' tables)

    @property
    def value_key(self) -> str:
        return self.value or self.key


@dataclass(frozen=True, eq=False)
class RowSpec:
    key: str  # the row id used in run ids ("ali", "gan", ...)
    label: str  # as the rendered table prints it
    paper: dict[str, PaperValue] = field(default_factory=dict)  # column key -> the paper's number
    cited_only: bool = False  # a row we cannot train: shown as cited, never as ours
    pending: str = ""  # a row this suite will run but does not yet: why (printed in its cells)


@dataclass
class RunContext:
    """What the CLI passes to a table's runner besides the config: where things go and how to compute."""

    device: str = "cpu"
    cache_dir: Path = field(default_factory=lambda: Path(DEFAULTS["cache_dir"]))
    data_root: str | None = None  # --data-root (else BENCHMARK_DATA, else ./data)
    download: bool = False  # let torchvision download missing datasets
    progress: bool = True
    stop_after: int | None = None  # end training early (tests of resume); the run is left unfinished
    compile: bool = False  # torch.compile the image networks
    bf16: bool = False  # bf16 autocast of the image networks on the CPU too (Runtime.for_device)
    results_dir: Path = field(default_factory=lambda: Path(DEFAULTS["results_dir"]))
    tables_dir: Path = field(default_factory=lambda: Path(DEFAULTS["tables_dir"]))


@dataclass(frozen=True)
class TableSpec:
    name: str
    title: str
    source: str
    config_cls: type
    profiles: dict[str, dict[str, Any]]  # profile -> overrides of the config defaults (the paper's values)
    rows: tuple[RowSpec, ...]
    columns: tuple[Column, ...]
    choices: tuple[str, ...]  # every [ours] / [code] choice, printed under the table
    run: Callable  # (config, store, ctx) -> None
    protocol: Callable  # config -> dict of named protocol options, stored in the record and hashed with the config
    datasets: Callable  # config -> dict of provenance records
    hparam_columns: tuple[str, ...] = ()
    run_values: tuple[tuple[str, str], ...] = ()  # (value, label): more of each run's values in the runs table
    stand_ins: Callable | None = None  # stored config -> stand-ins for missing data, printed above the numbers
    scale_note: Callable | None = None  # stored config -> how this profile's sizes compare with the paper's
    figures: Callable | None = None  # (record, record path, out_dir) -> list of written paths
    # config -> [(cells, ModelRequest)]: the trained models the table loads (what --jobs trains in parallel), each
    # with the cells ("row/index") it serves, so that a model whose cells are all stored is not trained again
    requests: Callable | None = None
    unhashed_keys: tuple[str, ...] = ("runs", "checkpoint_every")  # change no result, so never split a record
    row_local: dict = field(default_factory=dict)  # config / "protocol.<key>" -> the only rows that read it
    # sbatch options (submitit's SlurmExecutor names) the table's jobs ask for unless `--slurm` says otherwise
    slurm: dict = field(default_factory=lambda: dict(SLURM_DEFAULTS))

    def config(self, profile: str, overrides: dict[str, Any] | None = None):
        base = with_overrides(self.config_cls(), self.profiles.get(profile, {}), f"profile {profile!r}")
        return with_overrides(base, overrides or {}, "--set") if overrides else base

    def hashed_config(self, config) -> dict:
        return {k: v for k, v in to_jsonable(config).items() if k not in self.unhashed_keys}

    def model_requests(self, config) -> list:
        """`requests(config)`, or none for a table that trains its models itself (gmm_modes)."""
        return self.requests(config) if self.requests is not None else []

    def row(self, key: str) -> RowSpec:
        return next(r for r in self.rows if r.key == key)
