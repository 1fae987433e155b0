"""Expressive rendering per quadrant: tempo, register, velocity and an accompaniment track.

Explicit control of mode, tempo and register is what lifts listeners' recognition of the intended
emotion in published work, so each quadrant has one style here, in one table.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..emotion import quadrant
from .chords import Chord, accompaniment
from .key import scale_pitch_classes
from .roll import N_PITCHES, STEPS_PER_BAR, Track, roll_to_midi, transpose


@dataclass(frozen=True)
class Style:
    tempo: float  # quarter notes per minute
    octave: int  # register shift of the melody, in octaves
    velocity: int  # melody loudness (MIDI 1-127)
    accent: int  # extra velocity on downbeats
    accompaniment: str  # "block" or "arpeggio"
    accompaniment_program: int  # General MIDI program of the accompaniment track
    accompaniment_velocity: int
    grid: int = 2  # steps between possible note starts when decoding the GAN (2 = eighths, 4 = quarters);
    # real folk tunes: high-arousal ones have about 7 notes per bar, low-arousal ones about 4, and
    # 98% of low-arousal notes start on an eighth


STYLES: dict[str, Style] = {
    "happy": Style(tempo=132, octave=0, velocity=96, accent=12, accompaniment="arpeggio",
                   accompaniment_program=0, accompaniment_velocity=64),  # bright piano, running eighths
    "angry": Style(tempo=144, octave=-1, velocity=110, accent=16, accompaniment="block",
                   accompaniment_program=48, accompaniment_velocity=88),  # low, loud, hammered strings
    "sad": Style(tempo=66, octave=0, velocity=60, accent=4, accompaniment="block",
                 accompaniment_program=48, accompaniment_velocity=44, grid=4),  # slow, soft, sustained strings
    "calm": Style(tempo=76, octave=1, velocity=64, accent=4, accompaniment="arpeggio",
                  accompaniment_program=88, accompaniment_velocity=40, grid=4),  # high, gentle, a warm pad
}


def snap_to_key(roll: np.ndarray, tonic: int, mode: str) -> np.ndarray:
    """Move every out-of-key note to the nearest pitch of the key (down on a tie): explicit mode control."""
    allowed = scale_pitch_classes(tonic, mode)
    target = np.arange(N_PITCHES)
    for p in range(N_PITCHES):
        if p % 12 not in allowed:
            target[p] = p - 1 if (p - 1) % 12 in allowed else p + 1
    out = np.zeros_like(roll)
    t, p = np.nonzero(roll)
    out[t, np.clip(target[p], 0, N_PITCHES - 1)] = 1
    return out


def velocities(length: int, style: Style) -> np.ndarray:
    """Per-step velocity: downbeats accented, beats 2-4 slightly less, as a player would."""
    v = np.full(length, style.velocity, dtype=int)
    v[::4] += style.accent // 2
    v[::STEPS_PER_BAR] += style.accent // 2
    return np.clip(v, 1, 127)


NEUTRAL = {"tempo": 100.0, "velocity": 80, "program": 0}  # one tempo, one loudness, piano, no accompaniment


def render_neutral(melody: np.ndarray):
    """The melody alone, the same for every emotion: whatever emotion is heard comes from the notes."""
    return roll_to_midi(Track(melody, program=NEUTRAL["program"], velocity=NEUTRAL["velocity"], name="melody"),
                        tempo=NEUTRAL["tempo"])


def render(melody: np.ndarray, chords: list[Chord], emotion: str, *, tempo_scale: float = 1.0,
           with_accompaniment: bool = True):
    """Melody roll + chords -> pretty_midi with a melody track and an accompaniment track."""
    q = quadrant(emotion)
    style = STYLES[q.name]
    tracks = [Track(transpose(melody, 12 * style.octave), program=0, velocity=velocities(len(melody), style),
                    name="melody")]
    if with_accompaniment and chords:
        acc = accompaniment(chords, style.accompaniment, low=40 if q.arousal > 0 else 45)[:len(melody)]
        tracks.append(Track(acc, program=style.accompaniment_program, velocity=style.accompaniment_velocity,
                            name=f"accompaniment ({style.accompaniment})"))
    return roll_to_midi(tracks, tempo=style.tempo * tempo_scale)
