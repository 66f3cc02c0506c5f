"""Render tables/<profile>/<table>.md, .csv, .tex and figures from the stored JSON records alone.

    python -m benchmark.render [--profile P] [--table T] [--results-dir results] [--tables-dir tables]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from benchmark.cli import add_arguments, entry_point
from benchmark.registry import PROFILES, TABLES
from benchmark.results import STD_DDOF, load_record, results_path
from benchmark.tables import Column, RowSpec, TableSpec

NOT_RUN = "not run"



def paper_sources(rows) -> str:
    """Where the paper values come from, each source (with its error-bar convention) once, with the rows (and, where a
    row mixes sources, the columns) it gives."""
    groups: dict[tuple[str, str], list[str]] = {}
    for row in rows:
        sources = {(p.source, p.error_bar) for p in row.paper.values()}
        if len(sources) == 1:
            groups.setdefault(sources.pop(), []).append(row.label)
            continue
        for key, p in row.paper.items():
            groups.setdefault((p.source, p.error_bar), []).append(f"{row.label} ({key})")
    if not groups:
        return "none (the paper gives no numbers for this table)"
    with_values = [r for r in rows if r.paper]
    if len(groups) == 1 and all(len({(p.source, p.error_bar) for p in r.paper.values()}) == 1 for r in with_values):
        (source, bar), _ = groups.popitem()
        return f"{source} (± {bar}), for every row that shows one"
    return "; ".join(f"{source} (± {bar}): {', '.join(labels)}" for (source, bar), labels in groups.items())


def _fmt(value: float | None, column: Column) -> str:
    if value is None:
        return "–"
    if isinstance(value, int) and column.scale == 1:
        return str(value)  # counts (a run's modes, a row's min and max) print as integers
    return f"{value * column.scale:.{column.digits}f}"


def _mean_std(stats: dict | None, column: Column) -> str:
    return f"{_fmt(stats['mean'], column)} ± {_fmt(stats['std'] * column.sigma, column)}"


def _n_cell(row_summary: dict | None, n_ok: int) -> str:
    if not row_summary:
        return "0"
    failed = row_summary["n_failed"]
    return f"{n_ok} ({failed} failed)" if failed else str(n_ok)


def _ours(row: RowSpec, row_summary: dict | None, stats: dict | None, column: Column) -> str:
    """The cell of ours: mean ± std, or why there is no number."""
    if row.cited_only:
        return "cited only"
    if row.pending:
        return f"not run yet ({row.pending})"
    if stats and stats.get("n"):
        return _mean_std(stats, column)
    if (row_summary or {}).get("unavailable"):
        return "data unavailable"
    if row_summary and row_summary["n_runs"] and row_summary["n_runs"] == row_summary["n_failed"]:
        return "all runs failed"
    if row_summary and row_summary["n_runs"]:
        return "–"  # the row ran but has no value in this column (e.g. a GAN's reconstruction error)
    return NOT_RUN


def _compared(spec: TableSpec) -> set[str]:
    """Columns with a paper value in some row: they print paper, ours and the difference."""
    return {c.key for c in spec.columns if any(c.key in r.paper for r in spec.rows)}


def summary_frames(spec: TableSpec, record: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(formatted frame for Markdown/LaTeX, numeric frame for CSV), one row per table row; per column the paper's
    value, ours and the difference where the paper has a number, ours alone otherwise."""
    compared = _compared(spec)
    shown, numeric = [], []
    for row in spec.rows:
        row_summary = record["summary"].get(row.key)
        metrics = (row_summary or {}).get("metrics", {})
        label = f"{row.label} (cited)" if row.cited_only else row.label
        line: dict[str, str] = {"model": label}
        num: dict = {"model": row.label, "cited_only": row.cited_only,
                     "n_runs": (row_summary or {}).get("n_runs", 0), "n_failed": (row_summary or {}).get("n_failed", 0)}
        n_ok = 0
        for column in spec.columns:
            stats = metrics.get(column.value_key)
            paper = row.paper.get(column.key)
            ours_mean = stats["mean"] if stats and stats.get("n") and not row.cited_only else None
            n_ok = max(n_ok, (stats or {}).get("n", 0))
            if column.key in compared:
                line[f"paper: {column.label}"] = paper.text if paper else "–"
            line[f"ours: {column.label}"] = _ours(row, row_summary, stats, column)
            if column.show_range:
                line[f"min: {column.label}"] = _fmt(stats["min"], column) if ours_mean is not None else "–"
                line[f"max: {column.label}"] = _fmt(stats["max"], column) if ours_mean is not None else "–"
            diff = ours_mean - paper.mean if ours_mean is not None and paper and paper.mean is not None else None
            if column.key in compared:
                line[f"ours − paper: {column.label}"] = (f"{diff * column.scale:+.{column.digits}f}"
                                                         if diff is not None else "–")
            num[f"{column.key}_paper"] = paper.mean if paper else None
            for stat in ("mean", "std", "min", "max", "n"):
                num[f"{column.key}_{stat}"] = (stats or {}).get(stat)
            num[f"{column.key}_diff_vs_paper"] = diff
        line["n"] = "–" if row.cited_only or row.pending else _n_cell(row_summary, n_ok)
        shown.append(line)
        numeric.append(num)
    return pd.DataFrame(shown), pd.DataFrame(numeric)


