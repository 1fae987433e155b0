"""The embedded default melody data: folk tunes from music21's bundled corpus, labelled by quadrant.

Sources (installed with music21, so they work offline): the Essen folk-song collection
(``essenFolksong``), O'Neill's 1850 Irish tunes (``oneills1850``, with their tune type: reel, jig,
hornpipe, air, ...) and Ryan's Mammoth Collection (``ryansMammoth``). Tunes are parsed with music21's
ABC parser once, with a progress bar, and cached under ``data/cache``.

Labelling rules (documented, musically grounded; see :func:`label`):
- Valence from mode. The ABC key field gives the tonic (Essen writes the final note and spells
  accidentals out, so its signature alone is not the mode); the mode is then decided by the
  Krumhansl-Kessler profiles at that tonic. Explicit modal keys (``Am``, ``Edor``) count as minor
  when the analysis agrees; tunes whose major/minor margin is too small are left unlabelled.
- Arousal from the tune type where the source names one (reel, jig, hornpipe, polka, strathspey,
  march, dance -> high; air, lament, lullaby, hymn -> low), otherwise from rhythmic density: notes per
  quarter note above the corpus median -> high.
Only duple and quadruple meters (2/4, 4/4, 2/2, 4/2) are kept, so that 16 steps are one 4/4 bar.
"""
from __future__ import annotations

import hashlib
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ...config import cache_dir, ensure_dir, load
from ...emotion import QUADRANTS, Quadrant
from ..notes.chords import bar_chords
from ..notes.key import detect_key
from ..notes.piece import Piece
from ..notes.roll import REGISTER, STEPS_PER_BAR, STEPS_PER_QUARTER, Note, into_register, notes_to_roll, pad_to_bars

SOURCES = ("essenFolksong", "oneills1850", "ryansMammoth")  # what the models learn from
# A second collection the models never see, also bundled with music21: Aird's Selection of Scotch, English, Irish
# and Foreign Airs (1782-1803). The critic compares generated tunes with it as well as with the corpus's own
# held-out tunes.
HELD_OUT_SOURCES = ("airdsAirs",)
HIGH_TYPES = ("reel", "jig", "hornpipe", "polka", "strathspey", "march", "clog", "fling", "slide",
              "schottische", "tanz", "dance", "galop", "quickstep", "lustig")
LOW_TYPES = ("air", "lament", "lullaby", "wiegen", "klage", "hymn", "geistlich", "religi", "trauer",
             "slow", "tod")
MIN_MARGIN = 0.05  # a smaller major-minor correlation margin is too ambiguous to label
MIN_BARS = 8  # two 4-bar segments: one to condition on, one to learn


@dataclass
class CorpusConfig:
    """How much of the folk corpus to read."""

    max_songs: int | None = None  # cap on tunes parsed (None = all, about 10,000 before filtering)

    @classmethod
    def fast(cls) -> "CorpusConfig":
        return cls(max_songs=300)  # a few seconds to parse; every quadrant still present


class Parsed(NamedTuple):
    """One tune as the ABC parse left it (the cache's row): its notes before any labelling."""

    notes: np.ndarray  # (n, 3) pitch, start step, end step (steps from the first downbeat)
    tonic: int
    key_mode: str  # "major", "minor" or "" (the key field named no mode)
    source: str
    title: str
    tune_type: str


_NOTE_NAMES = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11, "H": 11}
_MINOR_MODES = ("m", "min", "aeo", "dor", "phr", "loc")


def parse_key_field(text: str) -> tuple[int, str] | None:
    """ABC ``K:`` field -> (tonic pitch class, "major"/"minor"/"" when no mode is written)."""
    m = re.match(r"\s*([A-Ha-h])([#b]?)\s*([A-Za-z]*)", text)
    if not m or m.group(1).upper() not in _NOTE_NAMES:
        return None
    tonic = (_NOTE_NAMES[m.group(1).upper()] + {"#": 1, "b": -1, "": 0}[m.group(2)]) % 12
    word = m.group(3).lower()
    if word.startswith(("maj", "ion", "mix", "lyd")):
        return tonic, "major"
    if any(word.startswith(w) for w in _MINOR_MODES) and word not in ("mix",):
        return tonic, "minor"
    return tonic, ""


