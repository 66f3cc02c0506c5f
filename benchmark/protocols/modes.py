"""Mode coverage on a mixture of equal-weight isotropic Gaussians (ALI section 4.5, VEEGAN's high-quality count)."""
from __future__ import annotations

import math

import torch


def log_responsibilities(samples: torch.Tensor, centres: torch.Tensor, std: float) -> torch.Tensor:
    """log p(k | x) for each sample and component, computed in log space.

    Raw responsibilities underflow at std 0.05 (exp(-d^2 / 2 sigma^2) is 0 in float64 once a sample lies about
    1.9 away from every centre), which would make far samples unassignable; log-sum-exp does not.
    """
    x = samples.double()
    mu = centres.double()
    sq_dist = torch.cdist(x, mu).square()
    log_density = -sq_dist / (2 * std**2) - x.shape[1] * math.log(math.sqrt(2 * math.pi) * std)
    log_density = log_density - math.log(len(mu))
    return log_density - torch.logsumexp(log_density, dim=1, keepdim=True)


def mode_coverage(samples: torch.Tensor, centres: torch.Tensor, std: float, hq_sigmas: float = 3.0) -> dict:
    """Modes covered, high-quality modes and the fraction of high-quality samples.

    - modes_covered: components that receive at least one sample when each sample goes to its component of
      highest responsibility (every sample counts, however far from every mode).
    - hq_modes: components with at least one sample within hq_sigmas * std of their centre.
    - hq_fraction: share of samples within hq_sigmas * std of the centre they are assigned to.
    Non-finite samples are assigned nowhere and never high quality.
    """
    finite = torch.isfinite(samples).all(dim=1)
    good = samples[finite]
    k = len(centres)
    if len(good) == 0:
        return {"modes_covered": 0, "hq_modes": 0, "hq_fraction": 0.0, "n_samples": int(len(samples))}
    assigned = log_responsibilities(good, centres, std).argmax(dim=1)
    distance = (good.double() - centres.double()[assigned]).norm(dim=1)
    high_quality = distance <= hq_sigmas * std
    return {
        "modes_covered": int(torch.bincount(assigned, minlength=k).gt(0).sum()),
        "hq_modes": int(torch.bincount(assigned[high_quality], minlength=k).gt(0).sum()),
        "hq_fraction": float(high_quality.sum()) / len(samples),
        "n_samples": int(len(samples)),
    }


def nearest_component(samples: torch.Tensor, centres: torch.Tensor, std: float) -> torch.Tensor:
    return log_responsibilities(samples, centres, std).argmax(dim=1)
