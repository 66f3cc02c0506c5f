import copy

import torch

from benchmark.optim import StackedAdam


def _run(opt_factory, params, grads):
    opt = opt_factory(params)
    for g in grads:
        for p, gp in zip(params, g):
            p.grad = gp.clone()
        opt.step()
    return [p.detach().clone() for p in params]


def test_one_run_matches_torch_adam():
    torch.manual_seed(0)
    w0, b0 = torch.randn(1, 5, 3), torch.randn(1, 1, 3)
    grads = [[torch.randn(1, 5, 3), torch.randn(1, 1, 3)] for _ in range(20)]
    ours = _run(lambda ps: StackedAdam(ps, lr=torch.tensor([3e-3]), beta1=torch.tensor([0.8])),
                [w0.clone().requires_grad_(), b0.clone().requires_grad_()], grads)
    ref = _run(lambda ps: torch.optim.Adam(ps, lr=3e-3, betas=(0.8, 0.999)),
               [w0.clone().requires_grad_(), b0.clone().requires_grad_()], grads)
    for a, b in zip(ours, ref):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)


def test_each_run_follows_its_own_lr_and_beta1():
    torch.manual_seed(1)
    lrs, beta1s = [1e-3, 5e-3, 2e-2], [0.5, 0.8, 0.9]
    w0 = torch.randn(3, 4, 2)
    grads = [[torch.randn(3, 4, 2)] for _ in range(10)]
    stacked = _run(lambda ps: StackedAdam(ps, lr=torch.tensor(lrs), beta1=torch.tensor(beta1s)),
                   [w0.clone().requires_grad_()], grads)[0]
    for r in range(3):
        alone = _run(lambda ps: torch.optim.Adam(ps, lr=lrs[r], betas=(beta1s[r], 0.999)),
                     [w0[r].clone().requires_grad_()], [[g[0][r]] for g in grads])[0]
        torch.testing.assert_close(stacked[r], alone, rtol=1e-6, atol=1e-7)


def test_state_dict_round_trip_continues_identically():
    torch.manual_seed(2)
    p1 = torch.randn(2, 3, requires_grad=True)
    opt = StackedAdam([p1], lr=torch.tensor([1e-2, 2e-2]), beta1=torch.tensor([0.5, 0.9]))
    p1.grad = torch.randn(2, 3)
    opt.step()
    p2 = p1.detach().clone().requires_grad_()
    opt2 = StackedAdam([p2], lr=torch.tensor([1e-2, 2e-2]), beta1=torch.tensor([0.5, 0.9]))
    opt2.load_state_dict(copy.deepcopy(opt.state_dict()))  # as through torch.save / torch.load
    g = torch.randn(2, 3)
    p1.grad, p2.grad = g.clone(), g.clone()
    opt.step()
    opt2.step()
    assert torch.equal(p1, p2)
