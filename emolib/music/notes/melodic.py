"""How a melody's bars relate, as a listener hears it: what a bar holds, and when two bars are alike. The GAN's
reference bars (emolib.music.models.gan_training) and the form figures (emolib.music.eval.features) are built on
these.
"""
from __future__ import annotations

from .roll import STEPS_PER_BAR, Note

VARIATION = 2 / 3  # a bar restates or varies an earlier one when at least this share of their notes is alike


def alike(a: set, b: set) -> float:
    """Share of notes two bars have in common, as sets of (onset, pitch), of the bar with more (0 if either is empty)."""
    return len(a & b) / max(len(a), len(b)) if a and b else 0.0


def bar_signature(notes: list[Note], bar: int) -> tuple:
    """A bar's content relative to its start: (onset, pitch, length) of each note starting in it."""
    start = bar * STEPS_PER_BAR
    return tuple((n.start - start, n.pitch, min(n.end, start + STEPS_PER_BAR) - n.start)
                 for n in notes if start <= n.start < start + STEPS_PER_BAR)
