"""Face-emotion datasets in their published layouts, always with the dataset's own split.

- FER2013 as Kaggle's ``fer2013.csv`` (``emotion,pixels,Usage``; Training/PublicTest/PrivateTest).
- FER2013 as an image folder (``train|test/<class>/*.jpg``; the file-name prefix
  Training_/PublicTest_/PrivateTest_ carries the official split).
- Any labelled image folder (``<class>/*`` or ``<split>/<class>/*``): CK+, JAFFE, AffectNet subsets.

Everything loads into a :class:`FaceData` of 48x48 uint8 grayscale arrays (small enough for memory).
"""
from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...config import cache_dir, data_root, ensure_dir
from ...emotion import FER_CLASSES
from ...errors import DatasetNotFound
from ..detect import IMAGE_SUFFIXES

FER_URL = "https://www.kaggle.com/datasets/msambare/fer2013 (or the challenge's fer2013.csv)"
SPLIT_PREFIXES = {"Training": "train", "PublicTest": "test", "PrivateTest": "test"}


@dataclass
class FaceData:
    images: np.ndarray  # (N, H, W) uint8 grayscale
    labels: np.ndarray  # (N,) int64 index into classes
    classes: tuple[str, ...]
    split: np.ndarray  # (N,) "train" / "test" (the dataset's own split)
    rows: np.ndarray | None = None  # (N,) FER2013's csv row of each face (aligns the FER+ labels), if known

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, mask: np.ndarray) -> "FaceData":
        return FaceData(self.images[mask], self.labels[mask], self.classes, self.split[mask],
                        None if self.rows is None else self.rows[mask])

    def of_split(self, name: str) -> "FaceData":
        return self.subset(self.split == name)

    def counts(self) -> dict[str, int]:
        return {c: int((self.labels == i).sum()) for i, c in enumerate(self.classes)}


def select_classes(data: FaceData, classes: tuple[str, ...] | list[str]) -> FaceData:
    """Keep only the given classes, relabelled 0..len(classes)-1 in the given order."""
    missing = [c for c in classes if c not in data.classes]
    if missing:
        raise ValueError(f"classes {missing} are not in this dataset (it has {list(data.classes)})")
    old = np.array([data.classes.index(c) for c in classes])
    keep = np.isin(data.labels, old)
    remap = np.full(len(data.classes), -1)
    remap[old] = np.arange(len(classes))
    sub = data.subset(keep)
    return FaceData(sub.images, remap[sub.labels].astype(np.int64), tuple(classes), sub.split, sub.rows)


def train_val_split(data: FaceData, fraction: float, seed: int = 0) -> tuple[FaceData, FaceData]:
    """Carve a stratified validation set out of the training split only (the test split is untouched)."""
    train = data.of_split("train")
    rng = np.random.default_rng(seed)
    val_mask = np.zeros(len(train), bool)
    for k in range(len(train.classes)):
        idx = np.flatnonzero(train.labels == k)
        rng.shuffle(idx)
        val_mask[idx[: int(round(len(idx) * fraction))]] = True
    return train.subset(~val_mask), train.subset(val_mask)


def stratified_cap(data: FaceData, n: int | None, seed: int = 0) -> FaceData:
    """At most n examples, keeping class proportions (for fast mode)."""
    if n is None or n >= len(data):
        return data
    rng = np.random.default_rng(seed)
    keep = np.zeros(len(data), bool)
    for k in range(len(data.classes)):
        idx = np.flatnonzero(data.labels == k)
        rng.shuffle(idx)
        keep[idx[: max(1, int(round(n * len(idx) / len(data))))]] = True
    return data.subset(keep)


def balanced_cap(data: FaceData, n: int | None, seed: int = 0) -> FaceData:
    """At most n examples, the same number of each class where the data allows (fast mode: chance is 1/k,
    and no class's share can pass for learning)."""
    if n is None or n >= len(data):
        return data
    rng = np.random.default_rng(seed)
    keep = np.zeros(len(data), bool)
    groups = [rng.permutation(np.flatnonzero(data.labels == k)) for k in range(len(data.classes))]
    per, left = 0, n
    while left > 0 and any(len(g) > per for g in groups):  # fill evenly; rare classes give what they have
        for g in groups:
            if left and len(g) > per:
                keep[g[per]] = True
                left -= 1
        per += 1
    return data.subset(keep)


def load_fer2013_csv(path: str | Path) -> FaceData:
    """Kaggle's fer2013.csv: columns emotion (0-6), pixels (2304 numbers), Usage."""
    path = Path(path)
    if not path.is_file():
        raise DatasetNotFound(f"FER2013 csv not found at {path}. Get fer2013.csv from {FER_URL}.")
    images, labels, split = [], [], []
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        needed = {"emotion", "pixels", "Usage"}
        if not reader.fieldnames or not needed <= set(reader.fieldnames):
            raise DatasetNotFound(
                f"{path} is not FER2013's csv: expected columns {sorted(needed)}, got {reader.fieldnames}."
            )
        for line, row in enumerate(reader, start=2):
            pixels = np.array(row["pixels"].split(), dtype=np.uint8)
            if pixels.size != 48 * 48:
                raise DatasetNotFound(f"{path}:{line}: expected 2304 pixels, got {pixels.size}.")
            usage = row["Usage"].strip()
            if usage not in SPLIT_PREFIXES:
                raise DatasetNotFound(f"{path}:{line}: unknown Usage {usage!r} (Training/PublicTest/PrivateTest).")
            images.append(pixels.reshape(48, 48))
            labels.append(int(row["emotion"]))
            split.append(SPLIT_PREFIXES[usage])
    if not images:
        raise DatasetNotFound(f"{path} holds no images.")
    return FaceData(np.stack(images), np.array(labels, np.int64), FER_CLASSES, np.array(split),
                    np.arange(len(images)))


