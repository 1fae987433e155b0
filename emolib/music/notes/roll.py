"""The one piano-roll convention, and its conversion to and from MIDI (one function pair).

A piano roll is a numpy array of shape (time, 128), time first as in pypianoroll and MusPy,
with 4 steps per quarter note, so a 4/4 bar is 16 steps and a 4-bar segment is 64 steps
(MIDINet, Magenta). Values are 0/1: a note sounds on the steps it covers. Consecutive active
steps of one pitch are one held note; a repeated note is written with a one-step gap before it
so that it can be told apart from a held one.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

STEPS_PER_QUARTER = 4
STEPS_PER_BAR = 16
BARS_PER_SEGMENT = 4  # a phrase: the openings a model continues are one segment long
SEGMENT_STEPS = STEPS_PER_BAR * BARS_PER_SEGMENT  # 64
TUNE_BARS = 16  # a tune: four phrases, the length every model writes by default and the form plan's period
N_PITCHES = 128
# The melody register every piece shares: C3 (48) up to C6 (84). Tunes are moved into it by whole octaves
# (into_register) and the models write inside it; one constant, used everywhere.
REGISTER: tuple[int, int] = (48, 84)


@dataclass(frozen=True)
class Note:
    pitch: int
    start: int  # step, inclusive
    end: int  # step, exclusive


def notes_to_roll(notes: list[Note] | list[tuple[int, int, int]], length: int | None = None) -> np.ndarray:
    """Notes (pitch, start step, end step) -> binary roll; a re-struck pitch leaves a one-step gap."""
    notes = [n if isinstance(n, Note) else Note(*map(int, n)) for n in notes]
    if length is None:
        length = max((n.end for n in notes), default=0)
    roll = np.zeros((length, N_PITCHES), dtype=np.uint8)
    last_end: dict[int, int] = {}
    for n in sorted(notes, key=lambda n: (n.start, n.pitch)):
        if not 0 <= n.pitch < N_PITCHES or n.end <= n.start or n.start >= length:
            continue
        if last_end.get(n.pitch, -1) >= n.start and n.start > 0:
            roll[n.start - 1, n.pitch] = 0  # re-articulation: end the previous note one step early
        roll[n.start:min(n.end, length), n.pitch] = 1
        last_end[n.pitch] = n.end
    return roll


def roll_to_notes(roll: np.ndarray) -> list[Note]:
    """Binary roll -> notes, merging consecutive active steps of a pitch into one held note."""
    active = np.asarray(roll) > 0
    padded = np.zeros((active.shape[0] + 2, active.shape[1]), dtype=np.int8)
    padded[1:-1] = active
    diff = np.diff(padded, axis=0)
    notes = []
    for pitch in np.flatnonzero(active.any(axis=0)):
        starts = np.flatnonzero(diff[:, pitch] == 1)
        ends = np.flatnonzero(diff[:, pitch] == -1)
        notes += [Note(int(pitch), int(s), int(e)) for s, e in zip(starts, ends)]
    return sorted(notes, key=lambda n: (n.start, n.pitch))


@dataclass
class Track:
    """One instrument of a piece: its roll and how to play it."""

    roll: np.ndarray
    program: int = 0  # General MIDI program (0 = acoustic grand piano)
    velocity: int | np.ndarray = 90  # one velocity, or one per step (accents, dynamics)
    name: str = "melody"


def roll_to_midi(tracks: np.ndarray | Track | list[Track], tempo: float = 120.0):
    """Roll(s) -> pretty_midi.PrettyMIDI at a constant tempo (quarter notes per minute), as long as the roll."""
    import pretty_midi

    if isinstance(tracks, np.ndarray):
        tracks = [Track(tracks)]
    elif isinstance(tracks, Track):
        tracks = [tracks]
    pm = pretty_midi.PrettyMIDI(initial_tempo=float(tempo))
    seconds_per_step = 60.0 / tempo / STEPS_PER_QUARTER
    for t in tracks:
        inst = pretty_midi.Instrument(program=int(t.program), name=t.name)
        vel = np.broadcast_to(np.asarray(t.velocity), (len(t.roll),))
        for n in roll_to_notes(t.roll):
            inst.notes.append(pretty_midi.Note(velocity=int(np.clip(vel[n.start], 1, 127)), pitch=n.pitch,
                                               start=n.start * seconds_per_step, end=n.end * seconds_per_step))
        pm.instruments.append(inst)
    if pm.instruments:  # the piece lasts as long as its roll, even when it ends on a rest:
        end = max(len(t.roll) for t in tracks) * seconds_per_step  # all-notes-off at the final barline
        pm.instruments[0].control_changes.append(pretty_midi.ControlChange(123, 0, end))
    return pm


def seconds_to_quarters(pm, t: np.ndarray) -> np.ndarray:
    """Times in seconds -> quarter notes, through the file's tempo changes (MIDI tempo is time per quarter note,
    whatever the time signature says a beat is; past the last change its tempo continues)."""
    times, tempi = pm.get_tempo_changes()
    if len(times) == 0:
        times, tempi = np.array([0.0]), np.array([120.0])
    at = np.concatenate([[0.0], np.cumsum(np.diff(times) * tempi[:-1] / 60.0)])  # quarters at each change
    t = np.asarray(t, dtype=float)
    i = np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(times) - 1)
    return at[i] + (t - times[i]) * tempi[i] / 60.0


def midi_to_roll(pm, *, instruments: str = "all") -> np.ndarray:
    """pretty_midi.PrettyMIDI -> roll on the beat grid, as long as the file (tempo changes followed, drums skipped).

    instruments="all" merges every pitched track; "first" takes the first pitched track only.
    """
    def to_step(t: np.ndarray) -> np.ndarray:
        return np.round(seconds_to_quarters(pm, t) * STEPS_PER_QUARTER).astype(int)

    pitched = [i for i in pm.instruments if not i.is_drum]
    if instruments == "first":
        pitched = pitched[:1]
    notes = []
    for inst in pitched:
        if not inst.notes:
            continue
        starts = to_step(np.array([n.start for n in inst.notes]))
        ends = to_step(np.array([n.end for n in inst.notes]))
        ends = np.maximum(ends, starts + 1)  # a note shorter than a sixteenth still sounds one step
        notes += [Note(n.pitch, int(s), int(e)) for n, s, e in zip(inst.notes, starts, ends)]
    length = int(to_step(np.array([pm.get_end_time()]))[0])  # a trailing rest is part of the piece
    return notes_to_roll(notes, max([length] + [n.end for n in notes]))


def skyline(roll: np.ndarray) -> np.ndarray:
    """The melody of a polyphonic roll: the highest sounding pitch at each step (the skyline)."""
    out = np.zeros_like(roll)
    active = roll > 0
    has = active.any(axis=1)
    top = N_PITCHES - 1 - np.argmax(active[:, ::-1], axis=1)
    out[np.flatnonzero(has), top[has]] = 1
    return out


def pad_to_bars(roll: np.ndarray, bars: int | None = None) -> np.ndarray:
    """Pad (or cut) a roll to a whole number of 16-step bars."""
    n = bars * STEPS_PER_BAR if bars is not None else -(-len(roll) // STEPS_PER_BAR) * STEPS_PER_BAR
    out = np.zeros((n, roll.shape[1]), dtype=roll.dtype)
    out[:min(n, len(roll))] = roll[:n]
    return out


def transpose(roll: np.ndarray, semitones: int) -> np.ndarray:
    """Shift every pitch by a number of semitones (notes pushed off the keyboard are dropped)."""
    out = np.zeros_like(roll)
    if semitones >= 0:
        out[:, semitones:] = roll[:, :N_PITCHES - semitones]
    else:
        out[:, :semitones] = roll[:, -semitones:]
    return out


def into_register(roll: np.ndarray, low: int = REGISTER[0], high: int = REGISTER[1]) -> np.ndarray:
    """Transpose by whole octaves so the melody's mean pitch sits in the middle of [low, high)."""
    pitches = np.flatnonzero(roll.any(axis=0))
    if len(pitches) == 0:
        return roll
    weights = roll[:, pitches].sum(axis=0)
    mean = float((pitches * weights).sum() / weights.sum())
    octaves = int(round(((low + high) / 2 - mean) / 12))
    return transpose(roll, 12 * octaves)


def fold_into_register(roll: np.ndarray, low: int = REGISTER[0], high: int = REGISTER[1]) -> np.ndarray:
    """Every note moved by whole octaves into [low, high] (a melody may span more than the register)."""
    notes = []
    for n in roll_to_notes(roll):
        p = n.pitch
        while p < low:
            p += 12
        while p > high:
            p -= 12
        notes.append(Note(p, n.start, n.end))
    return notes_to_roll(notes, len(roll))
