"""Form: sixteen bars as four 4-bar phrases, a a' b a'', with cadences a listener can hear.

Two parts, kept apart because one is the model's input and the other is not:
- :func:`plan_chords`, the harmony the models are conditioned on as they write: bar 8 on the dominant (V)
  for a half cadence, bars 15-16 on V then I for the close;
- :func:`apply_form`, post-processing after the model (recorded in the Piece's ``edits``): bar 8 ends on a
  half note on a tone of the dominant chord (the phrase pauses, open), bars 13-15 restate bars 1-3, and the
  last bar ends on a half note on the tonic (the close).
Pieces of other lengths keep the close on their last bar, and the rest of the plan where it fits.
"""
from __future__ import annotations

import numpy as np

from dataclasses import replace

from .notes.chords import Chord
from .notes.piece import Piece
from .notes.roll import STEPS_PER_BAR, Note, notes_to_roll, roll_to_notes

HALF_CADENCE_BAR = 7  # 0-based: bar 8
PHRASE_BARS = 4
PERIOD = 16  # bars of the tune the plan repeats over
# a a' b a'': bars 5-7 vary bars 1-3 (a'), bars 13-15 vary them again (a''); as 0-based offsets in the period
VARIED = {4: 0, 5: 1, 6: 2, 12: 0, 13: 1, 14: 2}


def form_plan(bars: int) -> list[int | None]:
    """For each bar, the earlier bar it should vary (0-based), or None: the reference bars the GAN is conditioned
    on (emolib.music.models.gan), a a' b a'' over every 16 bars. The model writes the variation itself; nothing is pasted."""
    plan: list[int | None] = []
    for b in range(bars):
        start, r = b - b % PERIOD, b % PERIOD
        plan.append(start + VARIED[r] if r in VARIED else None)
    return plan


def dominant(tonic: int) -> Chord:
    """V: a major triad on the fifth degree (minor keys raise the 7th, as in harmonic minor)."""
    return Chord((tonic + 7) % 12, False)


def cadence_goal(bar: int, bars: int, tonic: int) -> tuple[int, ...] | None:
    """The pitch classes a bar should close on as a cadence (0-based bar of a `bars`-bar piece), or None: a tone
    of the dominant at bar 8 (a half cadence, pieces of 12 bars or more), the tonic at the last bar (the close).
    The decoding setting ``cadence_tries`` re-ranks the model's own versions of these bars by it."""
    if bar == bars - 1:
        return (tonic % 12,)
    if bar == HALF_CADENCE_BAR and bars >= 12:
        return dominant(tonic).pitch_classes
    return None


def plan_chords(prompt: Piece, bars: int, *, cadences: bool = True) -> Piece:
    """The prompt with its progression repeated to `bars` bars and, with cadences, the cadence chords written in:
    V at bar 8, V-I at the end."""
    return replace(prompt, chords=cadence_chords(prompt.chords, prompt.tonic, prompt.mode, bars, cadences=cadences))


def cadence_chords(chords: list[Chord], tonic: int, mode: str, bars: int, *, cadences: bool = True) -> list[Chord]:
    """A progression repeated to `bars` bars, with V at bar 8 and V-I at the end when cadences is True."""
    out = [chords[b % len(chords)] for b in range(bars)]
    if not cadences:
        return out
    home = Chord(tonic % 12, mode == "minor")
    if bars >= 12:
        out[HALF_CADENCE_BAR] = dominant(tonic)
    if bars >= 2:
        out[-2] = dominant(tonic)
    out[-1] = home
    return out


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
    if bars >= 16 and bars % PHRASE_BARS == 0:  # a'': the last phrase restates the first three bars
        start = (bars - PHRASE_BARS) * STEPS_PER_BAR
        span = (PHRASE_BARS - 1) * STEPS_PER_BAR
        notes = [n for n in notes if not start <= n.start < start + span]
        notes = [Note(n.pitch, n.start, min(n.end, start)) if n.start < start < n.end else n for n in notes]
        notes += [Note(n.pitch, n.start + start, min(n.end, span) + start) for n in roll_to_notes(roll[:span])]
    if bars >= 12:
        notes = _end_bar_on(notes, HALF_CADENCE_BAR, dominant(tonic).pitch_classes)
    notes = _end_bar_on(notes, bars - 1, (tonic % 12,))
    return notes_to_roll(notes, len(roll))
