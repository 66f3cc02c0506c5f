"""Train one image model family on one dataset with the one training loop, then draw its figures.

    python -m benchmark.fit --model ali --dataset mnist [--profile small] [--arch mnist] [--device auto]
                            [--set steps=500] [--set model.lr=2e-4] [--compile]

The run is checkpointed (and resumed by the same command) under the cache folder; when it ends the record
results/<profile>/fit/<model>_<dataset>.json holds the configs, the data's provenance, the losses at the end, the
held-out reconstruction error per level, wall time, device and commit, and the figures it drew into
tables/<profile>/figures/fit/.  Bad input (unknown name or key, missing data) exits with code 2.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from benchmark.allocator import keep_freed_memory
from benchmark.config import config_hash, parse_assignments, to_jsonable, with_overrides
from benchmark.data import DataUnavailable, ImageSplit
from benchmark.errors import UserError
from benchmark.model_figures import draw_model_figures
from benchmark.models._image import to_unit
from benchmark.nets.ali_image import Decoder
from benchmark.protocols.recon import euclidean_error
from benchmark.registry import DATASETS, MODELS, PROFILES
from benchmark.results import environment, write_json_atomic
from benchmark.rng import RunGenerators, derive_seed
from benchmark.cli import resolve_data_root, resolve_device
from benchmark.runtime import Runtime
from benchmark.train import StackedBatcher, train

TRAIN_SPLIT = {"mnist": "train", "svhn": "train", "cifar10": "train_first45k", "celeba": "train"}  # [code] for ALI
HELD_OUT_SPLIT = {"mnist": "test", "svhn": "test", "cifar10": "test", "celeba": "valid"}
PAPER_EPOCHS = {"svhn": 100, "cifar10": 6475, "celeba": 123, "mnist": 100}  # ALI appendix; MNIST [ours]
SMALL_STEPS = {"mnist": 2000, "svhn": 300, "cifar10": 300, "celeba": 100}
HELD_OUT_IMAGES = 64


@dataclass(frozen=True)
class FitConfig:
    """steps: updates to train (0: `epochs` passes over the training images).  train_images: the first n training
    images (0: all).  batch_size 100 [paper]."""

    steps: int = 0
    epochs: float = 0.0
    batch_size: int = 100
    train_images: int = 0
    checkpoint_every: int = 500
    seed: int = 0


def profile_config(profile: str, dataset: str) -> FitConfig:
    PROFILES.get(profile)
    if profile == "smoke":
        return FitConfig(steps=2, batch_size=8, train_images=64, checkpoint_every=0)
    if profile == "small":
        return FitConfig(steps=SMALL_STEPS[dataset])
    return FitConfig(epochs=PAPER_EPOCHS[dataset])


def _split_overrides(overrides: dict[str, str]) -> tuple[dict, dict]:
    model = {k.removeprefix("model."): v for k, v in overrides.items() if k.startswith("model.")}
    return {k: v for k, v in overrides.items() if not k.startswith("model.")}, model


def _load(dataset: str, split: str, data_root, cache_dir, download) -> ImageSplit:
    return DATASETS.get(dataset).load(split, data_root=data_root, cache_dir=cache_dir, download=download)


def _held_out(dataset: str, train_split: ImageSplit, args) -> tuple[torch.Tensor, str]:
    """The held-out split's first images, or, where the data present lack it, the training split's last images
    (named in the record)."""
    split = HELD_OUT_SPLIT[dataset]
    try:
        images = _load(dataset, split, args.data_root, args.cache_dir, args.download).images
        return images[:HELD_OUT_IMAGES], split
    except DataUnavailable as e:
        return train_split.images[-HELD_OUT_IMAGES:], f"last {HELD_OUT_IMAGES} {TRAIN_SPLIT[dataset]} images ({e})"


def build_model(model_name: str, arch: str, overrides: dict, seed: int, runtime: Runtime):
    entry = MODELS.get(model_name)
    if arch not in entry.archs:
        raise UserError(f"model {model_name!r} has no architecture {arch!r}; valid: {', '.join(sorted(entry.archs))}")
    factory = entry.archs[arch]
    if arch == "toy":
        raise UserError("benchmark.fit trains image models; the toy networks are trained by the gmm_modes table")
    default = factory(seed=seed).config
    config = with_overrides(default, overrides, "--set model.KEY") if overrides else default
    return factory(config=config, seed=seed, runtime=runtime), config


def fit(args) -> dict:
    dataset = args.dataset
    DATASETS.get(dataset)
    if dataset not in TRAIN_SPLIT:
        raise UserError(f"benchmark.fit trains on the image datasets ({', '.join(TRAIN_SPLIT)}), not {dataset!r}; "
                        "the gmm is trained by the gmm_modes table")
    arch = args.arch or dataset
    fit_overrides, model_overrides = _split_overrides(args.overrides)
    fit_config = with_overrides(profile_config(args.profile, dataset), fit_overrides, "--set")
    device = resolve_device(args.device)
    runtime = Runtime.for_device(device, compile=args.compile)
    model, model_config = build_model(args.model, arch, model_overrides, fit_config.seed, runtime)

    train_split = _load(dataset, TRAIN_SPLIT[dataset], args.data_root, args.cache_dir, args.download)
    images = train_split.images[: fit_config.train_images or None]
    if tuple(images.shape[1:]) != tuple(model.arch.image):
        raise UserError(f"{dataset} images are {tuple(images.shape[1:])}, the {arch} networks take "
                        f"{tuple(model.arch.image)}; pick a matching --arch")
    steps = fit_config.steps or math.ceil(fit_config.epochs * len(images) / fit_config.batch_size)
    held_out, held_out_source = _held_out(dataset, train_split, args)

    identity = {"model": args.model, "arch": arch, "dataset": dataset, "fit": to_jsonable(fit_config),
                "model_config": to_jsonable(model_config), "train_images": len(images),
                "runtime": to_jsonable(runtime)}
    digest = config_hash(identity)
    stem = f"{args.model}_{dataset}"
    checkpoint = Path(args.cache_dir) / "fit" / args.profile / f"{stem}_{digest}.pt"
    mean_image = images.float().mean(0).div_(255.0).to(device)
    for module in model.modules():
        if isinstance(module, Decoder):
            module.init_pixel_bias(mean_image)
    batcher = StackedBatcher(images.to(device), fit_config.batch_size,
                             RunGenerators([derive_seed(fit_config.seed, "batches")]))
    environment()
    if device == "cpu":
        torch.use_deterministic_algorithms(True)
    result = train(model, batcher, steps, checkpoint=checkpoint, identity=digest,
                   checkpoint_every=fit_config.checkpoint_every, desc=f"{stem} ({args.profile})",
                   progress=not args.quiet)

    x = to_unit(held_out.to(device))
    recon, figures = {}, {}
    if not result.failures:  # a diverged model has no reconstructions or figures to show (its record says why)
        if hasattr(model, "reconstruct"):
            recon = {f"z{level}" if len(model.levels) > 1 else "z":
                     euclidean_error(x, model.reconstruct(x, level=level)) for level in model.levels}
        figure_dir = Path(args.tables_dir) / args.profile / "figures" / "fit"
        figures = draw_model_figures(model, x, figure_dir, stem, derive_seed(fit_config.seed, "figures"))
    record = {
        **identity, "profile": args.profile, "config_hash": digest, "steps": steps, "steps_done": result.steps_done, "finished": result.finished,
        "status": "failed" if result.failures else "ok", "failure": result.failures.get(0),
        "last_losses": {k: v[0] for k, v in result.last_losses.items()},
        "held_out": {"source": held_out_source, "n": len(x)},
        "held_out_recon_l2": recon, "wall_s": result.wall_s, "device": device,
        "data": train_split.provenance, "figures": figures, **environment(),
    }
    path = Path(args.results_dir) / args.profile / "fit" / f"{stem}.json"
    write_json_atomic(path, record)
    record["path"] = str(path)
    return record


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmark.fit", description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a registered image family (see python -m benchmark.run "
                        "--list)")
    parser.add_argument("--dataset", required=True, help="mnist, svhn, cifar10 or celeba")
    parser.add_argument("--arch", help="the networks (default: the dataset's own)")
    parser.add_argument("--profile", default="small", help="smoke, small or paper (default small)")
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu or cuda")
    parser.add_argument("--compile", action="store_true", help="torch.compile the networks")
    parser.add_argument("--set", dest="assignments", action="append", default=[], metavar="KEY=VALUE",
                        help="override a fit key (steps, epochs, batch_size, train_images, checkpoint_every, seed) "
                        "or, as model.KEY, a key of the family's config")
    parser.add_argument("--data-root", help="folder holding the datasets (else BENCHMARK_DATA, else ./data)")
    parser.add_argument("--download", action="store_true", help="download missing datasets (torchvision)")
    parser.add_argument("--results-dir", type=Path, default=Path("results"))
    parser.add_argument("--tables-dir", type=Path, default=Path("tables"))
    parser.add_argument("--cache-dir", type=Path, default=Path(os.environ.get("BENCHMARK_CACHE", ".cache/benchmark")))
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    keep_freed_memory()
    try:
        args.data_root = resolve_data_root(args.data_root)
        args.overrides = parse_assignments(args.assignments)
        start = time.perf_counter()
        record = fit(args)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: the checkpoint is kept; run the same command again to resume", file=sys.stderr)
        return 130
    losses = ", ".join(f"{k} {v:.4g}" for k, v in record["last_losses"].items())
    print(f"{record['model']} on {record['dataset']} ({record['profile']}): {record['steps_done']}/{record['steps']} "
          f"updates, {record['status']}; {losses}; held-out recon L2 {record['held_out_recon_l2']}; "
          f"{time.perf_counter() - start:.1f} s this call")
    print(f"  record {record['path']}")
    for path in record["figures"].values():
        print(f"  figure {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
