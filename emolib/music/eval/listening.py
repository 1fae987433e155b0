"""A blind listening test: you are the discriminator.

Each round plays two 16-bar tunes rendered the same way (the neutral rendering: tempo 100, velocity 80, piano alone,
both moved to C, cut or padded to the same length and brought to the same loudness): one a shipped model wrote from
bar 1 with its default decoding, one a real folk tune of the corpus's test split that no model learned from, in
random order. You say which one the model wrote (and, if you like, which emotion each carries); the answer is shown
after you choose. The critic (emolib.music.eval.critic's features and logistic regression) takes the same test on
the same pairs, so your accuracy and the critic's sit side by side: 0.5 is a coin toss (the model's tunes pass for
real ones), 1.0 is telling them apart every time.

Pure functions (choose pairs, render, score, save, read back, summarise); emolib.widgets.Quiz is a thin layer over
them. Answers are appended, one row per round, to a CSV in a folder you choose; nothing is ever overwritten, and
read_answers pools any number of such files (a class's).
"""
from __future__ import annotations

import csv
import io
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...errors import BadInput, brief
from ..notes.piece import Piece, in_c
from ..notes.roll import TUNE_BARS, pad_to_bars

CLIP_SECONDS = TUNE_BARS * 4 * 60 / 100 + 1.5  # 16 bars of 4 beats at tempo 100 (the neutral rendering), then a tail
CLIP_RMS = 0.1  # every clip is scaled to this loudness (root mean square of the waveform)
ANSWERS_FILE = "listening_answers.csv"
COLUMNS = ("time", "round", "model", "seed", "tune", "emotion", "model_clip", "choice", "correct", "critic_correct",
           "emotion_a", "emotion_b")


@dataclass(frozen=True)
class Pair:
    """One round: the model's tune and a real one, both 16 bars in C, and which of them is played as A."""

    round: int
    model: str  # the model that wrote one of the two tunes
    seed: int  # the seed it composed with
    tune: str  # the real tune's title in the corpus
    emotion: str  # the emotion both carry: the real tune's label, which the model was asked for
    model_is_a: bool  # whether clip A is the model's
    model_roll: np.ndarray
    real_roll: np.ndarray

    @property
    def rolls(self) -> tuple[np.ndarray, np.ndarray]:
        """The rolls as played: (A, B)."""
        return (self.model_roll, self.real_roll) if self.model_is_a else (self.real_roll, self.model_roll)


def _in_c_16(piece: Piece) -> np.ndarray:
    return pad_to_bars(in_c(piece).roll, TUNE_BARS)


def real_tunes(split: str = "test") -> list[Piece]:
    """Folk tunes of 16 bars or more from a split of the corpus (the test split: no model learned from it)."""
    from ..data.corpus import load_folk

    return [m for m in load_folk(split=split, progress=False) if m.bars >= TUNE_BARS]


def choose_pairs(rounds: int = 10, *, models: tuple[str, ...] | None = None, seed: int = 0,
                 real: list[Piece] | None = None) -> list[Pair]:
    """`rounds` pairs, the models taking turns: a real tune drawn at random, and the model's piece for the real tune's
    emotion from bar 1 (compose's default decoding), in random order. The same seed gives the same pairs."""
    from ..compose import compose_music
    from ..models import registry

    if isinstance(rounds, bool) or not isinstance(rounds, (int, np.integer)) or not 1 <= rounds <= 200:
        raise BadInput(f"rounds must be a whole number from 1 to 200, got {brief(rounds)}")
    models = tuple(models or registry.MODELS)
    for name in models:
        registry.spec(name)  # an unknown model: BadInput naming the choices
    real = real_tunes() if real is None else real
    if not real:
        raise BadInput("no real tune of 16 bars to compare with", "the folk corpus comes with music21: reinstall it")
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(real), size=rounds, replace=rounds > len(real))
    pairs = []
    for r, k in enumerate(picks):
        tune, model, s = real[int(k)], models[r % len(models)], int(rng.integers(10_000))
        written = compose_music(tune.quadrant.name, seed=s, model=model, rendering="neutral").piece
        pairs.append(Pair(r, model, s, tune.title, tune.quadrant.name, bool(rng.integers(2)), _in_c_16(written),
                          _in_c_16(tune)))
    return pairs


