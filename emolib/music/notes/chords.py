"""Chords per bar, MIDINet's 13-d chord condition, and accompaniment tracks built from chords.

A chord is (root pitch class, minor flag). MIDINet conditions on 12 one-hot root dimensions plus
a major/minor flag; :func:`chord_vector` builds exactly that.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .key import PITCH_NAMES, roll_pitch_classes, scale_pitch_classes
from .roll import N_PITCHES, STEPS_PER_BAR


@dataclass(frozen=True)
class Chord:
    root: int  # pitch class 0-11
    minor: bool

    @property
    def pitch_classes(self) -> tuple[int, int, int]:
        return (self.root, (self.root + (3 if self.minor else 4)) % 12, (self.root + 7) % 12)

    @property
    def name(self) -> str:
        return PITCH_NAMES[self.root] + ("m" if self.minor else "")


ALL_CHORDS = tuple(Chord(r, m) for m in (False, True) for r in range(12))


def chord_vector(chord: Chord) -> np.ndarray:
    """MIDINet's 1-D chord condition: 12 one-hot root + 1 minor flag."""
    v = np.zeros(13, dtype=np.float32)
    v[chord.root] = 1.0
    v[12] = float(chord.minor)
    return v


# (24, 12) weights of each chord's root, third and fifth, and the chord tones as a mask
_WEIGHTS = np.zeros((len(ALL_CHORDS), 12))
for _i, _c in enumerate(ALL_CHORDS):
    _WEIGHTS[_i, list(_c.pitch_classes)] = (1.0, 0.9, 0.7)
_TONES = _WEIGHTS > 0


def best_chord(hist: np.ndarray, key: tuple[int, str] | None = None, previous: Chord | None = None) -> Chord:
    """The triad that best explains a bar's pitch-class histogram (chord tones score, others cost).

    Diatonic chords of the key get a small bonus, and so does keeping the previous chord, which
    keeps the harmony from flickering on passing notes.
    """
    score = _WEIGHTS @ hist - 0.5 * (1.0 - _TONES @ hist)
    if key:
        scale = np.zeros(12, bool)
        scale[list(scale_pitch_classes(*key))] = True
        score += 0.08 * ((_TONES & ~scale).sum(axis=1) == 0)  # diatonic chords
        score[ALL_CHORDS.index(Chord(key[0] % 12, key[1] == "minor"))] += 0.05
    if previous is not None:
        score[ALL_CHORDS.index(previous)] += 0.05
    return ALL_CHORDS[int(np.argmax(score))]


def bar_chords(roll: np.ndarray, key: tuple[int, str] | None = None, steps_per_bar: int = STEPS_PER_BAR) -> list[Chord]:
    """One chord per bar of a (melody or full) roll; a silent bar keeps the previous chord."""
    chords: list[Chord] = []
    default = Chord(key[0], key[1] == "minor") if key else Chord(0, False)
    for start in range(0, len(roll), steps_per_bar):
        hist = roll_pitch_classes(roll[start:start + steps_per_bar])
        if not hist.any():
            chords.append(chords[-1] if chords else default)
            continue
        chords.append(best_chord(hist, key, chords[-1] if chords else None))
    return chords


def accompaniment(chords: list[Chord], style: str = "block", *, low: int = 48,
                  steps_per_bar: int = STEPS_PER_BAR) -> np.ndarray:
    """A roll of the chords under a melody: "block" (half-note chords, root in the bass) or "arpeggio"."""
    roll = np.zeros((len(chords) * steps_per_bar, N_PITCHES), dtype=np.uint8)
    for i, chord in enumerate(chords):
        bar = i * steps_per_bar
        root = low + (chord.root - low) % 12  # root within the octave above `low`
        voicing = [root - 12, root, root + (3 if chord.minor else 4), root + 7]
        if style == "block":
            half = steps_per_bar // 2
            for start in (bar, bar + half):
                for p in voicing:
                    roll[start:start + half - 1, p] = 1
        elif style == "arpeggio":
            bass, r, third, fifth = voicing
            pattern = [bass, fifth - 12, r, third, fifth, r + 12, fifth, third]  # eighth notes up and back
            step = steps_per_bar // 8
            for j, p in enumerate(pattern):
                roll[bar + j * step:bar + (j + 1) * step, p] = 1
        else:
            raise ValueError(f"style must be 'block' or 'arpeggio', got {style!r}")
    return roll
