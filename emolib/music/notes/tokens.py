"""Event tokens for melodies, with the emotion and the key first (EMOPIA's conditioning, REMI-style events).

A melody becomes ``EMO_Qn KEY_k`` followed, bar by bar, by ``BAR IDX_b TOGO_r REF_j CHORD_x`` and one
``POS_p PITCH_n DUR_d`` triple per note (positions and durations in sixteenth steps, 16 per bar). ``IDX_b`` says
which bar of the tune this is (0-15, then again from 0) and ``TOGO_r`` how many bars are left after it (0 in
the last bar, 15 for 15 or more): the model knows where a phrase ends and when the tune must close, which it
learns from every tune's real ending (most folk tunes are 8 to 16 bars long). ``REF_j`` names the earlier bar this
bar restates or varies (``REF_NONE``: none; emolib.music.notes.melodic.reference_bars in a real tune, the form plan
at generation), as the GAN's reference bar does: the model learns from real tunes how a phrase returns. The key and
chord tokens let it follow the same harmony the GAN is conditioned on. At generation time we write the key,
bar-position, reference and chord tokens in; the model chooses only the notes and when a bar ends.
``tokens_to_roll`` inverts ``roll_to_tokens`` exactly for monophonic rolls whose notes last at most a bar.
"""
from __future__ import annotations

import numpy as np

from .chords import ALL_CHORDS, Chord
from .key import PITCH_NAMES
from .melodic import reference_bars
from .roll import N_PITCHES, STEPS_PER_BAR, TUNE_BARS, Note, notes_to_roll, roll_to_notes

MAX_DUR = STEPS_PER_BAR  # longer notes are cut at a bar's length
KEYS = tuple((t, m) for m in ("major", "minor") for t in range(12))

VOCAB: list[str] = (["PAD", "EOS", "BAR"] + [f"EMO_Q{i}" for i in range(1, 5)]
                    + [f"KEY_{PITCH_NAMES[t]}{'m' if m == 'minor' else ''}" for t, m in KEYS]
                    + [f"IDX_{b}" for b in range(TUNE_BARS)]
                    + [f"TOGO_{b}" for b in range(TUNE_BARS)]
                    + ["REF_NONE"] + [f"REF_{b}" for b in range(TUNE_BARS)]
                    + [f"CHORD_{c.name}" for c in ALL_CHORDS]
                    + [f"POS_{p}" for p in range(STEPS_PER_BAR)]
                    + [f"PITCH_{p}" for p in range(N_PITCHES)]
                    + [f"DUR_{d}" for d in range(1, MAX_DUR + 1)])
ID = {t: i for i, t in enumerate(VOCAB)}
PAD, EOS, BAR, NO_REF = ID["PAD"], ID["EOS"], ID["BAR"], ID["REF_NONE"]
EMO0, KEY0, IDX0, TOGO0, REF0, CHORD0, POS0, PITCH0, DUR0 = (ID["EMO_Q1"], ID["KEY_C"], ID["IDX_0"], ID["TOGO_0"],
                                                             ID["REF_0"], ID["CHORD_C"], ID["POS_0"], ID["PITCH_0"],
                                                             ID["DUR_1"])
GIVEN = ("EMO", "KEY", "IDX", "TOGO", "REF", "CHORD")  # token kinds we write in at generation: never the model's choice


def kind(token: int) -> str:
    """The event type of a token id: PAD, EOS, BAR, EMO, KEY, IDX, TOGO, REF, CHORD, POS, PITCH or DUR."""
    return VOCAB[token].split("_")[0]


KINDS = np.array([kind(i) for i in range(len(VOCAB))])


def emotion_token(quadrant_number: int) -> int:
    return EMO0 + quadrant_number - 1


def key_token(tonic: int, mode: str) -> int:
    return KEY0 + KEYS.index((tonic % 12, mode))


def index_token(bar: int) -> int:
    return IDX0 + bar % TUNE_BARS


def chord_token(chord: Chord) -> int:
    return CHORD0 + ALL_CHORDS.index(chord)


def bar_header(bar: int, chord: Chord, total_bars: int, reference: int | None = None) -> list[int]:
    """The tokens that open a bar: BAR, its index in the tune, the bars left after it (at most 15), the earlier bar it
    restates or varies (or none), its chord."""
    ref = NO_REF if reference is None else REF0 + reference % TUNE_BARS
    return [BAR, index_token(bar), TOGO0 + min(TUNE_BARS - 1, max(0, total_bars - 1 - bar)), ref, chord_token(chord)]


def roll_to_tokens(roll: np.ndarray, chords: list[Chord], quadrant_number: int, key: tuple[int, str],
                   total_bars: int | None = None) -> list[int]:
    """A monophonic roll (whole bars), its chords, emotion and key -> token ids, emotion and key first; each bar's
    reference bar is the one it restates or varies in this roll. total_bars: how long the whole tune is (the roll may
    be its beginning), for the bars-left tokens."""
    n_bars = len(roll) // STEPS_PER_BAR
    total_bars = total_bars or n_bars
    by_bar: list[list[Note]] = [[] for _ in range(n_bars)]
    notes = roll_to_notes(roll)
    notes_after = {n: (notes[i + 1] if i + 1 < len(notes) else None) for i, n in enumerate(notes)}
    for n in notes:
        if n.start < n_bars * STEPS_PER_BAR:
            by_bar[n.start // STEPS_PER_BAR].append(n)
    out = [emotion_token(quadrant_number), key_token(*key)]
    for b, reference in enumerate(reference_bars(roll[:n_bars * STEPS_PER_BAR])):
        out += bar_header(b, chords[b % len(chords)], total_bars, reference)
        for n in by_bar[b]:
            out += [POS0 + n.start % STEPS_PER_BAR, PITCH0 + n.pitch, DUR0 + min(_length(n, notes_after[n]), MAX_DUR) - 1]
    return out


def _length(note: Note, following: Note | None) -> int:
    """A note's length, legato: the roll shortens a note by one step when the same pitch is struck right after it
    (so the two can be told apart); that gap is the convention's, not a rest, and tokens_to_roll puts it back."""
    if following is not None and following.pitch == note.pitch and following.start == note.end + 1:
        return note.end + 1 - note.start
    return note.end - note.start


def tokens_to_roll(tokens: list[int], bars: int | None = None) -> np.ndarray:
    """Token ids -> roll (malformed triples are skipped, not guessed)."""
    notes, bar, i = [], -1, 0
    while i < len(tokens):
        t = tokens[i]
        if t == BAR:
            bar += 1
        elif kind(t) == "POS" and i + 2 < len(tokens) and kind(tokens[i + 1]) == "PITCH" and kind(tokens[i + 2]) == "DUR":
            start = max(bar, 0) * STEPS_PER_BAR + t - POS0
            notes.append(Note(tokens[i + 1] - PITCH0, start, start + tokens[i + 2] - DUR0 + 1))
            i += 2
        elif t == EOS:
            break
        i += 1
    n_bars = bars if bars is not None else max(bar + 1, 1)
    return notes_to_roll(notes, n_bars * STEPS_PER_BAR)
