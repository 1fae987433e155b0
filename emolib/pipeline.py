"""Image -> emotion -> melody -> MIDI/audio, as pure functions (the CLI and the widget call these)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .config import PACKAGE_DATA, checkpoints_dir
from .emotion import quadrant
from .errors import BadInput

SAMPLE_FACE = PACKAGE_DATA / "astronaut.jpg"  # scikit-image's astronaut photo (public domain, NASA)
GAN_CHECKPOINT = checkpoints_dir() / "midinet_folk.pt"


@dataclass
class Classification:
    image: str
    emotion: str  # the face label (happy, sad, angry, ...)
    probabilities: dict[str, float]
    box: tuple[int, int, int, int] | None
    face: np.ndarray


def classify(image: str | Path, *, detect: bool = True, center_fallback: bool = False,
             checkpoint: str | Path | None = None) -> Classification:
    from .classifier import load_classifier
    from .faces.detect import crop_face, load_image

    clf = load_classifier(checkpoint)
    face, box = crop_face(load_image(image), detect=detect, center_fallback=center_fallback)
    probs = clf.predict_proba(face[None])[0].astype(float)
    probs = probs / probs.sum()
    table = {c: float(p) for c, p in zip(clf.classes, probs)}
    return Classification(str(image), max(table, key=table.get), table, box if detect else None, face)


@dataclass
class Composition:
    emotion: str  # the music quadrant's name
    classification: Classification | None
    roll: np.ndarray  # melody (steps, 128)
    chords: list
    tonic: int
    mode: str
    midi: object  # pretty_midi.PrettyMIDI

    def audio(self):
        from .music.audio import synthesize

        return synthesize(self.midi)


_G = None


def compose(image: str | Path | None = None, emotion: str | None = None, bars: int = 16, seed: int | None = None,
            model: str = "gan") -> Composition:
    """Compose a melody with harmony for an emotion (or for the face in an image; default: the sample face)."""
    global _G
    from .gan import generate, load_generator
    from .music.render import render, snap_to_key
    from .music.seeds import choose_seed

    if not isinstance(bars, int) or bars <= 0:
        raise BadInput(f"bars must be a positive whole number, got {bars}")
    if model != "gan":
        raise BadInput(f"unknown model {model!r}: only 'gan' is available")
    result = None
    if emotion is None:
        result = classify(image or SAMPLE_FACE)
        emotion = result.emotion
    q = quadrant(emotion)
    seed = 0 if seed is None else int(seed)
    rng = np.random.default_rng(seed)
    if _G is None:
        _G = load_generator(GAN_CHECKPOINT)[0]
    s = choose_seed(q.name, rng)
    roll = generate(_G, emotion=q.name, seed_roll=s.roll, chords=s.chords, bars=bars, seed=seed)
    roll = snap_to_key(roll, s.tonic, s.mode)
    chords = [s.chords[b % len(s.chords)] for b in range(bars)]
    return Composition(q.name, result, roll, chords, s.tonic, s.mode, render(roll, chords, q.name))
