"""Class probabilities worked out once and kept on disk.

Scoring FER2013's 7,178 test faces with the shipped classifier takes minutes on 2 CPU cores, and the same
answer was needed twice in one test run (notebook 02 and the regression test in tests/test_faces.py), as the
validation faces' answers were by scripts/validate_classifier.py for every candidate of every round (whose
ensembles share networks). The probabilities are a function of three things only: the weights (a checkpoint's
bytes, or one network's), the faces' pixels and the code that turns one into the other (with torch's version).
`remembered` keeps them in data/cache/<folder>/ under a digest of all three, so a change to any of them is scored
afresh, never read stale.

    probs, fresh = probabilities_of(test)   # the shipped classifier on FaceData: (n, classes), and whether scored now
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from ..config import cache_dir, checkpoints_dir, ensure_dir
from ..output import write_files


def code_stamp() -> str:
    """What else decides the probabilities: the code that reads checkpoints, prepares faces and averages networks,
    and torch."""
    import inspect

    from .. import checkpoint
    from . import classifier, ensemble

    text = inspect.getsource(classifier) + inspect.getsource(ensemble) + inspect.getsource(checkpoint) + torch.__version__
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def faces_digest(images: np.ndarray, rows: np.ndarray | None = None) -> str:
    """Which faces these are: their pixels (a folder dataset has no rows), and their csv rows when known."""
    digest = hashlib.sha256(np.ascontiguousarray(images).tobytes())
    if rows is not None:
        digest.update(np.ascontiguousarray(rows).tobytes())
    return digest.hexdigest()[:16]


def file_digest(path: str | Path) -> str:
    """A checkpoint's bytes: its networks, its view and its decision prior."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def weights_digest(network: torch.nn.Module) -> str:
    """One network's weights: the same network inside an ensemble checkpoint and alone in its own file agree."""
    digest = hashlib.sha256()
    for name, tensor in network.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def remembered(folder: str, weights: str, faces: str, shape: tuple[int, int],
               compute: Callable[[], dict[str, np.ndarray]]) -> tuple[dict[str, np.ndarray], bool]:
    """compute()'s arrays (each of `shape`) for these weights (file_digest or weights_digest) and these faces
    (faces_digest), read from the cache when an earlier run stored them, else computed and stored; and whether they
    were computed now. A damaged or mis-shaped cache file is computed again and replaced."""
    key = weights + "_" + faces + "_" + code_stamp()
    cached = cache_dir() / folder / f"{key}.npz"
    if cached.is_file():
        try:
            with np.load(cached) as z:
                arrays = {name: z[name] for name in z.files}
            if arrays and all(a.shape == shape for a in arrays.values()):
                return arrays, False
        except (OSError, ValueError, KeyError):
            pass
    arrays = compute()

    def save(tmp: str) -> None:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)

    ensure_dir(cached.parent)
    write_files([(cached, save)], force=True)
    return arrays, True


def probabilities_of(faces, checkpoint: str | Path | None = None) -> tuple[np.ndarray, bool]:
    """A classifier's answers for FaceData (default: the shipped checkpoint), as FaceClassifier.predict_proba gives
    them (its view, its decision prior), kept in data/cache/scored; and whether they were computed now."""
    from .classifier import DEFAULT_CHECKPOINT, load_classifier

    path = Path(checkpoint) if checkpoint is not None else checkpoints_dir() / DEFAULT_CHECKPOINT
    clf = load_classifier(path)
    arrays, fresh = remembered("scored", file_digest(path), faces_digest(faces.images, faces.rows), (len(faces), len(clf.classes)),
                               lambda: {"probs": clf.predict_proba(faces.images)})
    return arrays["probs"], fresh
