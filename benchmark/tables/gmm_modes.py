"""gmm_modes: modes of the 25-Gaussian mixture covered by ALI and GAN (ALI section 4.5 and Figure 7), and by the IAE.

ALI, GAN and IAE each train `runs` runs whose learning rate, beta1 and init std are drawn at random; the runs of a row
train together as one stacked model (every run keeps its own parameters, statistics and random streams).  The
inference variants of Figure 7 (GAN + inverse mapping, GAN + post-hoc learned inference) are built on the
best-covering GAN run; the VAE uses that run's seed and hyperparameters.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import torch

from benchmark.data import gmm
from benchmark.models._stacked import RunHyperparams, run_slice
from benchmark.nets.toy import ToySizes
from benchmark.protocols.modes import mode_coverage, nearest_component
from benchmark.protocols.recon import euclidean_error
from benchmark.registry import MODELS, TABLES
from benchmark.results import ResultStore, RunRecord, write_json_atomic
from benchmark.rng import RunGenerators, derive_seed
from benchmark.tables import Column, PaperValue, RowSpec, RunContext, TableSpec
from benchmark.train import StackedBatcher, train

NAME = "gmm_modes"


@dataclass(frozen=True)
class GMMModesConfig:
    """The paper's protocol (official code experiments/gmm); profiles shrink sizes and steps only."""

    # data [code]; the held-out set is ours (the official "valid" set is the training set)
    grid: tuple[float, ...] = gmm.GRID
    std: float = 0.05
    n_train: int = 100_000
    n_heldout: int = 10_000
    data_seed: int = 0
    # networks [code]
    encoder_hidden: tuple[int, ...] = (400, 400)
    decoder_hidden: tuple[int, ...] = (400, 400, 400, 400)
    disc_units: int = 200
    disc_pieces: int = 5
    disc_layers: int = 3
    bn_momentum: float = 0.05
    bn_eps: float = 1e-4
    # training [code]: 200 epochs of 100,000 samples at batch 100
    batch_size: int = 100
    steps: int = 200_000
    beta2: float = 0.999
    # random hyperparameters per run [paper]; log-uniform ranges around the code's defaults [ours]
    lr_range: tuple[float, float] = (3e-5, 3e-4)  # default 1e-4
    one_minus_beta1_range: tuple[float, float] = (0.1, 0.5)  # beta1 in [0.5, 0.9], default 0.8
    init_std_range: tuple[float, float] = (0.01, 0.04)  # default 0.02
    runs: int = 10
    seed: int = 0
    # Figure 7 variants [paper, figure only]
    variant_steps: int = 200_000
    vae_obs_std: float = 0.05
    # evaluation [paper] and [ours]
    n_eval_samples: int = 10_000
    hq_sigmas: float = 3.0
    figure_points: int = 1000
    checkpoint_every: int = 2000
    curve_every: int = 0  # [ours] a learning-curve point (the mode counts above) every this many updates; 0: none


PROFILES = {
    "smoke": dict(n_train=2000, n_heldout=500, encoder_hidden=(32, 32), decoder_hidden=(32, 32, 32, 32),
                  disc_units=16, steps=150, variant_steps=100, runs=3, n_eval_samples=2000, figure_points=200,
                  checkpoint_every=0, curve_every=50),
    # ALI's runs learn the mixture between 25,000 and 50,000 updates (foundation issue's diagnostic run): shorter
    # runs count the modes of generators that still spread their mass over the plane.  5 runs a row: stacked, an
    # update takes 87 ms at 5 runs and 117 ms at 10 here (perf --arch toy), so ALI, GAN and the variants take about
    # 2.8 hours at 5 runs (3.7 at 10); the IAE row about 2.6 hours more (its stacked 5-run update: 191 ms at 2
    # threads, ALI's 112 ms measured beside it in one run)
    "small": dict(steps=50_000, variant_steps=50_000, runs=5, figure_points=500, curve_every=5000,
                  checkpoint_every=5000),
    "paper": {},
}

