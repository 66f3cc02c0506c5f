"""svhn_semi: SVHN test error with 1000 labels (ALI section 4.3, Table 1), the L2-SVM rows.

Each image family is trained once, without labels (through benchmark.trained, so any other table reuses it); its
features of the labelled pool, validation and test images are extracted once (benchmark.features); the L2-SVM probe
(benchmark.protocols.svm) then trains 1 + 100 SVMs on class-balanced label draws.  Rows the suite cannot train are
cited; the semi-supervised rows are filled by the semi-supervised issue and say so until then.

Stand-in (`stand_in`): the SVHN present here has 1,083 labelled train images and no test images, so the small and
smoke profiles split those images into pool / validation / test, train the models on pool + validation only, and
draw fewer labels per class.  The rendered table says so above the numbers.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import torch


from benchmark.data import DataUnavailable
from benchmark.errors import UserError
from benchmark.features import cached_features
from benchmark.protocols.svm import ProbeOptions, knn_probe, svm_probe
from benchmark.registry import TABLES
from benchmark.results import ResultStore, RunRecord
from benchmark.rng import derive_seed
from benchmark.tables import Column, PaperValue, RowSpec, RunContext, TableSpec
from benchmark.tables._semisup import LIVE_ERRORS, AVERAGE_NOTE, semi_cells, semi_request
from benchmark.trained import FitConfig, ModelRequest, load_split, train_or_load

NAME = "svhn_semi"
UNSUPERVISED_SPLITS = ("extra", "train")


@dataclass(frozen=True)
class SVHNSemiConfig:
    """The official protocol (ALI experiments + preprocess_representations + semi_supervised_svhn.py)."""

    unsupervised_split: str = "extra"  # [code] the models train on SVHN extra; "train" is the named option [ours]
    pool_size: int = 63_257  # [code] labelled pool = train[:63257]
    validation_size: int = 10_000  # [code] validation = train[63257:73257]; test = the test split
    stand_in: bool = False  # split the present train images into pool / validation / test (no test images here)
    stand_in_test_size: int = 0
    epochs: float = 100.0  # [paper] ALI appendix, SVHN
    steps: int = 0  # > 0: this many updates instead of `epochs`
    batch_size: int = 100
    seed: int = 0
    runs: int = 1  # models (seeds) per row
    per_class: int = 100  # [code] 1000 labels
    n_classifiers: int = 100
    c_log_min: float = -20.0
    c_log_max: float = 20.0
    c_count: int = 50
    svm_tol: float = 1e-4
    svm_max_iter: int = 1000
    checkpoint_every: int = 500
    semi_epochs: float = 900.0  # the semi-supervised rows: [code] train_svhn_feature_matching.py ([ours] K+1, AAE)
    semi_snapshot_epochs: float = 100.0  # a classifier snapshot (learning curve) every this many epochs

    def probe_options(self) -> ProbeOptions:
        return ProbeOptions(self.per_class, self.n_classifiers, self.c_log_min, self.c_log_max, self.c_count,
                            self.svm_tol, self.svm_max_iter)


PROFILES = {
    "smoke": dict(unsupervised_split="train", stand_in=True, pool_size=200, validation_size=50, stand_in_test_size=50,
                  steps=2, batch_size=8, per_class=3, n_classifiers=3, c_count=5, checkpoint_every=0,
                  semi_snapshot_epochs=0.0),
    # the paper's 100 epochs and 100 SVMs, on the stand-in: 883 unlabelled images (883 updates a family) and 20 labels
    # per class (the stand-in pool's rarest class has 38 images); the semi-supervised rows 50 epochs of the 883 images
    # (450 updates: about 4 s an update for the feature-matching GAN here, 1.5 s for ALI K+1)
    "small": dict(unsupervised_split="train", stand_in=True, pool_size=683, validation_size=200, stand_in_test_size=200,
                  per_class=20, semi_epochs=50.0, semi_snapshot_epochs=10.0),
    "paper": {},
}

ALI_PAPER = "ALI (Dumoulin et al., ICLR 2017), Table 1"
SVM_BAR = "over the 100 SVMs of one model (official script: population std)"


def _paper(text: str, percent: float, source: str = ALI_PAPER, bar: str = "unstated") -> dict:
    """The paper's test error (printed in %), stored as a fraction like ours."""
    return {"test_error": PaperValue(text, percent / 100, source, bar)}


@dataclass(frozen=True)
class Probe:
    """What a row evaluates: a family's features (None: the pixels, no model) under a probe."""

    family: str | None
    feature_set: str
    probe: str = "svm"


