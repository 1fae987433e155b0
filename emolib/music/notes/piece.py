"""A piece of music: one type for a melody with its harmony and key, and who wrote each bar of it.

Like MusPy's ``Music`` (which every reader, writer and metric takes), one :class:`Piece` travels through
emolib: the folk corpus and EMOPIA load into Pieces, the opening bank's tunes and the user's openings are Pieces, a model
continues a Piece into a longer one, post-processing steps return a changed Piece, and the rendering
turns a Piece into MIDI. ``by`` records, bar by bar, who wrote the notes (a model, a given opening, a
real tune), and ``edits`` which post-processing steps changed them afterwards, so every figure and summary
can say whose notes each bar holds.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ...emotion import Quadrant
from .chords import Chord
from .roll import N_PITCHES, STEPS_PER_BAR

# Who wrote a bar: the first word of each entry of Piece.by.
OPENING = "opening"  # notes given to the model to continue (a seed-bank tune's first bars, the user's MIDI)
REAL = "real"  # a real tune from a corpus (every bar of it)
EMPTY = "empty"  # not written yet (the bars a model is asked to write)


@dataclass
class Piece:
    """A monophonic melody on the roll grid (16 steps per 4/4 bar), with its chords, key and provenance."""

    roll: np.ndarray  # (steps, 128) uint8, one pitch at a time, a whole number of bars
    chords: list[Chord]  # one per bar (shorter lists repeat)
    tonic: int  # pitch class of the key
    mode: str  # "major" | "minor"
    quadrant: Quadrant | None = None  # the emotion it carries (None: an unlabelled tune)
    title: str = ""
    source: str = ""  # a corpus ("essenFolksong", "EMOPIA"), "opening bank", "your MIDI", or a model's name
    by: tuple[str, ...] = ()  # per bar: who wrote it (a model's name, OPENING, REAL or EMPTY); () = REAL throughout
    edits: tuple[tuple[str, ...], ...] = ()  # per bar: the post-processing steps that changed its notes
    tune_type: str = ""  # the corpus's tune type (reel, jig, air, ...), when it names one
    density: float = 0.0  # notes per quarter note (the corpus labels arousal by it when no type is given)
    full: np.ndarray | None = None  # the polyphonic original (EMOPIA), of which roll is the skyline

    @property
    def bars(self) -> int:
        return len(self.roll) // STEPS_PER_BAR

    @property
    def authors(self) -> tuple[str, ...]:
        """Who wrote each bar (REAL for every bar of a corpus tune)."""
        return self.by if self.by else (REAL,) * self.bars

    @property
    def changes(self) -> tuple[tuple[str, ...], ...]:
        """The post-processing steps that changed each bar (empty tuples when none did)."""
        return self.edits if self.edits else ((),) * self.bars

    def bars_by(self, author: str) -> list[int]:
        """0-based indices of the bars whose notes `author` wrote (and no post-processing changed)."""
        return [b for b, (who, ed) in enumerate(zip(self.authors, self.changes)) if who == author and not ed]

    def chord_at(self, bar: int) -> Chord:
        return self.chords[bar % len(self.chords)]

    def with_notes(self, roll: np.ndarray, *, by: tuple[str, ...] | None = None,
                   edits: tuple[tuple[str, ...], ...] | None = None, **changes) -> "Piece":
        """A copy with another roll (its bars' provenance given, or kept when the length is the same)."""
        bars = len(roll) // STEPS_PER_BAR
        by = by if by is not None else self.authors[:bars] + (EMPTY,) * max(0, bars - self.bars)
        edits = edits if edits is not None else self.changes[:bars] + ((),) * max(0, bars - self.bars)
        return replace(self, roll=roll, by=tuple(by), edits=tuple(edits), **changes)

    def edited(self, roll: np.ndarray, step: str) -> "Piece":
        """A copy whose notes a post-processing `step` changed: every bar whose notes differ records it."""
        before, after = self.roll.reshape(self.bars, STEPS_PER_BAR, N_PITCHES), roll.reshape(self.bars, STEPS_PER_BAR, N_PITCHES)
        changed = (before != after).any(axis=(1, 2))
        edits = tuple(e + (step,) if c and step not in e else e for e, c in zip(self.changes, changed))
        return self.with_notes(roll, edits=edits)

    def head(self, bars: int) -> "Piece":
        """The first `bars` bars (the chords are kept for the whole progression)."""
        return self.with_notes(self.roll[:bars * STEPS_PER_BAR], by=self.authors[:bars], edits=self.changes[:bars])

    def describe(self) -> str:
        """Who wrote which bars, in one line: "bars 1-4 opening (opening bank: Title), bars 5-16 gan; ..."."""
        parts = []
        for who, span in _runs(self.authors):
            name = f"{who} ({self.source}: {self.title})" if who == OPENING and self.title else who
            parts.append(f"{_bars(span)} {name}")
        edited: dict[str, list[int]] = {}
        for b, ed in enumerate(self.changes):
            for step in ed:
                edited.setdefault(step, []).append(b)
        text = ", ".join(parts)
        if edited:
            text += "; changed afterwards: " + ", ".join(f"{step} ({_bars(bars)})" for step, bars in edited.items())
        return text


def _runs(values: tuple[str, ...]) -> list[tuple[str, list[int]]]:
    out: list[tuple[str, list[int]]] = []
    for i, v in enumerate(values):
        if out and out[-1][0] == v:
            out[-1][1].append(i)
        else:
            out.append((v, [i]))
    return out


def _bars(indices: list[int]) -> str:
    """0-based bar indices as 1-based text: "bar 8", "bars 5-16", "bars 8, 13-16"."""
    spans, start = [], None
    for i, b in enumerate(indices):
        if start is None:
            start = b
        if i + 1 == len(indices) or indices[i + 1] != b + 1:
            spans.append(f"{start + 1}" if start == b else f"{start + 1}-{b + 1}")
            start = None
    word = "bar" if len(indices) == 1 else "bars"
    return f"{word} {', '.join(spans)}"


def empty(bars: int) -> np.ndarray:
    """A silent roll of `bars` bars."""
    return np.zeros((bars * STEPS_PER_BAR, N_PITCHES), np.uint8)



def key_shift(tonic: int) -> int:
    """The semitones (-5..+6) that move a tonic to C the shortest way."""
    s = (-tonic) % 12
    return s - 12 if s > 6 else s


def in_c(piece: Piece) -> Piece:
    """The piece moved to C (C major or C minor): how both models see every tune, as folk-rnn does. Learning in
    one key, a model spends nothing on learning that a tune in D is a tune in C moved up, and the key's scale is
    always the same degrees; transpose back with from_c."""
    return _moved(piece, key_shift(piece.tonic), 0)


def from_c(piece: Piece, tonic: int) -> Piece:
    """A piece written in C moved to the key of `tonic` (the inverse of in_c for that tonic)."""
    return _moved(piece, -key_shift(tonic), tonic)


def _moved(piece: Piece, semitones: int, tonic: int) -> Piece:
    from dataclasses import replace as _replace

    from .roll import fold_into_register, transpose

    roll = fold_into_register(transpose(piece.roll, semitones)) if semitones else piece.roll
    chords = [Chord((c.root + semitones) % 12, c.minor) for c in piece.chords]
    return _replace(piece, roll=roll, chords=chords, tonic=tonic % 12)
