"""Event tokens for melodies, with the emotion token first (EMOPIA's conditioning, REMI-style events).

A melody becomes ``EMO_Qn`` followed, bar by bar, by ``BAR CHORD_x`` and one ``POS_p PITCH_n DUR_d``
triple per note (positions and durations in sixteenth steps, 16 per bar). The chord token lets a
transformer follow the same progression the GAN is conditioned on; at generation time the chords
are written in by us, not sampled. ``tokens_to_roll`` inverts ``roll_to_tokens`` exactly for
monophonic rolls whose notes last at most a bar.
"""
from __future__ import annotations

import numpy as np

from .chords import ALL_CHORDS, Chord
from .roll import N_PITCHES, STEPS_PER_BAR, Note, notes_to_roll, roll_to_notes

MAX_DUR = STEPS_PER_BAR  # longer notes are cut at a bar's length

VOCAB: list[str] = (["PAD", "EOS", "BAR"] + [f"EMO_Q{i}" for i in range(1, 5)]
                    + [f"CHORD_{c.name}" for c in ALL_CHORDS]
                    + [f"POS_{p}" for p in range(STEPS_PER_BAR)]
                    + [f"PITCH_{p}" for p in range(N_PITCHES)]
                    + [f"DUR_{d}" for d in range(1, MAX_DUR + 1)])
ID = {t: i for i, t in enumerate(VOCAB)}
PAD, EOS, BAR = ID["PAD"], ID["EOS"], ID["BAR"]
EMO0, CHORD0, POS0, PITCH0, DUR0 = ID["EMO_Q1"], ID["CHORD_C"], ID["POS_0"], ID["PITCH_0"], ID["DUR_1"]


def kind(token: int) -> str:
    """The event type of a token id: PAD, EOS, BAR, EMO, CHORD, POS, PITCH or DUR."""
    return VOCAB[token].split("_")[0]


def emotion_token(quadrant_number: int) -> int:
    return EMO0 + quadrant_number - 1


def chord_token(chord: Chord) -> int:
    return CHORD0 + ALL_CHORDS.index(chord)


def roll_to_tokens(roll: np.ndarray, chords: list[Chord], quadrant_number: int) -> list[int]:
    """A monophonic roll (whole bars) and its chords -> token ids, emotion first."""
    n_bars = len(roll) // STEPS_PER_BAR
    by_bar: list[list[Note]] = [[] for _ in range(n_bars)]
    for n in roll_to_notes(roll):
        if n.start < n_bars * STEPS_PER_BAR:
            by_bar[n.start // STEPS_PER_BAR].append(n)
    out = [emotion_token(quadrant_number)]
    for b in range(n_bars):
        out += [BAR, chord_token(chords[b % len(chords)])]
        for n in by_bar[b]:
            out += [POS0 + n.start % STEPS_PER_BAR, PITCH0 + n.pitch, DUR0 + min(n.end - n.start, MAX_DUR) - 1]
    return out


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
