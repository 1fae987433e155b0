"""Faces: datasets, image loading and detection, the synthetic face set, the EfficientNet classifier and its training."""
from __future__ import annotations


def load_faces(root=None, *, progress: bool = True):
    """(FaceData, name): FER2013 when it is found, else the embedded synthetic set (so notebooks run offline)."""
    from .datasets import fer2013_available, load_fer2013
    from .synthetic import synthetic_faces

    if fer2013_available(root):
        return load_fer2013(root, progress=progress), "FER2013"
    return synthetic_faces(), "synthetic faces (drawn, not real photos)"
