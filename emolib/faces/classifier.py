"""The face classifier as it ships: one network, or several averaged (network.Ensemble) whose weights may sit in files
beside the checkpoint, with the classes and input size it was trained for and its decision prior (prior), loaded
from a checkpoint without running code (emolib.faces.ensemble writes ensemble checkpoints)."""
from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..config import checkpoints_dir
from ..errors import EmolibError
from ..files import checkpoints
from ..files.reading import check_unpacked, read_bounded
from .network import INITS, Ensemble, build_model, predict_proba
from .prior import apply_prior, check_prior

DEFAULT_CHECKPOINT = "face_classifier.pt"
MAX_NETWORK_FILE = 50_000_000  # one network is 7 MB in half precision; a file beside a checkpoint is read no further


@dataclass
class FaceClassifier:
    """A trained model with the classes and input size it was trained for."""

    model: nn.Module
    classes: tuple[str, ...]
    image_size: int
    metrics: dict = field(default_factory=dict)
    flip_tta: bool = False  # also read each face mirrored, and average (emolib.faces.training.FaceConfig.flip_tta)
    config: dict = field(default_factory=dict)  # the settings it was trained with, as its checkpoint stores them
    decision_prior: dict = field(default_factory=dict)  # class -> b added to its log-probability (scripts/choose_prior.py)

    def predict_proba(self, faces: np.ndarray) -> np.ndarray:
        """The networks' probabilities (in the checkpoint's view), then its decision prior, if it has one."""
        probs = predict_proba(self.model, faces, self.image_size, flip=self.flip_tta)
        return apply_prior(probs, self.classes, self.decision_prior)


_CACHE: dict[str, FaceClassifier] = {}


def load_classifier(path: str | Path | None = None) -> FaceClassifier:
    """Load a checkpoint (default: the one shipped with emolib), cached per path."""
    if path is not None and (not isinstance(path, (str, Path)) or not str(path)):
        raise EmolibError(f"a classifier checkpoint is the path of a .pt file, got {type(path).__name__} {str(path)[:40]!r}")
    path = Path(path) if path is not None else checkpoints_dir() / DEFAULT_CHECKPOINT
    key = str(path.resolve())
    if key in _CACHE:
        return _CACHE[key]
    ckpt = checkpoints.read(path, "face classifier", ("classes", "config"),
                            "train one with scripts/train_classifier.py or reinstall emolib")
    classes = ckpt["classes"]
    if not isinstance(classes, list) or not 2 <= len(classes) <= 64 or not all(isinstance(c, str) for c in classes):
        raise EmolibError(f"{path}: its class list is not 2-64 names")
    cfg = ckpt["config"]

    def network(state, cfg) -> nn.Module:
        """One network of the checkpoint, built in the shape its config names, with its weights loaded."""
        if not isinstance(cfg, dict) or cfg.get("init") not in INITS:
            raise EmolibError(f"{path}: its config does not name a known start ({', '.join(INITS)})")
        size = cfg.get("image_size")
        if isinstance(size, bool) or not isinstance(size, int) or not 16 <= size <= 224:  # B0's own size at most
            raise EmolibError(f"{path}: its config sets image_size={size!r}, outside 16..224")
        net = build_model(len(classes), init=cfg["init"], image_size=size, load_weights=False)
        checkpoints.load_weights(net, state, path, "face classifier")
        return net

    if "members" in ckpt:  # several networks averaged (written by emolib.faces.ensemble.combine)
        model = build(ckpt, path, network)
    elif "state_dict" in ckpt:
        model = network(ckpt["state_dict"], cfg)
    else:
        raise EmolibError(f"{path} is not an emolib face classifier checkpoint (it has no state_dict); "
                          "train one with scripts/train_classifier.py or reinstall emolib")
    clf = FaceClassifier(model.eval(), tuple(ckpt["classes"]), cfg["image_size"], ckpt.get("metrics", {}),
                         bool(cfg.get("flip_tta", False)), dict(cfg), check_prior(cfg.get("decision_prior", {}), classes, path))
    _CACHE[key] = clf
    return clf


# ---- several networks in one checkpoint ---------------------------------------------------------------

def weights(m: dict, path: Path):
    """A member's weights: in the ensemble's file, or in the file beside it that the member names (combine's
    beside=True), checked against the SHA-256 the ensemble keeps for it."""
    if "file" not in m:
        return m.get("state_dict")
    name = m["file"]
    if not isinstance(name, str) or Path(name).is_absolute() or ".." in Path(name).parts or not isinstance(m.get("sha256"), str):
        raise EmolibError(f"{path}: a member network's file is not named as a file beside it; the file is damaged")
    file = path.parent / name
    try:  # a regular file, read no further than a network can be (a link to /dev/zero, a FIFO: refused)
        data = read_bounded(file, MAX_NETWORK_FILE, "network")
    except EmolibError as e:
        raise EmolibError(f"{path}: its network {name} cannot be used ({e.message})",
                          "keep the checkpoint's folder of networks beside it, or reinstall emolib") from None
    check_unpacked(file, MAX_NETWORK_FILE, "network", data=data)
    if hashlib.sha256(data).hexdigest() != m["sha256"]:
        raise EmolibError(f"{path}: its network {name} is not the one it was combined with (another file, or damaged)",
                          "reinstall emolib, or combine the networks again with scripts/ensemble_classifier.py")
    return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)["state_dict"]  # the bytes combine wrote


def build(ckpt: dict, path: Path, build_network) -> nn.Module:
    """The Ensemble stored in an ensemble checkpoint; build_network(state, cfg) makes and loads one member."""
    members = ckpt["members"]
    if not isinstance(ckpt["config"], dict):
        raise EmolibError(f"{path}: its config is not a table of settings; the file is damaged")
    if not isinstance(members, list) or not 2 <= len(members) <= 8 or not all(isinstance(m, dict) for m in members):
        raise EmolibError(f"{path}: its ensemble is not a list of 2-8 networks; the file is damaged")
    nets = []
    for m in members:
        cfg = m.get("config")
        if not isinstance(cfg, dict) or cfg.get("image_size") != ckpt["config"].get("image_size"):
            raise EmolibError(f"{path}: a member network reads another image size than the ensemble; the file is damaged")
        nets.append(build_network(weights(m, path), cfg))
    return Ensemble(nets)