ROWS = (
    RowSpec("ali", "ALI", {"modes_covered": PaperValue(
        "13.4 ± 5.8 (min 8, max 25)", 13.4, "ALI (Dumoulin et al. 2017), section 4.5",
        "over 10 runs; std convention not stated")}),
    RowSpec("gan", "GAN", {"modes_covered": PaperValue(
        "10.4 ± 9.2 (min 1, max 22)", 10.4, "ALI (Dumoulin et al. 2017), section 4.5",
        "over 10 runs; std convention not stated")}),
    RowSpec("iae", "IAE [ours: the slides show the mixture, no count]"),
    RowSpec("gan_inverse", "GAN + inverse mapping"),
    RowSpec("gan_posthoc", "GAN + post-hoc learned inference"),
    RowSpec("vae", "VAE"),
)

CHOICES = (
    "[ours] Runs draw lr log-uniform in lr_range, 1 - beta1 log-uniform in one_minus_beta1_range and init std "
    "log-uniform in init_std_range (the paper draws them at random but publishes no ranges); run i of ALI and run i "
    "of GAN share the drawn values (a paired design), each run's values are stored.",
    "[ours] A held-out set of n_heldout fresh samples for reconstruction error (the official 'valid' set is the "
    "training set).",
    "[ours] 'Modes covered': each of n_eval_samples prior samples goes to its component of highest responsibility, "
    "computed in log space (equal weights and variances make that the nearest centre); a mode with >= 1 sample counts.",
    "[ours] 'High-quality modes' (VEEGAN/PacGAN): modes with >= 1 sample within hq_sigmas std of the centre; "
    "'high-quality samples': the share of samples within hq_sigmas std of their assigned centre.",
    "[ours] Samples and reconstructions use BatchNorm's running statistics (eval mode).",
    "[ours] Reconstruction error: mean Euclidean distance ||x - G(E(x))|| over the held-out set, with one draw of "
    "the encoder's noise (ALI-type encoders) or of q(z|x) (VAE).",
    "[ours] Variants are built on the best-covering GAN run (most modes, then most high-quality modes, then lowest "
    "run index) and train variant_steps updates with its lr, beta1 and init std; their generator is that run's, "
    "frozen, so their mode counts repeat the GAN's. The inverse-mapping encoder is the ALI encoder (noise input kept).",
    "[ours] VAE: Gaussian q(z|x) from the ALI encoder body (x -> 400 -> 400 -> (mu, log sigma)), the GAN generator as "
    "decoder mean, fixed observation std vae_obs_std, trained from scratch with the best GAN run's hyperparameters.",
    "[ours] Figure 7's ALI column shows the best-covering ALI run (same tie-breaks as the GAN); its IAE column (not in "
    "the paper) the best-covering IAE run.",
    "[ours] IAE (Makhzani 2018; the slides show it learning a mixture of Gaussians, with no count): ALI's gmm encoder "
    "z = E([x, eps]) and decoder G(z) (no local noise), ALI's maxout discriminator on (x, z) pairs against (G(z), z) "
    "as the reconstruction GAN's D_rec and on z (prior draws against codes) as the regularisation GAN's D_reg; four "
    "players from one forward pass, simultaneous, each with its run's Adam; run i shares run i's drawn lr, beta1 and "
    "init std with ALI and GAN.",
    "[code] D and G are updated simultaneously from one forward pass; the discriminator has no BatchNorm and no "
    "dropout; BatchNorm momentum 0.05 (PyTorch convention), eps 1e-4; Adam beta2 0.999.",
    "[ours] The runs of a row are trained stacked (one batched model); each run has its own parameters, BatchNorm "
    "statistics, optimiser state and random streams, so it matches training it alone up to float rounding (batched "
    "matmuls round differently; GAN training amplifies such differences over many updates). Each run stores the "
    "runs it was stacked with.",
    "[ours] Mean ± std over runs uses the population std (ddof 0).",
)

