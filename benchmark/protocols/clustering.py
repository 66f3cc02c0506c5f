"""Unsupervised clustering accuracy (the AAE and IAE papers' MNIST clustering): each cluster is mapped to the label
most of its members carry, and the accuracy is the fraction of examples whose cluster's label is their own."""
from __future__ import annotations

import numpy as np


def cluster_accuracy(assignments, labels) -> dict:
    """{"accuracy", "clusters" (the number used), "mapping" (cluster -> its majority label; ties: the smaller
    label)} of integer cluster assignments against integer labels."""
    assignments, labels = np.asarray(assignments).ravel(), np.asarray(labels).ravel()
    if assignments.shape != labels.shape or not len(labels):
        raise ValueError(f"{assignments.shape} assignments for {labels.shape} labels")
    mapping, correct = {}, 0
    for cluster in np.unique(assignments):
        members = labels[assignments == cluster]
        values, counts = np.unique(members, return_counts=True)
        mapping[int(cluster)] = int(values[np.argmax(counts)])
        correct += int(counts.max())
    return {"accuracy": correct / len(labels), "clusters": len(mapping), "mapping": mapping}