PROBES = {
    "knn_pixels": Probe(None, "pixels", "knn"),
    "gan_d": Probe("gan", "discriminator"),
    "vae": Probe("vae", "code"),
    "aae": Probe("aae", "code"),
    "bigan": Probe("bigan", "code"),
    "ali_code": Probe("ali", "code"),
    "ali_paper": Probe("ali", "paper"),
    "hali_code": Probe("hali", "code"),
    "hali_z1": Probe("hali", "z1"),
    "hali_z2": Probe("hali", "z2"),
    "hali_z1z2": Probe("hali", "z1z2"),
}

#: the semi-supervised rows: row -> family, trained with labels and tested by its own classifier
SEMI = {"aae_semi": "aae_semi", "gan_fm": "gan_fm", "ali_kplus1": "ali_kplus1"}
#: the semi-supervised IAE, trained as the AAE row (a protocol key of its own: records made before it keep their hash)
IAE_SEMI = {"iae_semi": "iae_semi"}
SEMI_ROWS = {**SEMI, **IAE_SEMI}
ROWS = (
    RowSpec("knn_pixels", "KNN on pixels [ours]", _paper("77.93", 77.93, "ALI arXiv v1 Table 1 (Zhao et al. 2015)")),
    RowSpec("tsvm", "TSVM", _paper("66.55", 66.55, "ALI arXiv v1 Table 1"), cited_only=True),
    RowSpec("vae_m1m2", "VAE (M1+M2)", _paper("36.02", 36.02), cited_only=True),
    RowSpec("swwae_nodrop", "SWWAE without dropout", _paper("27.83", 27.83, "ALI arXiv v1 Table 1"), cited_only=True),
    RowSpec("swwae", "SWWAE with dropout", _paper("23.56", 23.56), cited_only=True),
    RowSpec("gan_d", "DCGAN + L2-SVM (our GAN's D(x) features)", _paper("22.18 ± 1.13", 22.18, bar="unstated")),
    RowSpec("vae", "VAE + L2-SVM (code features) [ours]"),
    RowSpec("aae", "AAE + L2-SVM (code features) [ours]"),
    RowSpec("bigan", "BiGAN + L2-SVM (code features) [ours]"),
    RowSpec("ali_code", "ALI + L2-SVM (code features, 5,376-d on SVHN)", _paper("19.14 ± 0.50", 19.14, bar=SVM_BAR)),
    RowSpec("ali_paper", "ALI + L2-SVM (paper features, 8,960-d on SVHN)", _paper("19.14 ± 0.50", 19.14, bar=SVM_BAR)),
    RowSpec("hali_code", "HALI + L2-SVM (code features) [ours]"),
    RowSpec("hali_z1", "HALI + L2-SVM (z1 mean) [ours]"),
    RowSpec("hali_z2", "HALI + L2-SVM (z2 mean) [ours]"),
    RowSpec("hali_z1z2", "HALI + L2-SVM (z1 and z2 means) [ours]"),
    RowSpec("sdgm", "SDGM", _paper("16.61 ± 0.24", 16.61), cited_only=True),
    RowSpec("aae_semi", "AAE (semi-supervised)", _paper("17.70 ± 0.30", 17.70, "AAE (Makhzani et al. 2015)")),
    RowSpec("gan_fm", "GAN (feature matching)", _paper("8.11 ± 1.3", 8.11, "Improved-GAN (Salimans et al. 2016)")),
    RowSpec("ali_kplus1", "ALI (no feature matching, K+1 D on (x, z))", _paper("7.42 ± 0.65", 7.42)),
    RowSpec("iae_semi", "IAE (semi-supervised)", _paper("9.80", 9.80, "IAE (Makhzani 2018) slides")),
)

COLUMNS = (
    Column("test_error", "test error (%)", digits=2, scale=100.0),
    Column("classifier_std", "std over the classifiers (%)", digits=2, scale=100.0),
    Column("validation_error", "validation error at the chosen C (%)", digits=2, scale=100.0),
)

