"""Adam with a learning rate and beta1 per stacked run.

torch.optim.Adam takes one learning rate per parameter group; stacked runs (leading dimension R of every
parameter) each draw their own learning rate and beta1, so the step is written out with (R, 1, ...) tensors.
For R = 1 it matches torch.optim.Adam (see tests/test_optim.py).
"""
from __future__ import annotations

import torch


def _moments(state: dict, p: torch.Tensor) -> tuple[int, torch.Tensor, torch.Tensor]:
    """Count one more step of parameter `p` and return (step, first moment, second moment), made on first use."""
    if not state:
        state["step"] = 0
        state["exp_avg"] = torch.zeros_like(p)
        state["exp_avg_sq"] = torch.zeros_like(p)
    state["step"] += 1
    return state["step"], state["exp_avg"], state["exp_avg_sq"]


class StackedAdam(torch.optim.Optimizer):
    def __init__(self, params, lr: torch.Tensor, beta1: torch.Tensor, beta2: float = 0.999, eps: float = 1e-8):
        lr = torch.as_tensor(lr, dtype=torch.float32).flatten()
        beta1 = torch.as_tensor(beta1, dtype=torch.float32).flatten()
        if lr.shape != beta1.shape:
            raise ValueError("lr and beta1 need one value per run")
        super().__init__(params, dict(lr=lr, beta1=beta1, beta2=beta2, eps=eps))
        for group in self.param_groups:
            for p in group["params"]:
                if p.shape[0] != lr.numel():
                    raise ValueError(f"parameter of shape {tuple(p.shape)} has no leading run dimension {lr.numel()}")

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            beta2, eps = group["beta2"], group["eps"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                t, m, v = _moments(self.state[p], p)
                view = (-1,) + (1,) * (p.dim() - 1)
                beta1 = group["beta1"].to(p.device).view(view)
                step_size = (group["lr"].to(p.device) / (1 - group["beta1"].to(p.device) ** t)).view(view)
                m.lerp_(p.grad, 1 - beta1)
                v.mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
                # one scratch tensor, every other operation in place: large temporaries cost page faults on CPU
                update = torch.sqrt(v).div_((1 - beta2**t) ** 0.5).add_(eps)
                torch.div(m, update, out=update).mul_(step_size)
                p.sub_(update)
        return None


class AdamEpsInSqrt(torch.optim.Optimizer):
    """Adam as Improved-GAN's `nn.adam_updates` writes it: p -= lr * m_hat / sqrt(v_hat + eps), eps 1e-8 inside
    the square root (torch's Adam adds eps outside it, which takes full-size steps where gradients are tiny)."""

    def __init__(self, params, lr: float, beta1: float = 0.5, beta2: float = 0.999, eps: float = 1e-8):
        super().__init__(params, dict(lr=lr, beta1=beta1, beta2=beta2, eps=eps))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            beta1, beta2, eps, lr = group["beta1"], group["beta2"], group["eps"], group["lr"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                t, m, v = _moments(self.state[p], p)
                m.lerp_(p.grad, 1 - beta1)
                v.mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
                denominator = (v / (1 - beta2**t)).add_(eps).sqrt_()
                p.addcdiv_(m, denominator, value=-lr / (1 - beta1**t))
        return None


class ParameterAverage:
    """The exponential moving average a <- a + rate * (p - a) of a module's trainable parameters, started at zero as
    Improved-GAN's `disc_param_avg` is [code]; buffers (BatchNorm statistics, fixed weight scales) are not averaged
    and are taken from the live module when the average is used."""

    def __init__(self, module: torch.nn.Module, rate: float = 1e-4):
        self.rate = rate
        self.averages = {name: torch.zeros_like(p) for name, p in module.named_parameters()}

    @torch.no_grad()
    def update(self, module: torch.nn.Module) -> None:
        for name, p in module.named_parameters():
            self.averages[name].lerp_(p.detach(), self.rate)

    def averaged_state(self, module: torch.nn.Module) -> dict:
        """The module's state dict with every trainable parameter replaced by its average."""
        return {**module.state_dict(), **{k: v.clone() for k, v in self.averages.items()}}

    def state_dict(self) -> dict:
        return {"rate": self.rate, "averages": self.averages}

    def load_state_dict(self, state: dict) -> None:
        self.rate = state["rate"]
        for k, v in state["averages"].items():
            self.averages[k].copy_(v)
