"""A decision prior: a classifier's answer moved towards some classes after its networks have spoken.

Adding b to a class's log-probability (its probability times e^b, then renormalised) trades a little accuracy
elsewhere for recall of that class; scripts/choose_prior.py picks b on validation faces by a rule written first.
A checkpoint keeps its prior in its config (``decision_prior``); an empty prior changes nothing.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import EmolibError


def apply_prior(probs: np.ndarray, classes, prior: dict[str, float]) -> np.ndarray:
    """Move a decision towards some classes: b added to each named class's log-probability, then renormalised
    (its probability times e^b, every class scaled so they sum to 1 again). An empty prior changes nothing."""
    if not prior:
        return probs
    unknown = [name for name in prior if name not in classes]
    if unknown:
        raise ValueError(f"a decision prior for {', '.join(map(repr, unknown))}, which is not one of {tuple(classes)}")
    weights = np.array([math.exp(prior.get(name, 0.0)) for name in classes])
    moved = probs * weights
    return (moved / moved.sum(axis=1, keepdims=True)).astype(probs.dtype)


def check_prior(prior, classes, path) -> dict[str, float]:
    """A checkpoint's decision prior as apply_prior takes it, or a clear error."""
    if not isinstance(prior, dict) or not all(
            c in classes and isinstance(b, (int, float)) and not isinstance(b, bool) and math.isfinite(b) and abs(b) <= 5
            for c, b in prior.items()):
        raise EmolibError(f"{path}: its decision_prior {prior!r} is not a map of class names to numbers in -5..5",
                          "reinstall emolib, or rebuild the checkpoint with scripts/ensemble_classifier.py --force "
                          "(which writes none) and rerun scripts/choose_prior.py --write")
    return {c: float(b) for c, b in prior.items()}

