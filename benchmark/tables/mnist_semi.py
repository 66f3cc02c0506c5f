"""mnist_semi: MNIST test errors (of 10,000) with 100 labels.

Each row trains one semi-supervised model per seed through benchmark.trained (the labelled draw, 10 per class, is
drawn from the seed and stored with the run), then tests its classifier on the 10,000 test images; snapshots of the
classifier every `snapshot_epochs` epochs give the learning curve stored with each run.  Rows other papers report
and this suite cannot train are cited.
"""
from __future__ import annotations

from dataclasses import dataclass

from benchmark.registry import TABLES
from benchmark.results import ResultStore
from benchmark.tables import Column, PaperValue, RowSpec, RunContext, TableSpec
from benchmark.tables._semisup import LIVE_ERRORS, learning_curve_figure, semi_request, semi_table_run, variant_rows
from benchmark.trained import ModelRequest

NAME = "mnist_semi"


@dataclass(frozen=True)
class MnistSemiConfig:
    per_class: int = 10  # [paper] 100 labels
    fm_epochs: float = 300.0  # [code] train_mnist_feature_matching.py
    aae_epochs: float = 300.0  # [ours] the AAE paper does not state it (the IAE row trains as long)
    kplus1_epochs: float = 300.0  # [ours] ALI / HALI with the K+1 D: the Improved-GAN script's length
    steps: int = 0  # > 0: this many updates for every row instead of the epochs (smoke)
    train_images: int = 0  # 0: all 60,000
    test_images: int = 0  # 0: all 10,000 (the smoke profile tests on the first few)
    batch_size: int = 100  # [code]
    seed: int = 0
    runs: int = 10  # seeds per row
    snapshot_epochs: float = 10.0
    checkpoint_every: int = 600


PROFILES = {
    "smoke": dict(steps=3, train_images=300, test_images=500, batch_size=20, per_class=1, runs=2,
                  snapshot_epochs=0.2, checkpoint_every=0),
    # the AAE and K+1 rows about two hours on this CPU with --jobs 2 (measured per update, one thread a process:
    # AAE 165-240 ms; the K+1 rows diverge early with the Improved-GAN optimiser); the ALI-Adam K+1 rows about
    # another hour; feature matching 60 epochs, 36,000 updates a seed: 3 seeds are about 2.4 hours of this CPU (2
    # processes at 160 ms an update each in stop 27, 113 ms in stop 26; one seed alone on the AVX-512 CPU of stop 28:
    # 59.6 ms, 36 minutes), more than a session holds, and a seed's run is stored when it ends, so seeds may train in
    # separate sessions; its test errors still fall past epoch 50
    # (stop 26's seed-2 run: 150 at epoch 50, 130 at 60, 101 at 100)
    "small": dict(fm_epochs=60.0, aae_epochs=30.0, kplus1_epochs=15.0, runs=3, snapshot_epochs=5.0),
    "paper": {},
}

ALI_ADAM = (("lr", 1e-4), ("beta1", 0.5))  # the ALI appendix's Adam [ours for the K+1 rows]
IMPROVED_GAN_D = (("discriminator", "improved_gan"),)  # ALI K+1's named option: Improved-GAN's D with a z pathway
#: the AAE row's named variant [ours]: every learning rate decays linearly to 0 over the last third of the epochs (the
#: Improved-GAN SVHN script's schedule) and q(y|x) is tested with a running average of its parameters at rate 1e-3
#: (Improved-GAN's 1e-4 would leave e^-1.8 = 16 % of the average's zero start after the small profile's 18,000 updates)
AAE_SETTLED = (("decay_fraction", 1 / 3), ("ema_rate", 1e-3))
#: row -> (family, which epochs field, overrides of the family's config)
FAMILIES = {"gan_fm": ("gan_fm", "fm_epochs", ()), "aae_semi": ("aae_semi", "aae_epochs", ()),
            "aae_semi_settled": ("aae_semi", "aae_epochs", AAE_SETTLED),
            "ali_kplus1": ("ali_kplus1", "kplus1_epochs", ()), "hali_kplus1": ("hali_kplus1", "kplus1_epochs", ()),
            "ali_kplus1_ali_adam": ("ali_kplus1", "kplus1_epochs", ALI_ADAM),
            "hali_kplus1_ali_adam": ("hali_kplus1", "kplus1_epochs", ALI_ADAM),
            "ali_kplus1_improved_gan_d": ("ali_kplus1", "kplus1_epochs", IMPROVED_GAN_D),
            "iae_semi": ("iae_semi", "aae_epochs", ())}  # the AAE's length and seeds: the two rows side by side
