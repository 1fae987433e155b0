"""A critic that tries to tell generated tunes from real ones: a classifier two-sample test.

Lopez-Paz & Oquab (2017, "Revisiting classifier two-sample tests"): if a classifier, trained on part of two
samples, cannot tell them apart on the rest better than chance, the samples are alike in what the classifier
can see. Here the classifier is a logistic regression on the melodic features of :data:`FEATURES` (each a
number per piece: rhythm, rests, intervals, contour, range, key, repetition, phrase endings), standardised,
scored by stratified k-fold cross-validation. 0.5 = indistinguishable, 1.0 = told apart every time.

It judges what a listener hears: pieces are measured from their melody roll, which the neutral rendering
writes note for note, so the same features apply to real tunes and to generated ones.
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
    "on_beat": "share of notes starting on a beat",
    "off_eighth": "share of notes starting on an odd sixteenth",
    "phrase_end_long": "share of 4-bar phrases whose last note lasts a quarter or more",
    "ends_on_tonic": "the last note is the tonic of the key heard",
    "final_length": "length of the last note, in beats",
}


def _similar(a: tuple, b: tuple) -> float:
    """Share of notes two bar signatures have in common (same onset and pitch), of the larger bar."""
    return alike({(o, p) for o, p, _ in a}, {(o, p) for o, p, _ in b})


def features(roll: np.ndarray, *, from_bar: int = 0) -> dict[str, float]:
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
        "on_beat": float((onsets % 4 == 0).mean()),
        "off_eighth": float((onsets % 2 == 1).mean()),
        "phrase_end_long": float(np.mean(phrase_ends)) if phrase_ends else nan,
        "ends_on_tonic": float(pitches[-1] % 12 == tonic),
        "final_length": float(lengths[-1] / 4),
    }


def matrix(rolls: list[np.ndarray], *, from_bar: int = 0) -> np.ndarray:
    """(pieces, features) in FEATURES order; a feature a piece lacks takes that feature's median."""
    x = np.array([[f[k] for k in FEATURES] for f in (features(r, from_bar=from_bar) for r in rolls)], float)
    med = np.nanmedian(x, axis=0)
    return np.where(np.isnan(x), np.where(np.isnan(med), 0.0, med), x)


def two_sample_accuracy(a: np.ndarray, b: np.ndarray, *, folds: int = 5, seed: int = 0) -> float:
    """Cross-validated accuracy of a logistic regression telling feature rows a from rows b (same number of each)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    n = min(len(a), len(b))
    x = np.concatenate([a[:n], b[:n]])
    y = np.r_[np.zeros(n), np.ones(n)]
    clf = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))
    cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    return float(cross_val_score(clf, x, y, cv=cv, scoring="accuracy").mean())


def _summary(accs: list[float], n: int) -> dict:
    """The repeated test's result: mean accuracy, spread, range, pieces per side and number of repeats."""
    return {"accuracy": round(float(np.mean(accs)), 3), "spread": round(float(np.std(accs)), 3),
            "min": round(float(np.min(accs)), 3), "max": round(float(np.max(accs)), 3), "n": n, "repeats": len(accs)}


def critic(a: np.ndarray, b: np.ndarray, *, n: int = 64, repeats: int = 10, seed: int = 0) -> dict:
    """The two-sample test repeated on `repeats` random draws of n rows from each sample: mean accuracy and spread."""
    rng = np.random.default_rng(seed)
    accs = []
    for r in range(repeats):
        ia = rng.choice(len(a), min(n, len(a)), replace=False)
        ib = rng.choice(len(b), min(n, len(b)), replace=False)
        accs.append(two_sample_accuracy(a[ia], b[ib], seed=seed + r))
    return _summary(accs, int(min(n, len(a), len(b))))


def critic_matched(a: list[np.ndarray], b: list[np.ndarray], *, repeats: int = 10, seed: int = 0) -> dict:
    """The test with both sides matched group by group (e.g. emotion by emotion): a[i] are the rows of group i on
    one side; each repeat draws as many rows of b[i] as a[i] has (fewer if b[i] has fewer, and a[i] is cut to
    match), so neither side can be told apart by its mix of groups."""
    rng = np.random.default_rng(seed)
    accs, n = [], 0
    for r in range(repeats):
        xa, xb = [], []
        for ga, gb in zip(a, b):
            k = min(len(ga), len(gb))
            xa.append(ga[rng.choice(len(ga), k, replace=False)])
            xb.append(gb[rng.choice(len(gb), k, replace=False)])
        xa, xb = np.concatenate(xa), np.concatenate(xb)
        n = len(xa)
        accs.append(two_sample_accuracy(xa, xb, seed=seed + r))
    return _summary(accs, n)


def format_rows(result: dict) -> str:
    """Markdown of scripts/benchmark_music.py --critic's result (figures/music_critic.json): one row per comparison
    (accuracy, spread, pieces per side), then the copying check. The README shows exactly this table."""
    lines = ["| comparison | critic accuracy (0.5 = cannot tell) | spread | pieces per side |", "|---|---|---|---|"]
    for label, r in result["rows"].items():
        lines.append(f"| {label} | {r['accuracy']:.2f} | {r['spread']:.2f} | {r['n']} |")
    lines += ["", "| pieces | share with a run of 16+ notes of a training tune | ... of 32+ notes |", "|---|---|---|"]
    for label, c in result["copying"].items():
        lines.append(f"| {label} | {c['share_16_notes']:.0%} | {c['share_32_notes']:.0%} |")
    return "\n".join(lines)


# ---- copying: is it the model's own tune, or a real one it learned by heart? ---------------------------------

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