def split_abc(text: str) -> list[str]:
    """One ABC file -> one text per tune, each carrying the file's header lines."""
    parts = re.split(r"(?m)^(?=X:)", text)
    header = parts[0] if parts and not parts[0].startswith("X:") else ""
    return [header + p for p in parts if p.startswith("X:")]


def _header(block: str, key: str) -> str:
    m = re.search(rf"(?m)^{key}:\s*(.*)$", block)
    return m.group(1).strip() if m else ""


def parse_tune(block: str, source: str) -> Parsed | None:
    """One ABC tune -> notes on the step grid, or None if it is unusable (meter, key, parse error)."""
    from music21 import converter

    key = parse_key_field(_header(block, "K"))
    if key is None:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            score = converter.parse(block, format="abc")
    except Exception:  # noqa: BLE001 - a tune music21 cannot read is skipped, not fatal
        return None
    if hasattr(score, "scores"):  # an Opus of one
        if not score.scores:
            return None
        score = score.scores[0]
    parts = score.parts
    if not parts:
        return None
    part = parts[0]
    measures = part.getElementsByClass("Measure")
    time_sigs = part.recurse().getElementsByClass("TimeSignature")
    if not time_sigs or len({ts.ratioString for ts in time_sigs}) > 1:
        return None  # no meter or a changing one
    bar_quarters = time_sigs[0].barDuration.quarterLength
    if bar_quarters not in (2.0, 4.0, 8.0):
        return None  # triple and compound meters do not sit on 16-step 4/4 bars
    pickup = float(measures[0].paddingLeft) if measures else 0.0
    shift = (bar_quarters - pickup) % bar_quarters if pickup else 0.0  # first downbeat at a bar line
    notes = []
    for n in part.stripTies().flatten().notes:
        pitch = max(p.midi for p in n.pitches)  # a written chord contributes its top note
        start = float(n.getOffsetInHierarchy(part)) + shift
        end = start + float(n.quarterLength)
        if n.quarterLength <= 0:
            continue  # grace notes
        notes.append((pitch, round(start * STEPS_PER_QUARTER), round(end * STEPS_PER_QUARTER)))
    if len(notes) < 8:
        return None
    arr = np.array(notes, dtype=np.int32)
    arr[:, 1:] -= (arr[:, 1].min() // STEPS_PER_BAR) * STEPS_PER_BAR
    arr[:, 1:] = np.maximum(arr[:, 1:], 0)
    title = _header(block, "T")
    return Parsed(arr, key[0], key[1], source, title, _header(block, "R").lower())


def label(tune: Parsed, roll: np.ndarray, density_threshold: float) -> tuple[str, Quadrant | None, float]:
    """(mode, quadrant or None when ambiguous, margin) by the rules in the module docstring."""
    _, mode, margin = detect_key(roll, tonic=tune.tonic)
    if tune.key_mode and tune.key_mode != mode and margin >= MIN_MARGIN:
        return mode, None, margin  # the written key and the notes disagree: leave it out
    if margin < MIN_MARGIN and not tune.key_mode:
        return mode, None, margin
    if tune.key_mode and margin < MIN_MARGIN:
        mode = tune.key_mode
    kind = tune.tune_type
    if any(w in kind for w in HIGH_TYPES):
        high = True
    elif any(w in kind for w in LOW_TYPES):
        high = False
    else:
        high = _density(tune) > density_threshold
    valence = +1 if mode == "major" else -1
    quad = next(q for q in QUADRANTS.values() if q.valence == valence and q.arousal == (1 if high else -1))
    return mode, quad, margin


def _density(tune: Parsed) -> float:
    span = (tune.notes[:, 2].max() - tune.notes[:, 1].min()) / STEPS_PER_QUARTER
    return float(len(tune.notes) / max(span, 1.0))


def corpus_root() -> Path:
    """music21's bundled corpus folder, found without importing music21 (importing it in a notebook changes how
    Jupyter draws figures; only the parsing workers need it)."""
    import importlib.util

    spec = importlib.util.find_spec("music21")
    if spec is None or not spec.submodule_search_locations:
        from ...errors import DatasetNotFound

        raise DatasetNotFound("music21 is not installed: its bundled folk corpus is the melody data; pip install music21")
    return Path(list(spec.submodule_search_locations)[0]) / "corpus"


def _corpus_paths(sources: tuple[str, ...] = SOURCES) -> list[tuple[str, Path]]:
    root = corpus_root()
    paths = []
    for source in sources:
        paths += [(source, p) for p in sorted((root / source).glob("*.abc"))]
    return paths


def _interleaved_blocks(max_songs: int | None, sources: tuple[str, ...] = SOURCES) -> list[tuple[str, str]]:
    """All tune texts, interleaved across the sources so that any prefix samples all of them."""
    by_source: dict[str, list[str]] = {s: [] for s in sources}
    for source, path in _corpus_paths(sources):
        by_source[source] += split_abc(path.read_text(encoding="latin-1"))
    out = []
    longest = max(len(v) for v in by_source.values())
    for i in range(longest):
        for s in sources:
            if i < len(by_source[s]):
                out.append((s, by_source[s][i]))
    return out[:max_songs] if max_songs else out


def _parse_one(item: tuple[str, str]) -> Parsed | None:
    return parse_tune(item[1], item[0])


def parse_corpus(max_songs: int | None = None, *, sources: tuple[str, ...] = SOURCES, workers: int = 2,
                 progress: bool = True) -> list[Parsed]:
    """Parse the folk corpus (or its first max_songs tunes) with music21, in parallel, with a progress bar."""
    from tqdm.auto import tqdm

    blocks = _interleaved_blocks(max_songs, sources)
    bar = dict(total=len(blocks), desc="parsing folk tunes", unit="tune", disable=not progress, mininterval=2.0)
    if workers > 1 and len(blocks) > 200:
        from multiprocessing import get_context

        with get_context("spawn").Pool(workers) as pool:
            tunes = list(tqdm(pool.imap(_parse_one, blocks, chunksize=16), **bar))
    else:
        tunes = [_parse_one(b) for b in tqdm(blocks, **bar)]
    return [t for t in tunes if t is not None]


def _cache_path(max_songs: int | None, sources: tuple[str, ...] = SOURCES) -> Path:
    which = "" if sources == SOURCES else "_" + "_".join(sources)
    return cache_dir() / f"folk{which}_{max_songs or 'all'}_v1.npz"


def is_parsed(max_songs: int | None = None, sources: tuple[str, ...] = SOURCES) -> bool:
    """Whether these tunes were parsed before (their cache exists): reading them again takes seconds, not minutes."""
    return _cache_path(max_songs, sources).is_file()


def load_raw(max_songs: int | None = None, *, sources: tuple[str, ...] = SOURCES, progress: bool = True) -> list[Parsed]:
    """Parsed tunes from the cache, parsing (once) when there is no cache yet."""
    path = _cache_path(max_songs, sources)
    if path.is_file():
        with np.load(path, allow_pickle=False) as z:
            z = {k: z[k] for k in z.files}  # decompress each array once, not once per tune
        return [Parsed(z["notes"][a:b].copy(), int(t), str(km), str(s), str(ti), str(ty))
                for (a, b), t, km, s, ti, ty in zip(z["bounds"], z["tonic"], z["key_mode"], z["source"], z["title"],
                                                    z["type"])]
    tunes = parse_corpus(max_songs, sources=sources, progress=progress)
    lengths = np.array([len(t.notes) for t in tunes])
    ends = np.cumsum(lengths)
    np.savez_compressed(ensure_dir(path.parent) / path.name, notes=np.concatenate([t.notes for t in tunes]),
                        bounds=np.stack([ends - lengths, ends], 1), tonic=np.array([t.tonic for t in tunes]),
                        key_mode=np.array([t.key_mode for t in tunes]), source=np.array([t.source for t in tunes]),
                        title=np.array([t.title for t in tunes]), type=np.array([t.tune_type for t in tunes]))
    return tunes


def to_piece(tune: Parsed, density_threshold: float) -> Piece | None:
    """A parsed tune -> Piece in the common register, labelled, with its chords per bar."""
    roll = notes_to_roll([Note(int(p), int(s), int(e)) for p, s, e in tune.notes])
    roll = pad_to_bars(roll)
    if len(roll) < MIN_BARS * STEPS_PER_BAR:
        return None
    roll = into_register(roll, *REGISTER)  # whole octaves: the tonic is unchanged
    mode, quad, _ = label(tune, roll, density_threshold)
    chords = bar_chords(roll, key=(tune.tonic, mode))
    return Piece(roll, chords, tune.tonic, mode, quad, title=tune.title, source=tune.source, tune_type=tune.tune_type,
                 density=_density(tune))


FOLK_SPLITS = {"train": (0, 80), "val": (80, 90), "test": (90, 100)}  # per cent of the tunes, by a hash of each tune


def folk_split(piece: Piece) -> str:
    """"train", "val" or "test": a fixed split of the corpus by a hash of each tune's source, title and notes, so
    it does not move when the corpus is read in another order or capped. The models learn from "train" only;
    "val" is for choices (decoding settings, which run to ship) and "test" for the critic's final judgement."""
    digest = hashlib.sha1(f"{piece.source}|{piece.title}|".encode() + np.ascontiguousarray(piece.roll).tobytes()).digest()
    bucket = int.from_bytes(digest[:4], "big") % 100
    return next(name for name, (lo, hi) in FOLK_SPLITS.items() if lo <= bucket < hi)


def load_folk(cfg: CorpusConfig | None = None, *, split: str | None = None, labelled_only: bool = True,
              progress: bool = True) -> list[Piece]:
    """The folk corpus as labelled Pieces (parsed once, then loaded from the cache); split: one of FOLK_SPLITS."""
    if split is not None and split not in FOLK_SPLITS:
        raise ValueError(f"split must be one of {', '.join(FOLK_SPLITS)}, got {split!r}")
    cfg = cfg or load(CorpusConfig)
    tunes = load_raw(cfg.max_songs, progress=progress)
    return _pieces(tunes, split, labelled_only)


def yardstick_tunes(cfg: CorpusConfig | None = None, *, bars: int = 16, progress: bool = False) -> tuple[list[Piece], str]:
    """Real tunes no model learned from, at least `bars` long, to measure generated ones against (notebooks 03 and
    04 use the same): the whole corpus's "val" split when the whole corpus is read or already parsed; in fast mode
    before that, the held-out tunes ("val" and "test") of the tunes cfg reads, which are few. With a sentence that
    says which."""
    cfg = cfg or load(CorpusConfig)
    whole = CorpusConfig()
    if cfg.max_songs == whole.max_songs or is_parsed(whole.max_songs):
        return ([m for m in load_folk(whole, split="val", progress=progress) if m.bars >= bars],
                "the whole corpus's val split")
    return ([m for m in load_folk(cfg, progress=progress) if folk_split(m) != "train" and m.bars >= bars],
            "the held-out tunes (val and test) of the tunes read: few, so every figure is rough")


def load_held_out(max_songs: int | None = None, *, progress: bool = True) -> list[Piece]:
    """The second collection (HELD_OUT_SOURCES), which no model learns from, as Pieces (labelled where the rules
    allow; unlabelled tunes are kept: the critic needs no emotion)."""
    return _pieces(load_raw(max_songs, sources=HELD_OUT_SOURCES, progress=progress), None, False)


def _pieces(tunes: list[Parsed], split: str | None, labelled_only: bool) -> list[Piece]:
    untyped = [_density(t) for t in tunes if not any(w in t.tune_type for w in HIGH_TYPES + LOW_TYPES)]
    threshold = float(np.median(untyped)) if untyped else 1.0
    melodies = [m for m in (to_piece(t, threshold) for t in tunes) if m is not None]
    if split is not None:
        melodies = [m for m in melodies if folk_split(m) == split]
    return [m for m in melodies if m.quadrant is not None] if labelled_only else melodies
