"""How a melody's bars relate, as a listener hears it: what a bar holds, when two bars are alike, and which earlier bar
each bar restates or varies (its reference bar). Both models learn form from the reference bars of real tunes
(emolib.music.models.gan_training, emolib.music.models.transformer_training), and the form figures
(emolib.music.eval.features) are built on the same likeness.
"""
from __future__ import annotations

import numpy as np

from .roll import STEPS_PER_BAR, TUNE_BARS, Note, roll_to_notes

VARIATION = 2 / 3  # a bar restates or varies an earlier one when at least this share of their notes is alike


def alike(a: set, b: set) -> float:
    """Share of notes two bars have in common, as sets of (onset, pitch), of the bar with more (0 if either is empty)."""
    return len(a & b) / max(len(a), len(b)) if a and b else 0.0


def bar_signature(notes: list[Note], bar: int) -> tuple:
    """A bar's content relative to its start: (onset, pitch, length) of each note starting in it."""
    start = bar * STEPS_PER_BAR
    return tuple((n.start - start, n.pitch, min(n.end, start + STEPS_PER_BAR) - n.start)
                 for n in notes if start <= n.start < start + STEPS_PER_BAR)


def reference_bars(roll: np.ndarray) -> list[int | None]:
    """For each bar of a melody, the earlier bar of its 16-bar period that it restates or varies most closely (at
    least VARIATION of their notes alike), or None. Varying the bar just before is continuity, not form: only an
    exact repeat of it counts."""
    notes = roll_to_notes(roll)
    bars = [{(o, p) for o, p, _ in bar_signature(notes, b)} for b in range(len(roll) // STEPS_PER_BAR)]
    out: list[int | None] = []
    for b, here in enumerate(bars):
        best, best_alike = None, VARIATION
        for j in range(b - b % TUNE_BARS, b):
            s = alike(here, bars[j])
            if s >= best_alike and not (j == b - 1 and s < 1.0):
                best, best_alike = j, s
        out.append(best)
    return out