ALI_ADAM_ROWS = ("ali_kplus1_ali_adam", "hali_kplus1_ali_adam")
IAE_ROWS = ("iae_semi",)
IMPROVED_GAN_D_ROWS = ("ali_kplus1_improved_gan_d",)
AAE_SETTLED_ROWS = ("aae_semi_settled",)
#: each epochs field -> the rows that train for it: a stored record is extended to another length of a row whose runs
#: were all superseded (--rerun), since no stored number depended on that length
EPOCHS_ROWS = {field: tuple(row for row, family in FAMILIES.items() if family[1] == field)
               for field in ("fm_epochs", "aae_epochs", "kplus1_epochs")}

IMPROVED_GAN = "Improved-GAN (Salimans et al. 2016), as quoted by later work"


def _paper(errors: str, mean: float | None, source: str, bar: str = "unstated") -> dict:
    return {"errors": PaperValue(errors, mean, source, bar),
            "error_rate": PaperValue(f"{mean / 100:.2f}" if mean is not None else "–",
                                     None if mean is None else mean / 10_000, source, bar)}


AAE_PAPER = _paper("190 ± 10", 190, "AAE (Makhzani et al. 2015), Table 2")  # beside the AAE row and its variant
HALI_PAPER = _paper("73", 73, "HALI (Belghazi et al. 2018)")  # beside both HALI K+1 rows

ROWS = (
    RowSpec("vae_m1m2", "VAE (M1+M2)", _paper("233 ± 14", 233, "Kingma et al. 2014"), cited_only=True),
    RowSpec("vat", "VAT", _paper("136", 136, "Miyato et al. 2016"), cited_only=True),
    RowSpec("catgan", "CatGAN", _paper("191 ± 10", 191, "Springenberg 2016"), cited_only=True),
    RowSpec("aae_semi", "AAE (semi-supervised)", AAE_PAPER),
    RowSpec("aae_semi_settled", "AAE (semi-supervised), lr decayed to 0 over the last third, parameter average [ours]",
            AAE_PAPER),
    RowSpec("pixelgan", "PixelGAN", _paper("108 ± 15", 108, "Makhzani & Frey 2017"), cited_only=True),
    RowSpec("adgm", "ADGM", _paper("96 ± 2", 96, "Maaløe et al. 2016"), cited_only=True),
    RowSpec("gan_fm", "GAN (feature matching)", _paper("93 ± 6.5", 93, IMPROVED_GAN)),
    RowSpec("triple_gan", "Triple GAN", _paper("91 ± 58", 91, "Li et al. 2017"), cited_only=True),
    RowSpec("gssltrabg", "GSSLTRABG", _paper("79.5 ± 9.8", 79.5, "Dai et al. 2017"), cited_only=True),
    RowSpec("hali_kplus1", "HALI, K+1 D on (x, z1, z2) [ours]", HALI_PAPER),
    RowSpec("hali_kplus1_ali_adam", "HALI, K+1 D on (x, z1, z2), ALI's Adam (lr 1e-4) [ours]",
            HALI_PAPER),
    RowSpec("ali_kplus1", "ALI, K+1 D on (x, z) [ours]"),
    RowSpec("ali_kplus1_ali_adam", "ALI, K+1 D on (x, z), ALI's Adam (lr 1e-4) [ours]"),
    RowSpec("ali_kplus1_improved_gan_d", "ALI, K+1 D on (x, z), Improved-GAN's D with a z pathway [ours]"),
    RowSpec("iae_semi", "IAE (semi-supervised)", _paper("140", 140, "IAE (Makhzani 2018) slides: 1.40 %")),
)

