"""Figures drawn from stored result records only (never from live models)."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from benchmark.results import read_artifact  # noqa: E402

FIGURE7_COLUMNS = (("ali", "ALI"), ("gan_inverse", "GAN + inverse mapping"),
                   ("gan_posthoc", "GAN + post-hoc inference"), ("vae", "VAE"), ("iae", "IAE [ours]"))
FIGURE7_ROWS = ("data", "latent codes", "reconstructions", "prior samples", "generated samples")


def _save(fig, path: Path) -> Path:
    """Lay out, write (no software tag, so a re-render of the same record is byte-identical) and close."""
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)
    return path


def _component_colours() -> np.ndarray:
    """25 distinguishable colours, one per mixture component."""
    return np.concatenate([plt.get_cmap("tab20").colors, plt.get_cmap("tab20b").colors[::4]])[:25]


def gmm_figure7(record: dict, record_path: Path, best_run, out_dir: Path) -> list[Path]:
    """ALI Figure 7: rows data / latent codes / reconstructions / prior samples / generated samples; columns ALI,
    GAN + inverse mapping, GAN + post-hoc inference, VAE (the paper's) and IAE (ours); points coloured by mixture component (the points are the
    artifacts beside the record)."""
    runs, colours = record["runs"], _component_colours()
    if "figure_data" not in record["artifacts"]:
        return []
    data = read_artifact(record_path, record["artifacts"]["figure_data"])
    x, x_comp = np.array(data["points"]), np.array(data["component"])
    fig, axes = plt.subplots(len(FIGURE7_ROWS), len(FIGURE7_COLUMNS), figsize=(2.5 * len(FIGURE7_COLUMNS), 12.5),
                             squeeze=False)
    for col, (row_key, title) in enumerate(FIGURE7_COLUMNS):
        run_id = best_run({k: v for k, v in runs.items() if v["row"] == row_key})
        run = runs.get(run_id) if run_id else None
        axes[0, col].set_title(f"{title}\n({run_id})" if run_id else f"{title}\n(not run)", fontsize=9)
        if run is None or "figure" not in run["artifacts"]:
            for ax in axes[:, col]:
                ax.text(0.5, 0.5, "no result", ha="center", va="center", transform=ax.transAxes)
            continue
        f = read_artifact(record_path, run["artifacts"]["figure"])
        gen_comp = np.array(f["generated_component"])
        panels = ((x, x_comp, 6), (np.array(f["codes"]), x_comp, 4), (np.array(f["recons"]), x_comp, 6),
                  (np.array(f["prior"]), gen_comp, 4), (np.array(f["generated"]), gen_comp, 6))
        for ax, (points, comp, lim) in zip(axes[:, col], panels):
            ax.scatter(points[:, 0], points[:, 1], c=colours[comp], s=2, linewidths=0)
            ax.set_xlim(-lim, lim)
            ax.set_ylim(-lim, lim)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_aspect("equal")
    for r, label in enumerate(FIGURE7_ROWS):
        axes[r, 0].set_ylabel(label)
    fig.suptitle(f"gmm_modes, profile {record['profile']}: ALI Figure 7 replica", fontsize=11)
    return [_save(fig, out_dir / "gmm_modes_figure7.png")]


def _stored_curves(record: dict) -> tuple[dict, dict]:
    """({run id: its stored curve} for the ok runs with two points or more, {row: colour})."""
    curves = {k: r["extra"]["curve"] for k, r in record["runs"].items()
              if r["status"] == "ok" and len(r.get("extra", {}).get("curve", [])) > 1}
    rows = sorted({record["runs"][k]["row"] for k in curves})
    return curves, dict(zip(rows, plt.get_cmap("tab10").colors))


def gmm_curves(record: dict, out_dir: Path) -> list[Path]:
    """gmm_modes' learning curves: modes covered, high-quality modes and high-quality samples against updates, one
    line per run (colour per row), from the curves stored with each run; the table's number is each line's end."""
    curves, colour = _stored_curves(record)
    if not curves:
        return []
    panels = (("modes_covered", "modes covered (of 25)", 1), ("hq_modes", "high-quality modes", 1),
              ("hq_fraction", "high-quality samples (%)", 100))
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    labelled: set[str] = set()
    for run_id, points in sorted(curves.items()):
        row = record["runs"][run_id]["row"]
        steps = [p["step"] for p in points]
        for ax, (key, _, scale) in zip(axes, panels):
            ax.plot(steps, [scale * p[key] for p in points], marker="o", markersize=2, linewidth=1, alpha=0.7,
                    color=colour[row], label=None if row in labelled else row)
        labelled.add(row)
    for ax, (_, label, _) in zip(axes, panels):
        ax.set_xlabel("update")
        ax.set_ylabel(label)
        ax.grid(True, alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(f"gmm_modes, profile {record['profile']}: mode counts during training (one line per run)",
                 fontsize=11)
    return [_save(fig, out_dir / "gmm_modes_learning_curves.png")]


def learning_curves(record: dict, record_path: Path, out_dir: Path, value: str = "errors") -> list[Path]:
    """Test errors against epochs, one line per run (colour per row), from the curves stored with each run; the
    table's number is the last point of each line."""
    curves, colour = _stored_curves(record)
    if not curves:
        return []
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for run_id, points in sorted(curves.items()):
        epochs, errors = zip(*points)
        row = record["runs"][run_id]["row"]
        ax.plot(epochs, errors, marker="o", markersize=3, color=colour[row], label=row if run_id.endswith("/0")
                else None)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"test {value} (classifier as tested)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(f"{record['table']}, profile {record['profile']}: test {value} against epochs", fontsize=10)
    return [_save(fig, out_dir / f"{record['table']}_learning_curves.png")]


