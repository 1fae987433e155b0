"""Move the shipped face classifier's decision towards one class, chosen on validation faces: a decision prior.

    EMOLIB_DATA=/path/to/data python scripts/choose_prior.py [--towards angry] [--data DIR] [--write]

Missing an angry face is the pipeline's costliest mistake (an angry user gets sad or calm music), and the shipped
networks recognise angry less often than the issue's 0.75 floor (README, round 7). Without retraining, a
classifier's decision can be moved: add a constant b to one class's log-probability and renormalise (that class's
probability times e^b, the others scaled down so the seven still sum to 1). This script scores each b of a fixed
grid on the validation faces the shipped networks' training kept aside (the test split is not touched), in the view
the checkpoint reads, then applies the rule written down before its first figure:

- admissible: seven-class accuracy, seven-class macro-F1 and happy/sad/angry accuracy each fall by at most
  TOLERANCE from b = 0;
- the pick: among admissible b, the highest lowest recall among happy / sad / angry (the smaller b on a tie);
- kept only if it raises that lowest recall by at least MIN_GAIN; otherwise no prior.

It prints the grid and the verdict. --write saves figures/02_prior.json (the README quotes it, a test checks it)
and stores the pick in the shipped checkpoint's config (``decision_prior``), which ``FaceClassifier.predict_proba``
applies after averaging the networks; nothing else in the checkpoint changes. Rebuilding the shipped checkpoint
(scripts/ensemble_classifier.py --force) drops the prior: rerun this script with --write after it, then
scripts/benchmark_classifier.py --write.
"""
from __future__ import annotations

import argparse
import json
import math

from emolib.config import checkpoints_dir, ensure_dir, figures_dir
from emolib.emotion import HAPPY_SAD_ANGRY as THREE  # the three the targets also speak of
from emolib.errors import EmolibError
from emolib.faces.classifier import DEFAULT_CHECKPOINT, load_classifier
from emolib.faces.metrics import confusion_scores, scores_among
from emolib.faces.prior import apply_prior
from emolib.faces.data.datasets import load_fer2013

GRID = tuple(round(0.05 * k, 2) for k in range(21))  # b = 0, 0.05, ..., 1.00 (e^1: angry's probability times 2.7)
TOLERANCE = 0.005  # the most each of seven-class accuracy, macro-F1 and happy/sad/angry accuracy may fall from b = 0
MIN_GAIN = 0.01  # the least the lowest happy/sad/angry recall must rise for a prior to be kept


def score_grid(probs, labels, classes: tuple[str, ...], towards: str, grid=GRID) -> list[dict]:
    """Validation figures of the decision with b added to `towards`'s log-probability, for each b of grid."""
    rows = []
    for b in grid:
        p = apply_prior(probs, classes, {towards: b})
        s, h = confusion_scores(labels, p.argmax(1), classes), scores_among(labels, p, classes, THREE)
        rows.append({"b": b, "accuracy": s["accuracy"], "macro_f1": s["macro_f1"], "happy_sad_angry": h["accuracy"],
                     "recall": {c: h["per_class"][c]["recall"] for c in THREE},
                     "recall_seven": {c: v["recall"] for c, v in s["per_class"].items()}})
    return rows


def admissible(row: dict, base: dict) -> bool:
    """Whether a row costs at most TOLERANCE on each overall figure against b = 0 (base)."""
    return all(row[k] >= base[k] - TOLERANCE - 1e-12 for k in ("accuracy", "macro_f1", "happy_sad_angry"))


def choose(rows: list[dict]) -> dict | None:
    """The rule: among admissible b, the highest lowest happy/sad/angry recall (smaller b on a tie); None when
    that does not beat b = 0 (rows[0]) by MIN_GAIN."""
    base = rows[0]
    if base["b"] != 0:
        raise ValueError("the grid must start at b = 0, the networks' own decision")
    pick = max((r for r in rows if admissible(r, base)), key=lambda r: (min(r["recall"].values()), -r["b"]))
    return pick if min(pick["recall"].values()) >= min(base["recall"].values()) + MIN_GAIN - 1e-12 else None


