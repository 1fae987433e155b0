"""Loading any image a user may give, and finding the face in it (OpenCV's bundled Haar cascade)."""
from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from ..errors import BadImage, NoFace, short
from ..files.reading import check_readable_file

# image files, by their suffix: what a folder of photos or a face dataset is read for (one PIL cannot read gets an
# error line of its own)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".jpe", ".jfif", ".bmp", ".tif", ".tiff", ".webp", ".gif", ".pgm", ".ppm",
                  ".pbm", ".pnm", ".avif", ".heic", ".heif")
MAX_PIXELS = 40_000_000  # refuse decompression bombs (checked from the header, before any pixel is decoded)


MAX_IMAGE_BYTES = 100_000_000  # a photo is a few MB; a bigger file is read no further


def load_image(path: str | Path | bytes) -> np.ndarray:
    """Any RGB/RGBA/CMYK/LAB/gray/16-bit/EXIF-rotated image (a file, or its bytes) -> uint8 grayscale (H, W); a
    one-line BadImage for anything else (PIL's own errors and warnings never reach the caller)."""
    import io
    import warnings

    from PIL import Image

    if isinstance(path, (bytes, bytearray, memoryview)):
        if len(path) > MAX_IMAGE_BYTES:
            raise BadImage(f"the uploaded file is {len(path) / 1e6:.0f} MB", f"give an image under {MAX_IMAGE_BYTES // 10**6} MB")
        source, name = io.BytesIO(bytes(path)), "the uploaded file"
    elif isinstance(path, (str, Path)) and str(path):
        path = Path(path)
        check_readable_file(path, "image", BadImage)
        if path.stat().st_size > MAX_IMAGE_BYTES:
            raise BadImage(f"{short(path)}: the file is {path.stat().st_size / 1e6:.0f} MB",
                           f"give an image under {MAX_IMAGE_BYTES // 10**6} MB")
        source, name = path, short(path)
    elif isinstance(path, (str, Path)):
        raise BadImage("the image path is empty", "give a photo's path")
    else:
        raise BadImage(f"an image is a file path or the bytes of an upload, got {type(path).__name__}")
    try:
        with warnings.catch_warnings():  # corrupt EXIF, odd chunks, ...: PIL's warnings are not the user's business
            warnings.simplefilter("ignore")
            warnings.simplefilter("error", Image.DecompressionBombWarning)  # PIL's warning past 89 MP: ours is 40
            with Image.open(source) as im:
                if im.width * im.height > MAX_PIXELS:
                    raise BadImage(f"{name}: image too large ({im.width}x{im.height})",
                                   f"resize it below {MAX_PIXELS:,} pixels")
                return _gray(im)
    except BadImage:
        raise
    except PermissionError:
        raise BadImage(f"{name}: permission denied", "make the file readable or copy it somewhere you can read") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise BadImage(f"{name}: image too large", f"resize it below {MAX_PIXELS:,} pixels") from None
    except MemoryError:
        raise BadImage(f"{name}: not enough memory to decode the image", "give a smaller image") from None
    except Exception as exc:  # noqa: BLE001 - PIL raises many types (OSError, ValueError, SyntaxError, struct.error)
        raise BadImage(f"{name}: not an image file PIL can read ({type(exc).__name__})",
                       "give a PNG, JPEG, BMP, TIFF, WebP or GIF") from None


def _gray(im) -> np.ndarray:
    """An open PIL image as uint8 grayscale, upright (EXIF orientation), without float copies of big images."""
    from PIL import ImageOps

    im = ImageOps.exif_transpose(im)
    if im.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        arr = np.asarray(im)
        lo, hi = float(arr.min()), float(arr.max())
        if im.mode == "F":
            return ((arr - lo) * (255.0 / max(hi - lo, 1e-12))).astype(np.uint8)
        span = max(int(hi - lo), 1)  # integer scaling, in place: a 16-bit 6000x6000 photo stays well under 1 GB
        out = arr.astype(np.int64) if im.mode == "I" else arr.astype(np.uint32)
        out -= int(lo)
        out *= 255
        out //= span
        return out.astype(np.uint8)
    if im.mode == "LAB":
        return np.asarray(im.getchannel(0), dtype=np.uint8)  # L is the lightness channel
    if im.mode not in ("L", "RGB"):
        im = im.convert("RGBA" if "A" in im.mode or im.mode == "P" else "RGB")
    return np.asarray(im.convert("L"), dtype=np.uint8)


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

        # reducing_gap: shrink by a whole factor first (a box filter), then resample: a bilinear filter over a
        # 40-million-pixel row would otherwise hold half a gigabyte of weights
        small = np.asarray(Image.fromarray(gray).resize((max(1, round(w * scale)), max(1, round(h * scale))),
                                                        Image.BILINEAR, reducing_gap=3.0))
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
