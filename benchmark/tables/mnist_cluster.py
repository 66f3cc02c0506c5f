"""mnist_cluster: unsupervised clustering of MNIST by a 10-way categorical code, without any label (IAE slides; AAE
section 6).

Each row trains a family without labels through benchmark.trained (its q(y|x) a softmax over 10 categories held to
an adversarial Cat(10) prior, the style in the rest of the code or, in the IAE slides' setting, in the decoder's
local noise), then assigns every test image to its argmax
category; each category is mapped to the label most of its test images carry (benchmark.protocols.clustering) and
the table gives the share of test images whose category's label is their own.  The AAE paper's own clustering rows
(16 and 30 clusters) are cited beside it.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from benchmark.data import DataUnavailable
from benchmark.protocols.clustering import cluster_accuracy
from benchmark.registry import TABLES
from benchmark.results import ResultStore, RunRecord
from benchmark.tables import Column, PaperValue, RowSpec, RunContext, TableSpec
from benchmark.tables._semisup import model_cells, variant_rows
from benchmark.trained import FitConfig, ModelRequest, TrainedModel, load_split

NAME = "mnist_cluster"
# the rows with a family's own config, as the record's protocol names them ("families"; kept so that the stored
# runs' config hash holds); ROWS_MODELS below is every row the table trains
ROW_FAMILIES = {"iae_cluster": "iae_cluster", "aae_cluster": "aae_cluster"}
# [ours, the slides' words] content in the categorical code, style in the local noise: no style z, 100-d local noise
# (the noise of the slides' stochastic MNIST setting)
SLIDES_SETTING = (("style_dim", 0), ("noise_dim", 100))
#: row -> (family, overrides of the family's config)
ROWS_MODELS = {**{row: (family, ()) for row, family in ROW_FAMILIES.items()},
               "iae_cluster_slides": ("iae_cluster", SLIDES_SETTING)}
SLIDES_ROWS = ("iae_cluster_slides",)


@dataclass(frozen=True)
class MnistClusterConfig:
    epochs: float = 300.0  # [ours] mnist_semi's AAE and IAE rows
    steps: int = 0  # > 0: this many updates for every row instead of the epochs (smoke)
    train_images: int = 0  # 0: all 60,000
    test_images: int = 0  # 0: all 10,000
    batch_size: int = 100
    seed: int = 0
    runs: int = 5  # seeds per row [ours]
    checkpoint_every: int = 600


PROFILES = {
    "smoke": dict(steps=3, train_images=300, test_images=500, batch_size=20, runs=2, checkpoint_every=0),
    "small": dict(epochs=30.0, runs=3),
    "paper": {},
}

AAE_PAPER = "AAE (Makhzani et al. 2015), Table 3"


def _paper(error_percent: str, mean: float, bar: str = "unstated") -> dict:
    return {"error_rate": PaperValue(error_percent, mean / 100, AAE_PAPER, bar)}  # CatGAN as Table 3 quotes it


ROWS = (
    RowSpec("catgan_20", "CatGAN, 20 clusters", _paper("4.27", 4.27), cited_only=True),
    RowSpec("aae_16", "AAE, 16 clusters", _paper("9.55 ± 2.05", 9.55), cited_only=True),
    RowSpec("aae_30", "AAE, 30 clusters", _paper("4.10 ± 1.13", 4.10), cited_only=True),
    RowSpec("aae_cluster", "AAE, 10 clusters [ours]"),
    RowSpec("iae_cluster", "IAE, 10 clusters [ours: the slides show the clusters, no number]"),
    RowSpec("iae_cluster_slides", "IAE, 10 clusters, style in 100-d local noise, no style code [ours: the slides' "
                                  "setting]"),
)

COLUMNS = (
    Column("error_rate", "test error (%)", digits=2, scale=100.0, show_range=True),
    Column("accuracy", "cluster accuracy (%)", digits=2, scale=100.0),
    Column("clusters", "categories used (of 10)", digits=1),
)

CHOICES = (
    "[ours] Models: mnist_semi's semi-supervised AAE and IAE (the same networks, code, optimisers and length) "
    "trained with no label at all: no labelled stream and no classification phase; Cat(10) content and a 10-d style.",
    "[ours] The row 'style in 100-d local noise' is the IAE slides' clustering setting read literally (content in "
    "the categorical code, style in the local noise): the same IAE with no style head and no D_z, its code the "
    "Cat(10) content alone, the decoder fed the content and 100-d N(0, I) local noise (model.style_dim=0, "
    "model.noise_dim=100), D_rec on (x, y) pairs.",
    "[ours] Clusters: argmax of q(y|x) on each test image (eval mode); each category is mapped to the majority label "
    "of its test images (ties: the smaller label); cluster accuracy = the share of test images whose category's label "
    "is their own; the error is 1 - accuracy, as the AAE paper reports it. Categories no test image falls in are not "
    "counted ('categories used').",
    "[paper] The AAE paper's clustering rows use 16 and 30 clusters (more clusters than classes lower the error "
    "of the majority mapping), so they compare with our 10-cluster rows only loosely.",
)


def scale_note(config: dict) -> str:
    if config["steps"]:
        return f"every model trained for {config['steps']} updates on {config['train_images'] or 60000} images"
    return (f"{config['epochs']:g} epochs a model (paper profile {MnistClusterConfig().epochs:g}, ours), "
            "seeds a row: n in each cell")  # runs is a count, not part of the stored config


def protocol(cfg: MnistClusterConfig) -> dict:
    return {"clusters": "argmax q(y|x), 10 categories", "mapping": "majority label of the test images per category",
            "labels": "none in training", "families": ROW_FAMILIES,
            "slides_rows": variant_rows(ROWS_MODELS, SLIDES_ROWS)}


def datasets(cfg: MnistClusterConfig) -> dict:
    return {"mnist": {"dataset": "MNIST", "split": "train/test", "train_images": cfg.train_images or "all",
                      "test_images": cfg.test_images or "all"}}


def model_request(cfg: MnistClusterConfig, row: str, index: int) -> ModelRequest:
    fit = FitConfig(steps=cfg.steps, epochs=cfg.epochs, batch_size=cfg.batch_size, train_images=cfg.train_images,
                    checkpoint_every=cfg.checkpoint_every, seed=cfg.seed + index)
    family, model = ROWS_MODELS[row]
    return ModelRequest(family, "mnist", fit, model=model)


def requests(cfg: MnistClusterConfig) -> list[tuple[tuple[str, ...], ModelRequest]]:
    return [((f"{row}/{index}",), model_request(cfg, row, index)) for index in range(cfg.runs) for row in ROWS_MODELS]


def _cluster_run(store: ResultStore, row: str, index: int, trained: TrainedModel, images: torch.Tensor,
                 labels: torch.Tensor, ctx: RunContext) -> None:
    start = time.perf_counter()
    assignments = trained.model.classify(images).argmax(1)
    result = cluster_accuracy(assignments.numpy(), labels.numpy())
    artifact = store.write_artifact(f"{row}-{index}", {"mapping": result["mapping"],
                                                       "assignments": assignments.tolist()})
    store.put_run(RunRecord(
        row, index, trained.request.fit.seed, steps=trained.record["steps_done"], device=ctx.device,
        wall_s=time.perf_counter() - start,
        values={"error_rate": 1.0 - result["accuracy"], "accuracy": result["accuracy"], "clusters": result["clusters"]},
        artifacts={"clusters": artifact}, extra={**trained.run_info(), "test_n": len(labels)}))


def run(cfg: MnistClusterConfig, store: ResultStore, ctx: RunContext) -> None:
    try:
        test = load_split("mnist", "test", ctx)
    except DataUnavailable as e:
        for index in range(cfg.runs):
            store.put_unavailable(ROWS_MODELS, index, cfg.seed + index, str(e))
        return
    images, labels = test.images[: cfg.test_images or None], test.labels[: cfg.test_images or None]

    def store_cell(row: str, index: int, trained: TrainedModel) -> None:
        store.record["datasets"] = {"train": trained.data.provenance, "test": test.provenance}
        _cluster_run(store, row, index, trained, images, labels, ctx)

    for index in range(cfg.runs):
        if not model_cells(store, ROWS_MODELS, index, lambda row: model_request(cfg, row, index), ctx,
                           lambda row, trained: store_cell(row, index, trained)):
            return


TABLES.register(NAME, TableSpec(
    name=NAME,
    title="Unsupervised clustering of MNIST by a 10-way categorical code (IAE slides; AAE section 6)",
    source="IAE (Makhzani 2018) slides; AAE (Makhzani et al. 2015) section 6 and Table 3",
    config_cls=MnistClusterConfig,
    profiles=PROFILES,
    rows=ROWS,
    columns=COLUMNS,
    choices=CHOICES,
    run=run,
    protocol=protocol,
    datasets=datasets,
    scale_note=scale_note,
    requests=requests,
    row_local={"protocol.slides_rows": SLIDES_ROWS},
))
