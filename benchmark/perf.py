"""Training-speed benchmark: ms per update per run, updates/s and achieved GFLOP/s.

    python -m benchmark.perf --model ali --arch toy [--runs 10] [--device cpu] [--repeats 15]

For the gmm (toy) networks it measures, interleaved in one process so that machine noise hits all alike:
  - plain: the common way to write it: nn.Linear / nn.BatchNorm1d / torch.optim.Adam, one run, a discriminator
    step on detached fakes and then a generator step (two forward passes through D);
  - stacked x1: the suite's model with one run;
  - stacked xR: the suite's model with R runs trained as one batched model (what the gmm_modes table does).
It prints medians over --repeats blocks and the ratios against the plain loop.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from benchmark.allocator import keep_freed_memory
from benchmark.errors import UserError
from benchmark.models._stacked import RunHyperparams
from benchmark.nets.toy import ToySizes
from benchmark.registry import MODELS


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


def benchmark_toy(model: str, runs: int, batch: int, repeats: int, block: int) -> list[dict]:
    s = ToySizes()
    contenders = [("plain (1 run)", 1, PlainToy(model, s, batch).step), ("stacked x1", 1, _stacked(model, s, 1, batch)),
                  (f"stacked x{runs}", runs, _stacked(model, s, runs, batch))]
    flops = {name: _flops(step) for name, _, step in contenders}
    times: dict[str, list[float]] = {name: [] for name, _, _ in contenders}
    for _ in range(2):
        for _, _, step in contenders:
            step()
    for _ in range(repeats):
        for name, _, step in contenders:
            start = time.perf_counter()
            for _ in range(block):
                step()
            times[name].append((time.perf_counter() - start) / block)
    rows = []
    base = statistics.median(times[contenders[0][0]])
    for name, r, _ in contenders:
        t = statistics.median(times[name])
        rows.append({"loop": name, "runs": r, "ms_per_update": t * 1e3, "ms_per_update_per_run": t * 1e3 / r,
                     "updates_per_s_per_run": r / t, "gflop_per_update": flops[name] / 1e9,
                     "gflops": flops[name] / t / 1e9, "speedup_per_run_vs_plain": base / (t / r)})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmark.perf", description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="ali")
    parser.add_argument("--arch", default="toy")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--block", type=int, default=3, help="updates timed together in one block")
    args = parser.parse_args(argv)
    try:
        MODELS.get(args.model)
        if args.arch != "toy" or args.model not in ("ali", "gan"):
            raise UserError(f"perf measures --arch toy with --model ali or gan so far, not {args.model}/{args.arch}")
        if args.device != "cpu":
            raise UserError("perf runs the toy networks on --device cpu only so far")
        torch.manual_seed(0)
        keep_freed_memory()
        rows = benchmark_toy(args.model, args.runs, args.batch, args.repeats, args.block)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"{args.model}/{args.arch}, batch {args.batch}, {torch.get_num_threads()} threads, medians of "
          f"{args.repeats} blocks of {args.block} updates")
    print(f"{'loop':<14}{'ms/update':>11}{'ms/upd/run':>12}{'upd/s/run':>11}{'GFLOP/upd':>11}{'GFLOP/s':>9}"
          f"{'x plain':>9}")
    for r in rows:
        print(f"{r['loop']:<14}{r['ms_per_update']:>11.2f}{r['ms_per_update_per_run']:>12.2f}"
              f"{r['updates_per_s_per_run']:>11.1f}{r['gflop_per_update']:>11.3f}{r['gflops']:>9.1f}"
              f"{r['speedup_per_run_vs_plain']:>9.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
