"""What a listener hears in a melody, as numbers: the critic's features (rhythm, rests, intervals, contour, range, key,
repetition, phrase endings), each one number per piece over the measured bars, documented in :data:`FEATURES`.

They are measured from the melody roll, which the neutral rendering writes note for note, so the same features apply
to real tunes and to generated ones.
"""
from __future__ import annotations

import numpy as np

from ..notes.key import detect_key, scale_pitch_classes
from ..notes.melodic import VARIATION, alike, bar_signature
from ..notes.roll import STEPS_PER_BAR, roll_to_notes

# Every feature the critic sees, with what it measures (per piece, over the measured bars).
FEATURES: dict[str, str] = {
    "notes_per_bar": "notes starting per bar",
    "notes_per_bar_spread": "standard deviation of notes per bar across bars",
    "sixteenths": "share of notes one sixteenth long",
    "eighths": "share of notes an eighth long",
    "quarters": "share of notes a quarter long",
    "long_notes": "share of notes a dotted quarter or longer",
    "longest_note": "the longest note, in bars",
    "rest_share": "share of sixteenth steps with no note sounding",
    "rests_per_bar": "rests (silences between notes) per bar",
    "mean_interval": "mean size of the intervals between consecutive notes, semitones",
    "repeats": "share of intervals that repeat the pitch",
    "steps": "share of intervals of 1-2 semitones",
    "thirds": "share of intervals of 3-4 semitones",
    "leaps": "share of intervals of 5-7 semitones",
    "big_leaps": "share of intervals larger than a fifth",
    "turns": "direction changes per interval (a zig-zag contour turns often)",
    "longest_run": "the longest run of moves in one direction, in notes",
    "pitch_range": "highest minus lowest pitch, semitones",
    "pitch_spread": "standard deviation of pitch, semitones",
    "in_scale": "share of notes in the scale of the key heard (Krumhansl-Kessler)",
    "pitch_classes": "distinct pitch classes used",
    "restated_bars": "share of bars identical to an earlier bar",
    "varied_bars": "share of bars that closely vary an earlier bar (at least 2/3 of their notes alike)",
    "rhythm_repeats": "share of bars whose rhythm is an earlier bar's",
    "two_bar_repeats": "share of two-bar units (bars 1-2, 3-4, ...) equal to an earlier one",
    "distinct_trigrams": "share of the runs of three consecutive intervals that are not an earlier run (few: motifs return)",
    "on_beat": "share of notes starting on a beat",
    "off_eighth": "share of notes starting on an odd sixteenth",
    "phrase_end_long": "share of 4-bar phrases whose last note lasts a quarter or more",
    "ends_on_tonic": "the last note is the tonic of the key heard",
    "final_length": "length of the last note, in beats",
}


def _similar(a: tuple, b: tuple) -> float:
    """Share of notes two bar signatures have in common (same onset and pitch), of the larger bar."""
    return alike({(o, p) for o, p, _ in a}, {(o, p) for o, p, _ in b})