def runs_frame(spec: TableSpec, record: dict) -> pd.DataFrame:
    lines = []
    with_training = any("model_wall_s" in r.get("extra", {}) for r in record["runs"].values())
    with_machine = any(r.get("extra", {}).get("model_ran_on") for r in record["runs"].values())
    for run_id, run in record["runs"].items():
        line = {"run": run_id, "status": run["status"]}
        for key in spec.hparam_columns:
            value = run.get("hparams", {}).get(key)
            line[key] = f"{value:.3g}" if isinstance(value, (int, float)) else "–"
        for column in spec.columns:
            if column.sigma == 1:  # a value shown at another sigma is the same number per run
                line[column.label] = _fmt(run["values"].get(column.value_key), column)
        for key, label in spec.run_values:
            value = run["values"].get(key)
            line[label] = "–" if value is None else f"{value:g}"
        line["updates"] = run.get("steps") if run.get("steps") is not None else "–"
        line["cell wall (s)"] = f"{run.get('wall_s', 0.0):.1f}"
        if with_training:
            extra = run.get("extra", {})
            line["model training (s)"] = _one_decimal(extra.get("model_wall_s"))
            line["ms / update"] = _one_decimal(extra.get("ms_per_update"))
        if with_machine:
            line["trained on"] = _machines_cell(run.get("extra", {}).get("model_ran_on"))
        lines.append(line)
    return pd.DataFrame(lines)


def _machines_cell(ran_on: list[dict] | None) -> str:
    """Where a model trained (CPU and torch threads, in order when a resumed run moved): ms per update compares only
    between runs of one machine and thread count."""
    if not ran_on:
        return "not recorded"
    return " then ".join(f"{m.get('cpu') or 'CPU not recorded'}, {m.get('threads') or '?'} thread(s)" for m in ran_on)


def _one_decimal(value) -> str:
    return "–" if value is None else f"{value:.1f}"


def _model_training_wall(runs) -> tuple[float, int]:
    """Training wall time summed over the distinct trained models the runs evaluated (a model several rows share,
    as train-once makes them, counts once), and how many models that is."""
    walls = {r["extra"]["model"]: r["extra"]["model_wall_s"] for r in runs
             if r.get("extra", {}).get("model") and r["extra"].get("model_wall_s") is not None}
    return sum(walls.values()), len(walls)


def _markdown(df: pd.DataFrame) -> str:
    return df.to_markdown(index=False, disable_numparse=True) if len(df) else "(no runs stored)"


def _provenance_lines(record: dict) -> list[str]:
    runs = record["runs"].values()
    commits = sorted({f"{r['git_commit'][:12]}{' (dirty)' if r.get('git_dirty') else ''}" for r in runs})
    devices = sorted({r.get("device", "?") for r in runs})
    versions = sorted({json.dumps(r["versions"], sort_keys=True) for r in runs})
    wall = sum(r.get("wall_s", 0.0) for r in runs)
    training, models = _model_training_wall(runs)
    trained = f"; training of the {models} model(s) they evaluated {training / 60:.1f} min" if models else ""
    lines = [f"- Code: git commit(s) {', '.join(commits) or '–'}; device(s): {', '.join(devices) or '–'}; "
             f"summed cell wall time {wall / 60:.1f} min{trained}."]
    lines += [f"- Libraries: {v}" for v in versions]
    for name, prov in record["datasets"].items():
        lines.append(f"- Data `{name}`: " + "; ".join(f"{k} {v}" for k, v in prov.items()))
    return lines


def _other_profiles(results_dir: Path, table: str, profile: str) -> str:
    parts = []
    for other in PROFILES.names():
        if other == profile:
            continue
        path = results_path(results_dir, other, table)
        if path.exists():
            n = len(load_record(path)["runs"])
            parts.append(f"`{other}`: {n} runs stored in results/{other}/{table}.json")
        else:
            parts.append(f"`{other}`: {NOT_RUN}")
    return "Other profiles of this table: " + "; ".join(parts) + "."


