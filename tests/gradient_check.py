"""Shared check that a model's players each receive the gradient of their own loss only."""
import copy

import torch


def assert_each_player_gets_only_its_own_gradient(model, batch, monkeypatch):
    """From one saved training state: the gradients each optimiser steps with must equal autograd of that player's
    loss with respect to its own parameters, and the check must be able to see a leak from D's loss to G's."""
    state = copy.deepcopy(model.training_state())
    players = model.players(batch)
    d, g = players["d_loss"], players["g_loss"]
    want = {"discriminator": torch.autograd.grad(d.loss.sum(), d.params, retain_graph=True),
            "generator": torch.autograd.grad(g.loss.sum(), g.params, retain_graph=True)}
    leak = torch.autograd.grad(d.loss.sum(), g.params, retain_graph=True, allow_unused=True)
    assert any(x is not None and x.abs().sum() > 0 for x in leak), "the check could not see a leak"
    assert not set(map(id, d.params)) & set(map(id, g.params))

    seen = {}
    for name, opt in model.optimizers.items():
        monkeypatch.setattr(opt, "step", lambda opt=opt, name=name: seen.__setitem__(
            name, [p.grad.clone() for group in opt.param_groups for p in group["params"]]))
    model.load_training_state(state)
    model.train_step(batch)
    for name, grads in want.items():
        assert len(seen[name]) == len(grads)
        for got, expected in zip(seen[name], grads):
            torch.testing.assert_close(got, expected)
