"""The bundled sample faces: sixteen licensed faces by expression and source (credits in assets/faces/ATTRIBUTION.md).

Each sample has a name (``happy_1``), the expression its photographer or creator intended, and where it comes
from: Darwin's 1872 plates (public domain, old staged photographs), the Face Research Lab London Set (CC BY 4.0,
real people) or DiffusionFER (CC0, AI-generated). The command line takes ``--sample NAME`` or ``--image
sample:NAME``; the widget lists them by expression and source.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ...config import PACKAGE_DATA
from ...errors import BadImage

FACES = PACKAGE_DATA / "faces"
SOURCES = {"darwin": "Darwin 1872, public domain", "london": "London Set, CC BY 4.0", "diffusion": "DiffusionFER, CC0, AI"}
_ORIGIN = {  # sample -> source kind (ATTRIBUTION.md has the full credit of each)
    "angry_1": "darwin", "angry_2": "darwin", "angry_3": "diffusion", "disgust_1": "darwin", "fear_1": "darwin",
    "happy_1": "london", "happy_2": "london", "happy_3": "darwin", "happy_4": "darwin", "neutral_1": "london",
    "neutral_2": "london", "sad_1": "darwin", "sad_2": "darwin", "sad_3": "diffusion", "surprise_1": "diffusion",
    "surprise_2": "darwin",
}
PREFIX = "sample:"  # --image sample:happy_1


@dataclass(frozen=True)
class Sample:
    name: str  # e.g. "happy_1"
    expression: str  # the intended expression (a FER2013 class)
    source: str  # "darwin", "london" or "diffusion"

    @property
    def path(self) -> Path:
        return FACES / f"{self.name}.jpg"

    @property
    def label(self) -> str:
        """How the widget lists it: "happy 1 (London Set, CC BY 4.0)"."""
        return f"{self.expression} {self.name.rsplit('_', 1)[1]} ({SOURCES[self.source]})"


SAMPLES: dict[str, Sample] = {name: Sample(name, name.rsplit("_", 1)[0], src) for name, src in _ORIGIN.items()}


def sample(name: str) -> Sample:
    """The sample of that name (with or without the "sample:" prefix), or a BadImage listing the names."""
    key = name[len(PREFIX):] if name.startswith(PREFIX) else name
    if key not in SAMPLES:
        raise BadImage(f"no sample face named {key!r}", f"choose one of {', '.join(SAMPLES)} (--list-samples)")
    return SAMPLES[key]


def resolve(image):
    """An image argument with "sample:NAME" replaced by that sample's file; anything else as it is."""
    if isinstance(image, str) and image.startswith(PREFIX):
        return sample(image).path
    return image
