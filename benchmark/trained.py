"""Trained models as a layer: every table and `benchmark.fit` get their image models from `train_or_load`.

A model's identity is what decides its weights: family, networks, dataset split and the provenance of its files, the
images used, the training config, the family's config, the seed and the numerics of the runtime.  The identity's
hash names the checkpoint under <cache>/models/, so a second table that asks for the same model loads it (the
finished checkpoint) instead of training it again, and any change of config is a new model, never an old one.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from benchmark.config import config_hash, to_jsonable, with_overrides
from benchmark.data import DataUnavailable, ImageSplit
from benchmark.errors import UserError
from benchmark.registry import DATASETS, MODELS
from benchmark.results import RunRecord, environment, write_json_atomic
from benchmark.rng import RunGenerators, derive_seed
from benchmark.runtime import Runtime
from benchmark.tables import RunContext
from benchmark.protocols.semisup import labelled_draw
from benchmark.train import SemiSupervisedBatcher, StackedBatcher, train

TRAIN_SPLIT = {"mnist": "train", "svhn": "train", "cifar10": "train_first45k", "celeba": "train",  # [code] for ALI
               "celeba32": "train"}


@dataclass(frozen=True)
class FitConfig:
    """steps: updates to train (0: `epochs` passes over the training images).  train_images: the first n images of
    the split (0: all).  batch_size 100 [paper].  labels_per_class: the labelled examples of a semi-supervised family
    (drawn from the seed by protocols.semisup.labelled_draw).  snapshot_epochs: keep the model's classifier every that
    many epochs (learning curves; changes no weight)."""

    steps: int = 0
    epochs: float = 0.0
    batch_size: int = 100
    train_images: int = 0
    checkpoint_every: int = 500
    seed: int = 0
    labels_per_class: int = 0
    snapshot_epochs: float = 0.0

    def updates(self, n_images: int) -> int:
        return self.steps or math.ceil(self.epochs * n_images / self.batch_size)


@dataclass(frozen=True)
class ModelRequest:
    """Which trained model a caller wants.  `arch` defaults to the dataset's own networks, `split` to the split the
    ALI code trains on; `model` overrides keys of the family's config."""

    family: str
    dataset: str
    fit: FitConfig = FitConfig()
    arch: str = ""
    split: str = ""
    model: tuple[tuple[str, Any], ...] = ()

    @property
    def arch_name(self) -> str:
        return self.arch or self.dataset

    @property
    def split_name(self) -> str:
        if self.split:
            return self.split
        if self.dataset not in TRAIN_SPLIT:
            raise UserError(f"image models train on {', '.join(TRAIN_SPLIT)}, not {self.dataset!r}; the gmm is "
                            "trained by the gmm_modes table")
        return TRAIN_SPLIT[self.dataset]


@dataclass
class TrainedModel:
    model: Any
    request: ModelRequest
    identity: dict
    key: str  # <family>_<dataset>_<arch>_<hash>: names the checkpoint, the training record and cached features
    record: dict  # how it was trained: steps, status, failure, last losses, wall time, commit
    data: ImageSplit = field(repr=False)
    trained_now: bool = False  # False: loaded, finished, from the checkpoint another call wrote
    labelled: Any = None  # semi-supervised: indices (into the training images) of the labelled examples
    snapshot_dir: Path | None = None  # semi-supervised: <step>.pt classifier snapshots

    @property
    def failed(self) -> bool:
        return self.record["status"] == "failed"

    def run_info(self) -> dict:
        """What a table's run record says about the model it evaluated: its key, whether this call trained it, its
        length, cost, commit and where it trained (CPU and thread count; absent from models trained before that
        was kept)."""
        steps, wall = self.record["steps_done"], self.record["wall_s"]
        return {"model": self.key, "model_trained_now": self.trained_now, "steps": steps, "model_wall_s": wall,
                "model_commit": self.record["git_commit"], "ms_per_update": round(1000 * wall / max(steps, 1), 2),
                "model_ran_on": self.record.get("ran_on")}

    def failed_run(self, row: str, index: int, seed: int, device: str, extra: dict | None = None) -> RunRecord:
        """The run record of a cell whose model diverged in training: its failure and step, nothing measured."""
        return RunRecord(row, index, seed, status="failed", failure=self.record["failure"],
                         steps=self.record["steps_done"], device=device, extra=extra or self.run_info())


