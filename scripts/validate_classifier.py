"""Face checkpoints side by side on the validation faces: what decides which one ships, and with which view.

    EMOLIB_DATA=/path/to/data python scripts/validate_classifier.py [CANDIDATE.pt ...] [--data DIR]
                                                                   [--write [NAME.json]] [--keep-better-view]

Each checkpoint is scored on the validation faces its own training carved from FER2013's training split
(rebuilt from the seed and fraction stored in the checkpoint; the official test split is not touched),
(every checkpoint must name the same faces: the script refuses to compare different validation sets),
with one view of each face and with the face averaged with its mirror image: seven-class accuracy and
macro-F1 (training keeps the epoch with the best macro-F1, and the README's rule compares that figure),
then happy / sad / angry decided among the three, with each one's recall. The shipped checkpoint is always
the first row. The two views of one model are compared face by face: how many faces only the mirrored view
gets right, and how many only the single view (an exact sign test on those faces says whether the
difference in accuracy is more than chance; macro-F1 has no face-by-face test). Checkpoints are stored in
half precision, so a re-scored figure can differ from training's history by a face or two. --write saves
figures/02_validation.json, which the README quotes and a test checks (--write NAME.json saves figures/NAME.json
instead: the table of a round whose candidates did not replace the shipped model); --keep-better-view stores the
view with the higher validation macro-F1 in the shipped checkpoint (its config's flip_tta), which is how the
shipped view was chosen, among the views that fit the per-face budget of 20 ms (four passes of one network: an
ensemble of two networks, mirrored; a view over the budget is marked in the table). Ensembles come from
scripts/ensemble_classifier.py. Each network's probabilities are cached (data/cache/validation, keyed by the
network, the faces' pixels and the code that reads them: emolib.faces.remembered), so a network is scored once,
whether alone, in any candidate ensemble or shipped unchanged. Each candidate's better view is also compared
with the shipped model's, face by face (a sign test on accuracy). Every row scores networks as they are: a
decision prior stored in a checkpoint (scripts/choose_prior.py, applied after the networks by
FaceClassifier.predict_proba) is left out, so the rounds compare networks, not priors.
"""
from __future__ import annotations

import argparse
import json
import re
from dataclasses import fields, replace
from pathlib import Path

from tqdm.auto import tqdm

from emolib.config import checkpoints_dir, ensure_dir, figures_dir
from emolib.emotion import HAPPY_SAD_ANGRY as THREE  # the three the targets also speak of
from emolib.errors import EmolibError
from emolib.faces.classifier import DEFAULT_CHECKPOINT, load_classifier
from emolib.faces.data.datasets import load_fer2013
from emolib.faces.metrics import confusion_scores, scores_among
from emolib.faces.network import Ensemble, predict_proba
from emolib.faces.remembered import faces_digest, network_digest, remembered
from emolib.faces.training import FaceConfig, training_splits
from emolib.files import checkpoints
from emolib.files.writing import write_files

ROOT = Path(__file__).resolve().parents[1]
# The per-face budget (20 ms batched on 2 CPU cores) was counted as four passes of one network; the margin is thin:
# round 4's pair mirrored (four passes) timed 15.9 to 21.1 ms per face in three runs, under 20 ms in two of them.
MAX_PASSES = 4
MAIN_TABLE = "02_validation.json"  # the README's validation table (--write); a round that ships nothing keeps its own
SPLIT_KEYS = ("seed", "val_fraction", "max_train", "labels")  # what decides which faces a run kept for validation