CHOICES = (
    "[code] Features: the encoder in eval mode, no sampling. `code` = mu and the BatchNorm outputs (before LeakyReLU) "
    "of encoder convolutions 4, 5, 6, flattened (5,376-d on SVHN). `paper` = mu and every hidden activation "
    "max-pooled to 4x4 (8,960-d, the number the paper prints) [ours: which activations].",
    "[code] Labelled pool train[:63257], validation train[63257:73257], test = the 26,032 test images; models trained "
    "without labels on SVHN extra (unsupervised_split; `train` is the named option [ours]).",
    "[code] LinearSVC (squared hinge = L2-SVM, L2 penalty, one-vs-rest, tol 1e-4, max_iter 1000, dual); C = exp(t), "
    "t in linspace(-20, 20, 50), chosen by validation error on one draw; then 100 SVMs on 100 fresh class-balanced "
    "draws; test error mean and population std over those SVMs (column 'std over the classifiers').",
    "[ours] Label draws are seeded (derived from the table's seed and the run index) and stored as artifacts; every row "
    "of one run index uses the same draws. The official draws are unseeded.",
    "[ours] 'ours: test error' is the mean over model seeds (runs) of each model's mean over its SVMs, ± std over the "
    "seeds; with one run per row that ± is 0 and the paper's ± compares with 'std over the classifiers'.",
    "[ours] DCGAN + L2-SVM row: our GAN (the ALI appendix generator against D(x), its own discriminator head) with the "
    "L2-SVM on the D(x) pathway's output (512-d on SVHN), not the DCGAN paper's networks or its pooled features.",
    "[ours] HALI rows: one HALI model (networks cut from ALI's at a spatial z1); `code` takes the same three convolutions "
    "as ALI's; z1 / z2 / z1z2 are the posterior means of each level and both.",
    "[ours] KNN on pixels: the same draws and selection, k in (1, 3, 5, 9, 15) chosen on validation, Euclidean "
    "distance on pixels in [0, 1]; beside the KNN number ALI's arXiv v1 cites from Zhao et al. 2015.",
    "[code] Semi-supervised rows (GAN feature matching, ALI K+1, AAE): trained with labels by their own objective "
    "and tested by their own classifier (no SVM): openai/improved-gan train_svhn_feature_matching.py's networks, "
    "losses and schedule for the GAN (D on [-1, 1] images, 100 labels per class, the unlabelled set = SVHN train, "
    "not extra, 900 epochs with the learning rate decaying over the last 300, the running average of D); ALI K+1 "
    "[ours] the SVHN ALI networks with 10 logits and the same optimiser and schedule; AAE [ours] the MNIST recipe's "
    "784-1000-1000 MLPs widened to the 3,072 pixels, and the semi-supervised IAE [ours] the same MLPs with the "
    "MNIST row's reconstruction GAN (see the IAE family), trained as the AAE row. Their 'std over the classifiers' "
    "and 'validation error' cells are empty: they have one classifier and no validation split.",
    "[ours] Models of every family: the ALI appendix SVHN networks, Adam lr 1e-4, betas (0.5, 0.999), batch 100, "
    "the image ALI's recipe for the families that have no official SVHN recipe (GAN, VAE, AAE, HALI).",
)


def scale_note(config: dict) -> str:
    paper = SVHNSemiConfig()
    size = f"{config['steps']:,} updates" if config["steps"] else f"{config['epochs']:g} epochs"
    return (f"models trained for {size} at batch {config['batch_size']} (paper: {paper.epochs:g} epochs of SVHN "
            f"extra, about 531,000 updates); {config['per_class']} labels per class ({10 * config['per_class']:,} "
            f"labels; paper {10 * paper.per_class:,}); {config['n_classifiers']} classifiers per row (paper "
            f"{paper.n_classifiers}); C grid of {config['c_count']} values (paper {paper.c_count}); the "
            f"semi-supervised rows {config['semi_epochs']:g} epochs (paper {paper.semi_epochs:g}), and {AVERAGE_NOTE}.")


def stand_ins(config: dict) -> tuple[str, ...]:
    if not config["stand_in"]:
        return ()
    pool, val, test = config["pool_size"], config["validation_size"], config["stand_in_test_size"]
    return (f"SVHN test images are not present, so the first {pool + val + test:,} SVHN train images stand in for "
            f"the whole protocol: pool = train[:{pool}], validation = train[{pool}:{pool + val}], test = "
            f"train[{pool + val}:{pool + val + test}]; the models train without labels on pool + validation only "
            f"(train[:{pool + val}], not SVHN extra); {config['per_class']} labels per class. These numbers are not "
            "the paper's protocol and cannot be compared with its values except as a sanity check.",)