def family_config(family: str, arch: str, overrides: dict):
    """The family's config with `overrides` applied (unknown keys refused), without building a model."""
    entry = MODELS.get(family)
    if arch not in entry.archs:
        raise UserError(f"model {family!r} has no architecture {arch!r}; valid: {', '.join(sorted(entry.archs))}")
    if arch == "toy" or entry.config is None:
        raise UserError(f"{family!r} on {arch!r} is trained by the gmm_modes table, not as an image model")
    config = entry.default_config(arch)
    return with_overrides(config, overrides, "model.KEY") if overrides else config


def load_split(dataset: str, split: str, ctx: RunContext) -> ImageSplit:
    return DATASETS.get(dataset).load(split, data_root=ctx.data_root, cache_dir=ctx.cache_dir, download=ctx.download)


def _data_identity(provenance: dict) -> dict:
    return {k: provenance.get(k) for k in ("dataset", "split", "n", "files", "recipe")}


def model_dir(ctx: RunContext) -> Path:
    return Path(ctx.cache_dir) / "models"


@dataclass
class ModelPlan:
    """A request resolved without training: the family's config, the images, the identity and its key."""

    request: ModelRequest
    config: Any
    data: ImageSplit = field(repr=False)
    images: Any = field(repr=False)
    runtime: Runtime = Runtime()
    identity: dict = field(default_factory=dict)
    digest: str = ""  # the identity's hash

    @property
    def key(self) -> str:
        """<family>_<dataset>_<arch>_<digest>: names the checkpoint, the training record and cached features."""
        return f"{self.request.family}_{self.request.dataset}_{self.request.arch_name}_{self.digest}"


def plan_model(request: ModelRequest, ctx: RunContext) -> ModelPlan:
    """Resolve `request`: refuses unknown names and keys, raises DataUnavailable when the split is not present."""
    arch = request.arch_name
    config = family_config(request.family, arch, dict(request.model))
    data = load_split(request.dataset, request.split_name, ctx)
    images = data.images[: request.fit.train_images or None]
    runtime = Runtime.for_device(ctx.device, compile=ctx.compile, bf16=ctx.bf16)
    numerics = {k: v for k, v in to_jsonable(runtime).items() if k != "compile"}  # compile changes no result
    entry = MODELS.get(request.family)
    semi = entry.semi_supervised
    if semi != (request.fit.labels_per_class > 0):
        raise UserError(f"{request.family!r} {'needs' if semi else 'takes no'} labels: set labels_per_class "
                        f"{'> 0' if semi else 'to 0'}")
    identity = {"family": request.family, "arch": arch, "dataset": request.dataset,
                "data": _data_identity(data.provenance), "train_images": len(images),
                "fit": {k: v for k, v in to_jsonable(request.fit).items()
                        if k not in ("checkpoint_every", "snapshot_epochs")},
                "model_config": to_jsonable(config), "runtime": numerics}
    if entry.revision:
        identity["revision"] = entry.revision
    return ModelPlan(request, config, data, images, runtime, identity, config_hash(identity))


