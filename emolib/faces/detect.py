"""Loading any image a user may give, and finding the face in it (OpenCV's bundled Haar cascade)."""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from ..errors import BadImage, BadInput, NoFace

MAX_PIXELS = 40_000_000  # refuse decompression bombs (checked from the header, before any pixel is decoded)


def load_image(path: str | Path | bytes) -> np.ndarray:
    """Any RGB/RGBA/gray/16-bit/EXIF-rotated image (a file, or its bytes) -> uint8 grayscale (H, W); a clear error otherwise."""
    import io
    import warnings

    from PIL import Image, ImageOps, UnidentifiedImageError

    if isinstance(path, (bytes, bytearray, memoryview)):
        source, path = io.BytesIO(bytes(path)), "the uploaded file"
    elif isinstance(path, (str, Path)):
        path = Path(path)
        check_readable_file(path, "image", BadImage)
        source = path
    else:
        raise BadImage(f"an image is a file path or the bytes of an upload, got {type(path).__name__}")
    try:
        with warnings.catch_warnings():  # PIL warns of a decompression bomb past 89 MP: ours is an error at 40 MP
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(source)
        with im:
            if im.width * im.height > MAX_PIXELS:
                raise BadImage(f"{path}: image too large ({im.width}x{im.height})",
                               f"resize it below {MAX_PIXELS:,} pixels")
            im = ImageOps.exif_transpose(im)
            if im.mode.startswith("I;16") or im.mode == "I":
                arr = np.asarray(im, dtype=np.float64)
                arr = (arr - arr.min()) / max(arr.max() - arr.min(), 1) * 255
                return arr.astype(np.uint8)
            return np.asarray(im.convert("L"), dtype=np.uint8)
    except PermissionError as exc:
        raise BadImage(f"{path}: permission denied", "make the file readable or copy it somewhere you can read") from exc
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning, OSError,
            SyntaxError) as exc:
        if isinstance(exc, (Image.DecompressionBombError, Image.DecompressionBombWarning)):
            raise BadImage(f"{path}: image too large", f"resize it below {MAX_PIXELS:,} pixels") from exc
        raise BadImage(f"{path}: not an image file PIL can read", "give a PNG, JPEG, BMP, TIFF, WebP or GIF") from exc


def check_readable_file(path: Path, what: str, error: type[BadInput] = BadInput) -> None:
    """A clear `error` (a BadInput) unless path is an existing regular file (not a folder, FIFO or device)."""
    import stat

    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except PermissionError:
        raise error(f"{path}: permission denied", f"make the {what} readable") from None
    except OSError as exc:  # a name too long, a loop of links, ...
        raise error(f"{str(path)[:80]}{'...' if len(str(path)) > 80 else ''}: cannot open ({exc.strerror})",
                    f"check the {what}'s path") from None
    if stat.S_ISDIR(mode):
        raise error(f"{path} is a folder, not an {what} file", "give one file")
    if not stat.S_ISREG(mode):
        raise error(f"{path} is not a regular file (a device, pipe or socket)", f"give an {what} file")


@functools.lru_cache(maxsize=1)
def _cascade():
    import cv2

    return cv2.CascadeClassifier(str(Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"))


DETECT_MAX_SIDE = 640  # faces are found on a copy at most this big (memory and time stay bounded)


def detect_face(gray: np.ndarray) -> tuple[int, int, int, int] | None:
    """The largest frontal face as (x, y, w, h) in gray's own pixels, or None.

    A large photo is searched on a shrunken copy (at most DETECT_MAX_SIDE px a side) and the box is
    scaled back: a 6000x6000 image otherwise costs OpenCV's cascade gigabytes and seconds.
    """
    h, w = gray.shape
    scale = min(1.0, DETECT_MAX_SIDE / max(h, w))
    small = gray
    if scale < 1.0:
        from PIL import Image

        small = np.asarray(Image.fromarray(gray).resize((max(1, round(w * scale)), max(1, round(h * scale))),
                                                        Image.BILINEAR))
    faces = _cascade().detectMultiScale(small, scaleFactor=1.1, minNeighbors=5, minSize=(24, 24))
    if len(faces) == 0:
        return None
    x, y, bw, bh = (int(round(v / scale)) for v in max(faces, key=lambda f: f[2] * f[3]))
    return x, y, min(bw, w - x), min(bh, h - y)


def crop_face(gray: np.ndarray, *, detect: bool = True, center_fallback: bool = False,
              size: int = 48) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """(size x size face, box). No face found: an error, or a centre crop when center_fallback is set."""
    from PIL import Image

    h, w = gray.shape
    box = detect_face(gray) if detect else (0, 0, w, h)
    if box is None:
        if not center_fallback:
            raise NoFace("no face found in the image", "use a frontal face photo, or allow a centre crop (--center-crop)")
        side = min(h, w)
        box = ((w - side) // 2, (h - side) // 2, side, side)
    x, y, bw, bh = box
    face = Image.fromarray(gray[y:y + bh, x:x + bw]).resize((size, size), Image.BILINEAR)
    return np.asarray(face, dtype=np.uint8), box
