"""The opening bank: real 4-bar openings and 16-bar chord progressions, 48 per quadrant.

A model can continue an opening taken from real music of the requested quadrant, under that tune's own
chords; composing from scratch still takes its chords and key from here. The bank is built from the folk
corpus's training split (music21's bundled, freely usable tunes) and ships with emolib, so composing needs neither
a dataset nor a corpus parse. Each entry is a :class:`~emolib.music.notes.piece.Piece` of 4 bars whose bars are
marked as a given opening.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ...config import PACKAGE_DATA
from ...emotion import EMOTIONS, quadrant
from ...errors import EmolibError
from ..notes.chords import ALL_CHORDS
from ..notes.piece import OPENING, Piece
from ..notes.roll import BARS_PER_SEGMENT, SEGMENT_STEPS, TUNE_BARS, Note, notes_to_roll, roll_to_notes

BANK_FILE = PACKAGE_DATA / "opening_bank.npz"
OPENING_BARS = BARS_PER_SEGMENT  # 4
SOURCE = "opening bank"


def build_bank(melodies: list[Piece], per_quadrant: int = 48, seed: int = 0) -> list[Piece]:
    """Pick up to per_quadrant tunes of each quadrant at random, keeping their opening and harmony."""
    rng = np.random.default_rng(seed)
    bank = []
    for name in EMOTIONS:
        pool = [m for m in melodies if m.quadrant is not None and m.quadrant.name == name and m.chords
                and m.roll[:SEGMENT_STEPS].any(axis=1).mean() > 0.5]
        for i in rng.permutation(len(pool))[:per_quadrant]:
            m = pool[i]
            chords = [m.chord_at(b) for b in range(TUNE_BARS)]
            bank.append(Piece(m.roll[:SEGMENT_STEPS].copy(), chords, m.tonic, m.mode, m.quadrant, title=m.title,
                              source=SOURCE, by=(OPENING,) * OPENING_BARS))
    return bank


def save_bank(bank: list[Piece], path: str | Path = BANK_FILE) -> Path:
    notes, bounds = [], []
    for s in bank:
        n = [(x.pitch, x.start, x.end) for x in roll_to_notes(s.roll)]
        bounds.append((sum(len(v) for v in notes), sum(len(v) for v in notes) + len(n)))
        notes.append(n)
    np.savez_compressed(path, notes=np.array([x for n in notes for x in n], dtype=np.int16).reshape(-1, 3),
                        bounds=np.array(bounds, dtype=np.int32),
                        chords=np.array([[ALL_CHORDS.index(c) for c in s.chords] for s in bank], dtype=np.int8),
                        tonic=np.array([s.tonic for s in bank]), mode=np.array([s.mode for s in bank]),
                        emotion=np.array([s.quadrant.name for s in bank]), title=np.array([s.title for s in bank]))
    return Path(path)


_BANK: list[Piece] | None = None


def load_bank(path: str | Path = BANK_FILE) -> list[Piece]:
    """The shipped opening bank (cached after the first call)."""
    global _BANK
    if _BANK is not None and Path(path) == BANK_FILE:
        return _BANK
    if not Path(path).is_file():
        raise EmolibError(f"opening bank not found at {path}; rebuild it with `python scripts/train_melody.py --model gan --opening-bank` or reinstall emolib")
    with np.load(path, allow_pickle=False) as z:
        z = {k: z[k] for k in z.files}
    bank = [Piece(notes_to_roll([Note(*map(int, n)) for n in z["notes"][a:b]], SEGMENT_STEPS), [ALL_CHORDS[i] for i in c],
                  int(t), str(m), quadrant(str(e)), title=str(ti), source=SOURCE, by=(OPENING,) * OPENING_BARS)
            for (a, b), c, t, m, e, ti in zip(z["bounds"], z["chords"], z["tonic"], z["mode"], z["emotion"], z["title"])]
    if Path(path) == BANK_FILE:
        _BANK = bank
    return bank


def bank_opening(emotion: str, rng: np.random.Generator, bank: list[Piece] | None = None) -> Piece:
    """A random opening of the requested quadrant."""
    name = quadrant(emotion).name
    pool = [s for s in (bank or load_bank()) if s.quadrant.name == name]
    if not pool:
        raise EmolibError(f"the opening bank has no {name} openings")
    return pool[int(rng.integers(len(pool)))]
