"""Face data: FER2013 and other labelled image folders with their own splits (datasets), the FER+ relabelling
(ferplus), the drawn faces that stand in offline (synthetic) and the licensed sample faces that ship (samples).
:func:`load_faces` picks FER2013 when it is found, else the drawn set, so every notebook runs offline."""
from __future__ import annotations

from .datasets import FaceData, fer2013_available, load_fer2013
from .synthetic import synthetic_faces


def load_faces(root=None, *, progress: bool = True) -> tuple[FaceData, str]:
    """(FaceData, name): FER2013 when it is found, else the embedded synthetic set (so notebooks run offline)."""
    if fer2013_available(root):
        return load_fer2013(root, progress=progress), "FER2013"
    return synthetic_faces(), "synthetic faces (drawn, not real photos)"