def clip_midi(roll: np.ndarray):
    """A clip as MIDI: the neutral rendering (emolib.music.render.midi), the same for both tunes of a pair."""
    from ..render.midi import render_neutral

    return render_neutral(Piece(roll=roll, chords=[], tonic=0, mode="major"))


def clip_audio(roll: np.ndarray) -> tuple[np.ndarray, int]:
    """A clip as sound: synthesised, then cut or padded to CLIP_SECONDS and scaled to CLIP_RMS, so neither the
    length nor the loudness tells the two tunes apart."""
    from ..render.audio import synthesize

    wave, rate = synthesize(clip_midi(roll))
    out = np.zeros(int(CLIP_SECONDS * rate), np.float32)
    out[:min(len(out), len(wave))] = wave[:len(out)]
    rms = float(np.sqrt(np.mean(out ** 2)))
    return (np.clip(out * (CLIP_RMS / rms), -1, 1) if rms > 0 else out), rate


def render_pair(pair: Pair) -> tuple[bytes, bytes]:
    """The two clips as WAV bytes, (A, B)."""
    from ..render.audio import wav_bytes

    return tuple(wav_bytes(*clip_audio(roll)) for roll in pair.rolls)


def score(pair: Pair, choice: str) -> bool:
    """Whether `choice` ("A" or "B") names the model's clip."""
    if choice not in ("A", "B"):
        raise BadInput(f"choose 'A' or 'B', got {brief(choice)}")
    return (choice == "A") == pair.model_is_a


def critic_choices(pairs: list[Pair], *, per_emotion: int = 8, real: list[Piece] | None = None) -> list[str]:
    """The critic's answer for each pair ("A" or "B"): per model, a logistic regression on the critic's features,
    trained on real tunes of the training split against the model's default pieces at seeds the quiz never uses
    (10,000 and up), picks the clip it finds more likely generated."""
    from ..compose import compose_music
    from .benchmark import heard
    from .critic import classifier
    from .features import matrix

    real = real_tunes("train") if real is None else real
    x_real = matrix([heard(_in_c_16(m)) for m in real])
    choices = {}
    for model in sorted({p.model for p in pairs}):
        made = [compose_music(e, seed=10_000 + s, model=model, rendering="neutral").piece
                for e in ("happy", "angry", "sad", "calm") for s in range(per_emotion)]
        x_made = matrix([heard(_in_c_16(p)) for p in made])
        n = min(len(x_real), len(x_made))
        rows = np.random.default_rng(0).choice(len(x_real), n, replace=False)
        clf = classifier()
        clf.fit(np.concatenate([x_real[rows], x_made[:n]]), np.r_[np.zeros(n), np.ones(n)])
        for p in pairs:
            if p.model == model:
                made_a, made_b = clf.predict_proba(matrix([heard(r) for r in p.rolls]))[:, 1]
                choices[p.round] = "A" if made_a >= made_b else "B"
    return [choices[p.round] for p in pairs]


def answer_row(pair: Pair, choice: str, *, critic_choice: str = "", emotion_a: str = "", emotion_b: str = "") -> dict:
    """One round's record, as save_answer writes it."""
    return {"time": time.strftime("%Y-%m-%dT%H:%M:%S"), "round": pair.round, "model": pair.model, "seed": pair.seed,
            "tune": pair.tune, "emotion": pair.emotion, "model_clip": "A" if pair.model_is_a else "B",
            "choice": choice, "correct": int(score(pair, choice)),
            "critic_correct": "" if not critic_choice else int(score(pair, critic_choice)),
            "emotion_a": emotion_a, "emotion_b": emotion_b}