def melody_features(roll: np.ndarray, *, from_bar: int = 0) -> dict[str, float]:
    """The critic's features of one monophonic melody roll, over bars from_bar+1 .. the end (see FEATURES)."""
    bars = len(roll) // STEPS_PER_BAR
    notes = [n for n in roll_to_notes(roll) if n.start >= from_bar * STEPS_PER_BAR]
    part = roll[from_bar * STEPS_PER_BAR:bars * STEPS_PER_BAR]
    n_bars = max(1, bars - from_bar)
    nan = float("nan")
    if len(notes) < 2:
        return {k: nan for k in FEATURES}
    pitches = np.array([n.pitch for n in notes])
    lengths = np.array([n.end - n.start for n in notes])
    onsets = np.array([n.start for n in notes])
    per_bar = np.bincount((onsets // STEPS_PER_BAR) - from_bar, minlength=n_bars)[:n_bars]
    iv = np.diff(pitches)
    a = np.abs(iv)
    moves = np.sign(iv[iv != 0])
    turns = float((np.diff(moves) != 0).mean()) if len(moves) > 1 else 0.0
    run, best = 1, 1
    for x, y in zip(moves[:-1], moves[1:]):
        run = run + 1 if x == y else 1
        best = max(best, run)
    gaps = sum(1 for x, y in zip(notes[:-1], notes[1:]) if y.start > x.end)
    tonic, mode, _ = detect_key(part)
    scale = scale_pitch_classes(tonic, mode)
    sigs = [bar_signature(notes, b) for b in range(from_bar, bars)]
    rhythms = [tuple(o for o, _, _ in s) for s in sigs]
    sounding = [i for i, s in enumerate(sigs) if s]
    restated = [i for i in sounding if sigs[i] in sigs[:i]]
    varied = [i for i in sounding if i not in restated and any(_similar(sigs[i], sigs[j]) >= VARIATION for j in range(i))]
    pairs = [(sigs[i], sigs[i + 1]) for i in range(0, len(sigs) - 1, 2)]
    phrase_ends = []
    for b in range(from_bar + 3, bars, 4):
        last = [n for n in notes if n.start < (b + 1) * STEPS_PER_BAR]
        if last:
            phrase_ends.append(last[-1].end - last[-1].start >= 4)
    return {
        "notes_per_bar": float(per_bar.mean()),
        "notes_per_bar_spread": float(per_bar.std()),
        "sixteenths": float((lengths == 1).mean()),
        "eighths": float((lengths == 2).mean()),
        "quarters": float((lengths == 4).mean()),
        "long_notes": float((lengths >= 6).mean()),
        "longest_note": float(lengths.max() / STEPS_PER_BAR),
        "rest_share": float(1 - part.any(axis=1).mean()),
        "rests_per_bar": gaps / n_bars,
        "mean_interval": float(a.mean()),
        "repeats": float((a == 0).mean()),
        "steps": float(((a >= 1) & (a <= 2)).mean()),
        "thirds": float(((a >= 3) & (a <= 4)).mean()),
        "leaps": float(((a >= 5) & (a <= 7)).mean()),
        "big_leaps": float((a > 7).mean()),
        "turns": turns,
        "longest_run": float(best),
        "pitch_range": float(pitches.max() - pitches.min()),
        "pitch_spread": float(pitches.std()),
        "in_scale": float(np.mean([p % 12 in scale for p in pitches])),
        "pitch_classes": float(len(set(pitches % 12))),
        "restated_bars": len(restated) / max(1, len(sounding)),
        "varied_bars": len(varied) / max(1, len(sounding)),
        "rhythm_repeats": float(np.mean([r in rhythms[:i] for i, r in enumerate(rhythms) if r][1:] or [0.0])),
        "two_bar_repeats": float(np.mean([p in pairs[:i] for i, p in enumerate(pairs)][1:] or [0.0])),
        "distinct_trigrams": distinct_share(iv, 3),
        "on_beat": float((onsets % 4 == 0).mean()),
        "off_eighth": float((onsets % 2 == 1).mean()),
        "phrase_end_long": float(np.mean(phrase_ends)) if phrase_ends else nan,
        "ends_on_tonic": float(pitches[-1] % 12 == tonic),
        "final_length": float(lengths[-1] / 4),
    }


def matrix(rolls: list[np.ndarray], *, from_bar: int = 0) -> np.ndarray:
    """(pieces, features) in FEATURES order; a feature a piece lacks takes that feature's median."""
    x = np.array([[f[k] for k in FEATURES] for f in (melody_features(r, from_bar=from_bar) for r in rolls)], float)
    med = np.nanmedian(x, axis=0)
    return np.where(np.isnan(x), np.where(np.isnan(med), 0.0, med), x)


def distinct_share(intervals: np.ndarray, n: int = 3) -> float:
    """Share of a melody's runs of n consecutive intervals that differ from every other run of it (1: no figure ever
    returns; real folk tunes, which build phrases from a few figures, about 0.7); NaN for a melody too short."""
    runs = [tuple(intervals[i:i + n]) for i in range(len(intervals) - n + 1)]
    return len(set(runs)) / len(runs) if runs else float("nan")
