"""Render tables/<profile>/<table>.md, .csv, .tex and figures from the stored JSON records alone.

    python -m benchmark.render [--profile P] [--table T] [--results-dir results] [--tables-dir tables]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from benchmark.errors import UserError
from benchmark.registry import PROFILES, TABLES
from benchmark.results import STD_DDOF, load_record, results_path
from benchmark.tables import Metric, TableSpec

NOT_RUN = "not run"


def _fmt(value: float | None, metric: Metric) -> str:
    if value is None:
        return "–"
    if isinstance(value, int) and metric.scale == 1:
        return str(value)  # counts (a run's modes, a row's min and max) print as integers
    return f"{value * metric.scale:.{metric.digits}f}"


def _mean_std(stats: dict | None, metric: Metric) -> str:
    if not stats or stats.get("n", 0) == 0:
        return NOT_RUN
    return f"{_fmt(stats['mean'], metric)} ± {_fmt(stats['std'], metric)}"


def _n_cell(row_summary: dict | None, metric_stats: dict | None) -> str:
    if not row_summary:
        return "0"
    n_ok = (metric_stats or {}).get("n", 0)
    failed = row_summary["n_failed"]
    return f"{n_ok} ({failed} failed)" if failed else str(n_ok)


def summary_frames(spec: TableSpec, record: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(formatted frame for Markdown/LaTeX, numeric frame for CSV), one row per table row."""
    main = spec.main_metric
    shown, numeric = [], []
    for row in spec.rows:
        row_summary = record["summary"].get(row.key)
        metrics = (row_summary or {}).get("metrics", {})
        stats = metrics.get(main.key)
        paper_mean = row.paper.mean if row.paper else None
        ours_mean = stats["mean"] if stats and stats.get("n") else None
        diff = ours_mean - paper_mean if ours_mean is not None and paper_mean is not None else None
        label = f"{row.label} (cited)" if row.cited_only else row.label
        ours = "cited only" if row.cited_only else _mean_std(stats, main)
        if ours == NOT_RUN and (row_summary or {}).get("unavailable"):
            ours = "data unavailable"
        line = {
            "model": label,
            f"paper: {main.label}": row.paper.text if row.paper else "–",
            f"ours: {main.label}": ours,
            "min": _fmt(stats["min"], main) if ours_mean is not None else "–",
            "max": _fmt(stats["max"], main) if ours_mean is not None else "–",
            "n": _n_cell(row_summary, stats),
            "ours − paper": (f"{diff * main.scale:+.{main.digits}f}" if diff is not None else "–"),
        }
        num = {"model": row.label, "paper_mean": paper_mean, "n_runs": (row_summary or {}).get("n_runs", 0),
               "n_failed": (row_summary or {}).get("n_failed", 0)}
        for metric in (main, *spec.other_metrics):
            m = metrics.get(metric.key)
            if metric is not main:
                line[metric.label] = _mean_std(m, metric) if m else "–"
            for stat in ("mean", "std", "min", "max", "n"):
                num[f"{metric.key}_{stat}"] = (m or {}).get(stat)
        num["diff_mean_vs_paper"] = diff
        shown.append(line)
        numeric.append(num)
    return pd.DataFrame(shown), pd.DataFrame(numeric)


def runs_frame(spec: TableSpec, record: dict) -> pd.DataFrame:
    lines = []
    for run_id, run in record["runs"].items():
        line = {"run": run_id, "status": run["status"]}
        for key in spec.hparam_columns:
            value = run.get("hparams", {}).get(key)
            line[key] = f"{value:.3g}" if isinstance(value, float) else "–"
        for metric in (spec.main_metric, *spec.other_metrics):
            line[metric.label] = _fmt(run["values"].get(metric.key), metric)
        line["updates"] = run.get("steps", "–")
        lines.append(line)
    return pd.DataFrame(lines)


def _markdown(df: pd.DataFrame) -> str:
    return df.to_markdown(index=False, disable_numparse=True) if len(df) else "(no runs stored)"


def _provenance_lines(record: dict) -> list[str]:
    runs = record["runs"].values()
    commits = sorted({f"{r['git_commit'][:12]}{' (dirty)' if r.get('git_dirty') else ''}" for r in runs})
    devices = sorted({r.get("device", "?") for r in runs})
    versions = sorted({json.dumps(r["versions"], sort_keys=True) for r in runs})
    wall = sum(r.get("wall_s", 0.0) for r in runs)
    lines = [f"- Code: git commit(s) {', '.join(commits) or '–'}; device(s): {', '.join(devices) or '–'}; "
             f"summed run wall time {wall / 60:.1f} min."]
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
             f"Profile `{record['profile']}` · config hash `{record['config_hash']}` · source: {spec.source}", "",
             _markdown(shown), ""]
    lines.append("Paper values: " + "; ".join(
        f"{r.label}: {r.paper.source} ({r.paper.error_bar})" for r in spec.rows if r.paper) + ".")
    lines.append(f"Ours: mean ± std over runs (std with ddof {STD_DDOF}), min, max and n over finished runs; "
                 "a failed (diverged) run is counted in n as failed and kept below.")
    if spec.scale_note:
        lines.append(f"Scale of this profile: {spec.scale_note(record['config'])}")
    unavailable = {r.label: record["summary"][r.key]["unavailable"] for r in spec.rows
                   if record["summary"].get(r.key, {}).get("unavailable")}
    lines += [f"Data unavailable for {label}: {reason}" for label, reason in unavailable.items()]
    lines += [f"Stand-in data: {note}" for note in spec.stand_ins]
    subsets = [f"{name}: {p['dataset']} {p['split']}, {p['full_or_subset']}" for name, p in record["datasets"].items()
               if "subset" in str(p.get("full_or_subset", ""))]
    lines += [f"Subset data: {'; '.join(subsets)}."] if subsets else []
    lines += ["", _other_profiles(results_dir, spec.name, record["profile"]), ""]
    for path in figures:
        lines += [f"![{path.stem}](figures/{path.name})", ""]
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


def render_table(spec: TableSpec, record: dict, results_dir: Path, tables_dir: Path) -> list[Path]:
    out_dir = Path(tables_dir) / record["profile"]
    out_dir.mkdir(parents=True, exist_ok=True)
    figures = spec.figures(record, out_dir / "figures") if spec.figures else []
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmark.render", description=__doc__.splitlines()[0])
    parser.add_argument("--profile", action="append", help="profile(s) to render (default: all with results)")
    parser.add_argument("--table", action="append", help="table(s) to render (default: all with results)")
    parser.add_argument("--results-dir", type=Path, default=Path("results"))
    parser.add_argument("--tables-dir", type=Path, default=Path("tables"))
    args = parser.parse_args(argv)
    try:
        for p in args.profile or []:
            PROFILES.get(p)
        for t in args.table or []:
            TABLES.get(t)
        written = render_all(args.results_dir, args.tables_dir, args.profile, args.table)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
