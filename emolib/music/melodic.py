"""How a melody moves, as a listener hears it: intervals, range, restated bars and phrase endings.

The figures of the melody issue, measured on the bars a model wrote (by default bars 5-16: after the
4-bar opening), from a melody's notes in steps (16 per bar). And the overlapping area of Yang & Lerch
(2018, "On the evaluation of generative models in music"): the area shared by two feature
distributions (each a Gaussian kernel density estimate of one value per piece), 1 when a model's
pieces are distributed like the real ones, 0 when they never overlap.
"""
from __future__ import annotations

import numpy as np

from .key import detect_key
from .roll import STEPS_PER_BAR, Note, notes_to_roll, roll_to_notes

LONG_NOTE = 4  # steps: a note of a quarter or longer ends a phrase audibly


VARIATION = 2 / 3  # a bar restates or varies an earlier one when at least this share of their notes is alike


def alike(a: set, b: set) -> float:
    """Share of notes two bars have in common, as sets of (onset, pitch), of the bar with more (0 if either is empty)."""
    return len(a & b) / max(len(a), len(b)) if a and b else 0.0


def bar_signature(notes: list[Note], bar: int) -> tuple:
    """A bar's content relative to its start: (onset, pitch, length) of each note starting in it."""
    start = bar * STEPS_PER_BAR
    return tuple((n.start - start, n.pitch, min(n.end, start + STEPS_PER_BAR) - n.start)
                 for n in notes if start <= n.start < start + STEPS_PER_BAR)


def features(roll: np.ndarray, *, from_bar: int = 4, tonic: int | None = None) -> dict:
    """The listener's figures of one monophonic melody roll, over bars from_bar+1 .. the end.

    tonic: the piece's key note (default: Krumhansl-Kessler on the whole melody).
    """
    notes = roll_to_notes(roll)
    bars = len(roll) // STEPS_PER_BAR
    written = [n for n in notes if n.start >= from_bar * STEPS_PER_BAR]
    pitches = np.array([n.pitch for n in written])
    steps = np.abs(np.diff(pitches)) if len(pitches) > 1 else np.array([])
    signatures = [bar_signature(notes, b) for b in range(bars)]
    sounding = [b for b in range(from_bar, bars) if signatures[b]]
    restated = [b for b in sounding if signatures[b] in signatures[:b]]
    if tonic is None:
        tonic = detect_key(roll)[0] if notes else 0

    def ends_long(b: int) -> bool:
        last = [n for n in notes if b * STEPS_PER_BAR <= n.start < (b + 1) * STEPS_PER_BAR]
        return bool(last) and last[-1].end - last[-1].start >= LONG_NOTE

    phrase_ends = [b for b in (7, 15) if from_bar <= b < bars]
    others = [b for b in range(from_bar, bars) if b not in (7, 15)]
    nan = float("nan")
    return {
        "mean_interval": float(steps.mean()) if len(steps) else nan,
        "leaps_over_fifth": float((steps > 7).mean()) if len(steps) else nan,
        "leaps_over_octave": float((steps > 12).mean()) if len(steps) else nan,
        "step_share": float(((steps >= 1) & (steps <= 2)).mean()) if len(steps) else nan,
        "pitch_range": float(pitches.max() - pitches.min()) if len(pitches) else nan,
        "restated_bars": len(restated) / len(sounding) if sounding else nan,
        "ends_on_tonic": float(notes[-1].pitch % 12 == tonic % 12) if notes else nan,
        "long_at_phrase_ends": float(np.mean([ends_long(b) for b in phrase_ends])) if phrase_ends else nan,
        "long_elsewhere": float(np.mean([ends_long(b) for b in others])) if others else nan,
        "notes_per_bar": len(written) / max(1, bars - from_bar),
    }


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


def _kde(values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Gaussian kernel density with Silverman's bandwidth (a floor keeps a constant feature a narrow bump)."""
    spread = min(values.std(ddof=1) if len(values) > 1 else 0.0,
                 (np.subtract(*np.percentile(values, [75, 25])) / 1.34) or np.inf)
    bandwidth = max(0.9 * spread * len(values) ** -0.2, 1e-3 * max(1.0, np.abs(values).max()), 1e-6)
    density = np.exp(-0.5 * ((grid[:, None] - values[None, :]) / bandwidth) ** 2).sum(axis=1)
    return density / np.trapezoid(density, grid)


def overlapping_area(a, b, points: int = 512) -> float:
    """Yang & Lerch's overlapping area of two samples of one feature: the integral of min(p_a, p_b)."""
    a, b = (np.asarray(x, float) for x in (a, b))
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    if len(a) < 2 or len(b) < 2:
        return float("nan")
    lo, hi = min(a.min(), b.min()), max(a.max(), b.max())
    pad = 0.25 * (hi - lo) + 1e-3
    grid = np.linspace(lo - pad, hi + pad, points)
    return float(np.trapezoid(np.minimum(_kde(a, grid), _kde(b, grid)), grid))


OA_FEATURES = ("mean_interval", "leaps_over_fifth", "step_share", "pitch_range")


def compare_to_real(generated: list[dict], real: list[dict], keys: tuple[str, ...] = OA_FEATURES) -> dict[str, float]:
    """Overlapping area of each feature's per-piece distribution with the real tunes', and their mean."""
    out = {k: overlapping_area([g[k] for g in generated], [r[k] for r in real]) for k in keys}
    out["mean"] = float(np.nanmean(list(out.values())))
    return out
