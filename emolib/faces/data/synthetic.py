"""A procedurally generated expression-face set in FER2013's format (48x48 grayscale, official-style split).

SYNTHETIC: drawn cartoon faces, not photos of people. It exists so every notebook and fast-mode
test runs offline for a new user who has no real face dataset; a classifier trained on it learns
the drawing's cues (mouth curve, brows, eyes), not real faces. Train on FER2013 for real use.

Each face varies in shape, skin tone, position, scale, rotation, lighting gradient, noise and
occlusion (glasses, a fringe of hair). The expression is carried by three cues, as in FACS-style
descriptions of the prototypical expressions:
- happy: mouth curved up (smile), relaxed brows, slightly narrowed eyes;
- sad: mouth curved down, brows raised at the inner ends, drooping lids;
- angry: mouth flat and tight or slightly down, brows lowered and pulled together, eyes narrowed;
- neutral: a straight mouth, level brows, open eyes.
"""
from __future__ import annotations

import numpy as np

from .datasets import FaceData

CLASSES = ("angry", "happy", "sad", "neutral")  # a FER2013 subset, in FER2013's relative order
_HI = 96  # faces are drawn at 2x and downsampled, for anti-aliasing

# expression -> (mouth curvature, brow inner raise, brow tilt, eye opening), each a (low, high) range;
# curvature > 0 is a smile, brow tilt > 0 lowers the inner ends (a frown)
_EXPRESSIONS = {
    "happy": ((0.55, 1.0), (0.0, 0.15), (-0.15, 0.05), (0.45, 0.8)),
    "sad": ((-1.0, -0.5), (0.35, 0.7), (-0.6, -0.3), (0.35, 0.65)),
    "angry": ((-0.35, 0.05), (-0.2, 0.0), (0.45, 0.8), (0.25, 0.5)),
    "neutral": ((-0.1, 0.1), (0.0, 0.15), (-0.1, 0.1), (0.7, 1.0)),
}