def _name(path: Path) -> str:
    """The checkpoint as the README may print it: relative to the repository when it lies inside it."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def validate(path: Path, data) -> tuple[dict, dict]:
    """One checkpoint on its own validation faces, one view and mirrored: its row of the table, and for each
    view which faces it reads right (for the face-by-face comparison with the shipped model)."""
    clf = load_classifier(path)
    cfg, val, faces = validation_faces(path, clf, data)
    out = {"checkpoint": _name(path), "n": len(val), "validation_faces": faces, "labels": cfg.labels,
           "soft_weight": cfg.soft_weight, "epochs": cfg.epochs, "best_epoch": clf.metrics.get("best_epoch")}
    if "members" in clf.metrics:  # an ensemble (scripts/ensemble_classifier.py): its networks, not the first one's settings
        out = dict(out, members=clf.metrics["members"], labels=None, soft_weight=None, epochs=None, best_epoch=None)
    else:
        out.update({k: getattr(cfg, k) for k in ("blur", "erase") if getattr(cfg, k)})  # its augmentation, if any
    out["networks"] = len(getattr(clf.model, "members", [clf.model]))  # one pass each per view
    right = {}
    plain, mirror = probabilities(clf, val.images, out["validation_faces"])
    for view, probs in (("one_view", plain), ("mirrored", (plain + mirror) / 2)):  # = predict_proba(..., flip=True)
        s = confusion_scores(val.labels, probs.argmax(1), tuple(clf.classes))
        h = scores_among(val.labels, probs, tuple(clf.classes), THREE)
        out[view] = {"accuracy": s["accuracy"], "macro_f1": s["macro_f1"], "happy_sad_angry": h["accuracy"],
                     "recall": {c: h["per_class"][c]["recall"] for c in THREE}}
        right[view] = probs.argmax(1) == val.labels
    only_mirrored, only_one, p = paired(right["mirrored"], right["one_view"])
    out["paired"] = {"only_mirrored_right": only_mirrored, "only_one_view_right": only_one, "sign_test_p": p}
    return out, right


def validation_faces(path: Path, clf, data):
    """The faces a checkpoint's training kept for validation, rebuilt from the settings it stores: its FaceConfig,
    the faces, and a digest of them (which faces they are, for the cache and for comparing checkpoints)."""
    stored = clf.config
    missing = [k for k in SPLIT_KEYS if k not in stored]
    if missing:
        raise EmolibError(f"{path} does not record {', '.join(missing)}: its validation faces cannot be rebuilt",
                          "retrain it with scripts/train_classifier.py")
    cfg = FaceConfig(**{f.name: stored[f.name] for f in fields(FaceConfig) if f.name in stored})
    _, _, val, _ = training_splits(data, replace(cfg, classes=tuple(clf.classes)))
    return cfg, val, faces_digest(val.images, val.rows)


def probabilities(clf, images, faces: str):
    """(one view, mirror image) class probabilities of the validation faces, each network's kept in
    data/cache/validation (emolib.faces.remembered: under the digest of the network, of the faces and of the code),
    so a network scored once, alone or in another ensemble, is not scored again; an ensemble's are its networks'
    averaged as its Ensemble module averages them."""
    import numpy as np
    import torch


    networks = list(getattr(clf.model, "members", [clf.model]))
    mirrored = np.ascontiguousarray(images[:, :, ::-1])
    def scored(net, rows=slice(None)) -> dict:
        return {"plain": predict_proba(net, images[rows], clf.image_size),
                "mirror": predict_proba(net, mirrored[rows], clf.image_size)}

    each = [remembered("validation", network_digest(net, clf.image_size), faces, (len(images), len(clf.classes)),
                       lambda net=net: scored(net), lambda rows, net=net: scored(net, rows))[0] for net in networks]
    if len(each) == 1:
        return each[0]["plain"], each[0]["mirror"]
    return tuple(torch.softmax(Ensemble.average([torch.from_numpy(a[view]) for a in each]), dim=1).numpy()
                 for view in ("plain", "mirror"))


def paired(a, b) -> tuple[int, int, float]:
    """Two readings of the same faces (each face right or not): faces only a reads right, faces only b reads
    right, and the sign test on that split."""
    only_a, only_b = int((a & ~b).sum()), int((b & ~a).sum())
    return only_a, only_b, sign_test(only_a, only_b)


def sign_test(a: int, b: int) -> float:
    """Two-sided exact sign test: the chance of a split at least this uneven of a + b faces if either view
    were as likely as the other to be the one that gets a face right."""
    from math import comb

    n, k = a + b, min(a, b)
    return min(1.0, 2 * sum(comb(n, i) for i in range(k + 1)) / 2 ** n) if n else 1.0


def affordable_views(row: dict) -> list[str]:
    """The views of a checkpoint that fit the per-face budget: one pass per network, two with the mirror."""
    networks = row.get("networks", 1)
    return [view for view, passes in (("one_view", networks), ("mirrored", 2 * networks)) if passes <= MAX_PASSES]


def better_view(row: dict) -> str | None:
    """The affordable view with the higher validation macro-F1 (one view on a tie); None when no view fits."""
    views = affordable_views(row)
    return max(views, key=lambda view: (row[view]["macro_f1"], view == "one_view")) if views else None


def decision(rows: list[dict]) -> str:
    """The README's rule: the candidate whose better affordable view has the highest validation macro-F1
    replaces the shipped model if it beats the shipped model's better affordable view."""
    if better_view(rows[0]) is None:
        return "the shipped model has no view within the budget: ship another"
    line = rows[0][better_view(rows[0])]["macro_f1"]
    fits = [r for r in rows[1:] if better_view(r) is not None]  # more networks than the budget holds: not candidates
    if len(rows) == 1:
        return f"the shipped model's validation macro-F1 ({better_view(rows[0]).replace('_', ' ')}) is {line:.3f}"
    if not fits:
        return f"no candidate fits the per-face budget ({MAX_PASSES} passes): the shipped model, {line:.3f}, stays"
    best = max(fits, key=lambda r: r[better_view(r)]["macro_f1"])
    f1 = best[better_view(best)]["macro_f1"]
    verdict = "replaces the shipped model" if f1 > line else "does not beat the shipped model, which stays"
    return (f"best candidate {Path(best['checkpoint']).name} ({better_view(best).replace('_', ' ')}): validation "
            f"macro-F1 {f1:.3f} against the shipped model's {line:.3f} -> it {verdict}")


