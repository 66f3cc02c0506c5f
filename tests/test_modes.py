import math

import torch

from benchmark.data import gmm
from benchmark.protocols.modes import log_responsibilities, mode_coverage, nearest_component
from benchmark.protocols.recon import euclidean_error

STD = 0.05


def test_samples_from_the_true_mixture_cover_all_25_modes():
    x, _ = gmm.sample(10_000, STD, torch.Generator().manual_seed(0))
    out = mode_coverage(x, gmm.centres(), STD)
    assert out["modes_covered"] == 25
    assert out["hq_modes"] == 25
    # within 3 std in 2-d: P(chi2_2 <= 9) = 1 - exp(-4.5) = 0.9889
    assert abs(out["hq_fraction"] - (1 - math.exp(-4.5))) < 0.005


def test_all_samples_at_one_centre_cover_one_mode():
    x = gmm.centres()[7].expand(1000, 2).clone()
    out = mode_coverage(x, gmm.centres(), STD)
    assert out == {"modes_covered": 1, "hq_modes": 1, "hq_fraction": 1.0, "n_samples": 1000}


def test_far_samples_count_toward_the_nearest_mode_without_underflow():
    far = torch.tensor([[100.0, 100.0], [-50.0, 3.1], [0.9, -250.0]])
    assert torch.isfinite(log_responsibilities(far, gmm.centres(), STD)).all()
    assigned = nearest_component(far, gmm.centres(), STD)
    expected = torch.cdist(far, gmm.centres()).argmin(1)
    assert torch.equal(assigned, expected)
    out = mode_coverage(far, gmm.centres(), STD)
    assert out["modes_covered"] == 3 and out["hq_modes"] == 0 and out["hq_fraction"] == 0.0


def test_raw_responsibilities_would_underflow_here():
    """The oracle for the log-space requirement: the naive computation gives 0/0 for a far sample."""
    far = torch.tensor([[100.0, 100.0]], dtype=torch.float64)
    density = torch.exp(-torch.cdist(far, gmm.centres().double()).square() / (2 * STD**2))
    assert density.sum() == 0


def test_high_quality_radius_is_three_std():
    c = gmm.centres()[0]
    inside, outside = c + torch.tensor([2.9 * STD, 0.0]), c + torch.tensor([0.0, 3.1 * STD])
    assert mode_coverage(inside[None], gmm.centres(), STD)["hq_modes"] == 1
    assert mode_coverage(outside[None], gmm.centres(), STD)["hq_modes"] == 0


def test_non_finite_samples_are_never_assigned():
    x = torch.tensor([[float("nan"), 0.0], [0.0, 0.0]])
    out = mode_coverage(x, gmm.centres(), STD)
    assert out["modes_covered"] == 1 and out["hq_fraction"] == 0.5


def test_reconstruction_error_identity_is_zero_and_shift_is_its_norm():
    x = torch.randn(50, 2)
    assert euclidean_error(x, x) == 0.0
    assert abs(euclidean_error(x, x + torch.tensor([3.0, 4.0])) - 5.0) < 1e-5


def test_both_distances_are_0_for_an_identity_reconstruction_and_the_random_pair_is_farther():
    from benchmark.protocols.recon import reconstruction_distances, unrelated

    x = torch.rand(16, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    embed = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(192, 5))
    with torch.no_grad():
        d = reconstruction_distances(x, x.clone(), embed=embed, seed=3)
    assert d["euclidean"] == 0.0 and d["embedded"] == 0.0
    assert d["euclidean_random_pair"] > 0.0 and d["embedded_random_pair"] > 0.0
    pairs = unrelated(16, 3)
    assert sorted(pairs.tolist()) == list(range(16)) and bool((pairs != torch.arange(16)).all())
    assert torch.equal(pairs, unrelated(16, 3)) and not torch.equal(pairs, unrelated(16, 4))


def test_cluster_accuracy_of_a_perfect_a_permuted_and_a_constant_assignment():
    import numpy as np

    from benchmark.protocols.clustering import cluster_accuracy

    labels = np.repeat(np.arange(10), [12, 8, 10, 10, 9, 11, 10, 10, 10, 10])
    assert cluster_accuracy(labels, labels)["accuracy"] == 1.0
    permuted = (labels * 7 + 3) % 10  # another name for every cluster: still perfect
    out = cluster_accuracy(permuted, labels)
    assert out["accuracy"] == 1.0 and out["mapping"][3] == 0
    constant = cluster_accuracy(np.zeros_like(labels), labels)
    assert constant["accuracy"] == 12 / 100 and constant["clusters"] == 1  # the majority class's share (~11 %)
