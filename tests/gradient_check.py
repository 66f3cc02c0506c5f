"""Shared check that a model's players each receive the gradient of their own loss only."""
import copy

import torch


def assert_each_player_gets_only_its_own_gradient(model, batch, monkeypatch):
    """From one saved training state: the gradients each optimiser steps with must equal autograd of that player's
    loss with respect to its own parameters, and the check must be able to see a leak from a discriminator's loss to
    the generating side's parameters."""
    state = copy.deepcopy(model.training_state())
    players = model.players(batch)
    names = {id(opt): name for name, opt in model.optimizers.items()}
    want = {names[id(pl.optimizer)]: torch.autograd.grad(pl.loss.sum(), pl.params, retain_graph=True)
            for pl in players.values()}
    assert len(want) == len(players) == len(model.optimizers), "one optimiser a player"
    ids = [set(map(id, pl.params)) for pl in players.values()]
    assert all(not a & b for i, a in enumerate(ids) for b in ids[i + 1:]), "players share no parameter"
    first, *others = players.values()
    leak = torch.autograd.grad(first.loss.sum(), [p for pl in others for p in pl.params], retain_graph=True,
                               allow_unused=True)
    assert any(x is not None and x.abs().sum() > 0 for x in leak), "the check could not see a leak"

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
