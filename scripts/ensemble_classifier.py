"""Combine trained face classifiers into one checkpoint that averages their class probabilities.

    python scripts/ensemble_classifier.py A.pt B.pt --out ENSEMBLE.pt [--flip-tta] [--networks-beside] [--force]
    python scripts/ensemble_classifier.py --split ENSEMBLE.pt --out DIR [--force]

Each input is a checkpoint written by scripts/train_classifier.py. They must read the same image size and
have kept the same validation faces (same seed, validation fraction and training cap), so that
scripts/validate_classifier.py can judge the ensemble on faces none of its members trained on. The output
holds every member's weights and config; a .json report beside it keeps each member's training history.
--flip-tta also averages each face with its mirror (one more pass per network). --networks-beside writes each
network's weights to a file of its own, in a folder named after the output (ENSEMBLE/A.pt ...), which the output
names with each file's SHA-256: the shipped checkpoint is made so, as four networks in one file would be 26 MiB. --split does the reverse: each
network of an ensemble checkpoint becomes a checkpoint of its own in DIR, with its training report (round 8 took
round 2's network out of round 5's shipped checkpoint this way, `git show 7132bc4:emolib/assets/checkpoints/...`).
Nothing is overwritten without --force.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from emolib.errors import EmolibError
from emolib.faces.ensemble import combine, split


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("members", nargs="*", type=Path, help="two or more face classifier checkpoints (.pt)")
    ap.add_argument("--out", type=Path, required=True, help="the ensemble checkpoint to write (.pt); with --split, the "
                    "folder its networks go to")
    ap.add_argument("--split", type=Path, metavar="ENSEMBLE", help="write each network of this ensemble as its own checkpoint")
    ap.add_argument("--flip-tta", action="store_true", help="also average each face with its mirror image")
    ap.add_argument("--networks-beside", action="store_true",
                    help="each network's weights in a file of its own, in a folder named after the output")
    ap.add_argument("--force", action="store_true", help="overwrite --out (and its .json) if they exist")
    args = ap.parse_args()
    if args.split and (args.members or args.flip_tta or args.networks_beside):
        ap.error("--split takes one ensemble and no other checkpoints (nor --flip-tta or --networks-beside)")
    try:
        if args.split:
            written = split(args.split, args.out, force=args.force)
            print(f"{args.split} -> {len(written)} networks in {args.out}: " + ", ".join(p.name for p in written))
            return
        out = combine(args.members, args.out, force=args.force, flip_tta=args.flip_tta, beside=args.networks_beside)
    except EmolibError as exc:
        raise SystemExit(f"error: {exc}") from None
    print(f"{len(args.members)} networks -> {out} (and {out.with_suffix('.json').name})")


if __name__ == "__main__":
    main()
