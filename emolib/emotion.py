"""Emotion labels and Russell's arousal-valence quadrants: one table, one place.

EMOPIA's quadrants: Q1 high valence / high arousal (happy), Q2 low valence / high arousal
(angry, tense), Q3 low valence / low arousal (sad), Q4 high valence / low arousal (calm).
FER2013's seven face labels are placed on the same plane by published coordinates
(:data:`VA_COORDINATES`), and a face by the probability-weighted mean of its labels' points.
"""
from __future__ import annotations

import math
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

FER_CLASSES: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
# The three face classes the classifier's targets also speak of, decided among themselves (the earlier student
# version's classes): scripts/benchmark_classifier.py, validate_classifier.py and choose_prior.py score them.
HAPPY_SAD_ANGRY: tuple[str, ...] = ("happy", "sad", "angry")

# Where each face label sits on Russell's plane: the angle of the matching affect word in Russell's
# circumplex (J. A. Russell, "A circumplex model of affect", J. Pers. Soc. Psychol. 39(6), 1980,
# direct circular scaling of 28 affect words; 0 deg = pleasure, 90 deg = arousal), placed on the unit
# circle. Two labels have no word of their own in that study, and their stand-ins are our choice:
# disgust takes "annoyed" (unpleasant, moderately aroused), and neutral takes "calm" at half the radius
# (no activation shown, mildly pleasant: a face at rest asks for calm music, not sad music).
CIRCUMPLEX_DEGREES: dict[str, tuple[str, float, float]] = {  # label: (Russell's word, angle, radius)
    "happy": ("happy", 7.8, 1.0),
    "surprise": ("astonished", 69.8, 1.0),
    "angry": ("angry", 99.8, 1.0),
    "fear": ("afraid", 116.4, 1.0),
    "disgust": ("annoyed", 123.0, 1.0),
    "sad": ("sad", 207.5, 1.0),
    "neutral": ("calm", 316.2, 0.5),
    "calm": ("calm", 316.2, 1.0),  # the music emotion, so a calm label lands in its own quadrant
}
VA_COORDINATES: dict[str, tuple[float, float]] = {
    label: (round(r * math.cos(math.radians(deg)), 3), round(r * math.sin(math.radians(deg)), 3))
    for label, (_, deg, r) in CIRCUMPLEX_DEGREES.items()
}


def quadrant_of_point(valence: float, arousal: float) -> Quadrant:
    """The quadrant a (valence, arousal) point falls in (the axes count as positive)."""
    for q in QUADRANTS.values():
        if (valence >= 0) == (q.valence > 0) and (arousal >= 0) == (q.arousal > 0):
            return q
    raise AssertionError("unreachable: the four quadrants cover the plane")


# Face labels (FER2013's seven) -> the quadrant of the music they ask for, read off the table above.
FACE_TO_EMOTION: dict[str, str] = {label: quadrant_of_point(*VA_COORDINATES[label]).name for label in FER_CLASSES}


def quadrant(emotion: str | int) -> Quadrant:
    """The quadrant of an emotion word, a face label, a quadrant number (1-4) or code ("Q3"); a BadInput (a
    ValueError) for anything else."""
    from .errors import BadInput, brief

    if isinstance(emotion, bool) or not isinstance(emotion, (str, int)):
        raise BadInput(f"an emotion is a word such as {', '.join(EMOTIONS)}, got {brief(emotion)}")
    if isinstance(emotion, int) or emotion.strip().isdigit():
        number = int(emotion)
        for q in QUADRANTS.values():
            if q.number == number:
                return q
        raise BadInput(f"quadrant number must be 1-4, got {brief(emotion)}")
    key = emotion.strip().lower()
    if len(key) == 2 and key[0] == "q" and key[1].isdigit():
        return quadrant(int(key[1]))
    key = FACE_TO_EMOTION.get(key, key)
    if key not in QUADRANTS:
        choices = ", ".join(EMOTIONS)
        raise BadInput(f"unknown emotion {brief(emotion)}", f"choose one of {choices} (or a face label: {', '.join(FER_CLASSES)})")
    return QUADRANTS[key]


def valence_arousal(face_probs: dict[str, float]) -> tuple[float, float]:
    """A face's point on Russell's plane: its class coordinates weighted by their probabilities (normalised to sum
    to 1, so the point is a mean even for scores that do not)."""
    v = a = total = 0.0
    for label, p in face_probs.items():
        if label not in VA_COORDINATES:
            raise ValueError(f"no valence-arousal coordinates for the label {label!r} (known: {', '.join(VA_COORDINATES)})")
        v += float(p) * VA_COORDINATES[label][0]
        a += float(p) * VA_COORDINATES[label][1]
        total += float(p)
    if total <= 0:
        raise ValueError("face probabilities must sum to more than 0")
    return round(v / total, 4), round(a / total, 4)


def music_emotion(face_probs: dict[str, float]) -> str:
    """The music emotion (quadrant name) a face asks for: the quadrant of its valence-arousal point."""
    return quadrant_of_point(*valence_arousal(face_probs)).name
