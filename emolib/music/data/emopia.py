"""EMOPIA 1.0 (Hung et al., ISMIR 2021): 1,078 emotion-labelled pop-piano clips, with its official split.

Layout (as published on Zenodo): ``midis/Q{1..4}_<song>_<n>.mid`` (the quadrant is the file-name
prefix), ``label.csv`` and ``split/{train,val,test}_clip.csv``. Clips are polyphonic piano, so the
melody is taken as the skyline (highest voice) and chords come from all the notes of each bar.
EMOPIA is CC BY-NC-SA 4.0: nothing trained on it ships with emolib; scripts reproduce results.
"""
from __future__ import annotations

import csv
import warnings
from pathlib import Path

from ...config import data_root
from ...emotion import quadrant
from ...errors import DatasetNotFound
from ..notes.chords import bar_chords
from ..notes.key import detect_key
from ..notes.piece import Piece
from ..notes.roll import REGISTER, STEPS_PER_QUARTER, into_register, midi_to_roll, pad_to_bars, skyline

EMOPIA_URL = "https://zenodo.org/record/5090631 (EMOPIA 1.0)"
EMOPIA_SPLITS = ("train", "val", "test")


def emopia_root(root: str | Path | None = None) -> Path:
    return Path(root) if root else data_root() / "emopia"


def emopia_available(root: str | Path | None = None) -> bool:
    return (emopia_root(root) / "midis").is_dir()


def read_split(root: Path) -> dict[str, str]:
    """clip name (without .mid) -> "train" / "val" / "test", from the official split files."""
    out = {}
    for split in EMOPIA_SPLITS:
        path = root / "split" / f"{split}_clip.csv"
        if not path.is_file():
            continue
        with path.open(newline="") as f:
            for row in csv.DictReader(f):
                out[Path(row["clip_name"]).stem] = split
    return out


def quadrant_of(name: str) -> int:
    """Quadrant number from an EMOPIA clip name such as ``Q3_0EWWyyV7RJA_0``."""
    if len(name) < 3 or name[0] != "Q" or name[1] not in "1234" or name[2] != "_":
        raise ValueError(f"{name!r} is not an EMOPIA clip name (Q1_..., Q2_..., Q3_... or Q4_...)")
    return int(name[1])


def read_clip(path: Path) -> Piece:
    """One EMOPIA clip -> Piece (skyline melody in the common register, full roll kept)."""
    import pretty_midi

    pm = pretty_midi.PrettyMIDI(str(path))
    full = pad_to_bars(midi_to_roll(pm))
    if not full.any():
        raise ValueError("it has no notes")
    tonic, mode, _ = detect_key(full)
    melody = into_register(skyline(full), *REGISTER)
    notes = sum(len(i.notes) for i in pm.instruments if not i.is_drum)
    return Piece(melody, bar_chords(full, key=(tonic, mode)), tonic, mode, quadrant(quadrant_of(path.stem)),
                 title=path.stem, source="emopia", density=notes / max(1.0, len(full) / STEPS_PER_QUARTER), full=full)


def load_emopia(root: str | Path | None = None, split: str | None = None, *, limit: int | None = None,
                progress: bool = True) -> list[Piece]:
    """EMOPIA clips (optionally one official split); corrupt or empty files are skipped with a warning."""
    from tqdm.auto import tqdm

    root = emopia_root(root)
    midis = root / "midis"
    if not midis.is_dir():
        raise DatasetNotFound(f"EMOPIA not found at {root}. Download it from {EMOPIA_URL} and unpack it so that "
                              f"{midis}/Q1_*.mid and {root}/split/train_clip.csv exist (or set EMOLIB_DATA).")
    splits = read_split(root)
    if split is not None and split not in EMOPIA_SPLITS:
        raise ValueError(f"split must be one of {EMOPIA_SPLITS}, got {split!r}")
    if split is not None and not splits:
        raise DatasetNotFound(f"{root}/split/{split}_clip.csv is missing: EMOPIA's official split files are needed.")
    paths = sorted(p for p in midis.glob("*.mid") if p.stem[:1] == "Q")
    if split is not None:
        paths = [p for p in paths if splits.get(p.stem) == split]
    if limit:  # a sample balanced across the quadrants: the sorted list starts with 250 Q1 clips
        by_q = [[p for p in paths if p.stem[1] == q] for q in "1234"]
        paths = [g[i] for i in range(max(map(len, by_q))) for g in by_q if i < len(g)][:limit]
    clips, skipped = [], []
    for path in tqdm(paths, desc=f"reading EMOPIA{' ' + split if split else ''}", unit="clip",
                     disable=not progress, mininterval=2.0):
        try:
            clips.append(read_clip(path))
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop the loader
            skipped.append(f"{path.name} ({exc})")
    if skipped:
        warnings.warn(f"skipped {len(skipped)} unreadable or empty EMOPIA file(s): {', '.join(skipped)}", stacklevel=2)
    return clips