COLUMNS = (
    Column("modes_covered", "modes covered (of 25)", digits=1, show_range=True),
    Column("hq_modes", "high-quality modes", digits=1),
    Column("hq_fraction", "high-quality samples (%)", digits=1, scale=100.0),
    Column("recon_error", "held-out recon. error", digits=3),
)

VARIANTS = ("gan_inverse", "gan_posthoc", "vae")


def sizes(cfg: GMMModesConfig) -> ToySizes:
    return ToySizes(encoder_hidden=tuple(cfg.encoder_hidden), decoder_hidden=tuple(cfg.decoder_hidden),
                    disc_units=cfg.disc_units, disc_pieces=cfg.disc_pieces, disc_layers=cfg.disc_layers,
                    bn_momentum=cfg.bn_momentum, bn_eps=cfg.bn_eps)


def _log_uniform(u: float, bounds: tuple[float, float]) -> float:
    lo, hi = math.log(bounds[0]), math.log(bounds[1])
    return math.exp(lo + u * (hi - lo))


def draw_hparams(cfg: GMMModesConfig, index: int) -> dict:
    """Run `index`'s learning rate, beta1 and init std (shared by the ALI and GAN runs of that index)."""
    g = torch.Generator().manual_seed(derive_seed(cfg.seed, "hparams", index))
    u = torch.rand(3, generator=g, dtype=torch.float64).tolist()
    return {"lr": _log_uniform(u[0], cfg.lr_range), "beta1": 1.0 - _log_uniform(u[1], cfg.one_minus_beta1_range),
            "init_std": _log_uniform(u[2], cfg.init_std_range)}


def run_seed(cfg: GMMModesConfig, row: str, index: int) -> int:
    return derive_seed(cfg.seed, NAME, row, index)


def make_data(cfg: GMMModesConfig) -> dict:
    g = torch.Generator().manual_seed(cfg.data_seed)
    x_train, _ = gmm.sample(cfg.n_train, cfg.std, g, cfg.grid)
    x_held, c_held = gmm.sample(cfg.n_heldout, cfg.std, g, cfg.grid)
    return {"train": x_train, "heldout": x_held, "heldout_component": c_held, "centres": gmm.centres(cfg.grid)}


def datasets(cfg: GMMModesConfig) -> dict:
    return {"train": gmm.provenance("train (first draw)", cfg.n_train, cfg.std, cfg.data_seed, cfg.grid),
            "heldout": gmm.provenance("held-out (second draw)", cfg.n_heldout, cfg.std, cfg.data_seed, cfg.grid)}


def protocol(cfg: GMMModesConfig) -> dict:
    return {
        "assignment": "highest log responsibility (nearest centre), log-space",
        "covered_threshold_samples": 1,
        "n_eval_samples": cfg.n_eval_samples,
        "hq_radius": f"{cfg.hq_sigmas} std",
        "hparam_ranges": {"lr": list(cfg.lr_range), "1-beta1": list(cfg.one_minus_beta1_range),
                          "init_std": list(cfg.init_std_range), "distribution": "log-uniform", "paired_rows": True},
        "sampling_batchnorm": "running statistics (eval mode)",
        "recon_encoder_draw": "one sample",
        "variant_base": "best-covering GAN run (modes, then hq modes, then lowest index)",
        "vae_obs_std": cfg.vae_obs_std,
        "std_over_runs": "population (ddof 0)",
        "updates": "simultaneous D and G from one forward pass",
        "iae_row": "ALI's gmm networks; D_rec on (x, z), D_reg on z; paired hyperparameters",
    }


# --- training and evaluation -------------------------------------------------------------------------------------


def _build(row: str, cfg: GMMModesConfig, seeds: list[int], hparams: list[dict], device: str):
    hp = RunHyperparams(lr=tuple(h["lr"] for h in hparams), beta1=tuple(h["beta1"] for h in hparams),
                        init_std=tuple(h["init_std"] for h in hparams), beta2=cfg.beta2)
    extra = {"obs_std": cfg.vae_obs_std} if row == "vae" else {}
    return MODELS.get(row).archs["toy"](sizes(cfg), hp, seeds, device, **extra)


