"""Decoding and post-processing: how notes are chosen from a model's probabilities, and what may change them after.

**Decoding** is the model's own choice, made from its probabilities; every setting is an argument of both
models' ``generate`` (:class:`emolib.music.models.MelodyModel`), with the same meaning for each:

- ``temperature`` (1.0 = the model's probabilities as they are; lower sharpens, higher flattens),
- ``top_k`` (keep the k most likely choices; 1 = always the most likely, greedy),
- ``top_p`` (nucleus sampling: the smallest set of choices holding probability top_p),
- ``leap_penalty`` (a re-ranking: each pitch's probability is weighted by exp(-leap_penalty * semitones beyond
  a fourth from the previous note), so large leaps become less likely; 0 = off),
- ``grid`` (notes may start only every `grid` steps and last whole cells: 2 = eighths, 4 = quarters; 1 = off).

**Post-processing** writes or moves notes after the model has chosen them. It is never part of ``generate``:
each step takes a :class:`~emolib.music.piece.Piece` and returns one whose ``edits`` name the step in every bar
it changed, so a figure or a summary can say so. Here: :func:`snap` (every out-of-key note moved into the
key); the form plan's restated bars and cadence notes are :func:`emolib.music.form.apply_form`.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import BadInput
from .key import scale_pitch_classes
from .piece import Piece
from .roll import N_PITCHES

FREE_LEAP = 5  # semitones: moves up to a fourth are never penalised by the leap penalty
GRIDS = (1, 2, 4, 8, 16)  # grids that divide a 16-step bar
MAX_LEAP_PENALTY = 10.0  # leaps beyond a fourth all but forbidden
MAX_TEMPERATURE = 10.0

# What each decoding setting may be; check() refuses anything else with one line.
DEFAULTS = {"temperature": 1.0, "top_k": None, "top_p": None, "leap_penalty": 0.0, "grid": 1}


def _number(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating)) and math.isfinite(value)


def check(settings: dict) -> dict:
    """Decoding settings, each validated (one BadInput line for a bad one); unknown names are refused."""
    unknown = sorted(set(settings) - set(DEFAULTS))
    if unknown:
        raise BadInput(f"unknown decoding setting {', '.join(unknown)}: the settings are {', '.join(DEFAULTS)}")
    out = dict(settings)
    if "temperature" in out:
        t = out["temperature"]
        if not _number(t) or not 0 < t <= MAX_TEMPERATURE:
            raise BadInput(f"temperature must be a number above 0 and at most {MAX_TEMPERATURE:g}, got {t!r}")
        out["temperature"] = float(t)
    if out.get("top_k") is not None:
        k = out["top_k"]
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= 1000:
            raise BadInput(f"top_k must be a whole number from 1 (always the most likely) to 1000, or None, got {k!r}")
        out["top_k"] = int(k)
    if out.get("top_p") is not None:
        p = out["top_p"]
        if not _number(p) or not 0 < p <= 1:
            raise BadInput(f"top_p must be a number above 0 and at most 1, or None, got {p!r}")
        out["top_p"] = float(p)
    if "leap_penalty" in out:
        lp = out["leap_penalty"]
        if not _number(lp) or not 0 <= lp <= MAX_LEAP_PENALTY:
            raise BadInput(f"leap_penalty must be a number from 0 (off) to {MAX_LEAP_PENALTY:g}, got {lp!r}")
        out["leap_penalty"] = float(lp)
    if "grid" in out:
        g = out["grid"]
        if isinstance(g, bool) or not isinstance(g, (int, np.integer)) or int(g) not in GRIDS:
            raise BadInput(f"grid must be one of {', '.join(map(str, GRIDS))} steps (1 = no grid), got {g!r}")
        out["grid"] = int(g)
    return out


def leap_weights(last: int | None, leap_penalty: float, n: int = N_PITCHES, free: int = FREE_LEAP) -> np.ndarray:
    """(n,) multiplicative weights for the next pitch: 1 within a fourth of `last`, exp(-penalty * excess) beyond."""
    if last is None or leap_penalty <= 0:
        return np.ones(n)
    return np.exp(-leap_penalty * np.maximum(0, np.abs(np.arange(n) - last) - free))


def most_likely(probs: np.ndarray, k: int = 1, threshold: float = 0.5) -> np.ndarray:
    """Binary roll from note probabilities: at most k pitches per step, each above threshold (silence allowed)."""
    out = np.zeros(probs.shape, dtype=np.uint8)
    idx = np.argsort(-probs, axis=1)[:, :k]
    rows = np.arange(len(probs))[:, None]
    keep = probs[rows, idx] >= threshold
    out[np.broadcast_to(rows, idx.shape)[keep], idx[keep]] = 1
    return out


def top1_near(probs: np.ndarray, last: int | None = None, threshold: float = 0.5, leap_penalty: float = 0.0,
              free: int = FREE_LEAP) -> np.ndarray:
    """A melody (one pitch per step) from note probabilities that prefers small moves: greedy with the leap penalty.

    Whether a step sounds is decided exactly as by most_likely(k=1): its most likely pitch reaches the threshold.
    Which pitch sounds is the most likely after weighting by leap_weights(previous pitch): the rhythm is
    untouched. leap_penalty=0 is most_likely(k=1).
    """
    out = np.zeros(probs.shape, dtype=np.uint8)
    for t, p in enumerate(probs):
        if p.max() < threshold:
            continue
        if last is not None and leap_penalty > 0:
            p = p * leap_weights(last, leap_penalty, len(p), free)
        last = int(np.argmax(p))
        out[t, last] = 1
    return out


def _restrict(weights: np.ndarray, top_k: int | None, top_p: float | None) -> np.ndarray:
    """Zero every choice outside the top_k most likely and outside the top_p nucleus (of the normalised weights)."""
    w = weights.copy()
    order = np.argsort(-w, kind="stable")
    if top_k is not None:
        w[order[top_k:]] = 0.0
    if top_p is not None:
        p = w[order] / w.sum()
        keep = np.cumsum(p) - p < top_p
        w[order[~keep]] = 0.0
    return w


def choose_steps(probs: np.ndarray, *, last: int | None, rng: np.random.Generator, threshold: float = 0.5,
                 temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None,
                 leap_penalty: float = 0.0) -> np.ndarray:
    """A melody from per-step note probabilities (steps, 128), such as the GAN's sigmoid outputs.

    A step sounds when its most likely pitch reaches `threshold` (so the model decides the rhythm). Its pitch
    is the model's choice: weighted by the leap penalty, sharpened or flattened by the temperature, limited to
    top_k / top_p, then drawn; top_k=1 takes the most likely pitch (no draw).
    """
    if top_k == 1:  # greedy: the same choice whatever the temperature
        return most_likely(probs, 1, threshold) if leap_penalty <= 0 else top1_near(probs, last, threshold, leap_penalty)
    out = np.zeros(probs.shape, dtype=np.uint8)
    for t, p in enumerate(probs):
        if p.max() < threshold:
            continue
        w = p * leap_weights(last, leap_penalty, len(p))
        w = np.power(np.maximum(w, 0.0), 1.0 / temperature)
        w = _restrict(w, top_k, top_p)
        last = int(rng.choice(len(w), p=w / w.sum())) if w.sum() > 0 else int(np.argmax(p))
        out[t, last] = 1
    return out


def cells(probs: np.ndarray, grid: int) -> np.ndarray:
    """Probabilities averaged over cells of `grid` steps: (steps // grid, pitches)."""
    return probs.reshape(len(probs) // grid, grid, probs.shape[1]).mean(axis=1)


def sample_token(logits, allowed: np.ndarray, *, generator, temperature: float = 1.0, top_k: int | None = None,
                 top_p: float | None = None) -> int:
    """One token drawn from a model's next-token logits (a torch vector), among the `allowed` ones (a mask),
    after temperature, top_k and top_p (the transformer's decoding)."""
    import torch

    logits = logits / temperature
    logits[torch.from_numpy(~allowed)] = -float("inf")
    probs = torch.softmax(logits, -1)
    order = torch.argsort(probs, descending=True)
    keep = torch.ones(len(order), dtype=torch.bool)
    if top_k is not None:
        keep[top_k:] = False
    if top_p is not None:
        keep &= torch.cumsum(probs[order], 0) - probs[order] < top_p
    p = torch.zeros_like(probs)
    p[order[keep]] = probs[order[keep]]
    return int(torch.multinomial(p / p.sum(), 1, generator=generator))


# ---- post-processing: notes changed after the model chose them ------------------------------------------

def snap_to_key(roll: np.ndarray, tonic: int, mode: str) -> np.ndarray:
    """Move every out-of-key note to the nearest pitch of the key (down on a tie)."""
    allowed = scale_pitch_classes(tonic, mode)
    target = np.arange(N_PITCHES)
    for p in range(N_PITCHES):
        if p % 12 not in allowed:
            target[p] = p - 1 if (p - 1) % 12 in allowed else p + 1
    out = np.zeros_like(roll)
    t, p = np.nonzero(roll)
    out[t, np.clip(target[p], 0, N_PITCHES - 1)] = 1
    return out


SNAP = "snapped to the key"


def snap(piece: Piece) -> Piece:
    """Post-processing: every out-of-key note of the piece moved into its key (explicit mode control)."""
    return piece.edited(snap_to_key(piece.roll, piece.tonic, piece.mode), SNAP)
