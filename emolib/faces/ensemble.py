"""Several face networks, one answer: checkpoints that hold an ensemble, made and taken apart.

Networks trained apart (other labels, other epochs) make partly different mistakes, so the average of their
probabilities (emolib.faces.network.Ensemble) is usually right more often than either alone. The cost is one pass
per network: two networks of one view each cost what one network costs with the mirrored face (the Speed table).

``combine`` writes one checkpoint holding every member, refusing members that could not have been compared on the
same validation faces. With ``beside=True`` each network's weights go to a file of their own in a folder named
after the checkpoint (each file a single-network checkpoint, as training writes one), and the checkpoint keeps each
file's name and SHA-256: the shipped four networks would make one file of 26 MiB, over the 20 MiB a file in the
repository may take. ``split`` is combine's inverse. emolib.faces.classifier reads either form.
"""
from __future__ import annotations

import hashlib
import io
import json
from dataclasses import fields
from pathlib import Path

import torch

from ..errors import EmolibError
from ..files import checkpoints
from ..files.writing import write_files
from .classifier import weights
from .training import FaceConfig

# what decides which faces a training run kept for validation, and what a network reads: members must agree
SAME = ("image_size", "seed", "val_fraction", "max_train", "balanced_sample")
HOW_TO_MAKE = "train one with scripts/train_classifier.py"
SHOWN = ("labels", "soft_weight", "epochs")  # settings the ensemble's report shows beside each member's training report


def member_checkpoint(path: Path) -> dict:
    """One network's checkpoint, read as load_classifier reads it; an ensemble is not accepted as a member."""
    ckpt = checkpoints.read(path, "face classifier", ("classes", "config"), HOW_TO_MAKE)
    if "members" in ckpt or "state_dict" not in ckpt:
        raise EmolibError(f"{path} is already an ensemble (or has no weights): combine single networks")
    return ckpt


def combine(paths: list[Path], out: Path, *, force: bool = False, flip_tta: bool = False, beside: bool = False) -> Path:
    """Write one checkpoint holding every network in paths (and a .json report beside it with each member's
    training report, when it has one). flip_tta: also average each face with its mirror (one more pass per
    network). beside: each network's weights in a file of their own, out's folder/<out's stem>/<its name>, named in
    the checkpoint with their SHA-256 (for a checkpoint that would be too large as one file)."""
    paths = [Path(p) for p in paths]
    if len(paths) < 2:
        raise EmolibError("an ensemble needs at least two checkpoints", "name two or more .pt files")
    if len({p.resolve() for p in paths}) < len(paths):
        raise EmolibError("the same checkpoint is named twice", "name each network once")
    ckpts = [member_checkpoint(p) for p in paths]
    first = ckpts[0]["config"]
    for p, c in zip(paths[1:], ckpts[1:]):
        other = [k for k in SAME if _setting(c["config"], k) != _setting(first, k)]
        other += ["classes"] if list(c["classes"]) != list(ckpts[0]["classes"]) else []
        if other:
            raise EmolibError(f"{p} differs from {paths[0]} in {', '.join(other)}: its network reads other faces or "
                              "kept other validation faces, so the ensemble could not be judged on faces no member "
                              "trained on", "combine runs of one split (same seed, fraction and caps)")
    config = dict(first, flip_tta=flip_tta)
    members = [{"name": p.name, "state_dict": c["state_dict"], "config": c["config"], "metrics": c.get("metrics", {})}
               for p, c in zip(paths, ckpts)]
    ckpt = {"members": members, "classes": list(ckpts[0]["classes"]), "config": config,
            "metrics": {"members": [p.name for p in paths]}}
    out = Path(out)
    files = []
    if beside:  # each network a checkpoint of its own, as split writes it; the ensemble names it and its digest
        for m in members:
            data = _saved({"state_dict": m.pop("state_dict"), "classes": ckpt["classes"], "config": m["config"],
                           "metrics": m["metrics"]})
            m["file"], m["sha256"] = f"{out.stem}/{m['name']}", hashlib.sha256(data).hexdigest()
            files.append((out.parent / m["file"], lambda tmp, data=data: Path(tmp).write_bytes(data)))
        (out.parent / out.stem).mkdir(parents=True, exist_ok=True)
    reports = [_report(p) for p in paths]
    report = {"provenance": "ensemble of " + " + ".join(p.name for p in paths) + " (scripts/ensemble_classifier.py)",
              "members": [dict(r, name=p.name, **{k: c["config"].get(k) for k in SHOWN})
                          for p, c, r in zip(paths, ckpts, reports)]}
    write_files(files + [(out, lambda tmp: torch.save(ckpt, tmp)),
                         (out.with_suffix(".json"), lambda tmp: Path(tmp).write_text(json.dumps(report, indent=1)))],
                force=force, inputs=paths, shipped=True)  # how the shipped classifier is made
    return out