def _train_group(row, cfg, indices, seeds, hparams, steps, data, ctx, store, decoder_state=None):
    """Train the runs `indices` of `row` stacked; returns (model, TrainResult, checkpoint path), or None if
    stopped early (the checkpoint stays for the next call to resume from)."""
    model = _build(row, cfg, seeds, hparams, ctx.device)
    if decoder_state is not None:
        model.decoder.load_state_dict(decoder_state)
    model.to(ctx.device)
    batcher = StackedBatcher(data["train"].to(ctx.device), cfg.batch_size,
                             RunGenerators([derive_seed(s, "batches") for s in seeds], ctx.device))
    checkpoint = _cache(ctx, store) / f"{row}-{'-'.join(map(str, indices))}.pt"
    curve = LearningCurve(checkpoint.with_suffix(".curve.json"), model, cfg, seeds, data["centres"], ctx.device)
    result = train(model, batcher, steps, checkpoint=checkpoint, identity=store.config_hash,
                   checkpoint_every=cfg.checkpoint_every, stop_after=ctx.stop_after,
                   desc=f"{NAME} {row} x{len(indices)}", progress=ctx.progress,
                   snapshot=curve.add if cfg.curve_every else None, snapshot_every=cfg.curve_every)
    return (model, result, checkpoint, curve) if result.finished else None


class LearningCurve:
    """Mode counts of every run of a stacked model at a few update counts, kept in a JSON file beside the training
    checkpoint so that a resumed run keeps the points taken before it stopped.  Each point samples the prior from
    its own streams (seeded by run and step), so taking it changes nothing in training."""

    def __init__(self, path: Path, model, cfg: GMMModesConfig, seeds: list[int], centres: torch.Tensor,
                 device: str):
        self.path, self.model, self.cfg, self.seeds, self.centres = path, model, cfg, seeds, centres
        self.device = device
        self.points: dict[str, list[dict]] = json.loads(path.read_text()) if path.exists() else {}

    def add(self, step: int) -> None:
        gens = RunGenerators([derive_seed(s, "curve", step) for s in self.seeds], self.device)
        samples = self.model.sample(self.cfg.n_eval_samples, gens).cpu()
        self.points[str(step)] = [mode_coverage(samples[r], self.centres, self.cfg.std, self.cfg.hq_sigmas)
                                  for r in range(len(self.seeds))]
        write_json_atomic(self.path, self.points)  # a kill mid-write must not leave a file the resume cannot read

    def of_run(self, r: int, final: dict) -> list[dict]:
        """Run r's points in update order, ending with the final evaluation at `final["step"]`."""
        points = [{"step": int(step), **{k: values[r][k] for k in CURVE_VALUES}}
                  for step, values in self.points.items() if int(step) < final["step"]]
        return sorted(points, key=lambda p: p["step"]) + [{k: final[k] for k in ("step", *CURVE_VALUES)}]

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


CURVE_VALUES = ("modes_covered", "hq_modes", "hq_fraction")


def _cache(ctx: RunContext, store: ResultStore) -> Path:
    return Path(ctx.cache_dir) / NAME / store.config_hash


