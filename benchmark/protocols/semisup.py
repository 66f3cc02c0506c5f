"""The semi-supervised protocol of Improved-GAN (Salimans et al. 2016, official code openai/improved-gan), as pure
functions: the labelled draw, the K+1 discriminator loss with the fake logit fixed at 0, feature matching, and the
test error count.  The models that train with them live in benchmark.models; nothing here holds state."""
from __future__ import annotations

import torch
from torch.nn import functional as F

FEATURE_MATCHING_NORMS = ("square", "abs")  # [code] MNIST squares the mean difference, SVHN and CIFAR-10 take |.|


def labelled_draw(labels: torch.Tensor, per_class: int, seed: int) -> torch.Tensor:
    """Indices of the labelled examples: the first `per_class` of each class after a permutation drawn with `seed`
    [code: `inds = data_rng.permutation(n)`, then the first `count` of each class], in class order."""
    labels = torch.as_tensor(labels).flatten()
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    chosen = []
    for k in torch.unique(labels).tolist():
        of_class = order[labels[order] == k]
        if len(of_class) < per_class:
            raise ValueError(f"class {k} has {len(of_class)} examples, fewer than the {per_class} labels asked for")
        chosen.append(of_class[:per_class])
    return torch.cat(chosen)


def k_plus_one_losses(logits_lab: torch.Tensor, labels: torch.Tensor, logits_unl: torch.Tensor,
                      logits_fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(labelled loss, unlabelled loss) of the K+1 discriminator whose fake logit is fixed at 0 [code].

    With l(x) the K real logits and lse = logsumexp over them, p(fake | x) = 1 / (1 + exp(lse)).  Labelled: the
    cross-entropy of the K-way softmax.  Unlabelled: -½ E[log(1 - p_fake(x_unl))] - ½ E[log p_fake(G(z))], written
    as -½ mean lse(unl) + ½ mean softplus(lse(unl)) + ½ mean softplus(lse(fake)).
    """
    lse_unl, lse_fake = torch.logsumexp(logits_unl, 1), torch.logsumexp(logits_fake, 1)
    loss_lab = F.cross_entropy(logits_lab, labels)
    loss_unl = (-0.5 * lse_unl.mean() + 0.5 * F.softplus(lse_unl).mean() + 0.5 * F.softplus(lse_fake).mean())
    return loss_lab, loss_unl


def k_plus_one_generator_loss(logits_real: torch.Tensor, logits_fake: torch.Tensor) -> torch.Tensor:
    """The generating players' loss without feature matching (ALI's K+1 rows): ALI's label-swapped adversarial loss
    on D's real-vs-fake decision, whose logit in the K+1 discriminator is lse(l):
    softplus(lse(real pairs)) + softplus(-lse(fake pairs)) [ours: the paper says "the ALI adversarial loss"]."""
    return (F.softplus(torch.logsumexp(logits_real, 1)).mean()
            + F.softplus(-torch.logsumexp(logits_fake, 1)).mean())


def feature_matching(real: torch.Tensor, fake: torch.Tensor, norm: str = "square") -> torch.Tensor:
    """Mean over features of the squared (or absolute) difference between the batch means of real and generated
    features [code]; zero when the two means are equal."""
    if norm not in FEATURE_MATCHING_NORMS:
        raise ValueError(f"feature matching norm must be one of {FEATURE_MATCHING_NORMS}, not {norm!r}")
    diff = real.flatten(1).mean(0) - fake.flatten(1).mean(0)
    return diff.square().mean() if norm == "square" else diff.abs().mean()


def count_errors(logits: torch.Tensor, labels: torch.Tensor) -> dict:
    """Misclassified test examples under argmax of the K logits: count, fraction and n."""
    labels = torch.as_tensor(labels).flatten()
    if len(logits) != len(labels):
        raise ValueError(f"{len(logits)} predictions for {len(labels)} labels")
    errors = int((logits.argmax(1).cpu() != labels.cpu()).sum())
    return {"errors": errors, "error_rate": errors / max(len(labels), 1), "n": int(len(labels))}
