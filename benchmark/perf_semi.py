"""Training speed of the semi-supervised families: ms per update for one seed, and per seed when R seeds train at
once as R processes sharing the CPU's threads (what `benchmark.run --jobs R` does), with the achieved GFLOP/s as a
fraction of a float32 matmul's GFLOP/s measured in the same call.

    python -m benchmark.perf --model gan_fm --arch mnist --seeds 1,2

Stacking R seeds into one batched model (as the gmm table does) is not offered for these families: one seed's
update already runs its matrix products at a large fraction of the CPU's matmul limit (the fraction printed here),
so batching seeds leaves little to gain on the CPU.
"""
from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor

import torch
from torch.utils.flop_counter import FlopCounterMode

from benchmark.registry import MODELS
from benchmark.train import SemiSupervisedBatcher


def _setup(model_name: str, arch: str, batch: int, seed: int):
    model = MODELS.get(model_name).archs[arch](seed=seed)
    shape = model.arch.image
    gen = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (20 * batch, *shape), dtype=torch.uint8, generator=gen)
    labels = torch.arange(len(images)) % model.classes
    model.init_from_data(images)
    model.set_training_length(10_000, 100)
    labelled = torch.arange(min(len(images), 10 * model.classes))
    batcher = SemiSupervisedBatcher(images, labels, labelled, batch, seed)
    return model, batcher


def _time_worker(model_name: str, arch: str, batch: int, updates: int, threads: int, seed: int, barrier) -> float:
    """Seconds for `updates` updates in a worker with `threads` threads; every worker starts timing together."""
    torch.set_num_threads(threads)
    model, batcher = _setup(model_name, arch, batch, seed)
    for _ in range(3):
        model.train_step(batcher.next())
    barrier.wait()
    start = time.perf_counter()
    for _ in range(updates):
        model.train_step(batcher.next())
    return time.perf_counter() - start


def update_flops(model_name: str, arch: str, batch: int) -> int:
    model, batcher = _setup(model_name, arch, batch, 0)
    with FlopCounterMode(display=False) as counter:
        model.train_step(batcher.next())
    return counter.get_total_flops()


def matmul_gflops(threads: int, n: int = 2048, repeats: int = 5) -> float:
    """The CPU's float32 matmul GFLOP/s with `threads` threads: the limit the updates are measured against."""
    torch.set_num_threads(threads)
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * n**3 * repeats / (time.perf_counter() - start) / 1e9


def benchmark_semi(model_name: str, arch: str, batch: int, updates: int, seeds: list[int]) -> list[dict]:
    threads = torch.get_num_threads()
    flops = update_flops(model_name, arch, batch)
    peak = matmul_gflops(threads)
    rows = []
    for r in seeds:
        per_process = max(1, threads // r)
        context = multiprocessing.get_context("spawn")
        with context.Manager() as manager, ProcessPoolExecutor(r, mp_context=context) as pool:
            barrier = manager.Barrier(r)
            futures = [pool.submit(_time_worker, model_name, arch, batch, updates, per_process, s, barrier)
                       for s in range(r)]
            elapsed = [f.result() for f in futures]
        wall = max(elapsed)
        rows.append({"seeds": r, "threads_each": per_process, "ms_per_update_each": 1e3 * wall / updates,
                     "ms_per_update_per_seed": 1e3 * wall / (updates * r),
                     "gflops": flops * r * updates / wall / 1e9, "gflop_per_update": flops / 1e9})
    torch.set_num_threads(threads)
    for row in rows:
        row["fraction_of_matmul"] = row["gflops"] / peak
        row["matmul_gflops"] = peak
    return rows


def print_semi(model_name: str, arch: str, batch: int, updates: int, rows: list[dict]) -> None:
    print(f"{model_name}/{arch}, batch {batch} labelled + {batch} unlabelled (+ {batch} for the generator), "
          f"{updates} timed updates a process, float32 matmul limit {rows[0]['matmul_gflops']:.0f} GFLOP/s")
    for r in rows:
        print(f"  {r['seeds']} seed(s) x {r['threads_each']} thread(s): {r['ms_per_update_each']:8.1f} ms/update each"
              f"{r['ms_per_update_per_seed']:8.1f} ms/update per seed{r['gflop_per_update']:7.2f} GFLOP/update"
              f"{r['gflops']:8.1f} GFLOP/s ({100 * r['fraction_of_matmul']:.0f}% of matmul)")
