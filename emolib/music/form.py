"""Form: sixteen bars as four 4-bar phrases, a a' b a'', with cadences a listener can hear: the plan the models are
conditioned on as they write, never notes written for them.

- :func:`form_plan`: for each bar, the earlier bar it should vary (bars 5-7 and 13-15 vary bars 1-3), which the GAN
  is conditioned on;
- :func:`plan_chords`: the harmony both models are conditioned on: bar 8 on the dominant (V) for a half cadence,
  bars 15-16 on V then I for the close;
- :func:`cadence_goal` and :func:`ends_on`: what a cadence bar should close on, and whether it does (the decoding
  setting ``cadence_tries`` re-ranks the model's own versions of a cadence bar by it);
- :func:`varies`: whether a bar varies the bar the plan names for it, keeping its shape without copying it (the
  decoding setting ``variation_tries`` re-ranks the model's own versions of those bars by it);
- :func:`versions`: how many of the model's versions a bar is chosen from under those two settings.
Pieces of other lengths keep the close on their last bar, and the rest of the plan where it fits. Writing the plan's
notes over a piece is post-processing (emolib.music.post.apply_form).
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from .notes.chords import Chord
from .notes.melodic import VARIATION, alike, bar_signature
from .notes.piece import Piece
from .notes.roll import STEPS_PER_BAR, TUNE_BARS, roll_to_notes

HALF_CADENCE_BAR = 7  # 0-based: bar 8
PHRASE_BARS = 4
# a a' b a'': bars 5-7 vary bars 1-3 (a'), bars 13-15 vary them again (a''); as 0-based offsets in the period
VARIED = {4: 0, 5: 1, 6: 2, 12: 0, 13: 1, 14: 2}


def form_plan(bars: int) -> list[int | None]:
    """For each bar, the earlier bar it should vary (0-based), or None: the reference bars the GAN is conditioned
    on (emolib.music.models.gan), a a' b a'' over every TUNE_BARS bars. The model writes the variation itself; nothing is pasted."""
    plan: list[int | None] = []
    for b in range(bars):
        start, r = b - b % TUNE_BARS, b % TUNE_BARS
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


CADENCE_NOTE = 4  # steps: a cadence note lasts at least a quarter and sounds to the end of its bar


def ends_on(start: int, length: int, pitch: int, goal: tuple[int, ...]) -> bool:
    """Whether a bar's last note (its start step within the bar, its length in steps, its pitch) closes it as a
    cadence on `goal`: a pitch class of the goal, at least a quarter long, sounding to the bar's last quarter."""
    return length >= CADENCE_NOTE and start + length >= STEPS_PER_BAR - CADENCE_NOTE and pitch % 12 in goal


def varies(roll: np.ndarray, bar: int, reference: int) -> bool:
    """Whether `bar` of a melody (its roll, 0-based bars) varies its `reference` bar as the plan asks: at least
    VARIATION of their notes alike (as the form figures count a restated or varied bar), and not a copy note for
    note (the same onsets, pitches and lengths)."""
    notes = roll_to_notes(roll)
    here, there = bar_signature(notes, bar), bar_signature(notes, reference)
    return here != there and alike({n[:2] for n in here}, {n[:2] for n in there}) >= VARIATION


def versions(bar: int, bars: int, cadence_tries: int, variation_tries: int) -> int:
    """How many of the model's own versions of a bar (0-based, of a `bars`-bar piece) the re-ranking may choose
    from: cadence_tries at a cadence bar, variation_tries at a bar the plan has vary an earlier one, else 1."""
    if cadence_goal(bar, bars, 0) is not None:
        return cadence_tries
    return variation_tries if form_plan(bars)[bar] is not None else 1