COLUMNS = (
    Column("errors", "test errors (of 10,000)", digits=1, show_range=True),
    Column("error_rate", "test error (%)", digits=2, scale=100.0),
)

CHOICES = (
    "[code] GAN (feature matching): openai/improved-gan train_mnist_feature_matching.py: D 784-1000-500-250-250-250-10 "
    "with Gaussian noise (0.3 on the input, 0.5 after) and weight normalisation with data-dependent init on 500 "
    "training images; G U[0,1)^100-500-500-784 (softplus, scale-free BatchNorm, sigmoid); the K-logit loss with the "
    "fake logit at 0; feature matching (squared mean difference) on D's last 250-unit layer with a second unlabelled "
    "stream; Adam lr 0.003, beta1 0.5, eps inside the square root; batch 100 labelled + 100 unlabelled; "
    "600 updates an epoch; test error with the running average (rate 1e-4, started at 0) of D's parameters.",
    "[code] Labels: the first 10 of each class after a permutation of the 60,000 training images drawn from the run's "
    "seed; unlabelled = all 60,000 (labelled images included). The draw is stored with each run.",
    "[ours] Semi-supervised AAE (AAE section 5; its MNIST recipe beyond the 784-1000-1000 ReLU networks is not "
    "published): style z of 10 dims; decoder (y, z)-1000-1000-784 sigmoid, binary cross-entropy; discriminators on y "
    "and on z, each 1000-1000-1; per minibatch reconstruction (Adam lr 1e-3), then both discriminators and the "
    "encoder against them (Adam lr 2e-4), then cross-entropy of q(y|x) on the labelled batch (Adam lr 1e-3); beta1 "
    "0.5 throughout; no parameter average; test error of argmax q(y|x).",
    "[ours] The AAE row \"lr decayed to 0 over the last third, parameter average\" (overrides "
    "model.decay_fraction=1/3, model.ema_rate=1e-3): the same model and seeds, every phase's learning rate decayed "
    "linearly to 0 over the last third of the epochs (the Improved-GAN SVHN script's schedule) and q(y|x) tested "
    "with the running average (rate 1e-3, started at 0) of the encoder's parameters, so that the number is read "
    "where training has settled rather than at the last step of a noisy curve.",
    "[ours] ALI / HALI with the K+1 discriminator (HALI's MNIST method could not be read; ALI never ran MNIST): the "
    "suite's MNIST ALI networks (784-1000-1000 MLPs, z 64; HALI cut after the first layer, z1 64) with a joint "
    "head of 10 logits; one D pass over labelled pairs (x, E(x)), unlabelled pairs and generated pairs (G(z), z); D "
    "minimises the K+1 loss, encoder and decoder ALI's label-swapped loss on D's real/fake logit lse(l); the "
    "Improved-GAN MNIST optimiser (Theano Adam lr 0.003, beta1 0.5); test: D on (x, mean of q(z|x)) with the running "
    "average of the encoder's and D's parameters. With that optimiser both diverge (the Gaussian encoders' log sigma "
    "grows without bound), so the rows marked \"ALI's Adam\" train the same models with the ALI appendix's Adam "
    "(lr 1e-4, beta1 0.5) [ours].",
    "[ours] The row \"Improved-GAN's D with a z pathway\" (ALI K+1's named option model.discriminator=improved_gan): "
    "the Improved-GAN MNIST D (noise, weight normalisation, data-dependent init on 500 training images paired with "
    "z ~ N(0, I)) without its output layer on x, ALI's MNIST D(z) pathway (z-1000, dropout 0.5) on z, a "
    "weight-normalised dense layer of 10 logits on both; encoder, decoder and optimiser as the default ALI K+1 row.",
    "[ours] Semi-supervised IAE (the IAE slides give only its error): the semi-supervised AAE's networks, code "
    "(Cat(10) content, 10-d style), optimisers and classification phase; the pixel loss replaced by a reconstruction "
    "GAN whose discriminator (x, y, z)-1000-1000-1 tells (x, code) from (G(code), code), the same code on both "
    "sides; a deterministic decoder (no local noise; model.noise_dim adds it); the five adversarial players (D_rec, "
    "D_y, D_z, decoder, encoder) in one simultaneous update at Adam lr 2e-4, then the labelled cross-entropy at "
    "lr 1e-3; trained for the AAE row's epochs with its seeds.",
    "[ours] 'errors live' (in the runs table) is the same D with its live parameters instead of the average.",
    "[ours] Learning curve: test errors of the averaged D every `snapshot_epochs` epochs, stored with each run; the "
    "table's number is the end of training, never the best point of the curve.",
)


