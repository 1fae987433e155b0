"""Command line: python -m emolib {compose,classify,train-classifier} ... (a thin layer over pipeline.py)."""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from .emotion import EMOTIONS


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit code 2, no traceback
        self.exit(2, f"{self.prog}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m emolib", description="From a face to a melody.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    c = sub.add_parser("compose", help="compose a 16-bar melody with harmony for an emotion or a face photo")
    c.add_argument("--emotion", choices=EMOTIONS)
    c.add_argument("--image", help="a face photo (default: the bundled sample face)")
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--bars", type=int, default=16)
    c.add_argument("--model", default="gan", choices=["gan", "transformer"],
                   help="MIDINet GAN (default) or the emotion-token transformer")
    c.add_argument("--checkpoint", help="a generator checkpoint to use instead of the shipped one "
                   "(e.g. one trained with scripts/train_gan.py or scripts/train_transformer.py)")
    c.add_argument("--out", required=True, help="MIDI file to write")
    c.add_argument("--wav", help="also write audio here")
    c.add_argument("--force", action="store_true", help="overwrite existing output files")
    k = sub.add_parser("classify", help="classify the emotion of face photos (one JSON line per image)")
    k.add_argument("--image", action="append", required=True,
                   help="a face photo or a folder of them; repeat for more (classified in batches)")
    k.add_argument("--no-detect", action="store_true", help="images are already-cropped faces")
    k.add_argument("--json", action="store_true", help="JSON lines (the default output, kept for scripts)")
    t = sub.add_parser("train-classifier", help="train the face classifier on FER2013 (see scripts/train_classifier.py)")
    t.add_argument("--out", required=True)
    return p


def _atomic_write(path: Path, write) -> None:
    """Write through a temporary file in the same folder, so a failure never leaves a partial file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=path.suffix)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from .errors import EmolibError

    try:
        if args.command == "compose":
            from .pipeline import compose

            from .config import check_output

            out = check_output(args.out, args.force)
            wav = check_output(args.wav, args.force) if args.wav else None
            result = compose(image=args.image, emotion=args.emotion, bars=args.bars, seed=args.seed, model=args.model,
                             checkpoint=args.checkpoint)
            _atomic_write(out, lambda tmp: result.midi.write(tmp))
            if wav:
                from .music.audio import write_wav

                _atomic_write(wav, lambda tmp: write_wav(tmp, *result.audio()))
            print(f"{result.emotion} ({result.mode}), {args.bars} bars -> {out}")
        elif args.command == "classify":
            from .pipeline import classify_many, expand_images

            images = expand_images(args.image)
            if not images:
                raise SystemExit("error: no image files found in " + ", ".join(args.image))
            failed = 0
            for r in classify_many(images, detect=not args.no_detect, progress=len(images) > 500):
                if isinstance(r, Exception):
                    failed += 1
                    print(f"error: {r}", file=sys.stderr)
                    continue
                print(json.dumps({"image": r.image, "emotion": r.emotion, "probabilities": r.probabilities,
                                  "box": r.box}))
            if failed:
                return 1
        elif args.command == "train-classifier":
            import runpy

            sys.argv = ["train_classifier", "--out", args.out]
            runpy.run_path(str(Path(__file__).resolve().parents[1] / "scripts" / "train_classifier.py"),
                           run_name="__main__")
    except (EmolibError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
