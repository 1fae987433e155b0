"""Major tunes heard in minor: modal transposition, so the models learn negative valence from enough tunes.

Of the folk corpus's labelled training tunes only one in thirteen is in minor (angry and sad together: 292 of 3,806),
so both models saw a major tune twelve times for every minor one, and minor was what they got wrong. Modal
transposition (what a folk musician does when playing a tune "in the minor") keeps a tune's rhythm, contour and
phrasing and moves the major scale's 3rd, 6th and 7th degrees down a semitone, to the natural minor's: C D E F G A B
becomes C D Eb F G Ab Bb, except that a 7th rising to the tonic stays a leading tone, as it does in the corpus's own
minor tunes. Notes outside the major scale stay where they are. The tune keeps its arousal (a reel stays a reel) and
its valence turns negative: a happy tune becomes an angry one, a calm tune a sad one; its chords are worked out again
from its new notes, as a real minor tune's are.

Which tunes: the corpus's minor tunes are not its major tunes in another mode (more ballads and slow airs, fewer
hornpipes; fewer sixteenths, more steps, more long notes), so a critic tells major tunes moved into minor from real
minor ones as easily as it tells major from minor. :func:`minor_versions` moves, for each real minor tune, the few
major tunes most like it in everything but the mode (rhythm, intervals, contour, repetition), so the minor the models
learn is as near the corpus's minor as its major tunes allow. What still tells them apart is the scale: moved tunes
use the 6th degree about three times as often as the corpus's minor tunes, and the lowered 7th half as often.
scripts/benchmark_music.py --modal checks this with the critic.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ...emotion import QUADRANTS
from ..notes.chords import bar_chords
from ..notes.piece import Piece
from ..notes.roll import TUNE_BARS, STEPS_PER_BAR, Note, notes_to_roll, roll_to_notes

LOWERED = {4: 3, 9: 8, 11: 10}  # semitones above the tonic: major 3rd, 6th, 7th -> minor 3rd, 6th, 7th
MODAL = "modal transposition"  # what a transposed tune's source says, before its own
PER_MINOR_TUNE = 4  # major tunes moved into minor for each real minor tune
# the features that follow the mode rather than the style (they are left out when tunes are matched by style)
MODE_FEATURES = ("in_scale", "pitch_classes", "ends_on_tonic")


def in_minor(piece: Piece) -> Piece:
    """A major tune moved into its tonic's minor, with the quadrant of the same arousal and negative valence."""
    if piece.mode != "major":
        raise ValueError("only a major tune is moved into minor")
    notes = roll_to_notes(piece.roll)
    moved = []
    for n, after in zip(notes, notes[1:] + [None]):
        degree = (n.pitch - piece.tonic) % 12
        leading = degree == 11 and after is not None and after.pitch == n.pitch + 1  # 7 -> 8: stays a leading tone
        moved.append(Note(n.pitch - (1 if degree in LOWERED and not leading else 0), n.start, n.end))
    roll = notes_to_roll(moved, len(piece.roll))
    quadrant = piece.quadrant and next(q for q in QUADRANTS.values()
                                       if q.arousal == piece.quadrant.arousal and q.valence < 0)
    return replace(piece, roll=roll, chords=bar_chords(roll, key=(piece.tonic, "minor")), mode="minor",
                   quadrant=quadrant, source=f"{MODAL} of {piece.source}", title=f"{piece.title} (in minor)")


def minor_versions(pieces: list[Piece], per_tune: int = PER_MINOR_TUNE) -> list[Piece]:
    """For each labelled minor piece, the per_tune labelled major pieces of its arousal most like it in style (the
    critic's melodic features but those of the mode, over the first 16 bars), each moved into minor once."""
    from ..eval.features import FEATURES, matrix

    style = [i for i, name in enumerate(FEATURES) if name not in MODE_FEATURES]
    out = []
    for arousal in (1, -1):
        minor = [p for p in pieces if p.quadrant is not None and p.mode == "minor" and p.quadrant.arousal == arousal]
        major = [p for p in pieces if p.quadrant is not None and p.mode == "major" and p.quadrant.arousal == arousal]
        if not minor or not major:
            continue
        a, b = (matrix([p.roll[:TUNE_BARS * STEPS_PER_BAR] for p in ps])[:, style] for ps in (minor, major))
        scale = b.std(0) + 1e-9
        distance = (((a[:, None, :] - b[None, :, :]) / scale) ** 2).sum(-1)  # (minor, major)
        taken: set[int] = set()
        for row in distance:
            nearest = [j for j in np.argsort(row, kind="stable") if j not in taken][:per_tune]
            taken.update(nearest)
            out += [in_minor(major[j]) for j in nearest]
    return out


def learning_weight(piece: Piece, modal_weight: float) -> float:
    """How much a tune counts when a model's batches are drawn: modal_weight for a tune moved into minor, else 1."""
    return modal_weight if piece.source.startswith(MODAL) else 1.0


def with_minor_versions(pieces: list[Piece]) -> list[Piece]:
    """The pieces and, after them, their minor versions (what both models learn from)."""
    return pieces + minor_versions(pieces)