def save_answer(folder: str | Path, row: dict) -> Path:
    """Append one row to folder/listening_answers.csv (created with its header the first time); earlier rows are
    never rewritten. A file with other columns is refused rather than mixed."""
    path = Path(folder) / ANSWERS_FILE
    if set(row) != set(COLUMNS):
        raise BadInput(f"an answer row has the columns {', '.join(COLUMNS)}, got {brief(sorted(row))}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise BadInput(f"{path} is not a plain file", "choose another folder for the answers")
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    if path.exists() and path.stat().st_size:
        with open(path, newline="", encoding="utf-8") as f:
            header = next(csv.reader(f), [])
        if tuple(header) != COLUMNS:
            raise BadInput(f"{path} holds other columns than a listening test's answers",
                           "choose another folder for the answers")
        with open(path, "rb") as f:
            f.seek(-1, os.SEEK_END)
            if f.read(1) != b"\n":  # a row cut short by an interrupted run: end it, so the new row stands alone
                text.write("\n")
    else:
        writer.writerow(COLUMNS)
    writer.writerow([str(row[c]).replace("\n", " ") for c in COLUMNS])
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, text.getvalue().encode("utf-8"))  # one write: a row is appended whole or not at all
        os.fsync(fd)
    finally:
        os.close(fd)
    return path


def read_answers(*sources: str | Path) -> list[dict]:
    """Every complete row of the answer files given, or of every listening_answers.csv under the folders given (a
    class can pool its files); a row cut short by an interrupted run is skipped."""
    files = []
    for source in sources:
        source = Path(source)
        files += sorted(source.rglob(ANSWERS_FILE)) if source.is_dir() else [source]
    rows = []
    for path in files:
        if not path.is_file():
            raise BadInput(f"no answers file at {path}", "pass the folder the quiz saved to")
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            if tuple(reader.fieldnames or ()) != COLUMNS:
                raise BadInput(f"{path} is not a listening test's answers file")
            for r in reader:
                if None in r.values() or r.get(None) or r["correct"] not in ("0", "1"):
                    continue  # cut short
                rows.append({**r, "round": int(r["round"]), "seed": int(r["seed"]), "correct": int(r["correct"]),
                             "critic_correct": int(r["critic_correct"]) if r["critic_correct"] in ("0", "1") else None})
    return rows


def wilson(correct: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95 % (Wilson score) interval of a share of correct answers out of n."""
    if n == 0:
        return 0.0, 1.0
    p = correct / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def summarise(rows: list[dict]) -> dict[str, dict]:
    """Per model: rounds, your accuracy and its 95 % interval, and the critic's on the same pairs."""
    out = {}
    for model in sorted({r["model"] for r in rows}):
        mine = [r for r in rows if r["model"] == model]
        right = sum(r["correct"] for r in mine)
        judged = [r["critic_correct"] for r in mine if r["critic_correct"] is not None]
        out[model] = {"rounds": len(mine), "correct": right, "accuracy": right / len(mine),
                      "interval": wilson(right, len(mine)),
                      "critic_accuracy": float(np.mean(judged)) if judged else None,
                      "critic_interval": wilson(sum(judged), len(judged)) if judged else None}
    return out


def explain(summary: dict[str, dict]) -> str:
    """The summary in words: what each accuracy says, against 0.5."""
    lines = []
    for model, s in summary.items():
        low, high = s["interval"]
        verdict = ("you told its tunes from real ones more often than chance" if low > 0.5 else
                   "its tunes fooled you more often than chance" if high < 0.5 else
                   "within what a coin toss gives: these rounds cannot tell you apart from guessing")
        critic = f"; the critic: {s['critic_accuracy']:.0%}" if s["critic_accuracy"] is not None else ""
        lines.append(f"{model}: {s['correct']} of {s['rounds']} right ({s['accuracy']:.0%}, 95 % interval "
                     f"{low:.0%}-{high:.0%}){critic}. {verdict.capitalize()}.")
    return "\n".join(lines + ["0.5 means the model's tunes cannot be told from real ones; 1.0 means every time."])
