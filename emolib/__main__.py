"""Command line: python -m emolib {compose,classify,train-classifier} ... (a thin layer over pipeline.py)."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .emotion import EMOTIONS
from .errors import EmolibError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit code 2, no traceback
        self.exit(2, f"{self.prog}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    from .pipeline import LEAP_PENALTY, MAX_BARS, MAX_SEED

    p = _Parser(prog="python -m emolib", description="From a face to a melody.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    c = sub.add_parser("compose", help="compose a 16-bar melody with harmony for an emotion or a face photo")
    source = c.add_mutually_exclusive_group()
    source.add_argument("--emotion", choices=EMOTIONS, type=str.lower)
    source.add_argument("--image", help="a face photo (default: the bundled sample face)")
    c.add_argument("--seed", type=int, default=0, help=f"0..{MAX_SEED}; the same seed gives the same music")
    c.add_argument("--bars", type=int, default=16, help=f"1..{MAX_BARS} (default 16)")
    c.add_argument("--model", default="gan", choices=["gan", "transformer"], type=str.lower,
                   help="MIDINet GAN (default) or the emotion-token transformer")
    c.add_argument("--opening", default="seed", metavar="{seed,scratch,FILE.mid}",
                   help="how the piece starts: 4 bars of a real tune from the seed bank (default), 'scratch' "
                        "(the model writes from the first bar), or your own MIDI file (its first 4 bars)")
    c.add_argument("--leap-penalty", type=float, default=None, metavar="0..10",
                   help=f"GAN only: a decoding aid making leaps beyond a fourth less likely (default {LEAP_PENALTY}; "
                        "0 = the model's raw choice of pitches)")
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


def _compose(args) -> int:
    from .output import check_target, write_files
    from .pipeline import compose

    out = check_target(args.out, args.force)  # refused before any work is done
    wav = check_target(args.wav, args.force) if args.wav else None
    if wav is not None and os.path.abspath(wav) == os.path.abspath(out):
        raise EmolibError(f"--wav and --out both name {out}; give the audio its own file, e.g. {out.with_suffix('.wav')}")
    result = compose(image=args.image, emotion=args.emotion, bars=args.bars, seed=args.seed, model=args.model,
                     checkpoint=args.checkpoint, opening=args.opening, leap_penalty=args.leap_penalty)
    files = [(out, lambda tmp: result.midi.write(tmp))]
    if wav is not None:
        from .music.audio import write_wav

        files.append((wav, lambda tmp: write_wav(tmp, *result.audio())))
    write_files(files, force=args.force)
    print(f"{result.emotion} ({result.mode}), {args.bars} bars, opening {result.opening} -> {out}" + (f" and {wav}" if wav else ""))
    return 0


def _classify(args) -> int:
    from .pipeline import expand_images, iter_classify

    images = expand_images(args.image)
    if not images:
        raise EmolibError("no image files found in " + ", ".join(args.image))
    failed = 0
    for r in iter_classify(images, detect=not args.no_detect, progress=len(images) > 500):
        if isinstance(r, Exception):
            failed += 1
            print(f"error: {r}", file=sys.stderr, flush=True)
            print(json.dumps({"image": getattr(r, "image", None), "error": str(r)}), flush=True)
            continue
        print(json.dumps(r.as_json()), flush=True)
    if failed:
        print(f"{failed} of {len(images)} images could not be classified (see the error lines)", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "compose":
            return _compose(args)
        if args.command == "classify":
            return _classify(args)
        if args.command == "train-classifier":
            import runpy

            sys.argv = ["train_classifier", "--out", args.out]
            runpy.run_path(str(Path(__file__).resolve().parents[1] / "scripts" / "train_classifier.py"),
                           run_name="__main__")
    except (EmolibError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `... | head`: the reader left; not an error of ours
        return 0
    except OSError as exc:  # anything the checks above did not foresee still gets one line
        print(f"error: {exc.strerror or exc}" + (f": {exc.filename}" if getattr(exc, "filename", None) else ""),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
