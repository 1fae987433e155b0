"""Emotion labels and Russell's arousal-valence quadrants: one table, one place.

EMOPIA's quadrants: Q1 high valence / high arousal (happy), Q2 low valence / high arousal
(angry, tense), Q3 low valence / low arousal (sad), Q4 high valence / low arousal (calm).
FER2013's seven face labels are placed on the same plane.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Quadrant:
    number: int  # 1..4, as in EMOPIA file names (Q1_...)
    name: str  # the emotion word used on the command line
    valence: int  # +1 positive, -1 negative
    arousal: int  # +1 high energy, -1 low energy
    mode: str  # the mode music for this quadrant is written in

    @property
    def code(self) -> str:
        return f"Q{self.number}"


QUADRANTS: dict[str, Quadrant] = {
    "happy": Quadrant(1, "happy", +1, +1, "major"),
    "angry": Quadrant(2, "angry", -1, +1, "minor"),
    "sad": Quadrant(3, "sad", -1, -1, "minor"),
    "calm": Quadrant(4, "calm", +1, -1, "major"),
}
EMOTIONS: tuple[str, ...] = tuple(QUADRANTS)  # ("happy", "angry", "sad", "calm"), quadrant order

# Face labels (FER2013's seven) -> the quadrant of the music they ask for.
FACE_TO_EMOTION: dict[str, str] = {
    "happy": "happy",
    "surprise": "happy",
    "angry": "angry",
    "disgust": "angry",
    "fear": "angry",
    "sad": "sad",
    "neutral": "calm",
}
FER_CLASSES: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


def quadrant(emotion: str | int) -> Quadrant:
    """The quadrant of an emotion word, a face label, a quadrant number (1-4) or code ("Q3")."""
    if isinstance(emotion, int) or (isinstance(emotion, str) and emotion.isdigit()):
        number = int(emotion)
        for q in QUADRANTS.values():
            if q.number == number:
                return q
        raise ValueError(f"quadrant number must be 1-4, got {emotion}")
    key = str(emotion).strip().lower()
    if len(key) == 2 and key[0] == "q" and key[1].isdigit():
        return quadrant(int(key[1]))
    key = FACE_TO_EMOTION.get(key, key)
    if key not in QUADRANTS:
        choices = ", ".join(EMOTIONS)
        raise ValueError(f"unknown emotion {emotion!r}: choose one of {choices}")
    return QUADRANTS[key]


def quadrant_probabilities(face_probs: dict[str, float]) -> dict[str, float]:
    """Sum face-label probabilities into the four music emotions (happy, angry, sad, calm)."""
    out = {name: 0.0 for name in EMOTIONS}
    for label, p in face_probs.items():
        out[quadrant(label).name] += float(p)
    return out


def valence_arousal(face_probs: dict[str, float]) -> tuple[float, float]:
    """The expected (valence, arousal) point of a face, each in [-1, 1], for the Russell plot."""
    v = a = 0.0
    for label, p in face_probs.items():
        q = quadrant(label)
        v += p * q.valence
        a += p * q.arousal
    return v, a
