"""The benchmarks of generated music, each measured from what a listener gets, never from internal tensors.

- Written files judged (:func:`run`, :func:`score_midi`): compose seeds x emotions, write the MIDI files, and
  measure each: the mode from the whole file (melody and accompaniment), the other metrics from the melody track,
  and the length in bars from the file's end time (scripts/compare_models.py).
- The form figures (:func:`form_features`, :func:`targets_summary`, :data:`FORM_TARGETS`): each melody written with
  the neutral rendering and read back (:func:`heard`), against real tunes measured the same way.
- The markdown tables the README shows (:func:`format_table`, :func:`format_rows`).
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import numpy as np

from ...emotion import EMOTIONS, quadrant
from ..notes.roll import STEPS_PER_BAR, TUNE_BARS
from .metrics import evaluate, notes_from_midi

def score_midi(path: str | Path, emotion: str) -> dict:
    """Metrics of one written MIDI file, and whether its mode and length are what was asked for."""
    import pretty_midi

    pm = pretty_midi.PrettyMIDI(str(path))
    whole = notes_from_midi(pm)
    melody = notes_from_midi(pm, instruments=[0])
    row = {"emotion": emotion, **{k: v for k, v in evaluate(melody).items() if k != "mode"}}
    row["mode"] = evaluate(whole)["mode"]
    row["mode_match"] = row["mode"] == quadrant(emotion).mode
    row["bars"] = whole.quarters / 4
    row["onsets_per_bar"] = len(melody) / max(row["bars"], 1e-9)
    return row


def run(compose: Callable[[str, int], object], out_dir: str | Path, *, seeds: int = 6, bars: int = TUNE_BARS,
        emotions: tuple[str, ...] = EMOTIONS, progress: bool = True) -> list[dict]:
    """compose(emotion, seed) -> an object with .midi (pretty_midi); one judged row per piece."""
    from tqdm.auto import tqdm

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    jobs = [(e, s) for e in emotions for s in range(seeds)]
    for emotion, seed in tqdm(jobs, desc="compose + judge", disable=not progress):
        t = time.perf_counter()
        piece = compose(emotion, seed)
        seconds = time.perf_counter() - t
        path = out_dir / f"{emotion}_{seed}.mid"
        piece.midi.write(str(path))
        rows.append({**score_midi(path, emotion), "seed": seed, "seconds": seconds, "path": str(path)})
    return rows


def _mean(rows: list[dict], key: str) -> float:
    """Mean of a column over the rows that have it, skipping NaN (a piece with no notes); NaN if none."""
    vals = [float(r[key]) for r in rows if key in r and not (isinstance(r[key], float) and np.isnan(r[key]))]
    return float(np.mean(vals)) if vals else float("nan")


def melody_rows(melodies, tempo: float | None = None) -> list[dict]:
    """Every metric of every melody (its monophonic line), with its quadrant, for reference tables.

    Melodies on the roll grid carry no performance tempo, so notes per second assume `tempo` (default
    120 bpm); ``notes_per_beat`` is the tempo-free measure of density.
    """
    from .metrics import notes_from_roll

    rows = []
    for m in melodies:
        notes = notes_from_roll(m.roll, tempo=tempo or 120.0)
        row = {"quadrant": m.quadrant.name, **evaluate(notes)}
        row["notes_per_beat"] = len(notes) / max(notes.quarters, 1e-9)
        rows.append(row)
    return rows


def reference_table(rows: list[dict]) -> dict[str, dict[str, tuple[float, float]]]:
    """quadrant -> metric -> (mean, std), plus the share of minor-mode pieces."""
    out = {}
    for name in EMOTIONS:
        sub = [r for r in rows if r["quadrant"] == name]
        if not sub:
            continue
        table = {}
        for key in sub[0]:
            if key in ("quadrant", "mode"):
                continue
            vals = np.array([r[key] for r in sub], dtype=float)
            vals = vals[~np.isnan(vals)]
            table[key] = (round(float(vals.mean()), 3), round(float(vals.std()), 3)) if len(vals) else (float("nan"),) * 2
        table["minor_share"] = (round(float(np.mean([r["mode"] == "minor" for r in sub])), 3), 0.0)
        table["n"] = (len(sub), 0)
        out[name] = table
    return out


def real_pieces(melodies, *, per_emotion: int = 6, bars: int = TUNE_BARS, seed: int = 0) -> dict[tuple[str, int], object]:
    """Real tunes rendered exactly as generated ones are (same styles, chords from the tune): the 'real' row.
    Each value has .piece, .roll and .midi, like a Composition."""
    from types import SimpleNamespace

    from ..render.midi import render_expressive

    rng = np.random.default_rng(seed)
    out = {}
    for name in EMOTIONS:
        pool = [m for m in melodies if m.quadrant is not None and m.quadrant.name == name and m.bars >= bars]
        for i, j in enumerate(rng.permutation(len(pool))[:per_emotion]):
            piece = pool[j].head(bars)
            out[(name, i)] = SimpleNamespace(piece=piece, roll=piece.roll, midi=render_expressive(piece))
    return out


def add_judgement(rows: list[dict], judge) -> list[dict]:
    """Add the symbolic emotion classifier's verdict (quadrant, arousal, valence agreement) to each row."""
    import pretty_midi

    from .judge import judge_midi

    probs = judge_midi(judge, [pretty_midi.PrettyMIDI(r["path"]) for r in rows])
    for r, p in zip(rows, probs):
        asked = quadrant(r["emotion"])
        got = quadrant(int(p.argmax()) + 1)
        r["judged"] = got.name
        r["judge_match"] = got.name == asked.name
        r["judge_arousal_match"] = got.arousal == asked.arousal
        r["judge_valence_match"] = got.valence == asked.valence
    return rows