def _evaluate(model, cfg, seeds, data, device) -> list[dict]:
    """Per run: mode counts on prior samples, held-out reconstruction error, and the points of Figure 7."""
    gens = RunGenerators([derive_seed(s, "eval") for s in seeds], device)
    centres, runs = data["centres"], len(seeds)
    samples = model.sample(cfg.n_eval_samples, gens).cpu()
    out = [{"values": mode_coverage(samples[r], centres, cfg.std, cfg.hq_sigmas)} for r in range(runs)]
    has_encoder = hasattr(model, "encode")
    if has_encoder:
        held = data["heldout"].to(device).expand(runs, -1, -1)
        recon = model.decode(model.encode(held, gens)).cpu()
        for r in range(runs):
            out[r]["values"]["recon_error"] = euclidean_error(data["heldout"], recon[r])
    fig_x = data["heldout"][: cfg.figure_points].to(device).expand(runs, -1, -1)
    prior = model.prior(cfg.figure_points, gens)
    generated = model.decode(prior).cpu()
    codes = model.encode(fig_x, gens) if has_encoder else None
    recons = model.decode(codes).cpu() if has_encoder else None
    for r in range(runs):
        fig = {"prior": _points(prior[r]), "generated": _points(generated[r]),
               "generated_component": nearest_component(generated[r], centres, cfg.std).tolist()}
        if has_encoder:
            fig["codes"], fig["recons"] = _points(codes[r]), _points(recons[r])
        out[r]["figure"] = fig
    return out


def _points(t: torch.Tensor) -> list[list[float]]:
    return [[round(float(a), 4), round(float(b), 4)] for a, b in t.cpu().tolist()]


def _record(store, row, index, seed, hparams, steps, evaluation, failure, wall_s, group, device, **extra):
    """Store one run: its values, or its failure (step and reason) when it diverged; the points of Figure 7 (for
    models with an encoder) go to an artifact beside the record."""
    artifacts = {}
    if not failure and "codes" in evaluation["figure"]:
        artifacts["figure"] = store.write_artifact(f"{row}-{index}", evaluation["figure"])
    store.put_run(RunRecord.from_training(row, index, seed, failure, evaluation["values"], hparams=hparams,
                                          steps=steps, device=device, wall_s=wall_s, artifacts=artifacts,
                                          extra={"stacked_with": group, **extra}))


def _run_row(row, cfg, data, ctx, store) -> bool:
    """Train and record the runs of `row` not yet stored; False if stopped before the end."""
    pending = [i for i in range(cfg.runs) if not store.done(f"{row}/{i}")]
    if not pending:
        return True
    seeds = [run_seed(cfg, row, i) for i in pending]
    hparams = [draw_hparams(cfg, i) for i in pending]
    trained = _train_group(row, cfg, pending, seeds, hparams, cfg.steps, data, ctx, store)
    if trained is None:
        return False
    model, result, checkpoint, curve = trained
    evaluation = _evaluate(model, cfg, seeds, data, ctx.device)
    if row == "gan":
        for r, i in enumerate(pending):
            torch.save(run_slice(model.state_dict(), r), _cache(ctx, store) / f"gan-final-{i}.pt")
    for r, i in enumerate(pending):
        _record(store, row, i, seeds[r], hparams[r], result.steps_done, evaluation[r], result.failures.get(r),
                result.wall_s / len(pending), pending, ctx.device, ran_on=result.ran_on,
                curve=curve.of_run(r, {"step": result.steps_done, **evaluation[r]["values"]}))
    checkpoint.unlink()  # the runs are stored; only the GAN's final generators are kept for the variants
    curve.remove()
    return True


def best_run(runs: dict[str, dict]) -> str | None:
    """The best-covering run: most modes, then most high-quality modes, then the lowest index."""
    ok = [(k, r) for k, r in runs.items() if r["status"] == "ok"]
    if not ok:
        return None
    return max(ok, key=lambda kr: (kr[1]["values"]["modes_covered"], kr[1]["values"]["hq_modes"],
                                   -kr[1]["index"]))[0]


