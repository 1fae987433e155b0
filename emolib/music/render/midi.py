"""Rendering a Piece to MIDI: expressive (per quadrant) or neutral. Rendering never changes the melody's notes.

Expressive: tempo, register, velocity and an accompaniment track per quadrant. Explicit control of tempo
and register is what lifts listeners' recognition of the intended emotion in published work, so each
quadrant has one style here, in one table. Neutral: the melody alone at one tempo and loudness on the
piano, the same for every emotion, so whatever emotion is heard comes from the notes.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import BadInput
from ..notes.chords import accompaniment
from ..notes.piece import Piece
from ..notes.roll import STEPS_PER_BAR, Track, roll_to_midi, transpose


@dataclass(frozen=True)
class Style:
    tempo: float  # quarter notes per minute
    octave: int  # register shift of the melody, in octaves
    velocity: int  # melody loudness (MIDI 1-127)
    accent: int  # extra velocity on downbeats
    accompaniment: str  # "block" or "arpeggio"
    accompaniment_program: int  # General MIDI program of the accompaniment track
    accompaniment_velocity: int


STYLES: dict[str, Style] = {
    "happy": Style(tempo=132, octave=0, velocity=96, accent=12, accompaniment="arpeggio",
                   accompaniment_program=0, accompaniment_velocity=64),  # bright piano, running eighths
    "angry": Style(tempo=144, octave=-1, velocity=110, accent=16, accompaniment="block",
                   accompaniment_program=48, accompaniment_velocity=88),  # low, loud, hammered strings
    "sad": Style(tempo=66, octave=0, velocity=60, accent=4, accompaniment="block",
                 accompaniment_program=48, accompaniment_velocity=44),  # slow, soft, sustained strings
    "calm": Style(tempo=76, octave=1, velocity=64, accent=4, accompaniment="arpeggio",
                  accompaniment_program=88, accompaniment_velocity=40),  # high, gentle, a warm pad
}


def velocities(length: int, style: Style) -> np.ndarray:
    """Per-step velocity: downbeats accented, beats 2-4 slightly less, as a player would."""
    v = np.full(length, style.velocity, dtype=int)
    v[::4] += style.accent // 2
    v[::STEPS_PER_BAR] += style.accent // 2
    return np.clip(v, 1, 127)


NEUTRAL = {"tempo": 100.0, "velocity": 80, "program": 0}  # one tempo, one loudness, piano, no accompaniment


def render_neutral(piece: Piece):
    """The melody alone, the same for every emotion: whatever emotion is heard comes from the notes."""
    return roll_to_midi(Track(piece.roll, program=NEUTRAL["program"], velocity=NEUTRAL["velocity"], name="melody"),
                        tempo=NEUTRAL["tempo"])


def expressive_tracks(piece: Piece, *, with_accompaniment: bool = True) -> list[Track]:
    """The tracks as the expressive rendering plays them: the melody in its quadrant's register and loudness,
    and an accompaniment of its chords (the rendering's, not the model's). Figures draw these, so what is
    seen is what is heard."""
    q = piece.quadrant
    style = STYLES[q.name]
    melody = piece.roll
    tracks = [Track(transpose(melody, 12 * style.octave), program=0, velocity=velocities(len(melody), style),
                    name="melody")]
    chords = [piece.chord_at(b) for b in range(piece.bars)] if piece.chords else []
    if with_accompaniment and chords:
        acc = accompaniment(chords, style.accompaniment, low=40 if q.arousal > 0 else 45)[:len(melody)]
        tracks.append(Track(acc, program=style.accompaniment_program, velocity=style.accompaniment_velocity,
                            name=f"accompaniment ({style.accompaniment})"))
    return tracks


def render_expressive(piece: Piece, *, tempo_scale: float = 1.0, with_accompaniment: bool = True):
    """The melody in its quadrant's style, over an accompaniment of its chords: a melody and an accompaniment track."""
    return roll_to_midi(expressive_tracks(piece, with_accompaniment=with_accompaniment),
                        tempo=STYLES[piece.quadrant.name].tempo * tempo_scale)


RENDERINGS = {"expressive": render_expressive, "neutral": render_neutral}


def render(piece: Piece, rendering: str = "expressive"):
    """A Piece as pretty_midi, by one of RENDERINGS (the notes are the piece's; only how they are played differs)."""
    if rendering not in RENDERINGS:
        raise BadInput(f"rendering must be one of {', '.join(map(repr, RENDERINGS))}, got {rendering!r}")
    return RENDERINGS[rendering](piece)
