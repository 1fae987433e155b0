"""Image -> emotion -> melody -> MIDI/audio, as pure functions (the CLI and the widget call these)."""
from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .config import PACKAGE_DATA, checkpoints_dir
from .emotion import music_emotion, quadrant, valence_arousal
from .errors import BadInput

SAMPLE_FACE = PACKAGE_DATA / "astronaut.jpg"  # scikit-image's astronaut photo (public domain, NASA)
GAN_CHECKPOINT = checkpoints_dir() / "midinet_folk.pt"
TRANSFORMER_CHECKPOINT = checkpoints_dir() / "transformer_folk.pt"
MODELS = {"gan": GAN_CHECKPOINT, "transformer": TRANSFORMER_CHECKPOINT}


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
    result = classify_many([image], detect=detect, center_fallback=center_fallback, checkpoint=checkpoint)[0]
    if isinstance(result, BadInput):
        raise result
    return result


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif")


def expand_images(paths: list[str | Path]) -> list[Path]:
    """Paths as given, with each folder replaced by the image files inside it (sorted)."""
    out = []
    for p in map(Path, paths):
        try:
            is_dir = p.is_dir()
        except OSError:  # a name too long and the like: classify reports it on its own line
            is_dir = False
        if is_dir:
            out.extend(sorted(f for f in p.rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES))
        else:
            out.append(p)
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
        name = "upload" if isinstance(image, (bytes, bytearray, memoryview)) else str(image)
        try:
            face, box = crop_face(load_image(image), detect=detect, center_fallback=center_fallback)
        except BadInput as exc:
            err = exc if name in str(exc) or name == "upload" else BadInput(f"{name}: {exc}")
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


@dataclass
class Composition:
    emotion: str  # the music quadrant's name
    classification: Classification | None
    roll: np.ndarray  # melody (steps, 128)
    chords: list
    tonic: int
    mode: str
    midi: object  # pretty_midi.PrettyMIDI
    model: str = "gan"  # which generator wrote the melody
    opening: str = "seed bank"  # where the first bars came from: "seed bank: <tune>", "from scratch", "your MIDI: <file>"
    opening_bars: int = 4  # bars at the start the model did not write (0 from scratch)

    @property
    def quadrant(self):
        return quadrant(self.emotion)

    @property
    def box(self) -> tuple[int, int, int, int] | None:
        """The face box (x, y, w, h) in the image, when the emotion came from a face."""
        return self.classification.box if self.classification else None

    @property
    def probabilities(self) -> dict[str, float] | None:
        return self.classification.probabilities if self.classification else None

    def audio(self):
        from .music.audio import synthesize

        return synthesize(self.midi)


MAX_BARS = 256  # about 15 minutes of music at the slowest tempo; the transformer takes about 20 s for it
GRIDS = (1, 2, 4, 8, 16)  # rhythmic grids that divide a 16-step bar
MAX_SEED = 2**32 - 1
LEAP_PENALTY = 0.3  # the GAN's default decoding aid against leaps (gan.generate; 0 = off): README, listener table


def check_bars(bars) -> int:
    """bars as an int in 1..MAX_BARS, or a BadInput that says so (True and 2.5 are not bar counts)."""
    if isinstance(bars, bool) or not isinstance(bars, (int, np.integer)) or not 1 <= int(bars) <= MAX_BARS:
        raise BadInput(f"bars must be a whole number from 1 to {MAX_BARS}, got {bars!r}")
    return int(bars)


