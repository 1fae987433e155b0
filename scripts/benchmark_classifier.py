"""Accuracy, macro-F1, per-class scores, confusion and latency of a face checkpoint on FER2013's official test split.

    EMOLIB_DATA=/path/to/data python scripts/benchmark_classifier.py [--data DIR] [--checkpoint PT] [--write]

Three views of the same official test faces (PublicTest + PrivateTest):
  - all classes the checkpoint knows, against FER2013's own labels;
  - happy / sad / angry: the test faces with one of those labels, the decision restricted to those three
    classes (the task of the earlier student version);
  - all classes against the FER+ majority vote (Barsoum et al. 2016) where fer2013new.csv is present
    (faces with no single majority, contempt, unknown or not-a-face are left out, as in that protocol).
Then the 16 bundled sample faces (emolib/assets/faces, found by the same face detector the CLI uses), each
expected to read as the expression its photographer or creator intended: per class and the confusion.
--write records the result beside the checkpoint (face_classifier.json for the shipped one), which the
README and notebook 02 quote and a test checks.
"""
from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path


from emolib.config import checkpoints_dir
from emolib.emotion import HAPPY_SAD_ANGRY as THREE  # the three the targets also speak of
from emolib.faces.classifier import DEFAULT_CHECKPOINT, load_classifier
from emolib.faces.data.datasets import load_fer2013, select_classes
from emolib.faces.data.ferplus import ferplus_majority, load_ferplus_votes
from emolib.faces.metrics import scores_among