def render_markdown(spec: TableSpec, record: dict, results_dir: Path, figures: list[Path]) -> str:
    shown, _ = summary_frames(spec, record)
    lines = [f"# {spec.title}", "",
             f"Profile `{record['profile']}` · config hash `{record['config_hash']}` · source: {spec.source}", ""]
    stand_ins = spec.stand_ins(record["config"]) if spec.stand_ins else ()
    lines += [f"**Stand-in data (not the paper's protocol): {note}**" for note in stand_ins]
    lines += [""] if stand_ins else []
    lines += [_markdown(shown), ""]
    lines.append(f"Paper values: {paper_sources(spec.rows)}.")
    lines.append(f"Ours: mean ± std over runs (std with ddof {STD_DDOF}), n over finished runs; a failed (diverged) "
                 "run is counted in n as failed and kept below; a cell without a number says why.")
    if spec.scale_note:
        lines.append(f"Scale of this profile: {spec.scale_note(record['config'])}")
    unavailable: dict[str, list[str]] = {}  # reason -> the rows it holds back
    for r in spec.rows:
        reason = record["summary"].get(r.key, {}).get("unavailable")
        if reason:
            unavailable.setdefault(reason, []).append(r.label)
    lines += [f"Data unavailable for {', '.join(labels)}: {reason}" for reason, labels in unavailable.items()]
    subsets = [f"{name}: {p['dataset']} {p['split']}, {p['full_or_subset']}" for name, p in record["datasets"].items()
               if "subset" in str(p.get("full_or_subset", ""))]
    lines += [f"Subset data: {'; '.join(subsets)}."] if subsets else []
    lines += _superseded_lines(record)
    lines += ["", _other_profiles(results_dir, spec.name, record["profile"]), ""]
    for path in figures:  # written under tables/<profile>/figures/, or beside the table (a CSV)
        link = f"figures/{path.name}" if path.parent.name == "figures" else path.name
        lines += [f"![{path.stem}]({link})" if path.suffix == ".png" else f"[{path.name}]({link})", ""]
    lines += ["## Runs", "", _markdown(runs_frame(spec, record)), ""]
    failed = {k: r for k, r in record["runs"].items() if r["status"] == "failed"}
    if failed:
        lines += ["## Failed runs", ""]
        lines += [f"- `{k}`: diverged at update {r['failure']['step']}: {r['failure']['reason']}"
                  for k, r in failed.items()]
        lines.append("")
    lines += ["## Protocol choices", ""]
    lines += [f"- {c}" for c in spec.choices]
    lines += [f"- Protocol options as recorded: `{json.dumps(record['protocol'], sort_keys=True)}`", ""]
    lines += ["## Config", "", "```json", json.dumps(record["config"], indent=1, sort_keys=True), "```", ""]
    lines += ["## Provenance", ""] + _provenance_lines(record) + [""]
    return "\n".join(lines)


def _superseded_lines(record: dict) -> list[str]:
    """One line per reason runs were superseded (`--rerun`): how many, of which rows, at which commit."""
    groups: dict[tuple[str, str], set[str]] = {}
    for versions in record.get("superseded", {}).values():
        for run in versions:
            groups.setdefault((run["superseded_why"], run["superseded_at"][:12]), set()).add(run["row"])
    return [f"Superseded runs, kept in the record and counted nowhere: rows {', '.join(sorted(rows))} ({why}; "
            f"superseded at commit {commit}); the numbers above are of the runs made since." for (why, commit), rows
            in sorted(groups.items())]


def render_table(spec: TableSpec, record: dict, results_dir: Path, tables_dir: Path) -> list[Path]:
    out_dir = Path(tables_dir) / record["profile"]
    out_dir.mkdir(parents=True, exist_ok=True)
    record_path = results_path(results_dir, record["profile"], spec.name)
    figures = spec.figures(record, record_path, out_dir / "figures") if spec.figures else []
    shown, numeric = summary_frames(spec, record)
    md = out_dir / f"{spec.name}.md"
    md.write_text(render_markdown(spec, record, results_dir, figures))
    csv = out_dir / f"{spec.name}.csv"
    numeric.to_csv(csv, index=False, float_format="%.6g")
    tex = out_dir / f"{spec.name}.tex"
    latex = shown.to_latex(index=False, escape=True, caption=f"{spec.title} (profile {record['profile']})",
                           label=f"tab:{spec.name}-{record['profile']}")
    tex.write_text(latex.replace("±", r"$\pm$").replace("−", "-").replace("–", "--"))
    return [md, csv, tex, *figures]


def render_all(results_dir: Path, tables_dir: Path, profiles: list[str] | None = None,
               tables: list[str] | None = None) -> list[Path]:
    written = []
    for profile in profiles or PROFILES.names():
        for name in tables or TABLES.names():
            path = results_path(results_dir, profile, name)
            if path.exists():
                written += render_table(TABLES.get(name), load_record(path), results_dir, tables_dir)
    return written


@entry_point
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmark.render", description=__doc__.splitlines()[0])
    parser.add_argument("--profile", action="append", help="profile(s) to render (default: all with results)")
    parser.add_argument("--table", action="append", help="table(s) to render (default: all with results)")
    add_arguments(parser, "results_dir", "tables_dir")
    args = parser.parse_args(argv)
    for p in args.profile or []:
        PROFILES.get(p)
    for t in args.table or []:
        TABLES.get(t)
    written = render_all(args.results_dir, args.tables_dir, args.profile, args.table)
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
