"""Post-processing: notes written or moved after the model has chosen its own. Never part of composing by default:
each step is asked for by name (compose(post=[...]), --post), takes a :class:`~emolib.music.notes.piece.Piece` and
returns one whose ``edits`` name the step in every bar it changed, so every figure and summary can say which bars a
step rewrote. The steps: :func:`snap` (every out-of-key note moved into the key) and :func:`apply_form` (the form
plan's notes pasted over the piece: bars 13-15 restate bars 1-3, bar 8 ends on a half note of the dominant, the last
bar on a half note of the tonic).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .form import HALF_CADENCE_BAR, PHRASE_BARS, dominant
from .notes.key import scale_pitch_classes
from .notes.piece import Piece
from .notes.roll import N_PITCHES, STEPS_PER_BAR, TUNE_BARS, Note, notes_to_roll, roll_to_notes


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


def _end_bar_on(notes: list[Note], bar: int, pitch_classes: tuple[int, ...]) -> list[Note]:
    """Replace the second half of a bar by one half note on the listed pitch class nearest the line's last pitch."""
    mid, end = bar * STEPS_PER_BAR + STEPS_PER_BAR // 2, (bar + 1) * STEPS_PER_BAR
    before = [n for n in notes if n.start < mid]
    last = before[-1].pitch if before else (notes[0].pitch if notes else 67)
    target = min((p for p in range(last - 12, last + 13) if p % 12 in pitch_classes), key=lambda p: (abs(p - last), p))
    kept = [Note(n.pitch, n.start, min(n.end, mid)) if n.start < mid else n
            for n in notes if n.start < mid or n.start >= end]
    return sorted(kept + [Note(target, mid, end)], key=lambda n: (n.start, n.pitch))


FORM = "form plan"


def apply_form(piece: Piece) -> Piece:
    """Post-processing: the plan's notes written over the piece (each bar it changes records FORM)."""
    return piece.edited(form_notes(piece.roll, piece.tonic, piece.mode), FORM)


def form_notes(roll: np.ndarray, tonic: int, mode: str) -> np.ndarray:
    """The plan's notes on a melody roll: half cadence at bar 8, bars 1-3 restated as 13-15, tonic close."""
    bars = len(roll) // STEPS_PER_BAR
    notes = roll_to_notes(roll)
    if bars >= TUNE_BARS and bars % PHRASE_BARS == 0:  # a'': the last phrase restates the first three bars
        start = (bars - PHRASE_BARS) * STEPS_PER_BAR
        span = (PHRASE_BARS - 1) * STEPS_PER_BAR
        notes = [n for n in notes if not start <= n.start < start + span]
        notes = [Note(n.pitch, n.start, min(n.end, start)) if n.start < start < n.end else n for n in notes]
        notes += [Note(n.pitch, n.start + start, min(n.end, span) + start) for n in roll_to_notes(roll[:span])]
    if bars >= 12:
        notes = _end_bar_on(notes, HALF_CADENCE_BAR, dominant(tonic).pitch_classes)
    notes = _end_bar_on(notes, bars - 1, (tonic % 12,))
    return notes_to_roll(notes, len(roll))


# Post-processing steps by name: each takes a Piece and returns it with notes written or moved afterwards
# (and the bars it changed marked in Piece.edits). None of them is the model's own choice.
POST_STEPS: dict[str, Callable[[Piece], Piece]] = {"form": apply_form, "snap": snap}
