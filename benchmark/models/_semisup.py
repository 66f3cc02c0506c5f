"""What every semi-supervised family shares: the learning-rate schedule of the Improved-GAN scripts, the parameter
average of the classifier, the classifier that test error is measured with, and snapshots of it for learning curves.

A semi-supervised model trains from `SemiBatch`es (labelled, unlabelled, second unlabelled) and is told its training
length before the first update (`set_training_length`), since its schedule is written in epochs.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import torch
from torch import nn

from benchmark.models._image import ImageModel, to_unit
from benchmark.optim import ParameterAverage


@dataclass(frozen=True)
class SemiSupervisedConfig:
    """lr and beta1 of Adam; the learning rate decays linearly to 0 over the last `decay_fraction` of the epochs
    [code: SVHN lr * min(3 - epoch/300, 1) over 900 epochs, i.e. the last third; MNIST constant]; the classifier is
    tested with the average a <- a + ema_rate * (p - a) of its parameters (0: the live parameters)."""

    lr: float = 3e-4
    beta1: float = 0.5
    decay_fraction: float = 0.0
    ema_rate: float = 1e-4
    unlabelled_weight: float = 1.0


class SemiSupervisedModel(ImageModel):
    """Subclasses build their networks, set `self.classifier_net` (the module whose logits classify) and call
    `self.finish()`, make their optimisers, then `self.start_average()`."""

    semi_supervised = True
    classifier_net: nn.Module

    def __init__(self, arch, config: SemiSupervisedConfig, seed: int, runtime):
        super().__init__(arch, seed, runtime)
        self.config = config
        self.step_count = 0
        self.steps_total, self.steps_per_epoch = 1, 1
        self.average: ParameterAverage | None = None

    @property
    def classes(self) -> int:
        return self.arch.classes

    def start_average(self) -> None:
        if self.config.ema_rate > 0:
            self.average = ParameterAverage(self.classifier_net, self.config.ema_rate)

    def set_training_length(self, steps: int, steps_per_epoch: int) -> None:
        self.steps_total, self.steps_per_epoch = max(steps, 1), max(steps_per_epoch, 1)

    def lr_factor(self) -> float:
        """min(1, (E - e) / (decay_fraction * E)) at epoch e of E [code], 1 without decay."""
        if self.config.decay_fraction <= 0:
            return 1.0
        epochs = math.ceil(self.steps_total / self.steps_per_epoch)
        epoch = self.step_count // self.steps_per_epoch
        return min(1.0, (epochs - epoch) / (self.config.decay_fraction * epochs))

    def set_learning_rates(self) -> None:
        """Every optimiser's learning rate at its own base rate times `lr_factor` (the AAE's adversarial phases have
        a base rate of their own; the base is kept in the group as "initial_lr", as torch's schedulers keep it)."""
        factor = self.lr_factor()
        for optimizer in self.optimizers.values():
            for group in optimizer.param_groups:
                group["lr"] = group.setdefault("initial_lr", group["lr"]) * factor

    def after_update(self) -> None:
        self.step_count += 1
        if self.average is not None:
            self.average.update(self.classifier_net)

    def unit(self, x: torch.Tensor) -> torch.Tensor:
        """Images of a batch (uint8 on any device) as float in [0, 1] on the model's device."""
        return to_unit(x.to(self.runtime.device, non_blocking=True))

    def logits(self, net: nn.Module, x: torch.Tensor) -> torch.Tensor:
        """The K class logits of `net` on images in [0, 1] (subclasses map the input range or pick a head)."""
        return net(x)

    def training_state(self) -> dict:
        state = super().training_state()
        state["step_count"] = self.step_count
        state["average"] = self.average.state_dict() if self.average is not None else None
        return state

    def load_training_state(self, state: dict) -> None:
        super().load_training_state(state)
        self.step_count = state["step_count"]
        if self.average is not None:
            self.average.load_state_dict(state["average"])

    def classifier_state(self) -> dict:
        """The classifier's state as it is tested: averaged parameters where there is an average [code]."""
        net = self.classifier_net
        return self.average.averaged_state(net) if self.average is not None else copy.deepcopy(net.state_dict())

    def snapshot(self) -> dict:
        return {"step": self.step_count, "classifier": self.classifier_state()}

    @torch.no_grad()
    def classify(self, images: torch.Tensor, state: dict | None = None, batch: int = 1000) -> torch.Tensor:
        """Logits (N, K) of uint8 images in eval mode (no noise, no dropout), with the classifier's state as tested
        (or `state`, e.g. a snapshot's; `state={}`: the live parameters).  The state is swapped into the classifier
        for the call and the live one put back after."""
        net = self.classifier_net
        live = copy.deepcopy(net.state_dict())
        if state is None:
            state = self.classifier_state()
        was_training = self.training
        self.eval()
        try:
            if state:
                net.load_state_dict(state)
            return torch.cat([self.logits(net, self.unit(chunk)).float().cpu() for chunk in images.split(batch)])
        finally:
            net.load_state_dict(live)
            self.train(was_training)
