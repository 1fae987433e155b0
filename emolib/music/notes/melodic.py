"""How a melody's bars relate, as a listener hears it: when two bars are alike, what a bar holds, and a
melody's intervals shuffled (the baseline of a melody with no contour). The form and critic figures
(benchmark.py, critic.py) are built on these.
"""
from __future__ import annotations

import numpy as np

from .roll import STEPS_PER_BAR, Note, notes_to_roll, roll_to_notes

VARIATION = 2 / 3  # a bar restates or varies an earlier one when at least this share of their notes is alike


def alike(a: set, b: set) -> float:
    """Share of notes two bars have in common, as sets of (onset, pitch), of the bar with more (0 if either is empty)."""
    return len(a & b) / max(len(a), len(b)) if a and b else 0.0


def bar_signature(notes: list[Note], bar: int) -> tuple:
    """A bar's content relative to its start: (onset, pitch, length) of each note starting in it."""
    start = bar * STEPS_PER_BAR
    return tuple((n.start - start, n.pitch, min(n.end, start + STEPS_PER_BAR) - n.start)
                 for n in notes if start <= n.start < start + STEPS_PER_BAR)


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
