"""Train one image model family on one dataset (through the trained-models layer), then draw its figures.

    python -m benchmark.fit --model ali --dataset mnist [--profile small] [--arch mnist] [--device auto]
                            [--set steps=500] [--set model.lr=2e-4] [--compile]

The model comes from `benchmark.trained.train_or_load`: trained with the one loop (checkpointed and resumed by the
same command) or loaded when a table already trained it.  The record results/<profile>/fit/<model>_<dataset>.json
(through the result store: a record of another config is refused) holds the identity, the data's provenance, the
losses at the end, the held-out reconstruction error per level, wall time, device and commit, and names the figures
drawn into tables/<profile>/figures/fit/.  Bad input (unknown name or key, missing data) exits with code 2.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import torch

from benchmark.allocator import keep_freed_memory
from benchmark.cli import add_arguments, entry_point, resolve_data_root, resolve_device
from benchmark.config import parse_assignments, with_overrides
from benchmark.data import DataUnavailable
from benchmark.errors import UserError
from benchmark.model_figures import draw_model_figures
from benchmark.models._image import to_unit
from benchmark.protocols.recon import euclidean_error
from benchmark.registry import PROFILES
from benchmark.results import ResultStore, RunRecord
from benchmark.rng import derive_seed
from benchmark.tables import RunContext
from benchmark.trained import TRAIN_SPLIT, FitConfig, ModelRequest, load_split, plan_model, train_or_load

HELD_OUT_SPLIT = {"mnist": "test", "svhn": "test", "cifar10": "test", "celeba": "valid"}
PAPER_EPOCHS = {"svhn": 100, "cifar10": 6475, "celeba": 123, "mnist": 100}  # ALI appendix; MNIST [ours]
SMALL_STEPS = {"mnist": 2000, "svhn": 300, "cifar10": 300, "celeba": 100}
HELD_OUT_IMAGES = 64


def profile_config(profile: str, dataset: str) -> FitConfig:
    PROFILES.get(profile)
    if dataset not in TRAIN_SPLIT:
        raise UserError(f"benchmark.fit trains on the image datasets ({', '.join(TRAIN_SPLIT)}), not {dataset!r}; "
                        "the gmm is trained by the gmm_modes table")
    if profile == "smoke":
        return FitConfig(steps=2, batch_size=8, train_images=64, checkpoint_every=0)
    if profile == "small":
        return FitConfig(steps=SMALL_STEPS[dataset])
    return FitConfig(epochs=PAPER_EPOCHS[dataset])


def request_from_cli(model: str, dataset: str, arch: str | None, profile: str, overrides: dict[str, str]) -> ModelRequest:
    """`--set KEY=V` sets a FitConfig key, `--set model.KEY=V` a key of the family's config (checked when built)."""
    fit_keys = {k: v for k, v in overrides.items() if not k.startswith("model.")}
    model_keys = tuple((k.removeprefix("model."), v) for k, v in overrides.items() if k.startswith("model."))
    fit_config = with_overrides(profile_config(profile, dataset), fit_keys, "--set")
    return ModelRequest(model, dataset, fit_config, arch=arch or "", model=model_keys)


def _held_out(request: ModelRequest, ctx: RunContext, train_images: torch.Tensor) -> tuple[torch.Tensor, str]:
    """The held-out split's first images, or, where the data present lack it, the training split's last images
    (named in the record)."""
    split = HELD_OUT_SPLIT[request.dataset]
    try:
        return load_split(request.dataset, split, ctx).images[:HELD_OUT_IMAGES], split
    except DataUnavailable as e:
        return train_images[-HELD_OUT_IMAGES:], f"last {HELD_OUT_IMAGES} {request.split_name} images ({e})"


def _protocol(held_out_source: str) -> dict:
    return {"held_out": held_out_source, "held_out_images": HELD_OUT_IMAGES,
            "recon": "mean ||x - decode(a draw of q(z|x))||_2 over the held-out images"}


