"""The two-player game every adversarial family plays: each player's loss, its own parameters, its optimiser,
and one simultaneous update in which no gradient crosses from one player to another."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class Player:
    """One player of a game: the loss it minimises (per run, shape (R,)) and the parameters it moves."""

    loss: torch.Tensor
    params: list[nn.Parameter]
    optimizer: torch.optim.Optimizer


def update_players(players: list[Player]) -> None:
    """Simultaneous update: every player's gradient is taken from the same forward pass, each only with respect to
    its own parameters (torch.autograd.grad), before any parameter moves."""
    grads = [
        torch.autograd.grad(pl.loss.sum(), pl.params, retain_graph=i < len(players) - 1)
        for i, pl in enumerate(players)
    ]
    for pl, gs in zip(players, grads):
        for p, g in zip(pl.params, gs):
            p.grad = g
        pl.optimizer.step()
        for p in pl.params:
            p.grad = None


def adversarial_losses(logits: torch.Tensor, n_real: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(D loss, G loss) per run from one discriminator pass over [real; fake] (shape (R, 2B)).

    D minimises softplus(-D(real)) + softplus(D(fake)); the generating side minimises the label-swapped form.
    """
    real, fake = logits[:, :n_real], logits[:, n_real:]
    d_loss = nn.functional.softplus(-real).mean(1) + nn.functional.softplus(fake).mean(1)
    g_loss = nn.functional.softplus(real).mean(1) + nn.functional.softplus(-fake).mean(1)
    return d_loss, g_loss


def discriminator_game(logits: torch.Tensor, n_real: int, discriminator: nn.Module, generating_params: list,
                       optimizers: dict) -> dict[str, Player]:
    """The two players of a game from one discriminator pass over [real; fake] (logits (R, 2B)): D against the
    generating side (`generating_params`), with the optimisers named "discriminator" and "generator"."""
    d_loss, g_loss = adversarial_losses(logits, n_real)
    return {"d_loss": Player(d_loss, list(discriminator.parameters()), optimizers["discriminator"]),
            "g_loss": Player(g_loss, generating_params, optimizers["generator"])}
