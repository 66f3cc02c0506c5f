"""The one training loop: seeded batches, checkpoint and resume, a NaN/inf guard per run, a progress bar.

A model supplies `runs` (how many stacked runs it trains), `train_step(batch) -> {loss name: tensor of shape (R,)}`,
`training_state()` and `load_training_state(state)`.  A run whose loss turns non-finite is recorded as failed with
its step and reason; the other runs go on (stacked runs share no parameters or statistics).
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, NamedTuple

import torch
from tqdm import tqdm

from benchmark.errors import UserError
from benchmark.machine import describe, machine_identity
from benchmark.rng import RunGenerators


class StackedBatcher:
    """Epochs of per-run shuffled minibatches from one tensor dataset held in memory: (R, B, ...) per call."""

    def __init__(self, data: torch.Tensor, batch_size: int, gens: RunGenerators):
        if batch_size > len(data):
            raise ValueError(f"batch size {batch_size} exceeds the {len(data)} training examples")
        self.data, self.batch_size, self.gens = data, batch_size, gens
        self.order: torch.Tensor | None = None
        self.position = 0

    def next(self) -> torch.Tensor:
        if self.order is None or self.position + self.batch_size > self.order.shape[1]:
            self.order, self.position = self.gens.randperm(len(self.data)), 0
        index = self.order[:, self.position : self.position + self.batch_size]
        self.position += self.batch_size
        return self.data[index]

    def state_dict(self) -> dict:
        return {"order": self.order, "position": self.position, "gens": self.gens.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.order, self.position = state["order"], state["position"]
        self.gens.load_state_dict(state["gens"])


class SemiBatch(NamedTuple):
    """One semi-supervised update's data: a labelled batch, an unlabelled batch and a second, independently shuffled
    unlabelled batch (feature matching's real side) [code]."""

    x_lab: torch.Tensor
    y_lab: torch.Tensor
    x_unl: torch.Tensor
    x_unl2: torch.Tensor


class SemiSupervisedBatcher:
    """Improved-GAN's streams: the labelled examples repeated in fresh permutations, and two independent
    permutations of every training image (labelled ones included) as the unlabelled streams; one epoch is one pass
    over the unlabelled images [code]."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, labelled: torch.Tensor, batch_size: int, seed: int):
        if batch_size > len(images):
            raise ValueError(f"batch size {batch_size} exceeds the {len(images)} training examples")
        self.images, self.labels, self.labelled, self.batch_size = images, labels, labelled, batch_size
        self.generator = torch.Generator().manual_seed(seed)
        self.streams = {name: {"order": None, "position": 0} for name in ("lab", "unl", "unl2")}

    def _take(self, name: str, n: int) -> torch.Tensor:
        stream, taken = self.streams[name], []
        size = len(self.labelled) if name == "lab" else len(self.images)
        while n > 0:
            if stream["order"] is None or stream["position"] >= size:
                stream["order"], stream["position"] = torch.randperm(size, generator=self.generator), 0
            chunk = stream["order"][stream["position"]: stream["position"] + n]
            stream["position"] += len(chunk)
            taken.append(chunk)
            n -= len(chunk)
        return torch.cat(taken)

    def next(self) -> SemiBatch:
        lab = self.labelled[self._take("lab", self.batch_size)]
        return SemiBatch(self.images[lab], self.labels[lab], self.images[self._take("unl", self.batch_size)],
                         self.images[self._take("unl2", self.batch_size)])

    def state_dict(self) -> dict:
        return {"streams": {k: dict(v) for k, v in self.streams.items()}, "generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.streams = {k: dict(v) for k, v in state["streams"].items()}
        self.generator.set_state(state["generator"])


@dataclass
class TrainResult:
    steps_done: int
    failures: dict[int, dict] = field(default_factory=dict)  # run index -> {"step", "reason"}
    wall_s: float = 0.0
    finished: bool = False
    last_losses: dict[str, list[float]] = field(default_factory=dict)
    #: where the updates ran, in order of use: {"cpu": the CPU and torch build, "threads": torch's intra-op thread
    #: count}, one entry more each time a resume changed either.  CPU floats depend on both (the kernels MKL and
    #: oneDNN pick, how a matrix product splits its sums), and a GAN's trajectory drifts apart on a rounding
    #: difference, so reproducing a run needs both.  None for both: updates made before this was kept.
    ran_on: list[dict] = field(default_factory=list)


def _save_atomic(obj: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


#: updates between two reads of the non-finite-loss guard: every update on the CPU (a read costs nothing there); on
#: CUDA every 100, so the hot loop never waits on the host (the failing update is still recorded exactly)
NAN_CHECK_EVERY = {"cpu": 1, "cuda": 100}


class NonFiniteGuard:
    """For each run, the first update at which each loss was non-finite, kept on the losses' device (no host sync
    when it is updated); `failures` reads it back (one sync)."""

    def __init__(self):
        self.first: torch.Tensor | None = None  # (losses, runs) update numbers, 0 while finite
        self.names: list[str] = []

    def update(self, losses: dict[str, torch.Tensor], step: int) -> None:
        finite = torch.stack([torch.isfinite(v) for v in losses.values()])
        if self.first is None:
            self.first, self.names = torch.zeros(finite.shape, dtype=torch.long, device=finite.device), list(losses)
        self.first = torch.where(~finite & (self.first == 0), step, self.first)

    def failures(self, live: list[int]) -> dict[int, dict]:
        """{run: {"step", "reason"}} of the live runs that have failed, naming every loss non-finite at that step."""
        if self.first is None:
            return {}
        first, out = self.first.cpu(), {}
        for run in live:
            steps = first[:, run]
            if steps.any():
                step = int(steps[steps > 0].min())
                names = [n for n, s in zip(self.names, steps.tolist()) if s == step]
                out[run] = {"step": step, "reason": f"non-finite {', '.join(names)}"}
        return out


def _floats(losses: dict[str, torch.Tensor]) -> dict[str, list[float]]:
    return {k: [float(x) for x in v] for k, v in losses.items()}


def train(
    model,
    batcher: StackedBatcher,
    steps: int,
    *,
    checkpoint: Path | None = None,
    identity: str = "",
    checkpoint_every: int = 0,
    stop_after: int | None = None,
    desc: str = "train",
    progress: bool = True,
    snapshot: Callable[[int], None] | None = None,
    snapshot_every: int = 0,
    nan_check_every: int = 0,
) -> TrainResult:
    """Train `model` to `steps` updates, resuming from `checkpoint` when it exists.

    `identity` (a config hash) is stored in the checkpoint; resuming a checkpoint written under another identity is
    refused.  `stop_after` ends the call early after that many total updates (the checkpoint is written), which is
    how an interruption is simulated in tests.  `snapshot(step)` is called every `snapshot_every` updates (before
    that update's checkpoint), e.g. to keep the model's classifier at that point for a learning curve.
    Non-finite losses are read back every `nan_check_every` updates (0: NAN_CHECK_EVERY of the device) and before
    every snapshot, checkpoint and the end; a run's failure records the exact update at which its loss went
    non-finite, and a run stops counting as live when it is read.
    """
    result = TrainResult(steps_done=0)
    elapsed_before = 0.0
    if checkpoint is not None and checkpoint.exists():
        state = torch.load(checkpoint, weights_only=False)
        if state["identity"] != identity:
            raise UserError(
                f"checkpoint {checkpoint} was written for another config ({state['identity']} != {identity}); "
                "delete it to start over"
            )
        model.load_training_state(state["model"])
        batcher.load_state_dict(state["batcher"])
        result.steps_done, result.failures = state["step"], state["failures"]
        result.last_losses = state.get("last_losses", {})
        elapsed_before = state["wall_s"]
        result.ran_on = list(state.get("ran_on", [{"cpu": None, "threads": None}]))

    def save() -> None:
        if checkpoint is not None:
            _save_atomic(
                {"identity": identity, "model": model.training_state(), "batcher": batcher.state_dict(),
                 "step": result.steps_done, "failures": result.failures, "last_losses": result.last_losses,
                 "wall_s": elapsed_before + time.perf_counter() - start, "ran_on": result.ran_on},
                checkpoint,
            )

    start = time.perf_counter()
    end = steps if stop_after is None else min(steps, stop_after)
    here = {"cpu": describe(machine_identity()), "threads": torch.get_num_threads()}
    if result.steps_done < end and result.ran_on[-1:] != [here]:
        result.ran_on.append(here)
    live = [r for r in range(model.runs) if r not in result.failures]
    bar = tqdm(total=steps, initial=result.steps_done, desc=desc, disable=not progress, leave=False,
               mininterval=2.0, dynamic_ncols=True)
    losses: dict[str, torch.Tensor] = {}
    guard, check_every = NonFiniteGuard(), nan_check_every
    with bar:
        while result.steps_done < end and live:
            losses = model.train_step(batcher.next())
            result.steps_done += 1
            step = result.steps_done
            guard.update(losses, step)
            check_every = check_every or NAN_CHECK_EVERY.get(next(iter(losses.values())).device.type, 1)
            bar.update(1)
            snapshot_now = snapshot is not None and snapshot_every and step % snapshot_every == 0
            checkpoint_now = checkpoint_every and step % checkpoint_every == 0
            if step % check_every == 0 or snapshot_now or checkpoint_now or step == end:
                for run, failure in guard.failures(live).items():
                    result.failures[run] = failure
                    live.remove(run)
                if live and step % max(50, check_every) == 0:
                    bar.set_postfix({k: f"{float(v[live].mean()):.3f}" for k, v in losses.items()}, refresh=False)
            if snapshot_now:
                snapshot(step)
            if checkpoint_now:
                result.last_losses = _floats(losses)
                save()
    result.finished = result.steps_done >= steps or not live
    result.wall_s = elapsed_before + time.perf_counter() - start
    if losses:
        result.last_losses = _floats(losses)
    save()
    return result