def scale_note(config: dict) -> str:
    if config["steps"]:
        return f"every model trained for {config['steps']} updates on {config['train_images'] or 60000} images"
    paper = MnistSemiConfig()
    return (f"feature-matching GAN {config['fm_epochs']:g} epochs (paper {paper.fm_epochs:g}); AAE "
            f"{config['aae_epochs']:g} (our paper-profile {paper.aae_epochs:g}); K+1 rows {config['kplus1_epochs']:g} "
            f"({paper.kplus1_epochs:g}); the paper profile trains {paper.runs} seeds a row (n per row in the table)")


def protocol(cfg: MnistSemiConfig) -> dict:
    return {"labels": f"{cfg.per_class} per class, first after a seeded permutation",
            "unlabelled": "all training images", "test": "MNIST test split, argmax of the K logits",
            "classifier": "parameter average (rate 1e-4) where the family averages",
            "families": {"gan_fm": "gan_fm", "aae_semi": "aae_semi", "ali_kplus1": "ali_kplus1",
                         "hali_kplus1": "hali_kplus1"},
            "ali_adam_rows": variant_rows(FAMILIES, ALI_ADAM_ROWS),
            "improved_gan_d_rows": variant_rows(FAMILIES, IMPROVED_GAN_D_ROWS),
            "aae_settled_rows": variant_rows(FAMILIES, AAE_SETTLED_ROWS),
            "iae_rows": {row: FAMILIES[row][0] for row in IAE_ROWS}}


def datasets(cfg: MnistSemiConfig) -> dict:
    return {"mnist": {"dataset": "MNIST", "split": "train/test", "train_images": cfg.train_images or "all",
                      "test_images": cfg.test_images or "all"}}


def model_request(cfg: MnistSemiConfig, row: str, index: int) -> ModelRequest:
    family, epochs_field, model = FAMILIES[row]
    return semi_request(family, "mnist", epochs=getattr(cfg, epochs_field), steps=cfg.steps, per_class=cfg.per_class,
                        seed=cfg.seed + index, batch_size=cfg.batch_size, snapshot_epochs=cfg.snapshot_epochs,
                        train_images=cfg.train_images, checkpoint_every=cfg.checkpoint_every, model=model)


def requests(cfg: MnistSemiConfig) -> list[tuple[tuple[str, ...], ModelRequest]]:
    return [((f"{row}/{index}",), model_request(cfg, row, index)) for index in range(cfg.runs) for row in FAMILIES]


def run(cfg: MnistSemiConfig, store: ResultStore, ctx: RunContext) -> None:
    semi_table_run(cfg, store, ctx, "mnist", FAMILIES, model_request)


TABLES.register(NAME, TableSpec(
    name=NAME,
    title="MNIST test errors with 100 labels: semi-supervised classifiers",
    source="Improved-GAN (Salimans et al. 2016) and its code openai/improved-gan; AAE (Makhzani et al. 2015) "
           "Table 2; HALI (Belghazi et al. 2018)",
    config_cls=MnistSemiConfig,
    profiles=PROFILES,
    rows=ROWS,
    columns=COLUMNS,
    choices=CHOICES,
    run_values=LIVE_ERRORS,
    run=run,
    protocol=protocol,
    datasets=datasets,
    scale_note=scale_note,
    requests=requests,
    figures=learning_curve_figure,
    row_local={**EPOCHS_ROWS, "protocol.ali_adam_rows": ALI_ADAM_ROWS,
               "protocol.improved_gan_d_rows": IMPROVED_GAN_D_ROWS, "protocol.iae_rows": IAE_ROWS,
               "protocol.aae_settled_rows": AAE_SETTLED_ROWS},
))
