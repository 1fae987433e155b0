"""Is it the model's own tune, or a real one it learned by heart? Runs of consecutive notes (intervals and rhythm, in
any key) that a tune shares with the training tunes."""
from __future__ import annotations

import numpy as np

from ..notes.roll import roll_to_notes

COPY_LENGTHS = (8, 12, 16, 24, 32)  # runs of notes compared, in notes


def _moves(roll: np.ndarray) -> list[tuple[int, int]]:
    """Each note after the first as (interval from the note before, steps since its onset): what stays the same
    when a tune is transposed, so a copied fragment is found in any key."""
    notes = roll_to_notes(roll)
    return [(b.pitch - a.pitch, b.start - a.start) for a, b in zip(notes[:-1], notes[1:])]


def copy_index(rolls: list[np.ndarray], lengths: tuple[int, ...] = COPY_LENGTHS) -> dict[int, set]:
    """Every run of `length` consecutive moves in the given tunes (the training tunes), per length."""
    index: dict[int, set] = {n: set() for n in lengths}
    for roll in rolls:
        moves = _moves(roll)
        for n in lengths:
            index[n].update(tuple(moves[i:i + n]) for i in range(len(moves) - n + 1))
    return index


def longest_copy(roll: np.ndarray, index: dict[int, set]) -> int:
    """The longest run (among the index's lengths, in notes) of the tune's moves that some training tune also
    has; 0 when none of the shortest length is shared."""
    moves = _moves(roll)
    best = 0
    for n in sorted(index):
        if any(tuple(moves[i:i + n]) in index[n] for i in range(len(moves) - n + 1)):
            best = n
        else:
            break
    return best


def copying(rolls: list[np.ndarray], index: dict[int, set]) -> dict[str, float]:
    """Share of tunes sharing a run of at least 16 and of at least 32 consecutive notes with a training tune
    (about 2 and 4 bars of a folk tune), and the median longest shared run."""
    longest = np.array([longest_copy(r, index) for r in rolls])
    return {"share_16_notes": round(float((longest >= 16).mean()), 3),
            "share_32_notes": round(float((longest >= 32).mean()), 3),
            "median_longest": float(np.median(longest)), "tunes": len(rolls)}