def _read_gray(path: Path, size: int) -> np.ndarray:
    from PIL import Image

    try:
        with Image.open(path) as im:
            im = im.convert("L")
            if im.size != (size, size):
                im = im.resize((size, size), Image.BILINEAR)
            return np.asarray(im, dtype=np.uint8)
    except Exception as exc:  # noqa: BLE001 - PIL raises many types; each names the file
        raise DatasetNotFound(f"{path} is not a readable image ({type(exc).__name__}); the dataset copy is "
                              f"damaged: delete that file or unpack the dataset again.") from None


def load_image_folder(root: str | Path, *, size: int = 48, classes: tuple[str, ...] | None = None,
                      cache: bool = True, progress: bool = True) -> FaceData:
    """A labelled image folder: ``<split>/<class>/*`` (split = train|test) or ``<class>/*``.

    In FER2013's folder layout the file-name prefix (Training_/PublicTest_/PrivateTest_) decides
    the split, as the dataset defines it. Folders without a split are all "train".
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetNotFound(
            f"Dataset not found at {root}. Download FER2013 from {FER_URL} and unpack it so that "
            f"{root}/train/happy/*.jpg and {root}/test/happy/*.jpg exist (or point EMOLIB_DATA at its parent)."
        )
    split_dirs = [d for d in ("train", "test") if (root / d).is_dir()]
    files: list[tuple[Path, str, str, int]] = []  # (path, class, split, FER2013 row or -1)
    for split_name in split_dirs or [None]:
        base = root / split_name if split_name else root
        for class_dir in sorted(p for p in base.iterdir() if p.is_dir()):
            for f in sorted(class_dir.iterdir()):
                if f.suffix.lower() in IMAGE_SUFFIXES:
                    prefix, _, rest = f.stem.partition("_")
                    row = int(rest) if prefix in SPLIT_PREFIXES and rest.isdigit() else -1
                    files.append((f, class_dir.name.lower(), SPLIT_PREFIXES.get(prefix, split_name or "train"), row))
    if not files:
        raise DatasetNotFound(
            f"No images under {root}. Expected {root}/<train|test>/<class>/*.png|jpg (FER2013 from {FER_URL})."
        )
    found = sorted({c for _, c, _, _ in files})
    if classes is None:
        classes = tuple(c for c in FER_CLASSES if c in found) + tuple(c for c in found if c not in FER_CLASSES)
    key = hashlib.sha1(f"v2|{root.resolve()}|{len(files)}|{size}|{files[-1][0].name}|{classes}".encode()).hexdigest()[:16]
    cached = cache_dir() / f"faces_{key}.npz"
    if cache and cached.is_file():
        z = np.load(cached)
        return FaceData(z["images"], z["labels"], tuple(z["classes"].tolist()), z["split"], z["rows"])
    files = [t for t in files if t[1] in classes]
    iterator = files
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(files, desc=f"reading {root.name}", unit="img", mininterval=1.0)
    images = np.stack([_read_gray(f, size) for f, _, _, _ in iterator])
    labels = np.array([classes.index(c) for _, c, _, _ in files], np.int64)
    split = np.array([s for _, _, s, _ in files])
    rows = np.array([r for _, _, _, r in files], np.int64)
    data = FaceData(images, labels, tuple(classes), split, rows)
    if cache:
        np.savez_compressed(ensure_dir(cached.parent) / cached.name, images=images, labels=labels, classes=np.array(classes), split=split, rows=rows)
    return data


def load_fer2013(root: str | Path | None = None, **kwargs) -> FaceData:
    """FER2013 from EMOLIB_DATA/fer2013: the image-folder layout, or fer2013.csv inside it."""
    root = Path(root) if root else data_root() / "fer2013"
    if (root / "fer2013.csv").is_file():
        return load_fer2013_csv(root / "fer2013.csv")
    if root.suffix == ".csv":
        return load_fer2013_csv(root)
    if root.is_dir() and (root / "train").is_dir() != (root / "test").is_dir():
        have, lack = ("train", "test") if (root / "train").is_dir() else ("test", "train")
        raise DatasetNotFound(f"FER2013 at {root} is partial: it has {have}/ but no {lack}/. Unpack the whole "
                              f"archive from {FER_URL} so that {root}/train/<class>/ and {root}/test/<class>/ exist.")
    return load_image_folder(root, classes=FER_CLASSES, **kwargs)


def fer2013_available(root: str | Path | None = None) -> bool:
    """True if FER2013 is where load_fer2013 would look."""
    root = Path(root) if root else data_root() / "fer2013"
    return (root / "fer2013.csv").is_file() or (root / "train").is_dir()
