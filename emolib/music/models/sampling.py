"""Decoding: how notes are chosen from a model's probabilities. It is the model's own choice, made from its
probabilities; every setting is an argument of both models' ``generate`` (:class:`emolib.music.models.registry.MelodyModel`),
with the same meaning for each:

- ``temperature`` (1.0 = the model's probabilities as they are; lower sharpens, higher flattens),
- ``top_k`` (keep the k most likely choices; 1 = always the most likely, greedy),
- ``top_p`` (nucleus sampling: the smallest set of choices holding probability top_p),
- ``leap_penalty`` (a re-ranking: each pitch's probability is weighted by exp(-leap_penalty * semitones beyond
  a fourth from the previous note), so large leaps become less likely; 0 = off),
- ``grid`` (notes may start only every `grid` steps and last whole cells: 2 = eighths, 4 = quarters; 1 = off),
- ``cadence_tries`` (a re-ranking of whole bars: at the cadence bars, bar 8 and the last, the model writes up to
  n versions of the bar, each drawn from its own probabilities, and the first that ends on a held note of the
  cadence chord (:func:`emolib.music.form.cadence_goal`) is kept, else the first version; 1 = off),
- ``variation_tries`` (the same re-ranking at the bars the form plan has vary an earlier bar, 5-7 and 13-15: the
  first version that varies its reference bar, keeping its shape without copying it note for note
  (:func:`emolib.music.form.varies`), is kept, else the first; 1 = off).
Nothing is written for the model by either re-ranking: a version it never wrote cannot be chosen.

Every choice either model makes is drawn by one function, :func:`draw`. Writing or moving notes after the model
has chosen them is post-processing (emolib.music.post), never part of decoding.
"""
from __future__ import annotations

import functools
import math

import numpy as np
import torch

from ...errors import BadInput, brief
from ..notes.roll import N_PITCHES

FREE_LEAP = 5  # semitones: moves up to a fourth are never penalised by the leap penalty
GRIDS = (1, 2, 4, 8, 16)  # grids that divide a 16-step bar
MAX_LEAP_PENALTY = 10.0  # leaps beyond a fourth all but forbidden
MIN_TEMPERATURE, MAX_TEMPERATURE = 0.01, 10.0  # colder is the most likely choice (top_k=1); hotter is noise

TORCH_DTYPES = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}

# What each decoding setting may be; check() refuses anything else with one line.
DEFAULTS = {"temperature": 1.0, "top_k": None, "top_p": None, "leap_penalty": 0.0, "grid": 1, "cadence_tries": 1,
            "variation_tries": 1}
MAX_TRIES = 64  # versions of one bar at most (cadence_tries, variation_tries)


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
        if not _number(t) or not MIN_TEMPERATURE <= t <= MAX_TEMPERATURE:
            raise BadInput(f"temperature must be a number from {MIN_TEMPERATURE:g} to {MAX_TEMPERATURE:g} (top_k 1 for the "
                           f"most likely choice), got {brief(t)}")
        out["temperature"] = float(t)
    if out.get("top_k") is not None:
        k = out["top_k"]
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= 1000:
            raise BadInput(f"top_k must be a whole number from 1 (always the most likely) to 1000, or None, got {brief(k)}")
        out["top_k"] = int(k)
    if out.get("top_p") is not None:
        p = out["top_p"]
        if not _number(p) or not 0 < p <= 1:
            raise BadInput(f"top_p must be a number above 0 and at most 1, or None, got {brief(p)}")
        out["top_p"] = float(p)
    if "leap_penalty" in out:
        lp = out["leap_penalty"]
        if not _number(lp) or not 0 <= lp <= MAX_LEAP_PENALTY:
            raise BadInput(f"leap_penalty must be a number from 0 (off) to {MAX_LEAP_PENALTY:g}, got {brief(lp)}")
        out["leap_penalty"] = float(lp)
    if "grid" in out:
        g = out["grid"]
        if isinstance(g, bool) or not isinstance(g, (int, np.integer)) or int(g) not in GRIDS:
            raise BadInput(f"grid must be one of {', '.join(map(str, GRIDS))} steps (1 = no grid), got {brief(g)}")
        out["grid"] = int(g)
    for name in ("cadence_tries", "variation_tries"):
        if name in out:
            n = out[name]
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= MAX_TRIES:
                raise BadInput(f"{name} must be a whole number from 1 (off) to {MAX_TRIES}, got {brief(n)}")
            out[name] = int(n)
    return out


@functools.lru_cache(maxsize=1024)
def leap_weights(last: int | None, leap_penalty: float, n: int = N_PITCHES, free: int = FREE_LEAP) -> np.ndarray:
    """(n,) multiplicative weights for the next pitch: 1 within a fourth of `last`, exp(-penalty * excess) beyond
    (kept for the next call: read-only)."""
    w = np.ones(n)
    if last is not None and leap_penalty > 0:
        w = np.exp(-leap_penalty * np.maximum(0, np.abs(np.arange(n) - last) - free))
    w.flags.writeable = False
    return w


def draw(logits, *, generator: torch.Generator, allowed=None, temperature: float = 1.0, top_k: int | None = None,
         top_p: float | None = None) -> int:
    """One choice from a model's scores for its options (logits: a 1-D tensor or array; -inf rules an option out),
    among the `allowed` ones (a boolean mask), after temperature, top_k and top_p; top_k=1 takes the most likely, no
    draw. The draw is torch.multinomial's (the option with the largest probability / Exp(1) noise, the noise from
    `generator`), computed in numpy: a choice is a few microseconds, and the same seed gives the same choices as
    drawing through torch did (exactly tied probabilities at the top_k / top_p cut keep the first option). Logits
    are float32 or float64, on the CPU; an error if every option is ruled out."""
    x = (logits.numpy() if isinstance(logits, torch.Tensor) else np.asarray(logits)) / temperature
    if allowed is not None:
        x[~(allowed.numpy() if isinstance(allowed, torch.Tensor) else np.asarray(allowed))] = -np.inf
    if not np.isfinite(x).any():
        raise ValueError("draw: every option is ruled out (all logits -inf or none allowed)")
    if top_k == 1:
        return int(np.argmax(x))
    e = np.exp(x - x.max())
    p = e / e.sum()
    if top_k is not None or top_p is not None:  # keep the most likely options only
        order = np.argsort(-p, kind="stable")
        ranked = p[order]
        keep = np.cumsum(ranked) - ranked < top_p if top_p is not None else np.ones(len(p), dtype=bool)
        if top_k is not None:
            keep[top_k:] = False
        p = np.zeros_like(p)
        p[order[keep]] = ranked[keep]
    noise = torch.empty(len(p), dtype=TORCH_DTYPES[p.dtype]).exponential_(1, generator=generator).numpy()
    return int(np.argmax(p / p.sum() / noise))
