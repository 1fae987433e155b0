"""The GAN's view of a melody: each sixteenth step of a bar is one class, a rest, a hold (the note sounding goes on)
or the onset of a pitch of the melody register. MIDINet's binary roll cannot tell a held note from a re-struck one;
the hold class can, so the GAN learns note lengths as well as pitches. roll_to_steps and steps_to_roll convert
through emolib's one roll convention (emolib.music.notes.roll)."""
from __future__ import annotations

import numpy as np

from .roll import REGISTER, Note, notes_to_roll, roll_to_notes

LOW, HIGH = REGISTER
REST, HOLD = 0, 1  # step classes; the onset of pitch p is class 2 + p - LOW
N_CLASSES = 2 + HIGH - LOW + 1  # 39


def roll_to_steps(roll: np.ndarray) -> np.ndarray:
    """A monophonic roll -> one class per step (REST, HOLD or 2 + pitch - LOW); pitches outside the register are
    moved into it by octaves. A re-struck pitch is held up to its next onset: the one-step gap the roll leaves
    before it is the roll's way of marking the new onset, not a rest (steps_to_roll puts it back)."""
    steps = np.full(len(roll), REST, dtype=np.int64)
    notes = roll_to_notes(roll)
    for i, n in enumerate(notes):
        p = n.pitch
        while p < LOW:
            p += 12
        while p > HIGH:
            p -= 12
        end = n.end
        if i + 1 < len(notes) and notes[i + 1].pitch == n.pitch and notes[i + 1].start == n.end + 1:
            end = n.end + 1
        steps[n.start] = 2 + p - LOW
        steps[n.start + 1:end] = HOLD
    return steps


def steps_to_roll(steps: np.ndarray, *, sounding: int | None = None) -> np.ndarray:
    """Step classes -> roll; a HOLD continues the note sounding (at the start: `sounding`, the previous bar's last
    pitch, a tie), and a HOLD with nothing sounding is a rest."""
    notes, current, start = [], sounding, 0
    for t, c in enumerate(list(steps) + [REST]):
        if c == HOLD and current is not None:
            continue
        if current is not None:
            notes.append(Note(current, start, t))
        current, start = (LOW + c - 2, t) if c >= 2 else (None, t)
    return notes_to_roll(notes, len(steps))


def last_sounding(steps: np.ndarray) -> int | None:
    """The pitch sounding at the last step (None for a rest)."""
    pitch = None
    for c in steps:
        pitch = LOW + c - 2 if c >= 2 else (pitch if c == HOLD else None)
    return pitch


def one_hot(steps: np.ndarray) -> np.ndarray:
    """(..., 16) classes -> (..., 16, N_CLASSES) float32."""
    return np.eye(N_CLASSES, dtype=np.float32)[steps]