def _semi_supervised_stream(model, plan: ModelPlan, steps: int, ctx: RunContext):
    """(batcher, labelled indices, snapshot folder, updates between snapshots) of a semi-supervised model, which is
    told its training length; a class with too few images for the labels asked is data unavailable (a table cell)."""
    fit, images = plan.request.fit, plan.images
    labels = plan.data.labels[: len(images)]
    try:
        labelled = labelled_draw(labels, fit.labels_per_class, derive_seed(fit.seed, "labels"))
    except ValueError as e:
        raise DataUnavailable(f"{plan.request.dataset} {plan.request.split_name} ({len(images):,} images): {e}") \
            from None
    batcher = SemiSupervisedBatcher(images.to(ctx.device), labels.to(ctx.device), labelled.to(ctx.device),
                                    fit.batch_size, derive_seed(fit.seed, "batches"))
    updates_per_epoch = math.ceil(len(images) / fit.batch_size)
    model.set_training_length(steps, updates_per_epoch)
    return batcher, labelled, model_dir(ctx) / f"{plan.key}.snapshots", round(fit.snapshot_epochs * updates_per_epoch)


def is_trained(request: ModelRequest | ModelPlan, ctx: RunContext) -> bool:
    """Whether the model `request` names has finished training in this cache (its record is written at the end)."""
    plan = request if isinstance(request, ModelPlan) else plan_model(request, ctx)
    return (model_dir(ctx) / f"{plan.key}.pt").exists() and (model_dir(ctx) / f"{plan.key}.json").exists()


def train_or_load(request: ModelRequest | ModelPlan, ctx: RunContext) -> TrainedModel | None:
    """The model `request` names, trained to the end with the one loop, or loaded when a finished checkpoint of the
    same identity exists; a checkpoint left mid-way is resumed.  None when `ctx.stop_after` ended training early
    (the checkpoint stays for the next call).  Raises DataUnavailable when the split is not present."""
    plan = request if isinstance(request, ModelPlan) else plan_model(request, ctx)
    request, images, digest = plan.request, plan.images, plan.digest
    model = MODELS.get(request.family).archs[request.arch_name](config=plan.config, seed=request.fit.seed,
                                                                  runtime=plan.runtime)
    if tuple(images.shape[1:]) != tuple(model.arch.image):
        raise UserError(f"{request.dataset} images are {tuple(images.shape[1:])}, the {request.arch_name} networks "
                        f"take {tuple(model.arch.image)}; pick a matching arch")
    model.init_from_data(images)
    steps = request.fit.updates(len(images))
    checkpoint, record_path = model_dir(ctx) / f"{plan.key}.pt", model_dir(ctx) / f"{plan.key}.json"
    labelled, snapshot_dir, snapshot, snapshot_every = None, None, None, 0
    if MODELS.get(request.family).semi_supervised:
        batcher, labelled, snapshot_dir, snapshot_every = _semi_supervised_stream(model, plan, steps, ctx)

        def snapshot(step: int) -> None:
            snapshot_dir.mkdir(parents=True, exist_ok=True)
            torch.save(model.snapshot(), snapshot_dir / f"{step:08d}.pt")
    else:
        batcher = StackedBatcher(images.to(ctx.device), request.fit.batch_size,
                                 RunGenerators([derive_seed(request.fit.seed, "batches")]))
    finished_before = checkpoint.exists() and record_path.exists()  # the record is written when training ends
    result = train(model, batcher, steps, checkpoint=checkpoint, identity=digest,
                   checkpoint_every=request.fit.checkpoint_every, stop_after=ctx.stop_after,
                   desc=f"{request.family} on {request.dataset}", progress=ctx.progress,
                   snapshot=snapshot, snapshot_every=snapshot_every)
    if not result.finished:
        return None
    if not finished_before:
        record = {"key": plan.key, "identity": plan.identity, "config_hash": digest, "steps": steps,
                  "steps_done": result.steps_done, "status": "failed" if result.failures else "ok",
                  "failure": result.failures.get(0),
                  "last_losses": {k: v[0] if math.isfinite(v[0]) else None for k, v in result.last_losses.items()},
                  "wall_s": round(result.wall_s, 3), "device": ctx.device, "ran_on": result.ran_on,
                  **environment()}
        write_json_atomic(record_path, record)
    else:
        record = json.loads(record_path.read_text())
    return TrainedModel(model, request, plan.identity, plan.key, record, plan.data, trained_now=not finished_before,
                        labelled=labelled, snapshot_dir=snapshot_dir)