def record_stem(request: ModelRequest) -> str:
    """family_dataset, then each model override as _key-value: a variant (e.g. the IAE's stochastic setting) gets a
    record and figures of its own instead of being refused as another config of the default's record."""
    return f"{request.family}_{request.dataset}" + "".join(f"_{key}-{value}" for key, value in request.model)


def fit(request: ModelRequest, profile: str, ctx: RunContext) -> tuple[RunRecord, ResultStore]:
    """Train or load the model, measure its held-out reconstruction error, draw its figures, store its record."""
    PROFILES.get(profile)
    plan = plan_model(request, ctx)
    held_out, held_out_source = _held_out(request, ctx, plan.data.images)
    stem = record_stem(request)
    store = ResultStore(ctx.results_dir, f"fit/{stem}", profile, plan.identity,
                        _protocol(held_out_source), {"train": plan.data.provenance})  # refuses another config first
    trained = train_or_load(plan, ctx)
    if trained is None:
        raise UserError("training stopped before the end; run the same command again to resume")
    model = trained.model
    x = to_unit(held_out.to(ctx.device))
    recon, figures = {}, {}
    if not trained.failed:  # a diverged model has no reconstructions or figures to show (its record says why)
        if hasattr(model, "reconstruct"):
            recon = {f"recon_l2_z{level}" if len(model.levels) > 1 else "recon_l2":
                     euclidean_error(x, model.reconstruct(x, level=level)) for level in model.levels}
        figure_dir = Path(ctx.tables_dir) / profile / "figures" / "fit"
        figures = draw_model_figures(model, x, figure_dir, stem, derive_seed(request.fit.seed, "figures"))
    training = trained.record
    run = RunRecord(request.family, 0, request.fit.seed, status=training["status"], failure=training["failure"],
                    steps=training["steps_done"], values={} if trained.failed else recon, device=ctx.device,
                    wall_s=training["wall_s"],
                    extra={"model_key": trained.key, "updates": training["steps"], "last_losses": training["last_losses"],
                           "trained_now": trained.trained_now, "trained_at_commit": training["git_commit"],
                           "figures": figures})
    store.put_run(run)
    return run, store


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmark.fit", description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a registered image family (see python -m benchmark.run "
                        "--list)")
    parser.add_argument("--dataset", required=True, help="mnist, svhn, cifar10 or celeba")
    parser.add_argument("--arch", help="the networks (default: the dataset's own)")
    add_arguments(parser, "profile", "device")
    parser.add_argument("--compile", action="store_true", help="torch.compile the networks")
    add_arguments(parser, "bf16")
    parser.add_argument("--set", dest="assignments", action="append", default=[], metavar="KEY=VALUE",
                        help="override a fit key (" + ", ".join(f.name for f in dataclasses.fields(FitConfig)) +
                        ") or, as model.KEY, a key of the family's config")
    add_arguments(parser, "data_root", "download", "results_dir", "tables_dir", "cache_dir", "quiet")
    return parser


@entry_point
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    keep_freed_memory()
    ctx = RunContext(device=resolve_device(args.device), cache_dir=args.cache_dir,
                     data_root=resolve_data_root(args.data_root), download=args.download, progress=not args.quiet,
                     compile=args.compile, bf16=args.bf16, results_dir=args.results_dir,
                     tables_dir=args.tables_dir)
    request = request_from_cli(args.model, args.dataset, args.arch, args.profile, parse_assignments(args.assignments))
    start = time.perf_counter()
    if ctx.device == "cpu":
        torch.use_deterministic_algorithms(True)
    run, store = fit(request, args.profile, ctx)
    losses = ", ".join(f"{k} {v:.4g}" if v is not None else f"{k} non-finite"
                       for k, v in run.extra["last_losses"].items())
    how = "trained" if run.extra["trained_now"] else "loaded"
    print(f"{request.family} on {request.dataset} ({args.profile}, {how}): {run.steps}/{run.extra['updates']} "
          f"updates, {run.status}; {losses}; held-out {run.values}; {time.perf_counter() - start:.1f} s this call")
    print(f"  record {store.path}")
    for path in run.extra["figures"].values():
        print(f"  figure {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
