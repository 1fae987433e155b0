"""Class probabilities worked out once and kept on disk.

Scoring FER2013's 7,178 test faces with the shipped classifier takes minutes on 2 CPU cores, and the same
answer was needed twice in one test run (notebook 02 and the regression test in tests/test_faces.py), as the
validation faces' answers were by scripts/validate_classifier.py for every candidate of every round (whose
ensembles share networks). The probabilities are a function of three things only: the networks as they read faces
(weights, architecture, input size, and for a classifier its view and decision prior), the faces' pixels and the
code that turns one into the other (with torch's version). `remembered` keeps them in data/cache/<folder>/ (one
folder per kind of answer) under a digest of all three, so a change to any of them is scored afresh, never read
stale. Delete data/cache (or point EMOLIB_CACHE elsewhere) to measure everything again.

    probs, fresh = probabilities_of(test, clf)   # FaceData and a FaceClassifier: (n, classes), and whether scored now
"""
from __future__ import annotations

import hashlib
import json
import os
import warnings
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from ..config import cache_dir, ensure_dir
from ..errors import EmolibError, short
from ..files import checkpoints
from ..files.reading import check_readable_file, check_unpacked
from ..files.writing import write_files
from . import classifier, network, prior


def _source_digest() -> str:
    """The code that reads checkpoints, prepares faces, averages networks and keeps the answers, as imported now
    (a file edited later in a running kernel does not change what runs: its digest must not change either)."""
    digest = hashlib.sha256(torch.__version__.encode())
    for module in (checkpoints, classifier, network, prior):
        digest.update(Path(module.__file__).read_bytes())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()[:8]


CODE = _source_digest()


def code_stamp() -> str:
    """The digest of the code that decides the probabilities (taken when this module was imported)."""
    return CODE


def faces_digest(images: np.ndarray, rows: np.ndarray | None = None) -> str:
    """Which faces these are: their pixels (a folder dataset has no rows), and their csv rows when known."""
    digest = hashlib.sha256(np.ascontiguousarray(images).tobytes())
    if rows is not None:
        digest.update(np.ascontiguousarray(rows).tobytes())
    return digest.hexdigest()[:16]


def network_digest(network: torch.nn.Module, image_size: int) -> str:
    """A network as it reads faces: its weights, its architecture (its repr: layers, padding) and the size faces are
    resized to. The same network inside an ensemble checkpoint and alone in its own file agree."""
    digest = hashlib.sha256(f"{image_size}\n{network!r}".encode())
    for name, tensor in network.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def classifier_digest(clf) -> str:
    """A FaceClassifier as predict_proba uses it: its networks, classes, view and decision prior (as they are now)."""
    extra = json.dumps([list(clf.classes), bool(clf.flip_tta), sorted(clf.decision_prior.items())])
    return hashlib.sha256((network_digest(clf.model, clf.image_size) + extra).encode()).hexdigest()[:16]


def remembered(folder: str, networks: str, faces: str, shape: tuple[int, int],
               compute: Callable[[], dict[str, np.ndarray]],
               spot: Callable[[np.ndarray], dict[str, np.ndarray]]) -> tuple[dict[str, np.ndarray], bool]:
    """compute()'s arrays (class probabilities, each of `shape`) for these networks (network_digest or
    classifier_digest) and these faces (faces_digest), read from data/cache/<folder>/ when an earlier run stored them,
    else computed and stored; and whether they were computed now.

    A cache file is read only when it is a regular file of ours (never a link: one planted at its name is removed,
    never followed or written through), bounded by what its shape needs before it is unpacked, and true in value:
    probabilities in 0..1 that sum to 1, and a few of its rows equal to spot(rows), those rows computed afresh. Any
    other file is scored again and replaced, with one line saying why; a cache that cannot be written (a read-only
    folder, a full disk) only costs the next run the time again."""
    cached = cache_dir() / folder / f"{networks}_{faces}_{code_stamp()}.npz"
    arrays, why = _read(cached, shape, spot)
    if arrays is not None:
        return arrays, False
    if why:
        warnings.warn(f"{short(cached.name)}: {why}; scoring again")
    arrays = compute()

    def save(tmp: str) -> None:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)

    try:
        ensure_dir(cached.parent)
        write_files([(cached, save)], force=True, follow_links=False)
    except (EmolibError, OSError) as e:
        warnings.warn(f"could not keep the probabilities in {cached.parent} ({e}): the next run scores them again")
    return arrays, True


MAX_ARRAYS = 4  # arrays one cache file holds (a view and its mirror, at most)


def _read(cached: Path, shape: tuple[int, int], spot) -> tuple[dict[str, np.ndarray] | None, str]:
    """(the arrays, "") for a sound cache file; (None, why) for a file that is not one ("" when there is none)."""
    if not os.path.lexists(cached):
        return None, ""
    try:
        check_readable_file(cached, "cache", EmolibError, links=False)
        limit = MAX_ARRAYS * (int(np.prod(shape)) * 8 + 4096)  # float64 at most, with each array's header
        check_unpacked(cached, limit, "cache")
        if cached.stat().st_size > limit:
            return _discard(cached, "larger than its shape needs")
        with np.load(cached, allow_pickle=False) as z:
            arrays = {name: z[name] for name in z.files[:MAX_ARRAYS + 1]}
    except EmolibError as e:
        return _discard(cached, e.message)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
        return _discard(cached, f"unreadable ({type(e).__name__})")
    if not arrays or len(arrays) > MAX_ARRAYS or not all(a.shape == shape for a in arrays.values()):
        return _discard(cached, "not the shape of these faces' probabilities")
    if not all(np.isfinite(a).all() and (a >= 0).all() and (a <= 1).all() and np.allclose(a.sum(1), 1, atol=1e-3)
               for a in arrays.values()):
        return _discard(cached, "not probabilities")
    rows = np.unique(np.linspace(0, shape[0] - 1, 4).round().astype(int))  # a few faces, scored again to compare
    fresh = spot(rows)
    if set(fresh) != set(arrays) or not all(np.allclose(arrays[k][rows], fresh[k], atol=1e-4) for k in fresh):
        return _discard(cached, "its answers are not these networks' answers")
    return arrays, ""


def _discard(cached: Path, why: str) -> tuple[None, str]:
    """Remove a cache file that is not sound (a planted link is removed itself; its target is not touched)."""
    try:
        os.unlink(cached)
    except OSError:
        pass
    return None, why


def probabilities_of(faces, clf) -> tuple[np.ndarray, bool]:
    """clf.predict_proba(faces.images) for FaceData, as the classifier is now (its view, its decision prior), kept in
    data/cache/scored; and whether it was computed now."""
    arrays, fresh = remembered("scored", classifier_digest(clf), faces_digest(faces.images, faces.rows),
                               (len(faces), len(clf.classes)), lambda: {"probs": clf.predict_proba(faces.images)},
                               lambda rows: {"probs": clf.predict_proba(faces.images[rows])})
    return arrays["probs"], fresh