def check_leap_penalty(value) -> float:
    """A leap penalty is a number from 0 (off) to 10 (leaps beyond a fourth all but forbidden)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not 0 <= value <= 10:
        raise BadInput(f"leap_penalty must be a number from 0 (off) to 10, got {value!r}")
    return float(value)


def check_seed(seed) -> int:
    """A seed as an int in 0..2**32-1 (what numpy and torch both accept); None means 0."""
    if seed is None:
        return 0
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= int(seed) <= MAX_SEED:
        raise BadInput(f"seed must be a whole number from 0 to {MAX_SEED}, got {seed!r}")
    return int(seed)


def checkpoint_path(model: str = "gan", checkpoint: str | Path | None = None) -> Path:
    """The checkpoint a model composes with: the one given, else the shipped one."""
    if model not in MODELS:
        raise BadInput(f"unknown model {model!r}: choose one of {', '.join(MODELS)}")
    return Path(checkpoint) if checkpoint else MODELS[model]


@functools.lru_cache(maxsize=4)
def _generator(model: str, path: str):
    """A loaded generator, kept for the next call (that is what makes a warm call fast)."""
    if model == "transformer":
        from .music.transformer import load

        return load(path)[0]
    from .music.gan import load_generator

    return load_generator(path)[0]


def compose(image: str | Path | bytes | None = None, emotion: str | None = None, bars: int = 16, seed: int | None = None,
            model: str = "gan", checkpoint: str | Path | None = None, center_fallback: bool = False,
            grid: int | None = None, opening="seed", rendering: str = "expressive", form: bool = True,
            leap_penalty: float | None = None) -> Composition:
    """Compose a melody with harmony for an emotion (or for the face in an image; default: the sample face).

    Given both an image and an emotion, the face is still classified (the result shows it) and the
    emotion overrides the music it asked for.

    grid: the GAN's rhythmic grid in steps (default: the quadrant's style; 1 = the GAN's raw output).
    opening: "seed" (4 bars of a real tune from the seed bank), "scratch" (the model writes from the
    first bar) or a MIDI file's path or bytes (its first 4 bars); see emolib.music.opening.
    rendering: "expressive" (per-quadrant tempo, register, loudness, accompaniment, rhythmic grid and
    snapping to the key) or "neutral" (the raw melody at tempo 100, velocity 80, piano alone: what the
    model's notes carry by themselves).
    form: sixteen bars as a a' b a'' with a half cadence at bar 8 and a tonic close (emolib.music.form);
    False leaves the model's notes and the opening tune's chords as they are.
    leap_penalty: the GAN's decoding aid against leaps larger than a fourth (gan.generate; default
    LEAP_PENALTY, 0 = the GAN's raw choice of pitches). The transformer has none.
    """
    from .music import gan, transformer
    from .music.render import STYLES, render, render_neutral, snap_to_key
    from .music.form import apply_form, plan_chords
    from .music.opening import choose_opening

    if rendering not in ("expressive", "neutral"):
        raise BadInput(f"rendering must be 'expressive' or 'neutral', got {rendering!r}")
    neutral = rendering == "neutral"
    bars = check_bars(bars)
    seed = check_seed(seed)
    leap_penalty = LEAP_PENALTY if leap_penalty is None else check_leap_penalty(leap_penalty)
    if grid is not None and (isinstance(grid, bool) or not isinstance(grid, (int, np.integer)) or int(grid) not in GRIDS):
        raise BadInput(f"grid must be one of {', '.join(map(str, GRIDS))} steps (1 = the GAN's raw output), got {grid!r}")
    path = checkpoint_path(model, checkpoint)
    result = None
    if emotion is None or image is not None:  # both given: the face is shown, the emotion overrides it
        result = classify(SAMPLE_FACE if image is None else image, center_fallback=center_fallback)
    if emotion is None:
        emotion = result.music_emotion
    q = quadrant(emotion)
    rng = np.random.default_rng(seed)
    net = _generator(model, str(path))
    s, keep_notes = choose_opening(opening, q.name, rng)
    opening_roll = s.roll if keep_notes else None
    chords = plan_chords(s.chords, s.tonic, s.mode, bars, cadences=form)
    if model == "transformer":
        roll = transformer.generate(net, emotion=q.name, seed_roll=opening_roll, chords=chords, bars=bars, seed=seed)
    else:
        default_grid = 1 if neutral else STYLES[q.name].grid
        roll = gan.generate(net, emotion=q.name, seed_roll=opening_roll, chords=chords, bars=bars, seed=seed,
                            grid=default_grid if grid is None else grid,
                            leap_penalty=leap_penalty)
    if form:
        roll = apply_form(roll, s.tonic, s.mode)
    if neutral:
        midi = render_neutral(roll)
    else:
        roll = snap_to_key(roll, s.tonic, s.mode)
        midi = render(roll, chords, q.name)
    where = ("from scratch" if not keep_notes else f"seed bank: {s.title}" if s.emotion else f"your MIDI: {s.title}")
    return Composition(q.name, result, roll, chords, s.tonic, s.mode, midi, model, where, min(bars, 4) if keep_notes else 0)