def keep_better_view(path: Path, row: dict) -> bool:
    """Store in the checkpoint the better affordable view (better_view); returns whether it is mirrored."""
    if better_view(row) is None:
        raise EmolibError(f"{path} has more networks than the per-face budget holds ({MAX_PASSES} passes)",
                          "ship an ensemble of fewer networks")
    flip = better_view(row) == "mirrored"
    store_setting(path, "flip_tta", flip)
    return flip


def store_setting(path: Path, key: str, value) -> bool:
    """Write one setting into a checkpoint's config (its view, its decision prior), all at once or not at all;
    nothing is written when the checkpoint already holds that value. Returns whether the checkpoint changed."""
    import torch

    ckpt = checkpoints.read(path, "face classifier", ("config",), "train one with scripts/train_classifier.py")
    if ckpt["config"].get(key) == value:
        return False
    ckpt["config"][key] = value
    write_files([(path, lambda tmp: torch.save(ckpt, tmp))], force=True, shipped=True)
    return True


def table(rows: list[dict]) -> str:
    """The README's validation table: one line per checkpoint and view."""
    lines = ["| checkpoint (validation faces) | view | accuracy | macro-F1 | happy/sad/angry | recall happy / sad / angry |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        name = Path(r["checkpoint"]).name if r is not rows[0] else "shipped"
        if r.get("members"):
            name += " (ensemble: " + " + ".join(r["members"]) + ")"
        else:
            name += f" ({r['labels']}{', votes ' + format(r['soft_weight'], 'g') if r['labels'] == 'ferplus_soft' else ''}, " \
                    + "".join(f"{k} {r[k]:g}, " for k in ("blur", "erase") if r.get(k)) + f"epoch {r['best_epoch']} of {r['epochs']})"
        for view in ("one_view", "mirrored"):
            v = r[view]
            over = "" if view in affordable_views(r) else " (over the budget)"
            lines.append(f"| {name} | {view.replace('_', ' ')}{over} | {v['accuracy']:.3f} | {v['macro_f1']:.3f} | "
                         f"{v['happy_sad_angry']:.3f} | " + " / ".join(f"{v['recall'][c]:.2f}" for c in THREE) + " |")
    lines.append("")
    for r in rows:
        p = r["paired"]
        lines.append(f"- {Path(r['checkpoint']).name if r is not rows[0] else 'shipped'}: of {r['n']} validation faces, "
                     f"{p['only_mirrored_right']} are read right only with the mirror and {p['only_one_view_right']} "
                     f"only with one view (sign test p = {p['sign_test_p']:.2g}).")
    for r in rows[1:]:
        a = r.get("against_shipped")
        if a:
            lines.append(f"- shipped ({a['shipped_view'].replace('_', ' ')}) against {Path(r['checkpoint']).name} "
                         f"({a['view'].replace('_', ' ')}): {a['only_shipped_right']} faces read right only by the shipped "
                         f"model, {a['only_candidate_right']} only by the other (sign test p = {a['sign_test_p']:.2g}).")
    return "\n".join(lines)


def against_shipped(rows: list[dict], right: list[dict]) -> None:
    """Each candidate's better view against the shipped model's, face by face (on accuracy): stored in its row."""
    ship_view = better_view(rows[0])
    for r, rr in zip(rows[1:], right[1:]):
        view = better_view(r)
        if ship_view is None or view is None:
            continue
        only_ship, only_this, p = paired(right[0][ship_view], rr[view])
        r["against_shipped"] = {"shipped_view": ship_view, "view": view, "only_shipped_right": only_ship,
                                "only_candidate_right": only_this, "sign_test_p": p}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("candidates", nargs="*", type=Path, help="other checkpoints to score beside the shipped one")
    ap.add_argument("--data", help="FER2013 folder (default: $EMOLIB_DATA/fer2013)")
    ap.add_argument("--write", nargs="?", const=MAIN_TABLE, metavar="NAME",
                    help=f"save the table as figures/NAME (default {MAIN_TABLE}, the README's main table; a trial "
                         "whose candidates do not replace the shipped model keeps its own, e.g. 02_validation_trial.json; "
                         "docs/experiments/faces.md keeps the earlier ones in figures/history/)")
    ap.add_argument("--keep-better-view", action="store_true",
                    help="store the view with the higher validation macro-F1 (within the budget) in the shipped checkpoint")
    args = ap.parse_args()
    if args.write is not None and not re.fullmatch(r"02_validation[\w.-]*\.json", args.write):
        ap.error(f"--write takes a name for the table in figures/, 02_validation*.json, not {args.write!r} (a checkpoint "
                 "right after --write is read as that name: put --write after the checkpoints, or write --write=NAME.json)")
    if args.keep_better_view and args.write != MAIN_TABLE:
        ap.error(f"--keep-better-view needs --write (to figures/{MAIN_TABLE}): the view is chosen from the table "
                 "the README quotes")
    shipped = checkpoints_dir() / DEFAULT_CHECKPOINT
    try:
        data = load_fer2013(args.data)
        rows, right = zip(*[validate(p, data) for p in tqdm([shipped, *args.candidates], desc="checkpoints", leave=False)])
        rows, right = list(rows), list(right)
    except EmolibError as exc:
        raise SystemExit(f"error: {exc}") from None
    other = [r["checkpoint"] for r in rows[1:] if r["validation_faces"] != rows[0]["validation_faces"]]
    if other:
        raise SystemExit(f"error: {', '.join(other)} kept other validation faces than the shipped model "
                         "(another seed, fraction or cap): their figures cannot be compared")
    against_shipped(rows, right)
    print(table(rows))
    print(decision(rows))
    if args.write is not None:
        (ensure_dir(figures_dir()) / args.write).write_text(json.dumps(rows, indent=1))
    if args.keep_better_view:
        flip = keep_better_view(shipped, rows[0])
        print(f"the shipped checkpoint now reads {'each face with its mirror' if flip else 'one view of each face'}; "
              "its test figures (face_classifier.json) are those of the last benchmark: rerun "
              "scripts/benchmark_classifier.py --write if the view changed")


if __name__ == "__main__":
    main()
