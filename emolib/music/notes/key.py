"""Key and mode detection with the Krumhansl-Kessler key profiles (as in music21 and MusPy)."""
from __future__ import annotations

import numpy as np

# Krumhansl & Kessler (1982) probe-tone ratings, tonic first.
MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10)  # natural minor; harmonic/melodic forms add 11 (and 9)


def pitch_class_histogram(pitches: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """(12,) share of each pitch class among `pitches`, each counted once or by its weight (a duration), summing to 1
    (zeros when there are none)."""
    hist = np.zeros(12)
    np.add.at(hist, np.asarray(pitches, dtype=int) % 12, 1.0 if weights is None else np.asarray(weights, dtype=float))
    total = hist.sum()
    return hist / total if total else hist


def roll_pitch_classes(roll: np.ndarray) -> np.ndarray:
    """The duration-weighted pitch-class histogram (12,) of a roll: each pitch weighted by the steps it sounds."""
    return pitch_class_histogram(np.arange(roll.shape[1]), np.asarray(roll, dtype=float).sum(axis=0))


def _standardize(x: np.ndarray) -> np.ndarray:
    x = x - x.mean(axis=-1, keepdims=True)
    norm = np.linalg.norm(x, axis=-1, keepdims=True)
    return np.divide(x, norm, out=np.zeros_like(x), where=norm > 0)


# (2, 12, 12): mode, tonic, pitch class - every key profile, standardised once
_PROFILES = _standardize(np.stack([[np.roll(p, t) for t in range(12)] for p in (MAJOR_PROFILE, MINOR_PROFILE)]))


def key_correlations(hist: np.ndarray) -> np.ndarray:
    """(2, 12) Pearson correlations of a histogram with every major (row 0) and minor (row 1) key."""
    return _PROFILES @ _standardize(np.asarray(hist, dtype=float))


def detect_key(roll_or_hist: np.ndarray, tonic: int | None = None) -> tuple[int, str, float]:
    """(tonic pitch class, "major"|"minor", margin) by the best key profile.

    With ``tonic`` given, only that tonic's major and minor are compared (the key of a folk tune's
    final note, say); margin is the correlation difference between the winner and the runner-up.
    """
    hist = roll_or_hist if np.ndim(roll_or_hist) == 1 else roll_pitch_classes(roll_or_hist)
    corr = key_correlations(hist)
    if tonic is not None:
        major, minor = corr[0, tonic], corr[1, tonic]
        return tonic, ("major" if major >= minor else "minor"), float(abs(major - minor))
    order = np.argsort(corr.ravel())[::-1]
    mode, best = divmod(int(order[0]), 12)
    return best, ("major", "minor")[mode], float(corr.ravel()[order[0]] - corr.ravel()[order[1]])


def key_name(tonic: int, mode: str) -> str:
    return f"{PITCH_NAMES[tonic % 12]} {mode}"


def scale_pitch_classes(tonic: int, mode: str) -> set[int]:
    """Pitch classes of the key's scale (minor includes the raised 7th of harmonic minor)."""
    steps = MAJOR_SCALE if mode == "major" else MINOR_SCALE + (11,)
    return {(tonic + s) % 12 for s in steps}
