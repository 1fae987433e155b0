"""A critic that tries to tell generated tunes from real ones: a classifier two-sample test.

Lopez-Paz & Oquab (2017, "Revisiting classifier two-sample tests"): if a classifier, trained on part of two
samples, cannot tell them apart on the rest better than chance, the samples are alike in what the classifier
can see. Here the classifier is a logistic regression on the melodic features of emolib.music.eval.features
(each a number per piece), standardised, scored by stratified k-fold cross-validation. 0.5 = indistinguishable,
1.0 = told apart every time. Its control, :func:`shuffled_intervals`, is a melody with no contour.
"""
from __future__ import annotations

import numpy as np

from ..notes.roll import STEPS_PER_BAR, Note, notes_to_roll, roll_to_notes


def classifier():
    """The critic's classifier, untrained: features standardised, then a logistic regression."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))


def two_sample_accuracy(a: np.ndarray, b: np.ndarray, *, folds: int = 5, seed: int = 0) -> float:
    """Cross-validated accuracy of a logistic regression telling feature rows a from rows b (same number of each)."""
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    n = min(len(a), len(b))
    x = np.concatenate([a[:n], b[:n]])
    y = np.r_[np.zeros(n), np.ones(n)]
    clf = classifier()
    cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    return float(cross_val_score(clf, x, y, cv=cv, scoring="accuracy").mean())


def _summary(accs: list[float], n: int) -> dict:
    """The repeated test's result: mean accuracy, spread, range, pieces per side and number of repeats."""
    return {"accuracy": round(float(np.mean(accs)), 3), "spread": round(float(np.std(accs)), 3),
            "min": round(float(np.min(accs)), 3), "max": round(float(np.max(accs)), 3), "n": n, "repeats": len(accs)}


def critic(a: np.ndarray, b: np.ndarray, *, n: int = 64, repeats: int = 10, seed: int = 0) -> dict:
    """The two-sample test repeated on `repeats` random draws of n rows from each sample: mean accuracy and spread."""
    rng = np.random.default_rng(seed)
    accs = []
    for r in range(repeats):
        ia = rng.choice(len(a), min(n, len(a)), replace=False)
        ib = rng.choice(len(b), min(n, len(b)), replace=False)
        accs.append(two_sample_accuracy(a[ia], b[ib], seed=seed + r))
    return _summary(accs, int(min(n, len(a), len(b))))


def critic_matched(a: list[np.ndarray], b: list[np.ndarray], *, repeats: int = 10, seed: int = 0) -> dict:
    """The test with both sides matched group by group (e.g. emotion by emotion): a[i] are the rows of group i on
    one side; each repeat draws as many rows of b[i] as a[i] has (fewer if b[i] has fewer, and a[i] is cut to
    match), so neither side can be told apart by its mix of groups."""
    rng = np.random.default_rng(seed)
    accs, n = [], 0
    for r in range(repeats):
        xa, xb = [], []
        for ga, gb in zip(a, b):
            k = min(len(ga), len(gb))
            xa.append(ga[rng.choice(len(ga), k, replace=False)])
            xb.append(gb[rng.choice(len(gb), k, replace=False)])
        xa, xb = np.concatenate(xa), np.concatenate(xb)
        n = len(xa)
        accs.append(two_sample_accuracy(xa, xb, seed=seed + r))
    return _summary(accs, n)


def shuffled_intervals(roll: np.ndarray, rng: np.random.Generator, *, from_bar: int = 4) -> np.ndarray:
    """The same melody with its written part's intervals in random order (rhythm and first pitch kept):
    the baseline of a melody with no contour."""
    notes = roll_to_notes(roll)
    head = [n for n in notes if n.start < from_bar * STEPS_PER_BAR]
    tail = [n for n in notes if n.start >= from_bar * STEPS_PER_BAR]
    if len(tail) < 3:
        return roll.copy()
    intervals = rng.permutation(np.diff([n.pitch for n in tail]))
    pitches = np.clip(tail[0].pitch + np.concatenate([[0], np.cumsum(intervals)]), 0, 127)
    return notes_to_roll(head + [Note(int(p), n.start, n.end) for p, n in zip(pitches, tail)], len(roll))
