"""Training-speed benchmark: ms per update, images (or updates) per second and achieved GFLOP/s, against a plain
reference loop measured in the same process (interleaved, so that machine noise hits both alike).

    python -m benchmark.perf --model ali --arch svhn [--device cpu|cuda] [--compile] [--batch 100]
    python -m benchmark.perf --model all --arch svhn,mnist
    python -m benchmark.perf --model ali --arch toy [--runs 10]
    python -m benchmark.perf --model gan_fm --arch mnist --seeds 1,2   (semi-supervised: see benchmark.perf_semi)

Image architectures (every image family):
  - plain: the loop as public ports write it (the PyTorch ALI port, patched only to run on current PyTorch): the
    same networks through torch's own nn.Conv2d / ConvTranspose2d / Dropout calls, a torch DataLoader (shuffled
    TensorDataset of uint8 images, converted per batch), one forward pass of every network, one backward pass per
    player into its own parameters (backward(inputs=...): D's loss sees the fakes as detached), then every
    optimiser's step, in float32;
  - suite: the suite's loop: images resident on the device as one tensor, batches by index, one forward pass for all
    players with per-player torch.autograd.grad; on CUDA also bf16 autocast and channels_last (and torch.compile
    with --compile); on a CPU with native bf16 (AVX512-BF16, AMX) also "suite +bf16", the same loop under bf16
    autocast.  The AAE's phases are sequential by design, so its plain loop differs from the suite's only in the
    DataLoader and the modules.
The gmm (toy) networks: plain (nn.Linear / BatchNorm1d / Adam, one run, a D step on detached fakes then a G step),
stacked x1 (the suite's model) and stacked xR (R runs batched, as the gmm_modes table trains them).
Every run also times a 4096 x 4096 float32 matrix product interleaved with the loops: the machine's measured limit,
so each loop's GFLOP/s is also a fraction of it.  FLOPs are counted by torch's FlopCounterMode (matrix products
and convolutions).
Medians over --repeats blocks of --block updates; ratios are per run against the plain loop.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from benchmark.allocator import keep_freed_memory
from benchmark.errors import UserError
from benchmark.models._image import ImageModel, to_unit
from benchmark.models._stacked import RunHyperparams
from benchmark.nets.layers import ConvStack, SeededDropout
from benchmark.nets.toy import ToySizes
from benchmark.registry import MODELS
from benchmark.rng import RunGenerators
from benchmark.cli import entry_point, resolve_device
from benchmark.perf_semi import benchmark_semi, print_semi
from benchmark.runtime import Runtime, cpu_bf16_supported
from benchmark.train import StackedBatcher

MATMUL = "matmul"  # the contender that measures the machine's fp32 matmul rate in the same interleaved run


class _Maxout(nn.Module):
    def __init__(self, a: int, units: int, pieces: int):
        super().__init__()
        self.units, self.pieces, self.linear = units, pieces, nn.Linear(a, units * pieces)

    def forward(self, x):
        return self.linear(x).view(len(x), self.units, self.pieces).max(-1).values


def _plain_mlp(sizes: list[int], s: ToySizes) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers += [nn.BatchNorm1d(b, eps=s.bn_eps, momentum=s.bn_momentum), nn.ReLU()]
    return nn.Sequential(*layers)


class PlainToy:
    """The reference loop for one run of the gmm GAN or ALI, written the common way."""

    def __init__(self, model: str, s: ToySizes, batch: int):
        self.model, self.s, self.batch = model, s, batch
        self.g = _plain_mlp([s.z_dim, *s.decoder_hidden, s.x_dim], s)
        d_in = s.x_dim + (s.z_dim if model == "ali" else 0)
        d_layers: list[nn.Module] = []
        width = d_in
        for _ in range(s.disc_layers):
            d_layers.append(_Maxout(width, s.disc_units, s.disc_pieces))
            width = s.disc_units
        self.d = nn.Sequential(*d_layers, nn.Linear(width, 1))
        gen_params = list(self.g.parameters())
        if model == "ali":
            self.e = _plain_mlp([s.x_dim + s.z_dim, *s.encoder_hidden, s.z_dim], s)
            gen_params += list(self.e.parameters())
        self.opt_d = torch.optim.Adam(self.d.parameters(), lr=1e-4, betas=(0.8, 0.999))
        self.opt_g = torch.optim.Adam(gen_params, lr=1e-4, betas=(0.8, 0.999))
        self.data = torch.randn(10_000, s.x_dim)
        self.loader = iter(self._batches())

    def _batches(self):
        while True:
            loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(self.data), batch_size=self.batch,
                                                 shuffle=True, drop_last=True)
            for (x,) in loader:
                yield x

    def _pairs(self, x):
        z = torch.randn(len(x), self.s.z_dim)
        fake = self.g(z)
        if self.model == "ali":
            z_hat = self.e(torch.cat([x, torch.randn(len(x), self.s.z_dim)], 1))
            return torch.cat([x, z_hat], 1), torch.cat([fake, z], 1)
        return x, fake

    def step(self):
        sp = nn.functional.softplus
        x = next(self.loader)
        real, fake = self._pairs(x)
        d_loss = sp(-self.d(real.detach())).mean() + sp(self.d(fake.detach())).mean()
        self.opt_d.zero_grad()
        d_loss.backward()
        self.opt_d.step()
        g_loss = sp(self.d(real)).mean() + sp(-self.d(fake)).mean()
        self.opt_g.zero_grad()
        g_loss.backward()
        self.opt_g.step()


def _stacked(model: str, s: ToySizes, runs: int, batch: int):
    cls = MODELS.get(model).archs["toy"]
    hp = RunHyperparams((1e-4,) * runs, (0.8,) * runs, (0.02,) * runs)
    m = cls(s, hp, list(range(runs)))
    x = torch.randn(runs, batch, s.x_dim)
    return lambda: m.train_step(x)


def _flops(step) -> int:
    with FlopCounterMode(display=False) as counter:
        step()
    return counter.get_total_flops()


def _synchronize(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def _time_interleaved(contenders: dict, repeats: int, block: int, device: str) -> dict[str, float]:
    """Median seconds per call of each step function, timed in interleaved blocks after two warm-up calls."""
    for _ in range(2):
        for step in contenders.values():
            step()
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, step in contenders.items():
            _synchronize(device)
            start = time.perf_counter()
            for _ in range(block):
                step()
            _synchronize(device)
            times[name].append((time.perf_counter() - start) / block)
    return {name: statistics.median(t) for name, t in times.items()}


def benchmark_toy(model: str, runs: int, batch: int, repeats: int, block: int) -> list[dict]:
    s = ToySizes()
    contenders = [("plain (1 run)", 1, PlainToy(model, s, batch).step), ("stacked x1", 1, _stacked(model, s, 1, batch)),
                  (f"stacked x{runs}", runs, _stacked(model, s, runs, batch))]
    flops = {name: _flops(step) for name, _, step in contenders}
    medians = _time_interleaved({**{name: step for name, _, step in contenders}, MATMUL: matmul_gflops("cpu")},
                                repeats, block, "cpu")
    limit = _limit_row(medians.pop(MATMUL))
    rows = []
    base = medians[contenders[0][0]]
    for name, r, _ in contenders:
        t = medians[name]
        rows.append({"loop": name, "runs": r, "ms_per_update": t * 1e3, "ms_per_update_per_run": t * 1e3 / r,
                     "updates_per_s_per_run": r / t, "gflop_per_update": flops[name] / 1e9,
                     "gflops": flops[name] / t / 1e9, "of_limit": flops[name] / t / 1e9 / limit["gflops"],
                     "speedup_per_run_vs_plain": base / (t / r)})
    return rows + [limit]


def as_common_modules(model: ImageModel) -> ImageModel:
    """The same networks as torch's own modules call them: nn.Dropout (torch's global stream) instead of the seeded
    dropout, and every convolution through nn.Conv2d / nn.ConvTranspose2d (no matrix-product fast path)."""
    for stack in [m for m in model.modules() if isinstance(m, ConvStack)]:
        stack.matmul_fast_path = False
        for drops in (stack.drops, stack.mid_drops):
            for i, drop in enumerate(drops):
                if isinstance(drop, SeededDropout):
                    drops[i] = nn.Dropout(drop.p)
    return model


class PlainImageLoop:
    """The loop as public ports write it (e.g. the PyTorch ALI port, patched only to run on current PyTorch): torch's
    modules, a DataLoader of uint8 images converted per batch, one forward pass of every network, then one
    backward pass per player, each into its own parameters only (D's loss with the fakes detached, as far as its
    gradient goes: backward(inputs=D's parameters)), and each optimiser's step once every gradient is in."""

    def __init__(self, model: ImageModel, images: torch.Tensor, batch: int, device: str):
        self.model, self.device = as_common_modules(model), device
        self.loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(images), batch_size=batch,
                                                  shuffle=True, drop_last=True, pin_memory=device == "cuda")
        self.batches = iter(self.loader)
        self.sequential = type(model).players is ImageModel.players  # the AAE: its own phases

    def _next(self) -> torch.Tensor:
        try:
            (x,) = next(self.batches)
        except StopIteration:
            self.batches = iter(self.loader)
            (x,) = next(self.batches)
        return to_unit(x.to(self.device, non_blocking=True))[None]

    def step(self) -> None:
        batch, model = self._next(), self.model
        if self.sequential:
            model.train_step(batch)
            return
        model.train()
        players = list(model.players(batch).values())  # one forward pass of every network
        for i, player in enumerate(players):
            player.optimizer.zero_grad(set_to_none=True)
            player.loss.sum().backward(inputs=player.params, retain_graph=i < len(players) - 1)
        for player in players:
            player.optimizer.step()


def matmul_gflops(device: str, n: int = 4096) -> Callable[[], None]:
    """One n x n float32 matrix product (2 n^3 FLOP): the machine's measured limit, timed beside the loops."""
    gen = torch.Generator().manual_seed(0)
    a, b = (torch.randn(n, n, generator=gen).to(device) for _ in range(2))
    return lambda: torch.mm(a, b)


def _limit_row(seconds: float, n: int = 4096) -> dict:
    return {"loop": f"fp32 matmul {n}x{n} (limit)", "ms": seconds * 1e3, "gflops": 2 * n**3 / seconds / 1e9}


def benchmark_image(model: str, arch: str, batch: int, repeats: int, block: int, device: str,
                    compile_: bool) -> list[dict]:
    factory = MODELS.get(model).archs[arch]
    plain_model = factory(seed=0, runtime=Runtime(device))
    shape = plain_model.arch.image
    images = torch.randint(0, 256, (max(10 * batch, 1000), *shape), dtype=torch.uint8,
                           generator=torch.Generator().manual_seed(0))
    runtimes = [Runtime.for_device(device, compile=compile_)]
    if device == "cpu" and cpu_bf16_supported():
        runtimes.append(Runtime(device, bf16=True, compile=compile_))
    contenders = {"plain": PlainImageLoop(plain_model, images, batch, device).step}
    for runtime in runtimes:
        suite_model = factory(seed=0, runtime=runtime)
        batcher = StackedBatcher(images.to(device), batch, RunGenerators([0]))
        label = "suite" + "".join(f" +{k}" for k in ("bf16", "channels_last", "compile") if getattr(runtime, k))
        contenders[label] = lambda m=suite_model, b=batcher: m.train_step(b.next())
    flops = {name: _flops(step) for name, step in contenders.items()}
    medians = _time_interleaved({**contenders, MATMUL: matmul_gflops(device)}, repeats, block, device)
    limit = _limit_row(medians.pop(MATMUL))
    rows = []
    for name, t in medians.items():
        rows.append({"loop": name, "ms_per_update": t * 1e3, "images_per_s": batch / t,
                     "gflop_per_update": flops[name] / 1e9, "gflops": flops[name] / t / 1e9,
                     "of_limit": flops[name] / t / 1e9 / limit["gflops"], "speedup_vs_plain": medians["plain"] / t})
    return rows + [limit]


def _print_toy(args, rows: list[dict]) -> None:
    print(f"{args.model}/toy, batch {args.batch}, {torch.get_num_threads()} threads, medians of "
          f"{args.repeats} blocks of {args.block} updates")
    *loops, limit = rows
    print(f"{'loop':<14}{'ms/update':>11}{'ms/upd/run':>12}{'upd/s/run':>11}{'GFLOP/upd':>11}{'GFLOP/s':>9}"
          f"{'of limit':>10}{'x plain':>9}")
    for r in loops:
        print(f"{r['loop']:<14}{r['ms_per_update']:>11.2f}{r['ms_per_update_per_run']:>12.2f}"
              f"{r['updates_per_s_per_run']:>11.1f}{r['gflop_per_update']:>11.3f}{r['gflops']:>9.1f}"
              f"{100 * r['of_limit']:>9.0f}%{r['speedup_per_run_vs_plain']:>9.2f}")
    _print_limit(limit)


def _print_image(model: str, arch: str, args, rows: list[dict]) -> None:
    print(f"{model}/{arch}, batch {args.batch}, device {args.device}, {torch.get_num_threads()} threads, medians of "
          f"{args.repeats} blocks of {args.block} updates")
    *loops, limit = rows
    for r in loops:
        print(f"  {r['loop']:<28}{r['ms_per_update']:>10.2f} ms/update{r['images_per_s']:>10.1f} images/s"
              f"{r['gflop_per_update']:>9.2f} GFLOP/update{r['gflops']:>8.1f} GFLOP/s{100 * r['of_limit']:>5.0f}% "
              f"of limit{r['speedup_vs_plain']:>7.2f}x plain")
    _print_limit(limit)


def _print_limit(limit: dict) -> None:
    print(f"  {limit['loop']}: {limit['ms']:.1f} ms, {limit['gflops']:.1f} GFLOP/s (same run, interleaved)")


def _seed_counts(value: str) -> list[int]:
    try:
        counts = [int(v) for v in value.split(",")]
    except ValueError:
        counts = []
    if not counts or min(counts) < 1:
        raise UserError(f"--seeds takes a comma list of positive integers, got {value!r}")
    return counts


def _names(value: str, valid: list[str], kind: str) -> list[str]:
    names = valid if value == "all" else value.split(",")
    bad = [n for n in names if n not in valid]
    if bad:
        raise UserError(f"unknown {kind} {', '.join(map(repr, bad))} for perf; valid: all, {', '.join(valid)}")
    return names


@entry_point
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmark.perf", description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="ali", help="a family, a comma list, or all (every unsupervised image "
                        "family; name the semi-supervised ones)")
    parser.add_argument("--arch", default="svhn", help="toy, or image architectures: a comma list, or all")
    parser.add_argument("--runs", type=int, default=10, help="toy only: runs trained as one stacked model")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto (default cpu: perf compares loops)")
    parser.add_argument("--compile", action="store_true", help="torch.compile the suite's networks")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--block", type=int, default=3, help="updates timed together in one block")
    parser.add_argument("--seeds", default="1,2", help="semi-supervised families: numbers of seeds trained at once, "
                        "as processes sharing the threads (a comma list)")
    parser.add_argument("--updates", type=int, default=40, help="semi-supervised families: updates timed a process")
    args = parser.parse_args(argv)
    args.device = resolve_device(args.device)
    torch.manual_seed(0)
    keep_freed_memory()
    if args.arch == "toy":
        if args.model not in ("ali", "gan") or args.device != "cpu":
            raise UserError("--arch toy measures --model ali or gan on --device cpu")
        _print_toy(args, benchmark_toy(args.model, args.runs, args.batch, args.repeats, args.block))
        return 0
    families = [n for n, e in MODELS.items() if any(a != "toy" for a in e.archs) and not e.clustering]
    unsupervised = [n for n in families if not MODELS.get(n).semi_supervised]
    models = unsupervised if args.model == "all" else _names(args.model, families, "model")
    for model in models:
        archs = sorted(a for a in MODELS.get(model).archs if a != "toy")
        for arch in _names(args.arch, archs, f"architecture of {model}"):
            if MODELS.get(model).semi_supervised:
                seeds = _seed_counts(args.seeds)
                print_semi(model, arch, args.batch, args.updates,
                           benchmark_semi(model, arch, args.batch, args.updates, seeds))
                continue
            rows = benchmark_image(model, arch, args.batch, args.repeats, args.block, args.device, args.compile)
            _print_image(model, arch, args, rows)
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