def recon_bars(record: dict, out_dir: Path, datasets: list[tuple[str, str]], models: list[tuple[str, str]]) -> list[Path]:
    """recon_error's figure, as HALI's: per dataset, the pixel and the embedded distance of every model and level
    (solid) beside the random-pair baseline (hatched); runs averaged, their std as error bars."""
    summary = record["summary"]
    shown = [(d, name) for d, name in datasets
             if any(summary.get(f"{d}_{m}", {}).get("metrics") for m, _ in models)]
    if not shown:
        return []
    fig, axes = plt.subplots(len(shown), 2, figsize=(11, 3.2 * len(shown)), squeeze=False)
    for row, (dataset, name) in enumerate(shown):
        for col, (value, title) in enumerate((("euclidean", "||x - x_hat|| (pixels)"),
                                               ("embedded", "||f_D(x) - f_D(x_hat)||"))):
            ax = axes[row, col]
            labels, ours, ours_std, guess, guess_std = [], [], [], [], []
            for key, label in models:
                metrics = summary.get(f"{dataset}_{key}", {}).get("metrics", {})
                if value not in metrics:
                    continue
                labels.append(label)
                ours.append(metrics[value]["mean"])
                ours_std.append(metrics[value]["std"])
                guess.append(metrics[f"{value}_random_pair"]["mean"])
                guess_std.append(metrics[f"{value}_random_pair"]["std"])
            at = np.arange(len(labels))
            ax.bar(at - 0.2, ours, 0.4, yerr=ours_std, label="reconstruction")
            ax.bar(at + 0.2, guess, 0.4, yerr=guess_std, hatch="//", fill=False, label="random pair")
            ax.set_xticks(at, labels, rotation=30, ha="right", fontsize=8)
            ax.set_title(f"{name}: {title}", fontsize=9)
            if row == 0 and col == 0:
                ax.legend(fontsize=8)
    fig.tight_layout()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "recon_error.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]


def image_rows(rows: dict, keys: tuple[str, ...], titles: tuple[str, ...], path: Path) -> list[Path]:
    """Rows of 8-bit images (each a nested list (N, C, H, W) in a stored artifact), one row a key, titled."""
    fig, axes = plt.subplots(len(keys), 1, figsize=(1.2 * len(rows[keys[0]]), 1.5 * len(keys)), squeeze=False)
    for ax, key, title in zip(axes[:, 0], keys, titles):
        images = np.array(rows[key], dtype=np.uint8)
        ax.imshow(np.concatenate(list(images.transpose(0, 2, 3, 1)), axis=1).squeeze())
        ax.set_title(title, fontsize=8, loc="left")
        ax.axis("off")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]
