"""FER+ (Barsoum et al. 2016): FER2013's faces relabelled by ten annotators each, read beside FER2013 by each face's
csv row. The usual protocols: the majority vote as the label, or the vote distribution as a soft target."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from ...config import data_root
from ...errors import DatasetNotFound
from .datasets import FaceData

FERPLUS_COLUMNS = ("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt",
                   "unknown", "NF")
FERPLUS_TO_FER = {"neutral": "neutral", "happiness": "happy", "surprise": "surprise", "sadness": "sad",
                  "anger": "angry", "disgust": "disgust", "fear": "fear"}  # contempt has no FER2013 class
FERPLUS_URL = "Microsoft's FERPlus repository (fer2013new.csv)"


def load_ferplus_votes(path: str | Path | None = None) -> np.ndarray:
    """FER+ (Barsoum et al. 2016): ten annotators' votes per FER2013 row, (35887, 10) in FERPLUS_COLUMNS order."""
    path = Path(path) if path else data_root() / "fer2013" / "fer2013new.csv"
    if path.is_dir():
        path = path / "fer2013new.csv"
    if not path.is_file():
        raise DatasetNotFound(f"FER+ labels not found at {path}. Get fer2013new.csv from {FERPLUS_URL} and put it "
                              f"beside FER2013's train/ and test/ folders.")
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or not set(FERPLUS_COLUMNS) <= set(reader.fieldnames):
            raise DatasetNotFound(f"{path} is not FER+'s csv: expected the columns {', '.join(FERPLUS_COLUMNS)}.")
        try:
            return np.array([[int(row[c] or 0) for c in FERPLUS_COLUMNS] for row in reader], np.int64)
        except ValueError as exc:
            raise DatasetNotFound(f"{path}: a vote count is not a whole number ({exc}).") from exc


def ferplus_majority(votes: np.ndarray, classes: tuple[str, ...]) -> np.ndarray:
    """Each row's FER+ majority label as an index into classes, or -1 (no single majority, a class outside
    classes such as contempt, 'unknown', or not a face): the usual FER+ majority-vote protocol."""
    cols = [FERPLUS_COLUMNS.index(k) for k, v in FERPLUS_TO_FER.items() if v in classes]
    names = [FERPLUS_TO_FER[FERPLUS_COLUMNS[c]] for c in cols]
    top = votes.max(axis=1)
    winner = votes.argmax(axis=1)
    unique = (votes == top[:, None]).sum(axis=1) == 1
    out = np.full(len(votes), -1, np.int64)
    for c, name in zip(cols, names):
        out[(winner == c) & unique & (top > 0)] = classes.index(name)
    return out


def _votes_of(data: FaceData, votes_path: str | Path | None) -> np.ndarray:
    """FER+'s ten votes of each face, found by its FER2013 row; one clear error when they cannot be found."""
    fix = "train on FER2013's own labels: labels='fer2013' (--labels fer2013)"
    if data.rows is None or (data.rows < 0).any():
        raise DatasetNotFound("FER+ labels need each face's FER2013 row number (FER2013's csv, or files named "
                              f"<Usage>_<row>.png); or {fix}")
    try:
        votes = load_ferplus_votes(votes_path)
    except DatasetNotFound as exc:
        raise DatasetNotFound(f"{exc} Or {fix}.") from None
    if data.rows.max(initial=-1) >= len(votes):
        raise DatasetNotFound(f"FER+'s csv has {len(votes)} rows but FER2013 has a face in row {data.rows.max()}: "
                              f"the csv is incomplete; get the whole fer2013new.csv, or {fix}")
    return votes[data.rows]


def ferplus_relabel(data: FaceData, votes_path: str | Path | None = None) -> FaceData:
    """The same faces under their FER+ majority-vote labels; faces without one are left out."""
    labels = ferplus_majority(_votes_of(data, votes_path), data.classes)
    keep = labels >= 0
    out = data.subset(keep)
    out.labels = labels[keep]
    return out


def soft_targets(data: FaceData, soft_weight: float = 1.0, votes_path: str | Path | None = None) -> np.ndarray:
    """(N, k) training targets: each face's FER+ votes over our classes (contempt, unknown and not-a-face dropped),
    mixed with its FER2013 one-hot label by soft_weight; a face with no usable vote keeps its one-hot label."""
    votes = _votes_of(data, votes_path).astype(np.float64)
    k = len(data.classes)
    soft = np.zeros((len(data), k))
    for col, name in FERPLUS_TO_FER.items():
        if name in data.classes:
            soft[:, data.classes.index(name)] = votes[:, FERPLUS_COLUMNS.index(col)]
    hard = np.eye(k)[data.labels]
    total = soft.sum(1, keepdims=True)
    soft = np.where(total > 0, soft / np.maximum(total, 1e-9), hard)
    return (soft_weight * soft + (1 - soft_weight) * hard).astype(np.float32)
