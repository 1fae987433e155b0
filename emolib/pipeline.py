"""Image -> emotion -> melody -> MIDI/audio, as pure functions (the CLI and the widget call these).

This module is the face part: finding and classifying the face, and placing it on Russell's plane. The
music is composed by :func:`emolib.music.compose.compose_music`, step by step.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .config import PACKAGE_DATA
from .emotion import music_emotion, quadrant, valence_arousal
from .errors import BadImage, BadInput, brief, flag, short
from .faces.detect import IMAGE_SUFFIXES
from .music.compose import Composition

SAMPLE_FACE = PACKAGE_DATA / "astronaut.jpg"  # scikit-image's astronaut photo (public domain, NASA)


@dataclass
class Classification:
    image: str
    emotion: str  # the face label (happy, sad, angry, ...)
    probabilities: dict[str, float]
    box: tuple[int, int, int, int] | None
    face: np.ndarray  # the 48x48 crop the network saw

    @property
    def valence_arousal(self) -> tuple[float, float]:
        """The face's point on Russell's plane: its classes' published points, weighted by probability."""
        return valence_arousal(self.probabilities)

    @property
    def music_emotion(self) -> str:
        """The music the face asks for: the quadrant its valence-arousal point falls in."""
        return music_emotion(self.probabilities)

    def as_json(self) -> dict:
        """What `python -m emolib classify` prints for this image."""
        v, a = self.valence_arousal
        return {"image": self.image, "emotion": self.emotion, "probabilities": self.probabilities, "box": self.box,
                "valence": v, "arousal": a, "quadrant": quadrant(self.music_emotion).code,
                "music_emotion": self.music_emotion}


def classify(image: str | Path | bytes, *, detect: bool = True, center_fallback: bool = False,
             checkpoint: str | Path | None = None) -> Classification:
    """The emotion of the face in an image (a path, or an upload's bytes), with its box and probabilities."""
    detect, center_fallback = flag(detect, "detect"), flag(center_fallback, "center_fallback")
    result = classify_many([image], detect=detect, center_fallback=center_fallback, checkpoint=checkpoint)[0]
    if isinstance(result, BadInput):
        raise result
    return result


def expand_images(paths: list[str | Path]) -> list[Path | BadInput]:
    """Paths as given, with each folder replaced by the image files inside it (sorted); a folder that cannot be read
    (or an empty path) is a BadInput in its place, so it is reported, not skipped."""
    import os

    out: list[Path | BadInput] = []
    for given in paths:
        if not str(given):
            err = BadImage("an image path is empty", "give a photo's path or a folder")
            err.image = ""
            out.append(err)
            continue
        p = Path(given)
        try:
            is_dir = p.is_dir()
        except OSError:  # a name too long and the like: classify reports it on its own line
            is_dir = False
        if not is_dir:
            out.append(p)
            continue
        found, problems = [], []

        def unreadable(exc: OSError) -> None:
            err = BadImage(f"{short(exc.filename)}: cannot read this folder ({exc.strerror})",
                           "make it readable, or leave it out")
            err.image = str(exc.filename)
            problems.append(err)

        for folder, dirs, files in os.walk(p, onerror=unreadable):
            dirs.sort()
            found += [Path(folder) / f for f in files if Path(f).suffix.lower() in IMAGE_SUFFIXES]
        out += sorted(found) + problems
    return out


def classify_many(images: list, *, detect: bool = True, center_fallback: bool = False,
                  checkpoint: str | Path | None = None, batch_size: int = 256,
                  progress: bool = False) -> list[Classification | BadInput]:
    """Classify many images in batches; a bad image yields its BadInput in place, the others still count."""
    return list(iter_classify(images, detect=detect, center_fallback=center_fallback, checkpoint=checkpoint,
                              batch_size=batch_size, progress=progress))


def iter_classify(images: list, *, detect: bool = True, center_fallback: bool = False,
                  checkpoint: str | Path | None = None, batch_size: int = 64,
                  progress: bool = False) -> Iterator[Classification | BadInput]:
    """Like classify_many, but yields each result (in input order) as soon as its batch is done, so a long
    run shows its results as it goes. Each BadInput names the image it is about."""
    from tqdm.auto import tqdm

    from .faces.classifier import load_classifier
    from .faces.data.samples import resolve
    from .faces.detect import crop_face, load_image

    clf = load_classifier(checkpoint)
    done: list = []  # results of this batch, in order: Classification placeholders or BadInput
    pending: list[tuple[int, str, np.ndarray, tuple | None]] = []

    def flush():
        if pending:
            probs = clf.predict_proba(np.stack([face for _, _, face, _ in pending])).astype(float)
            probs /= probs.sum(axis=1, keepdims=True)
            for (i, name, face, box), p in zip(pending, probs):
                table = {c: float(v) for c, v in zip(clf.classes, p)}
                done[i] = Classification(name, max(table, key=table.get), table, box, face)
            pending.clear()
        yield from done
        done.clear()

    for image in tqdm(images, desc="faces", unit="img", disable=not progress, mininterval=1.0):
        name = "upload" if isinstance(image, (bytes, bytearray, memoryview)) else \
            short(image) if isinstance(image, (str, Path)) else brief(image)
        try:
            if isinstance(image, BadInput):  # a folder that could not be read, found by expand_images
                raise image
            source = resolve(image)  # a sample's name becomes its file; a path or an upload's bytes stay
            gray = load_image(source)
            face, box = crop_face(gray, detect=detect, center_fallback=center_fallback)
        except BadInput as exc:
            name = getattr(exc, "image", name)
            err = exc if name in str(exc) or name == "upload" else type(exc)(f"{name}: {exc.message}", exc.hint)
            err.image = name  # so a JSON line can name the file
            done.append(err)
            if not pending:  # nothing waits for the network: report it now
                yield from flush()
                continue
        else:
            pending.append((len(done), name, face, box if detect else None))
            done.append(None)
        if len(pending) >= batch_size:
            yield from flush()
    yield from flush()


def compose(image: str | Path | bytes | None = None, emotion: str | None = None, *, center_fallback: bool = False,
            classifier: str | Path | None = None, **music) -> Composition:
    """Compose for the face in an image (default: the sample face) or for an emotion: the face part of the pipeline.

    The face is classified and its valence-arousal point picks the music's quadrant; then
    emolib.music.compose.compose_music writes the music, step by step, with the keyword arguments in `music`
    (bars, seed, model, checkpoint, opening, decoding, post, form, rendering: see its docstring). Given both an
    image and an emotion, the face is still classified (the result shows it) and the emotion overrides it.
    """
    from .music.compose import check_emotion, compose_music

    result = None
    q = check_emotion(emotion) if emotion is not None else None  # a bad emotion fails before any work
    center_fallback = flag(center_fallback, "center_fallback")
    if emotion is None or image is not None:  # both given: the face is shown, the emotion overrides it
        result = classify(SAMPLE_FACE if image is None else image, center_fallback=center_fallback, checkpoint=classifier)
    piece = compose_music(q if q is not None else result.music_emotion, **music)
    piece.classification = result
    return piece