def draw_face(expression: str, rng: np.random.Generator) -> np.ndarray:
    """One 48x48 uint8 face with the given expression and random appearance."""
    import cv2

    mouth_curve, brow_raise, brow_tilt, eye_open = (rng.uniform(*r) for r in _EXPRESSIONS[expression])
    bg = rng.uniform(30, 200)
    img = np.full((_HI, _HI), bg, np.float32)
    cx, cy = _HI / 2 + rng.normal(0, 4), _HI / 2 + rng.normal(0, 4)
    scale = rng.uniform(0.85, 1.1)
    fw, fh = 34 * scale * rng.uniform(0.85, 1.1), 42 * scale * rng.uniform(0.9, 1.1)
    skin = rng.uniform(70, 230)
    if abs(skin - bg) < 40:
        skin = bg + 60 if bg < 140 else bg - 60
    ink = max(0.0, skin - rng.uniform(80, 140))
    cv2.ellipse(img, (int(cx), int(cy)), (int(fw), int(fh)), 0, 0, 360, float(skin), -1, cv2.LINE_AA)
    u = scale  # unit for features
    eye_y, eye_dx = cy - 8 * u, 13 * u * rng.uniform(0.9, 1.1)
    for side in (-1, 1):
        ex = cx + side * eye_dx
        cv2.ellipse(img, (int(ex), int(eye_y)), (int(6 * u), max(1, int(4.5 * u * eye_open))), 0, 0, 360,
                    float(min(255, skin + 25)), -1, cv2.LINE_AA)
        cv2.circle(img, (int(ex), int(eye_y)), max(1, int(2.3 * u)), float(ink), -1, cv2.LINE_AA)
        if eye_open < 0.6:  # a lowered upper lid
            lid = int(eye_y - 4.5 * u * eye_open)
            cv2.line(img, (int(ex - 6 * u), lid), (int(ex + 6 * u), lid), float(ink), max(1, int(1.5 * u)), cv2.LINE_AA)
        # the brow: the inner end is nearer the midline; positive tilt lowers it (a frown)
        by = eye_y - 9 * u - 3 * u * brow_raise
        inner = (int(cx + side * 4 * u), int(by + 5 * u * brow_tilt - 3 * u * brow_raise))
        outer = (int(cx + side * 19 * u), int(by - 3 * u * brow_tilt))
        cv2.line(img, inner, outer, float(ink), max(2, int(2.5 * u)), cv2.LINE_AA)
    cv2.line(img, (int(cx), int(cy - 2 * u)), (int(cx - 2 * u), int(cy + 6 * u)), float(skin - 35), 1, cv2.LINE_AA)
    # mouth: a parabola whose ends rise (smile) or fall (frown) by mouth_curve
    mw = 12 * u * rng.uniform(0.85, 1.15)
    my = cy + 17 * u
    xs = np.linspace(-mw, mw, 24)
    ys = my - mouth_curve * 7 * u * (xs / mw) ** 2 + mouth_curve * 2 * u
    pts = np.stack([cx + xs, ys], 1).round().astype(np.int32)
    cv2.polylines(img, [pts], False, float(ink), max(2, int(2.5 * u)), cv2.LINE_AA)
    if rng.random() < 0.25:  # glasses
        for side in (-1, 1):
            cv2.circle(img, (int(cx + side * eye_dx), int(eye_y)), int(9 * u), float(ink), 2, cv2.LINE_AA)
        cv2.line(img, (int(cx - eye_dx + 9 * u), int(eye_y)), (int(cx + eye_dx - 9 * u), int(eye_y)), float(ink), 2)
    if rng.random() < 0.3:  # a fringe of hair over the forehead
        hair = rng.uniform(10, 80)
        cv2.ellipse(img, (int(cx), int(cy - fh * 0.75)), (int(fw * 1.05), int(fh * rng.uniform(0.3, 0.45))), 0, 0, 360,
                    float(hair), -1, cv2.LINE_AA)
    rot = cv2.getRotationMatrix2D((cx, cy), rng.normal(0, 8), 1.0)
    img = cv2.warpAffine(img, rot, (_HI, _HI), borderMode=cv2.BORDER_REPLICATE)
    yy, xx = np.mgrid[0:_HI, 0:_HI] / _HI - 0.5
    angle = rng.uniform(0, 2 * np.pi)
    img *= 1 + rng.uniform(0, 0.5) * (np.cos(angle) * xx + np.sin(angle) * yy)  # side lighting
    img = cv2.resize(img, (48, 48), interpolation=cv2.INTER_AREA)
    img += rng.normal(0, rng.uniform(2, 10), img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def synthetic_faces(n_per_class: int = 300, *, classes: tuple[str, ...] = CLASSES, test_fraction: float = 0.2,
                    seed: int = 0) -> FaceData:
    """A balanced set with a fixed train/test split (the last test_fraction of each class is test)."""
    unknown = set(classes) - set(_EXPRESSIONS)
    if unknown:
        raise ValueError(f"no synthetic expression for {sorted(unknown)}; choose from {sorted(_EXPRESSIONS)}")
    rng = np.random.default_rng(seed)
    images, labels, split = [], [], []
    n_test = int(round(n_per_class * test_fraction))
    for k, name in enumerate(classes):
        for i in range(n_per_class):
            images.append(draw_face(name, rng))
            labels.append(k)
            split.append("test" if i >= n_per_class - n_test else "train")
    return FaceData(np.stack(images), np.array(labels, np.int64), tuple(classes), np.array(split))


def write_fer2013_csv(data: FaceData, path) -> None:
    """Write a FaceData as Kaggle's fer2013.csv (emotion,pixels,Usage), e.g. to try the loaders on it."""
    import csv

    from ...emotion import FER_CLASSES

    usage = {"train": "Training", "test": "PublicTest"}
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["emotion", "pixels", "Usage"])
        for img, label, split in zip(data.images, data.labels, data.split):
            w.writerow([FER_CLASSES.index(data.classes[label]), " ".join(map(str, img.ravel())), usage[split]])