def protocol(cfg: SVHNSemiConfig) -> dict:
    return {
        "features": {key: f"{p.family or 'none'}:{p.feature_set}" for key, p in PROBES.items()},
        "probe": {"svm": "sklearn LinearSVC squared_hinge l2 ovr dual", "knn": "sklearn KNeighborsClassifier euclidean",
                  "selection": "validation error on draw 0; ties: first", "draws": "seeded, class-balanced",
                  "std": "population (ddof 0) over classifiers"},
        "unsupervised_data": f"stand-in train[:{cfg.pool_size + cfg.validation_size}]" if cfg.stand_in
        else cfg.unsupervised_split,
        "splits": "stand-in (train images split in three)" if cfg.stand_in else "official",
        "semi": {"rows": SEMI, "labels": f"{cfg.per_class} per class, first after a seeded permutation",
                 "unlabelled": "the training images (SVHN train, not extra)", "test": "argmax of the K logits"},
        "iae_semi": {"rows": IAE_SEMI, "as": "the semi rows"},
    }


def datasets(cfg: SVHNSemiConfig) -> dict:
    """What the record names before data is loaded; the runner replaces it with the loaded splits' provenance."""
    return {"svhn": {"dataset": "SVHN", "split": "train/test" + ("" if cfg.stand_in else f"/{cfg.unsupervised_split}"),
                     "stand_in": cfg.stand_in}}


def _labelled_splits(cfg: SVHNSemiConfig, ctx: RunContext) -> dict:
    """{"pool" | "validation" | "test": (images, labels, provenance)}."""
    train = load_split("svhn", "train", ctx)
    pool_end, val_end = cfg.pool_size, cfg.pool_size + cfg.validation_size
    if cfg.stand_in:
        test_end = val_end + cfg.stand_in_test_size
        if len(train) < test_end:
            raise DataUnavailable(f"the stand-in needs {test_end} SVHN train images, {len(train)} are present")
        test, test_start, test_end = train, val_end, test_end
    else:
        test = load_split("svhn", "test", ctx)
        test_start, test_end = 0, len(test)
    if len(train) < val_end:
        raise DataUnavailable(f"the protocol needs {val_end} SVHN train images, {len(train)} are present")

    def part(images, labels, prov, start, stop):
        return images[start:stop], labels[start:stop].numpy(), {**prov, "rows": [start, stop]}

    return {"pool": part(train.images, train.labels, train.provenance, 0, pool_end),
            "validation": part(train.images, train.labels, train.provenance, pool_end, val_end),
            "test": part(test.images, test.labels, test.provenance, test_start, test_end)}


def model_request(cfg: SVHNSemiConfig, family: str, index: int) -> ModelRequest:
    fit = FitConfig(steps=cfg.steps, epochs=cfg.epochs, batch_size=cfg.batch_size, checkpoint_every=cfg.checkpoint_every,
                    seed=cfg.seed + index,
                    train_images=cfg.pool_size + cfg.validation_size if cfg.stand_in else 0)
    return ModelRequest(family, "svhn", fit, split="train" if cfg.stand_in else cfg.unsupervised_split)


def _evaluate(probe: Probe, model, model_key: str, splits: dict, cfg: SVHNSemiConfig, index: int,
              ctx: RunContext) -> tuple[dict, float, float]:
    """(probe result, feature seconds, probe seconds)."""
    start = time.perf_counter()
    data = {name: (cached_features(model, model_key, probe.feature_set, images, prov, ctx).numpy(), labels)
            for name, (images, labels, prov) in splits.items()}
    features_s = time.perf_counter() - start
    probe_fn = svm_probe if probe.probe == "svm" else knn_probe
    seed = derive_seed(cfg.seed, NAME, "draws", index)
    start = time.perf_counter()
    result = probe_fn(data["pool"], data["validation"], data["test"], seed, cfg.probe_options())
    result["dims"] = int(data["pool"][0].shape[1])
    return result, features_s, time.perf_counter() - start


def _store_probe(store: ResultStore, row: str, index: int, cfg, result: dict, features_s: float, probe_s: float,
                 ctx: RunContext, model_info: dict) -> None:
    artifact = store.write_artifact(f"{row}-{index}", {
        "errors": result["errors"], "validation_errors": result["validation_errors"], "draws": result["draws"]})
    hparam = "C" if PROBES[row].probe == "svm" else "k"
    store.put_run(RunRecord(
        row, index, derive_seed(cfg.seed, NAME, "draws", index), hparams={hparam: result["chosen"]},
        steps=model_info.get("steps"), device=ctx.device, wall_s=features_s + probe_s,
        values={"test_error": result["mean"], "classifier_std": result["std"],
                "validation_error": min(result["validation_errors"])},
        artifacts={"probe": artifact},
        extra={**model_info, "feature_set": PROBES[row].feature_set, "feature_dims": result["dims"],
               "features_s": round(features_s, 3), "probe_s": round(probe_s, 3),
               "unconverged_fits": result["unconverged_fits"]}))