def _gan_decoder_state(cfg, data, ctx, store, base: dict) -> tuple[dict, str]:
    """The best GAN run's generator, from the cache; if the cache is gone, the run is retrained alone from its own
    seeds, which matches the stacked run only to float rounding (batched matmuls round differently)."""
    path = _cache(ctx, store) / f"gan-final-{base['index']}.pt"
    how = "cached final state of the stacked run"
    if not path.exists():
        how = "retrained alone from the run's seeds (equal to the stacked run up to float rounding)"
        trained = _train_group("gan", cfg, [base["index"]], [base["seed"]], [base["hparams"]], cfg.steps, data,
                               ctx, store)
        if trained is None:
            raise RuntimeError("stopped while retraining the base GAN run")
        torch.save(run_slice(trained[0].state_dict(), 0), path)
        trained[2].unlink()
        trained[3].remove()
    state = torch.load(path)
    return {k.removeprefix("decoder."): v for k, v in state.items() if k.startswith("decoder.")}, how


def _run_variants(cfg, data, ctx, store) -> bool:
    """Train and record the Figure 7 variants on the best GAN run (again if the best run changed); False if stopped
    before the end."""
    base_id = best_run(store.runs_of("gan"))
    if base_id is None:
        return True
    base = store.run(base_id)
    for row in VARIANTS:
        stored = store.run(f"{row}/0")
        if not store.fills(f"{row}/0") or (stored is not None and stored["extra"].get("base_run") == base_id):
            continue
        seed = derive_seed(cfg.seed, NAME, row, base_id)
        decoder, how = (None, "none (trained from scratch)") if row == "vae" else \
            _gan_decoder_state(cfg, data, ctx, store, base)
        trained = _train_group(row, cfg, [0], [seed], [base["hparams"]], cfg.variant_steps, data, ctx, store,
                               decoder_state=decoder)
        if trained is None:
            return False
        model, result, checkpoint, curve = trained
        evaluation = _evaluate(model, cfg, [seed], data, ctx.device)[0]
        _record(store, row, 0, seed, base["hparams"], result.steps_done, evaluation, result.failures.get(0),
                result.wall_s, [0], ctx.device, base_run=base_id, base_generator=how, ran_on=result.ran_on,
                curve=curve.of_run(0, {"step": result.steps_done, **evaluation["values"]}))
        checkpoint.unlink()
        curve.remove()
    return True


def run(cfg: GMMModesConfig, store: ResultStore, ctx: RunContext) -> None:
    data = make_data(cfg)
    _cache(ctx, store).mkdir(parents=True, exist_ok=True)
    store.put_artifact("figure_data", {"points": _points(data["heldout"][: cfg.figure_points]),
                                       "component": data["heldout_component"][: cfg.figure_points].tolist()})
    # ALI section 4.5's rows and variants first, then the IAE's (a long run completes the paper's part first)
    for step in (lambda: _run_row("ali", cfg, data, ctx, store), lambda: _run_row("gan", cfg, data, ctx, store),
                 lambda: _run_variants(cfg, data, ctx, store), lambda: _run_row("iae", cfg, data, ctx, store)):
        if not step():
            return


def scale_note(config: dict) -> str:
    paper = GMMModesConfig()
    return (f"{config['steps']:,} updates per run ({100 * config['steps'] / paper.steps:.2g} % of the paper's "
            f"{paper.steps:,}), {config['n_train']:,} training samples, variants {config['variant_steps']:,} updates.")


def _figures(record: dict, record_path: Path, out_dir: Path) -> list[Path]:
    from benchmark.figures import gmm_curves, gmm_figure7

    return gmm_figure7(record, record_path, best_run, out_dir) + gmm_curves(record, out_dir)


TABLES.register(NAME, TableSpec(
    name=NAME,
    title="Modes of the 25-Gaussian mixture covered (ALI section 4.5, Figure 7; the IAE row ours)",
    source="ALI (Dumoulin et al., ICLR 2017) section 4.5; official code IshmaelBelghazi/ALI experiments/gmm",
    config_cls=GMMModesConfig,
    profiles=PROFILES,
    rows=ROWS,
    columns=COLUMNS,
    choices=CHOICES,
    run=run,
    protocol=protocol,
    datasets=datasets,
    hparam_columns=("lr", "beta1", "init_std"),
    figures=_figures,
    scale_note=scale_note,
    row_local={"protocol.iae_row": ("iae",)},
))