def _saved(obj) -> bytes:
    """What torch.save writes for obj."""
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def split(path: Path, out_dir: Path, *, force: bool = False) -> list[Path]:
    """combine's inverse: write each network of an ensemble checkpoint as a checkpoint of its own,
    out_dir/<its name>, as scripts/train_classifier.py wrote it (weights, config, metrics), with its training
    report beside it when the ensemble's report kept one. For taking a network out of an ensemble, or joining it to
    others (how round 8 recovered round 2's network from an earlier shipped checkpoint). Returns the paths written."""
    path, out_dir = Path(path), Path(out_dir)
    ckpt = checkpoints.read(path, "face classifier", ("classes", "config"), HOW_TO_MAKE)
    members = ckpt.get("members")
    if not isinstance(members, list) or not all(isinstance(m, dict) and {"name", "config"} <= set(m)
                                                and ({"state_dict", "file"} & set(m)) for m in members):
        raise EmolibError(f"{path} is not an ensemble checkpoint (it holds no list of networks)",
                          "split a checkpoint written by scripts/ensemble_classifier.py")
    names = [Path(str(m["name"])).name for m in members]
    if len(set(names)) < len(names) or not all(n.endswith(".pt") for n in names):
        raise EmolibError(f"{path}: its networks' names are not distinct .pt file names; the file is damaged")
    try:
        reports = {m.get("name"): m for m in json.loads(path.with_suffix(".json").read_text()).get("members", [])}
    except (OSError, ValueError, AttributeError):
        reports = {}  # no report beside it: the networks are written without theirs
    files = []
    for name, m in zip(names, members):
        one = {"state_dict": weights(m, path), "classes": ckpt["classes"], "config": m["config"],
               "metrics": m.get("metrics", {})}
        files.append((out_dir / name, lambda tmp, one=one: torch.save(one, tmp)))
        report = {k: v for k, v in reports.get(m["name"], {}).items() if k not in ("name", *SHOWN)}
        if "benchmark_alone" in report:  # its own test figures, as benchmark_classifier wrote them beside it
            report["benchmark"] = report.pop("benchmark_alone")
        if report:
            files.append(((out_dir / name).with_suffix(".json"),
                          lambda tmp, r=report: Path(tmp).write_text(json.dumps(r, indent=1))))
    out_dir.mkdir(parents=True, exist_ok=True)
    write_files(files, force=force, inputs=[path], shipped=True)
    return [out_dir / n for n in names]


def _setting(config: dict, key: str):
    """A training setting as the run used it: an older checkpoint that does not record it ran with the default."""
    default = next(f.default for f in fields(FaceConfig) if f.name == key)
    return config.get(key, default)


def _report(path: Path) -> dict:
    """The training report beside a checkpoint (history, best epoch, speed; its benchmark as benchmark_alone)."""
    beside = path.with_suffix(".json")
    try:
        report = json.loads(beside.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(report, dict):
        return {}
    kept = {k: report[k] for k in ("history", "best_epoch", "images_per_second", "train_seconds", "provenance")
            if k in report}
    if "benchmark" in report:  # its own test figures, when it was scored alone (scripts/benchmark_classifier.py)
        kept["benchmark_alone"] = report["benchmark"]
    return kept


