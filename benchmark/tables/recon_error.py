"""recon_error: reconstruction error per model and level, in pixels and in a discriminator's embedding, each beside
the random-pair baseline (HALI's figure of reconstruction error per level; BiGAN's reading aid).

For every family with an encoder (VAE, ALI, BiGAN, HALI through z1 and through z2, AAE) on every dataset: the mean
over held-out images of ||x - x_hat||_2 and of ||f_D(x) - f_D(x_hat)||_2, and the same two distances for an
unrelated image x' in place of x (benchmark.protocols.recon).  The models are the ones the other tables train at the
same profile, loaded, not trained again: CelebA from celeba_attrs, SVHN from svhn_semi (the stand-in at small), MNIST
and CIFAR-10 from benchmark.fit.  HALI's claim, as the closing note checks it: z1 below z2 under both distances.
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import torch

from benchmark.data import DataUnavailable, DatasetMissing
from benchmark.draws import reconstruction_chunks
from benchmark.models._image import to_unit
from benchmark.fit import profile_config
from benchmark.protocols.recon import reconstruction_distances
from benchmark.registry import TABLES
from benchmark.results import ResultStore, RunRecord
from benchmark.rng import derive_seed
from benchmark.tables import Column, RowSpec, RunContext, TableSpec
from benchmark.trained import ModelRequest, is_trained, load_split, train_or_load

NAME = "recon_error"
#: row suffix -> (family, level)
MODELS = {"vae": ("vae", 1), "ali": ("ali", 1), "bigan": ("bigan", 1), "hali_z1": ("hali", 1),
          "hali_z2": ("hali", 2), "aae": ("aae", 1)}
LABELS = {"vae": "VAE", "ali": "ALI", "bigan": "BiGAN", "hali_z1": "HALI, through z1", "hali_z2": "HALI, through z2",
          "aae": "AAE"}
DATASETS = {"celeba": "CelebA", "svhn": "SVHN", "mnist": "MNIST", "cifar10": "CIFAR-10"}
WITH_D = ("ali", "bigan", "hali")  # families with an x pathway in their discriminator
TRAINED_HERE = ("celeba",)  # the datasets whose models this table trains when absent (celeba_attrs shares them)
OWNER = {"celeba": "celeba_attrs", "svhn": "svhn_semi", "mnist": "benchmark.fit", "cifar10": "benchmark.fit"}
EMBED_FALLBACK = "ali"  # [ours] the D whose x pathway embeds the families that have none (VAE, AAE)


@dataclass(frozen=True)
class ReconErrorConfig:
    models: str = "paper"  # the profile whose trained models are measured (the other tables' checkpoints)
    held_out_images: int = 0  # 0: every held-out image
    seed: int = 0
    runs: int = 1  # models (seeds) per row


PROFILES = {"smoke": dict(models="smoke", held_out_images=16), "small": dict(models="small", held_out_images=1000),
            "paper": {}}

ROWS = tuple(RowSpec(f"{d}_{m}", f"{DATASETS[d]}: {LABELS[m]}") for d in DATASETS for m in MODELS)

COLUMNS = (
    Column("euclidean", "||x − x̂|| (pixels in [0, 1])", digits=3),
    Column("euclidean_random_pair", "||x′ − x̂|| (random pair)", digits=3),
    Column("embedded", "||f_D(x) − f_D(x̂)||", digits=3),
    Column("embedded_random_pair", "||f_D(x′) − f_D(x̂)|| (random pair)", digits=3),
)

CHOICES = (
    "[ours] x̂ = decode(a draw of q(z|x)) (HALI through z1, or through z1 and z2), the draws seeded per dataset and "
    "row; x′ is another held-out image (a seeded permutation without fixed points), so a reconstruction is no better "
    "than a guess where ||x − x̂|| reaches ||x′ − x̂||.",
    "[ours] f_D is the x pathway of the model's own discriminator (ALI, BiGAN, HALI: D(x), flattened); the VAE and "
    "the AAE have none, so ALI's D of the same dataset and seed embeds theirs.",
    "[ours] Held-out images: CelebA's validation split, the SVHN stand-in's validation rows at small (the test split "
    "where it exists), the MNIST and CIFAR-10 test splits (the suite keeps no separate validation images there).",
    "[ours] The models are those the other tables train at the same profile: CelebA from celeba_attrs (trained here "
    "when absent), SVHN from svhn_semi, MNIST and CIFAR-10 from benchmark.fit (its profile sizes), measured only "
    "where they have been trained (a cell without says which command trains it).",
)


class NotTrained(DataUnavailable):
    """The model of another table is not in the cache: a cell that says which command trains it."""


def load_model(cfg, dataset: str, family: str, index: int, ctx: RunContext):
    """The trained model (train_or_load) of a dataset this table trains, or of another only when its owner trained
    it already ("on every dataset whose trained models exist"); NotTrained otherwise."""
    request = model_request(cfg, dataset, family, index)
    if dataset not in TRAINED_HERE and not is_trained(request, ctx):
        how = (f"python -m benchmark.fit --model {family} --dataset {dataset} --profile {cfg.models}"
               if OWNER[dataset] == "benchmark.fit" else
               f"python -m benchmark.run --table {OWNER[dataset]} --profile {cfg.models}")
        raise NotTrained(f"no trained {family} on {dataset} at the {cfg.models} profile in the cache (--cache-dir); "
                         f"`{how}` trains it (this cell is retried on the next call)")
    return train_or_load(request, ctx)


def _table_config(name: str, profile: str):
    return TABLES.get(name).config(profile)


def model_request(cfg: ReconErrorConfig, dataset: str, family: str, index: int) -> ModelRequest:
    """The checkpoint the owning table (or benchmark.fit) trains for this dataset, family and seed."""
    if dataset == "celeba":
        from benchmark.tables import celeba_attrs

        return celeba_attrs.model_request(_table_config("celeba_attrs", cfg.models), family, index)
    if dataset == "svhn":
        from benchmark.tables import svhn_semi

        return svhn_semi.model_request(_table_config("svhn_semi", cfg.models), family, index)
    fit = profile_config(cfg.models, dataset)
    return ModelRequest(family, dataset, dataclasses.replace(fit, seed=fit.seed + cfg.seed + index))


def held_out(models: str, dataset: str, ctx: RunContext, limit: int = 0) -> tuple[torch.Tensor, dict]:
    """(uint8 images, provenance with the rows used) of the dataset's held-out images (the first `limit`; 0: all),
    for the models of profile `models`."""
    if dataset == "celeba":
        celeba_cfg = _table_config("celeba_attrs", models)
        split = load_split(celeba_cfg.dataset, "valid", ctx)
    elif dataset == "svhn":
        svhn_cfg = _table_config("svhn_semi", models)
        if svhn_cfg.stand_in:
            train = load_split("svhn", "train", ctx)
            start, stop = svhn_cfg.pool_size, svhn_cfg.pool_size + svhn_cfg.validation_size
            if len(train) < stop:
                raise DataUnavailable(f"the SVHN stand-in needs {stop} train images, {len(train)} are present")
            images = train.images[start:stop][: limit or None]
            return images, {**train.provenance, "rows": [start, start + len(images)], "role": "stand-in validation"}
        split = load_split("svhn", "test", ctx)
    else:
        split = load_split(dataset, "test", ctx)
    images = split.images[: limit or None]
    return images, {**split.provenance, "rows": [0, len(images)]}


def _put_unavailable(store: ResultStore, dataset: str, index: int, seed: int, reason: str, rows=None) -> None:
    store.put_unavailable([f"{dataset}_{m}" for m in rows or MODELS], index, seed, reason)


@torch.no_grad()
def _measure(model, embedder, x: torch.Tensor, level: int, seed: int) -> dict:
    x_unit = to_unit(x.to(model.runtime.device))
    x_hat = torch.cat(list(reconstruction_chunks(model, x, level, seed)))
    embed = None
    if embedder is not None:
        def embed(batch):
            return torch.cat([embedder.discriminator_features(c).float() for c in batch.split(500)])
    return reconstruction_distances(x_unit.float(), x_hat, embed=embed, seed=seed)


def run(cfg: ReconErrorConfig, store: ResultStore, ctx: RunContext) -> None:
    provenance = {}
    for dataset in DATASETS:
        for index in range(cfg.runs):
            seed = cfg.seed + index
            pending = [m for m in MODELS if not store.done(f"{dataset}_{m}/{index}")]
            if not pending:
                continue
            try:
                images, prov = held_out(cfg.models, dataset, ctx, cfg.held_out_images)
            except (DataUnavailable, DatasetMissing) as e:
                _put_unavailable(store, dataset, index, seed, str(e))
                continue
            provenance[dataset] = prov
            trained = {}

            def model_of(family):
                if family not in trained:
                    trained[family] = load_model(cfg, dataset, family, index, ctx)
                return trained[family]

            for row in pending:
                family, level = MODELS[row]
                try:
                    model = model_of(family)
                    embedder = model if family in WITH_D else model_of(EMBED_FALLBACK)
                except DataUnavailable as e:
                    _put_unavailable(store, dataset, index, seed, str(e), [row])
                    continue
                if model is None or embedder is None:
                    return  # stopped early: the checkpoint resumes on the next call
                info = {"model": model.key, "embedding": f"{embedder.key} D(x)", "steps": model.record["steps_done"],
                        "model_commit": model.record["git_commit"], "held_out": len(images)}
                failed = next((t for t in (model, embedder) if t.failed), None)
                if failed is not None:
                    store.put_run(RunRecord(f"{dataset}_{row}", index, seed, status="failed",
                                            failure={**failed.record["failure"], "model": failed.key},
                                            steps=info["steps"], device=ctx.device, extra=info))
                    continue
                start = time.perf_counter()
                values = _measure(model.model, embedder.model, images, level, derive_seed(seed, NAME, dataset, row))
                store.put_run(RunRecord(f"{dataset}_{row}", index, seed, steps=info["steps"], device=ctx.device,
                                        wall_s=time.perf_counter() - start, values=values, extra=info))
    if provenance:
        store.record["datasets"] = provenance
        store.save()


def requests(cfg: ReconErrorConfig) -> list[tuple[tuple[str, ...], ModelRequest]]:
    out = []
    for dataset in TRAINED_HERE:
        for index in range(cfg.runs):
            for family in sorted({f for f, _ in MODELS.values()}):
                cells = tuple(f"{dataset}_{m}/{index}" for m, (f, _) in MODELS.items()
                              if f == family or (family == EMBED_FALLBACK and f not in WITH_D))
                out.append((cells, model_request(cfg, dataset, family, index)))
    return out


def protocol(cfg: ReconErrorConfig) -> dict:
    return {"distances": ["euclidean", "embedded"], "baseline": "random pair (seeded derangement)",
            "embedding": {"own D x pathway": list(WITH_D), "else": f"{EMBED_FALLBACK}'s D x pathway"},
            "reconstruction": "decode(draw of q(z|x)), seeded", "models": f"the {cfg.models} profile's checkpoints"}


def datasets(cfg: ReconErrorConfig) -> dict:
    return {d: {"dataset": DATASETS[d], "held_out_images": cfg.held_out_images or "all"} for d in DATASETS}


def scale_note(config: dict) -> str:
    return (f"the models of the {config['models']} profile (see celeba_attrs, svhn_semi and benchmark.fit for their "
            f"sizes); {config['held_out_images'] or 'all'} held-out images per dataset")


def _figures(record: dict, record_path, out_dir) -> list:
    from benchmark.figures import recon_bars

    return recon_bars(record, out_dir, [(d, DATASETS[d]) for d in DATASETS], [(m, LABELS[m]) for m in MODELS])


TABLES.register(NAME, TableSpec(
    name=NAME,
    title="Reconstruction error per model and level: pixels and discriminator embedding, beside a random pair",
    source="HALI (Belghazi et al. 2018), figure of reconstruction error per level; BiGAN (Donahue et al. 2017)",
    config_cls=ReconErrorConfig,
    profiles=PROFILES,
    rows=ROWS,
    columns=COLUMNS,
    choices=CHOICES,
    run=run,
    protocol=protocol,
    datasets=datasets,
    scale_note=scale_note,
    requests=requests,
    figures=_figures,
))