def semi_request_of(cfg: SVHNSemiConfig, row: str, index: int) -> ModelRequest:
    return semi_request(SEMI_ROWS[row], "svhn", epochs=cfg.semi_epochs, steps=cfg.steps, per_class=cfg.per_class,
                        seed=cfg.seed + index, batch_size=cfg.batch_size, snapshot_epochs=cfg.semi_snapshot_epochs,
                        train_images=cfg.pool_size + cfg.validation_size if cfg.stand_in else 0, split="train",
                        checkpoint_every=cfg.checkpoint_every)


def run(cfg: SVHNSemiConfig, store: ResultStore, ctx: RunContext) -> None:
    if cfg.unsupervised_split not in UNSUPERVISED_SPLITS:
        raise UserError(f"unsupervised_split must be one of {', '.join(UNSUPERVISED_SPLITS)}, "
                        f"not {cfg.unsupervised_split!r}")
    families: dict[str | None, list[str]] = {}
    for row, probe in PROBES.items():
        families.setdefault(probe.family, []).append(row)
    for index in range(cfg.runs):
        seed = cfg.seed + index
        try:
            splits = _labelled_splits(cfg, ctx)
        except DataUnavailable as e:
            store.put_unavailable([*PROBES, *SEMI_ROWS], index, seed, str(e))
            continue
        store.record["datasets"] = {name: prov for name, (_, _, prov) in splits.items()}
        for family, rows in families.items():
            pending = [r for r in rows if not store.done(f"{r}/{index}")]
            if not pending:
                continue
            if family is None:
                for row in pending:
                    _store_probe(store, row, index, cfg, *_evaluate(PROBES[row], None, "pixels", splits, cfg, index,
                                                                    ctx), ctx, {})
                continue
            try:
                trained = train_or_load(model_request(cfg, family, index), ctx)
            except DataUnavailable as e:
                store.put_unavailable(pending, index, seed, str(e))
                continue
            if trained is None:
                return  # stopped early: the checkpoint resumes on the next call
            info = trained.run_info()
            for row in pending:
                if trained.failed:
                    store.put_run(trained.failed_run(row, index, seed, ctx.device, info))
                    continue
                _store_probe(store, row, index, cfg, *_evaluate(PROBES[row], trained.model, trained.key, splits, cfg,
                                                                index, ctx), ctx, info)
        images, labels, _ = splits["test"]
        if not semi_cells(store, SEMI_ROWS, index, lambda row: semi_request_of(cfg, row, index), images,
                          torch.as_tensor(labels), ctx, error_key="test_error"):
            return


def requests(cfg: SVHNSemiConfig) -> list[tuple[tuple[str, ...], ModelRequest]]:
    """Per run index: one unsupervised model per family, serving every probe row of that family, and one model per
    semi-supervised row."""
    families = sorted({p.family for p in PROBES.values() if p.family})
    return [pair for index in range(cfg.runs) for pair in
            [(tuple(f"{row}/{index}" for row, p in PROBES.items() if p.family == family),
              model_request(cfg, family, index)) for family in families]
            + [((f"{row}/{index}",), semi_request_of(cfg, row, index)) for row in SEMI_ROWS]]


TABLES.register(NAME, TableSpec(
    name=NAME,
    title="SVHN test error with 1000 labels: L2-SVM on learned features (ALI section 4.3, Table 1)",
    source="ALI (Dumoulin et al., ICLR 2017) section 4.3, Table 1; official scripts IshmaelBelghazi/ALI "
           "experiments/ali_svhn.py, preprocess_representations.py, semi_supervised_svhn.py",
    config_cls=SVHNSemiConfig,
    profiles=PROFILES,
    rows=ROWS,
    columns=COLUMNS,
    choices=CHOICES,
    run_values=LIVE_ERRORS,
    run=run,
    protocol=protocol,
    datasets=datasets,
    hparam_columns=("C", "k"),
    stand_ins=stand_ins,
    scale_note=scale_note,
    requests=requests,
    row_local={"semi_epochs": tuple(SEMI_ROWS), "semi_snapshot_epochs": tuple(SEMI_ROWS), "protocol.semi": tuple(SEMI),
               "protocol.iae_semi": tuple(IAE_SEMI)},
))
