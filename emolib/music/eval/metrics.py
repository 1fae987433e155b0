"""Music metrics, MusPy-style, on notes measured in quarter notes.

Every metric takes a :class:`Notes` (pitch, start, end in quarter notes, plus the tempo), built
from a piano roll or from a written MIDI file, so generated and real music share one yardstick.
Definitions follow MusPy (Dong et al. 2020) unless the docstring says otherwise.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..notes.key import detect_key, pitch_class_histogram
from ..notes.roll import STEPS_PER_QUARTER, roll_to_notes, seconds_to_quarters


@dataclass
class Notes:
    pitch: np.ndarray  # (n,) MIDI pitch
    start: np.ndarray  # (n,) quarter notes
    end: np.ndarray  # (n,) quarter notes
    tempo: float = 120.0  # quarter notes per minute
    length: float | None = None  # piece length in quarter notes (default: last note end)

    def __len__(self) -> int:
        return len(self.pitch)

    @property
    def quarters(self) -> float:
        return float(self.length if self.length is not None else (self.end.max() if len(self) else 0.0))

    @property
    def seconds(self) -> float:
        return self.quarters * 60.0 / self.tempo


def notes_from_roll(roll: np.ndarray, tempo: float = 120.0) -> Notes:
    notes = roll_to_notes(roll)
    arr = np.array([(n.pitch, n.start, n.end) for n in notes], dtype=float).reshape(-1, 3)
    return Notes(arr[:, 0].astype(int), arr[:, 1] / STEPS_PER_QUARTER, arr[:, 2] / STEPS_PER_QUARTER,
                 tempo, len(roll) / STEPS_PER_QUARTER)


def notes_from_midi(pm, instruments: list[int] | None = None) -> Notes:
    """Notes of a pretty_midi object at full resolution (no quantisation), in quarter notes."""
    chosen = [inst for i, inst in enumerate(pm.instruments)
              if not inst.is_drum and (instruments is None or i in instruments)]
    ns = [n for inst in chosen for n in inst.notes]
    pitch = np.array([n.pitch for n in ns], dtype=int)
    start = seconds_to_quarters(pm, np.array([n.start for n in ns], dtype=float))
    end = seconds_to_quarters(pm, np.array([n.end for n in ns], dtype=float))
    beats = pm.get_beats()
    tempo = float(60.0 / np.median(np.diff(beats))) if len(beats) > 1 else 120.0
    order = np.lexsort((pitch, start))
    return Notes(pitch[order], start[order], end[order], tempo, float(seconds_to_quarters(pm, np.array([pm.get_end_time()]))[0]))


def pitch_class_entropy(notes: Notes) -> float:
    """Shannon entropy (bits) of the pitch-class histogram of note counts: 0 = one pitch class, log2(12) max."""
    h = pitch_class_histogram(notes.pitch)
    h = h[h > 0]
    return float(-(h * np.log2(h)).sum()) if len(h) else 0.0


def scale_consistency(notes: Notes) -> float:
    """Largest fraction of notes inside one major or (natural) minor scale, over all 24 scales."""
    if not len(notes):
        return float("nan")
    pcs = notes.pitch % 12
    best = 0.0
    for tonic in range(12):
        for steps in ((0, 2, 4, 5, 7, 9, 11), (0, 2, 3, 5, 7, 8, 10)):
            best = max(best, float(np.isin(pcs, [(tonic + s) % 12 for s in steps]).mean()))
    return best


def qualified_note_rate(notes: Notes, min_quarters: float = 0.25) -> float:
    """Fraction of notes at least a sixteenth long (MusPy's qualified notes, at our resolution)."""
    if not len(notes):
        return float("nan")
    return float(((notes.end - notes.start) >= min_quarters - 1e-6).mean())


def empty_beat_rate(notes: Notes) -> float:
    """Fraction of beats (quarter notes) in which no note sounds."""
    n_beats = int(np.ceil(notes.quarters - 1e-9))
    if n_beats <= 0:
        return float("nan")
    busy = np.zeros(n_beats, bool)
    for s, e in zip(notes.start, notes.end):
        busy[int(np.floor(s)):max(int(np.ceil(e - 1e-9)), int(np.floor(s)) + 1)] = True
    return float(1.0 - busy[:n_beats].mean())


def _step_roll(notes: Notes) -> np.ndarray:
    steps = int(np.ceil(notes.quarters * STEPS_PER_QUARTER - 1e-9))
    roll = np.zeros((max(steps, 1), 128), bool)
    for p, s, e in zip(notes.pitch, notes.start, notes.end):
        a = int(round(s * STEPS_PER_QUARTER))
        roll[a:max(int(round(e * STEPS_PER_QUARTER)), a + 1), p] = True
    return roll


def polyphony(notes: Notes) -> float:
    """Mean number of pitches sounding at the steps where anything sounds (1.0 = a pure melody)."""
    counts = _step_roll(notes).sum(axis=1)
    return float(counts[counts > 0].mean()) if counts.any() else float("nan")


def note_density(notes: Notes) -> float:
    """Notes per second (onsets of distinct pitches, so a chord counts each of its notes)."""
    return float(len(notes) / notes.seconds) if notes.seconds > 0 else float("nan")


def groove_consistency(notes: Notes, quarters_per_bar: int = 4) -> float:
    """1 - mean Hamming distance between consecutive bars' onset patterns (MusPy): 1 = same rhythm every bar."""
    steps = quarters_per_bar * STEPS_PER_QUARTER
    n_bars = int(np.ceil(notes.quarters / quarters_per_bar - 1e-9))
    if n_bars < 2:
        return float("nan")
    onsets = np.zeros((n_bars * steps,), bool)
    idx = np.round(notes.start * STEPS_PER_QUARTER).astype(int)
    onsets[idx[idx < len(onsets)]] = True
    bars = onsets.reshape(n_bars, steps)
    return float(1.0 - np.mean(np.abs(np.diff(bars.astype(int), axis=0)).sum(axis=1) / steps))


def mode(notes: Notes) -> str:
    """"major" or "minor" by the best Krumhansl-Kessler key for the duration-weighted pitch classes."""
    return key(notes)[1]


def key(notes: Notes) -> tuple[int, str]:
    tonic, m, _ = detect_key(pitch_class_histogram(notes.pitch, notes.end - notes.start))
    return tonic, m


METRICS = {
    "pitch_class_entropy": pitch_class_entropy,
    "scale_consistency": scale_consistency,
    "qualified_note_rate": qualified_note_rate,
    "empty_beat_rate": empty_beat_rate,
    "polyphony": polyphony,
    "note_density": note_density,
    "groove_consistency": groove_consistency,
}


def evaluate(notes: Notes) -> dict[str, float | str]:
    """Every metric, plus the detected mode."""
    out: dict[str, float | str] = {name: fn(notes) for name, fn in METRICS.items()}
    out["mode"] = mode(notes) if len(notes) else "none"
    return out