def comparison_row(rows: list[dict]) -> dict:
    """One line of the comparison table: every metric's mean, mode match, judge agreement, seconds per piece."""
    out = {}
    for key in ("pitch_class_entropy", "scale_consistency", "qualified_note_rate", "empty_beat_rate", "polyphony",
                "note_density", "groove_consistency", "mode_match", "judge_match", "judge_arousal_match",
                "judge_valence_match", "seconds"):
        value = _mean(rows, key)
        out[key] = None if np.isnan(value) else round(value, 3)
    out["pieces"] = len(rows)
    return out


# ---- the form figures: what a listener hears in each model's tunes, against real ones ---------------------

def heard(roll: np.ndarray) -> np.ndarray:
    """The melody as a listener gets it: written as a MIDI file with the neutral rendering, read back on the grid."""
    import io

    import pretty_midi

    from ..notes.piece import Piece
    from ..notes.roll import midi_to_roll, pad_to_bars
    from ..render.midi import render_neutral

    buf = io.BytesIO()
    render_neutral(Piece(roll, [], 0, "major")).write(buf)
    buf.seek(0)
    return pad_to_bars(midi_to_roll(pretty_midi.PrettyMIDI(buf), instruments="first"), len(roll) // STEPS_PER_BAR)


def form_features(roll: np.ndarray, tonic: int, mode: str) -> dict:
    """The form, rhythm and key figures of one 16-bar melody, against the key it was written in.

    half_cadence: bar 8 ends on a note of a quarter or longer on a tone of the dominant (V) chord; tonic_close:
    the last note is the tonic and lasts a quarter or longer; restated_or_varied: bars restating or closely
    varying an earlier bar (at least 2/3 of their notes alike); planned_copies: of the bars the form plan has vary
    an earlier bar (5-7 and 13-15 against 1-3), the share that copy it exactly; distinct_trigrams: the share of runs
    of three intervals that are new; big_leaps: intervals beyond a fifth; longest_note in bars; in_key: notes in the
    key's scale (harmonic minor counts its raised 7th); mode: the key a Krumhansl-Kessler key-finder hears.
    """
    from ..form import HALF_CADENCE_BAR, cadence_goal, ends_on, form_plan
    from ..notes.melodic import bar_signature
    from ..notes.key import detect_key, scale_pitch_classes
    from ..notes.roll import roll_to_notes
    from .features import melody_features

    notes = roll_to_notes(roll)
    f = melody_features(roll)
    bar8 = [n for n in notes if n.start < 8 * STEPS_PER_BAR]
    last8 = bar8[-1] if bar8 else None
    scale = scale_pitch_classes(tonic, mode)
    bars = len(roll) // STEPS_PER_BAR
    per_bar = np.bincount([n.start // STEPS_PER_BAR for n in notes], minlength=bars)
    planned = [(b, r) for b, r in enumerate(form_plan(bars)) if r is not None]
    copies = [bar_signature(notes, b) == bar_signature(notes, r) and bool(bar_signature(notes, r)) for b, r in planned]
    return {
        "restated_or_varied": f["restated_bars"] + f["varied_bars"],
        "planned_copies": float(np.mean(copies)) if copies else float("nan"),
        "distinct_trigrams": f["distinct_trigrams"],
        "big_leaps": f["big_leaps"],
        "half_cadence": float(last8 is not None and ends_on(last8.start - HALF_CADENCE_BAR * STEPS_PER_BAR,
                                                            last8.end - last8.start, last8.pitch,
                                                            cadence_goal(HALF_CADENCE_BAR, TUNE_BARS, tonic))),
        "tonic_close": float(bool(notes) and notes[-1].pitch % 12 == tonic % 12 and notes[-1].end - notes[-1].start >= 4),
        "longest_note": f["longest_note"],
        "notes_per_bar": per_bar.astype(float),
        "sixteenths": f["sixteenths"],
        "rest_share": f["rest_share"],
        "in_key": float(np.mean([n.pitch % 12 in scale for n in notes])) if notes else float("nan"),
        "mode": detect_key(roll)[1] if notes else "none",
    }


def targets_summary(rows: list[dict], real_rows: list[dict]) -> dict:
    """The form figures of one source (rows: form_features plus "emotion"), judged against the real tunes'."""
    lo, hi = np.percentile(np.concatenate([r["notes_per_bar"] for r in real_rows]), [5, 95])
    bars = np.concatenate([r["notes_per_bar"] for r in rows])
    out = {k: _mean(rows, k) for k in ("restated_or_varied", "planned_copies", "distinct_trigrams", "big_leaps",
                                        "half_cadence", "tonic_close", "sixteenths", "rest_share", "in_key")}
    out["notes_per_bar_in_real_range"] = float(((bars >= lo) & (bars <= hi)).mean())
    out["longest_note_bars"] = float(max(r["longest_note"] for r in rows))
    for name in ("major", "minor"):
        asked = [r for r in rows if quadrant(r["emotion"]).mode == name]
        out[f"mode_match_{name}"] = float(np.mean([r["mode"] == name for r in asked])) if asked else float("nan")
    dens = {e: np.mean([r["notes_per_bar"].mean() for r in rows if r["emotion"] == e]) for e in EMOTIONS
            if any(r["emotion"] == e for r in rows)}
    high = [dens[e] for e in dens if quadrant(e).arousal > 0]
    low = [dens[e] for e in dens if quadrant(e).arousal < 0]
    out["arousal_notes_ratio"] = float(np.mean(high) / np.mean(low)) if high and low else float("nan")
    out["pieces"] = len(rows)
    return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in out.items()}


FORM_TARGETS = {  # the targets for each model's default output: (figure, test, threshold)
    "restated_or_varied": ("between", (0.15, 0.35)), "planned_copies": ("<=", 0.5),
    "distinct_trigrams": ("at most 1.15x real", 1.15), "big_leaps": ("<=", 0.06),
    "half_cadence": (">=", 0.8), "tonic_close": (">=", 0.8),
    "longest_note_bars": ("<=", 2.0), "notes_per_bar_in_real_range": (">=", 0.9),
    "sixteenths": ("within 1.5x of real", 1.5), "rest_share": ("within 1.4x of real", 1.4), "in_key": (">=", 0.95),
    "mode_match_major": (">=", 0.8), "mode_match_minor": (">=", 0.8), "arousal_notes_ratio": (">=", 1.5),
}


def meets(summary: dict, real: dict) -> dict[str, bool]:
    """Which of FORM_TARGETS a source's summary meets (the 1.5x rules against the real tunes' summary)."""
    out = {}
    for key, (test, value) in FORM_TARGETS.items():
        v = summary[key]
        if test == "between":
            out[key] = value[0] <= v <= value[1]
        elif test == ">=":
            out[key] = v >= value
        elif test == "<=":
            out[key] = v <= value
        elif test.startswith("at most"):
            out[key] = v <= real[key] * value
        else:
            out[key] = real[key] / value <= v <= real[key] * value
    return out


def real_rows(pieces: list, bars: int = TUNE_BARS) -> list[dict]:
    """form_features of real tunes' first `bars` bars, as heard, against their own keys."""
    return [dict(form_features(heard(m.roll[:bars * STEPS_PER_BAR]), m.tonic, m.mode), emotion=m.quadrant.name) for m in pieces
            if m.bars >= bars and m.quadrant is not None]


def generated_rows(compose, *, seeds: int = 16, emotions: tuple[str, ...] = EMOTIONS, progress: bool = True,
                   **options) -> tuple[list[dict], list]:
    """(form_features rows, compositions) of compose(emotion, seed=s, **options) for every emotion and seed."""
    from tqdm.auto import tqdm

    rows, pieces = [], []
    for e, s in tqdm([(e, s) for e in emotions for s in range(seeds)], desc="composing", disable=not progress):
        c = compose(e, seed=s, **options)
        rows.append(dict(form_features(heard(c.roll), c.tonic, c.mode), emotion=e))
        pieces.append(c)
    return rows, pieces


def distinct_first_bars(model: str, emotion: str, decoding: dict | None = None, *, raw: bool = False, seeds: int = 8,
                        checkpoint=None) -> int:
    """How many different first bars a model writes for one prompt (one tune's key and chords, from scratch) over
    `seeds` seeds, every condition fixed: only its noise (the GAN's z) and its draws differ. 1 means the seed has no
    say."""
    from ..compose import decoding_settings
    from ..data.opening import choose_opening
    from ..form import plan_chords
    from ..models import registry

    prompt = plan_chords(choose_opening("scratch", quadrant(emotion), np.random.default_rng(0)), TUNE_BARS)
    net = registry.load(model, checkpoint)
    settings = decoding_settings(model, decoding, raw=raw)
    bars = {net.generate(prompt, TUNE_BARS, seed=s, **settings).roll[:STEPS_PER_BAR].tobytes() for s in range(seeds)}
    return len(bars)


def format_table(columns: dict[str, dict], keys: list[str] | None = None) -> str:
    """Markdown: one column per source, one row per figure."""
    names = list(columns)
    keys = keys or list(next(iter(columns.values())))
    lines = ["| | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for k in keys:
        lines.append(f"| {k.replace('_', ' ')} | " + " | ".join(str(columns[n].get(k, "-")) for n in names) + " |")
    return "\n".join(lines)


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