def table(result: dict) -> str:
    """The README's table: every b of the grid on the validation faces, the admissible ones and the pick marked."""
    base, pick = result["grid"][0], result["pick"]
    lines = [f"| b (added to {result['towards']}'s log-probability) | accuracy | macro-F1 | happy/sad/angry | "
             "recall happy / sad / angry | within the tolerance |", "|---|---|---|---|---|---|"]
    for r in result["grid"]:
        mark = " (**the pick**)" if pick is not None and r["b"] == pick else ""
        lines.append(f"| {r['b']:.2f}{mark} | {r['accuracy']:.3f} | {r['macro_f1']:.3f} | {r['happy_sad_angry']:.3f} | "
                     + " / ".join(f"{r['recall'][c]:.3f}" for c in THREE)
                     + f" | {'yes' if admissible(r, base) else 'no'} |")
    return "\n".join(lines)


def verdict(result: dict) -> str:
    base = result["grid"][0]
    if result["pick"] is None:
        return (f"no b within the tolerance raises the lowest happy/sad/angry recall by {MIN_GAIN}: "
                "the networks' own decision stays (no prior)")
    row = next(r for r in result["grid"] if r["b"] == result["pick"])
    low, was = min(row["recall"].values()), min(base["recall"].values())
    return (f"the pick: b = {row['b']:.2f} on {result['towards']} (probability times {math.exp(row['b']):.2f}): lowest "
            f"happy/sad/angry validation recall {was:.3f} -> {low:.3f}; accuracy {base['accuracy']:.4f} -> "
            f"{row['accuracy']:.4f}, macro-F1 {base['macro_f1']:.4f} -> {row['macro_f1']:.4f}")


def main() -> None:
    import validate_classifier as vc  # scripts/ is on the path when this file is run as a script

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--towards", default="angry", help="the class the decision moves towards (default: angry)")
    ap.add_argument("--data", help="FER2013 folder (default: $EMOLIB_DATA/fer2013)")
    ap.add_argument("--write", action="store_true",
                    help="save figures/02_prior.json and store the pick in the shipped checkpoint")
    args = ap.parse_args()
    path = checkpoints_dir() / DEFAULT_CHECKPOINT
    try:
        clf = load_classifier(path)
        if args.towards not in clf.classes:
            raise EmolibError(f"--towards {args.towards!r} is not one of the classifier's classes",
                              "name one of " + ", ".join(clf.classes))
        _, val, faces = vc.validation_faces(path, clf, load_fer2013(args.data))
        plain, mirror = vc.probabilities(clf, val.images, faces)  # the networks' average, before any prior
    except EmolibError as exc:
        raise SystemExit(f"error: {exc}") from None
    probs = (plain + mirror) / 2 if clf.flip_tta else plain  # the view the checkpoint reads
    rows = score_grid(probs, val.labels, tuple(clf.classes), args.towards)
    pick = choose(rows)
    result = {"checkpoint": vc._name(path), "members": clf.metrics.get("members"), "n": len(val),
              "validation_faces": faces, "view": "mirrored" if clf.flip_tta else "one_view", "towards": args.towards,
              "tolerance": TOLERANCE, "min_gain": MIN_GAIN, "grid": rows, "pick": None if pick is None else pick["b"]}
    print(table(result))
    print(verdict(result))
    if args.write:
        (ensure_dir(figures_dir()) / "02_prior.json").write_text(json.dumps(result, indent=1))
        if vc.store_setting(path, "decision_prior", {} if pick is None else {args.towards: pick["b"]}):
            print("stored in the shipped checkpoint; its test figures are now stale: rerun "
                  "scripts/benchmark_classifier.py --write")
        else:
            print("the shipped checkpoint already held this prior: unchanged")


if __name__ == "__main__":
    main()
