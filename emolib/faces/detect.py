"""Loading any image a user may give, and finding the face in it (OpenCV's bundled Haar cascade)."""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from ..errors import BadInput

MAX_PIXELS = 40_000_000  # refuse decompression bombs (PIL's own limit is about 89 MP)


def load_image(path: str | Path | bytes) -> np.ndarray:
    """Any RGB/RGBA/gray/16-bit/EXIF-rotated image (a file, or its bytes) -> uint8 grayscale (H, W); a clear error otherwise."""
    import io

    from PIL import Image, ImageOps, UnidentifiedImageError

    if isinstance(path, (bytes, bytearray, memoryview)):
        source, path = io.BytesIO(bytes(path)), "the uploaded file"
    else:
        path = Path(path)
        if not path.is_file():
            raise BadInput(f"{path}: no such file")
        source = path
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with Image.open(source) as im:
            if im.width * im.height > MAX_PIXELS:
                raise BadInput(f"{path}: image too large ({im.width}x{im.height}); resize it below {MAX_PIXELS:,} pixels")
            im = ImageOps.exif_transpose(im)
            if im.mode.startswith("I;16") or im.mode == "I":
                arr = np.asarray(im, dtype=np.float64)
                arr = (arr - arr.min()) / max(arr.max() - arr.min(), 1) * 255
                return arr.astype(np.uint8)
            return np.asarray(im.convert("L"), dtype=np.uint8)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError) as exc:
        if isinstance(exc, Image.DecompressionBombError):
            raise BadInput(f"{path}: image too large; resize it below {MAX_PIXELS:,} pixels") from exc
        raise BadInput(f"{path}: not an image file PIL can read (PNG, JPEG, BMP, TIFF, ...)") from exc


@functools.lru_cache(maxsize=1)
def _cascade():
    import cv2

    return cv2.CascadeClassifier(str(Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"))


def detect_face(gray: np.ndarray) -> tuple[int, int, int, int] | None:
    """The largest frontal face as (x, y, w, h), or None."""
    faces = _cascade().detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(24, 24))
    if len(faces) == 0:
        return None
    x, y, w, h = max(faces, key=lambda f: f[2] * f[3])
    return int(x), int(y), int(w), int(h)


def crop_face(gray: np.ndarray, *, detect: bool = True, center_fallback: bool = False,
              size: int = 48) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """(size x size face, box). No face found: an error, or a centre crop when center_fallback is set."""
    from PIL import Image

    h, w = gray.shape
    box = detect_face(gray) if detect else (0, 0, w, h)
    if box is None:
        if not center_fallback:
            raise BadInput("no face found in the image; use a frontal face photo, or allow a centre crop")
        side = min(h, w)
        box = ((w - side) // 2, (h - side) // 2, side, side)
    x, y, bw, bh = box
    face = Image.fromarray(gray[y:y + bh, x:x + bw]).resize((size, size), Image.BILINEAR)
    return np.asarray(face, dtype=np.uint8), box