def table(name: str, s: dict) -> str:
    """A markdown table of one evaluation: overall, then per class, then the confusion matrix."""
    lines = [f"**{name}**: accuracy **{s['accuracy']:.3f}**, macro-F1 **{s['macro_f1']:.3f}** ({s['n']} faces)", "",
             "| class | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    for c, v in s["per_class"].items():
        lines.append(f"| {c} | {v['precision']:.3f} | {v['recall']:.3f} | {v['f1']:.3f} | {v['support']} |")
    lines += ["", "confusion (rows true, columns predicted): " + ", ".join(s["classes"]), ""]
    lines += ["    " + " ".join(f"{x:5d}" for x in row) for row in s["confusion"]]
    return "\n".join(lines)


# The targets for the shipped classifier: accuracy on each view, and each of happy/sad/angry recognised
TARGETS = {"all": 0.70, "happy_sad_angry": 0.86}
MOONSHOT_HAPPY_SAD_ANGRY = 0.88
MIN_RECALL = 0.75  # no one of happy / sad / angry recognised less often than this (among the three)


def right(s: dict) -> int:
    """How many faces an evaluation read right (the diagonal of its confusion matrix)."""
    return sum(row[i] for i, row in enumerate(s["confusion"]))


def recognised(s: dict, name: str) -> int:
    """How many faces of one class an evaluation read as that class (its cell on the confusion matrix's diagonal)."""
    i = s["classes"].index(name)
    return s["confusion"][i][i]


def needed(target: float, n: int) -> int:
    """The fewest of n faces that must be read right to meet a target rate (0.86 of 3,979 faces: 3,422)."""
    return math.ceil(target * n - 1e-9)


def readme_table(result: dict) -> str:
    """The README's table of the test views and its per-class line, from a benchmark result (face_classifier.json).
    Faces are counted, not only rounded: 85.98 % prints as 86.0 % and still misses a 0.86 target."""
    def reached(s: dict, target: float) -> str:
        least = needed(target, s["n"])
        return f"{target:.2f} = {least:,} faces: " + ("reached" if right(s) >= least else "**not reached**")

    def counts(s: dict) -> str:
        return f"{right(s):,} of {s['n']:,}"

    lines = ["| view of the same test faces | accuracy | macro-F1 | faces right | target |", "|---|---|---|---|---|"]
    a = result["all"]
    lines.append(f"| all {len(result['classes'])} classes, FER2013 labels | **{100 * a['accuracy']:.1f} %** | "
                 f"{a['macro_f1']:.3f} | {counts(a)} | {reached(a, TARGETS['all'])} |")
    if "happy_sad_angry" in result:
        h = result["happy_sad_angry"]
        recalls = {c: h["per_class"][c]["recall"] for c in THREE}
        found = {c: recognised(h, c) for c in THREE}
        least = {c: needed(MIN_RECALL, h["per_class"][c]["support"]) for c in THREE}
        low = [f"{c}: {found[c]:,} of {h['per_class'][c]['support']:,} faces, {least[c]:,} needed"
               for c in THREE if found[c] < least[c]]
        lines.append(f"| happy / sad / angry (faces with those labels, decided among the three) | "
                     f"**{100 * h['accuracy']:.1f} %** | {h['macro_f1']:.3f} | {counts(h)} | "
                     f"{reached(h, TARGETS['happy_sad_angry'])} (moonshot {MOONSHOT_HAPPY_SAD_ANGRY:.2f}); recall "
                     + ", ".join(f"{c} {r:.2f}" for c, r in recalls.items())
                     + f" (each at least {MIN_RECALL:.2f}: {'reached' if not low else '**not reached**'}"
                     f"{' for ' + '; '.join(low) if low else ''}) |")
    if "ferplus_majority" in result:
        f = result["ferplus_majority"]
        lines.append(f"| all {len(result['classes'])} classes against the FER+ majority vote | {100 * f['accuracy']:.1f} % | "
                     f"{f['macro_f1']:.3f} | {counts(f)} | reported |")
    lines += ["", "Per class on the seven-class test (precision / recall): " + ", ".join(
        f"{c} {v['precision']:.2f} / {v['recall']:.2f}" for c, v in a["per_class"].items()) + "."]
    return "\n".join(lines)


def samples_line(samples: dict) -> str:
    """The README's sentence on the sample faces: how many read as intended, per class, and which were misread."""
    faces = samples["faces"]
    right = [f for f in faces if f["predicted"] == f["expected"]]
    per_class = ", ".join(f"{c} {sum(f['expected'] == c for f in right)} of {v['support']}"
                          for c, v in samples["scores"]["per_class"].items())
    wrong = [f"{f['name']} ({f['source']}) as {f['predicted']}" for f in faces if f["predicted"] != f["expected"]]
    return (f"**{len(right)} of {len(faces)}** read as intended ({per_class})."
            + (f" Misread: {', '.join(wrong)}." if wrong else ""))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", help="FER2013 folder or csv (default: $EMOLIB_DATA/fer2013)")
    ap.add_argument("--checkpoint")
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    clf = load_classifier(args.checkpoint)
    data = load_fer2013(args.data)
    test = select_classes(data, clf.classes).of_split("test")
    clf.predict_proba(test.images[:64])  # warm up
    start = time.perf_counter()
    probs = clf.predict_proba(test.images)
    batched_ms = 1000 * (time.perf_counter() - start) / len(test)
    start = time.perf_counter()
    for face in test.images[:50]:
        clf.predict_proba(face[None])
    single_ms = 1000 * (time.perf_counter() - start) / 50
    result = {"classes": list(clf.classes), "flip_tta": clf.flip_tta, "decision_prior": clf.decision_prior, "n_test": len(test),
              "ms_per_face_batched": round(batched_ms, 2), "ms_per_face_single": round(single_ms, 2)}
    views = {"all": scores_among(test.labels, probs, clf.classes)}
    if set(THREE) <= set(clf.classes):
        views["happy_sad_angry"] = scores_among(test.labels, probs, clf.classes, keep=THREE)
    votes_path = Path(args.data or data_path()) / "fer2013new.csv" if not str(args.data or "").endswith(".csv") else None
    if votes_path is not None and votes_path.is_file() and test.rows is not None and (test.rows >= 0).all():
        majority = ferplus_majority(load_ferplus_votes(votes_path)[test.rows], clf.classes)
        views["ferplus_majority"] = scores_among(majority, probs, clf.classes)
    titles = {"all": f"{len(clf.classes)} classes, FER2013 official test labels",
              "happy_sad_angry": "happy / sad / angry, FER2013 official test labels",
              "ferplus_majority": f"{len(clf.classes)} classes, FER+ majority-vote labels of the same faces"}
    for key, s in views.items():
        print(table(titles[key], s), end="\n\n")
        result[key] = {"accuracy": round(s["accuracy"], 4), "macro_f1": round(s["macro_f1"], 4), "n": s["n"],
                       "per_class": s["per_class"], "confusion": s["confusion"], "classes": s["classes"]}
    samples = sample_faces(args.checkpoint, clf.classes)
    print(table("the 16 sample faces (expected = the intended expression)", samples["scores"]), end="\n\n")
    for row in samples["faces"]:
        mark = "" if row["predicted"] == row["expected"] else "   <- misread"
        print(f"  {row['name']:<11} {row['source']:<9} read as {row['predicted']:<8} ({row['p_predicted']:.2f}){mark}")
    result["samples"] = samples
    print(f"inference: {batched_ms:.2f} ms per face batched, {single_ms:.1f} ms one face at a time (2 CPU threads)")
    print("\nfor the README (scripts/readme_tables.py --write puts it there):\n" + readme_table(result) + "\n\n"
          + samples_line(samples))
    if args.write:  # keep what training recorded (history, provenance), update the measured figures
        path = Path(args.checkpoint or checkpoints_dir() / DEFAULT_CHECKPOINT).with_suffix(".json")
        old = json.loads(path.read_text()) if path.is_file() else {}
        path.write_text(json.dumps({**{k: v for k, v in old.items() if k in ("history", "provenance", "config",
                                                                              "best_epoch", "train_seconds",
                                                                              "images_per_second", "choices", "members")},
                                    "benchmark": result}, indent=1))


def sample_faces(checkpoint, classes: tuple[str, ...]) -> dict:
    """Each bundled sample face classified as the CLI would (detector crop), scored against its intended label."""
    import numpy as np

    from emolib.faces.data.samples import SAMPLES
    from emolib.pipeline import classify

    rows, labels, probs = [], [], []
    for s in SAMPLES.values():
        c = classify(s.path, checkpoint=checkpoint)
        p = np.array([c.probabilities[k] for k in classes])
        labels.append(classes.index(s.expression) if s.expression in classes else -1)
        probs.append(p)
        rows.append({"name": s.name, "source": s.source, "expected": s.expression, "predicted": c.emotion,
                     "p_predicted": round(float(p.max()), 3), "p_expected": round(float(c.probabilities.get(s.expression, 0)), 3)})
    return {"scores": scores_among(np.array(labels), np.stack(probs), classes), "faces": rows}


def data_path() -> Path:
    from emolib.config import data_root

    return data_root() / "fer2013"


if __name__ == "__main__":
    main()
