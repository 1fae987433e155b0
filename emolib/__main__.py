"""Command line: python -m emolib {compose,classify,train-classifier} ... (a thin layer over pure functions)."""
from __future__ import annotations

import argparse
import json
import os
import sys

from .emotion import EMOTIONS
from .errors import EmolibError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit code 2, no traceback
        self.exit(2, f"{self.prog}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    from .faces import training
    from .music.compose import MAX_BARS, MAX_SEED
    from .music.models import MODELS
    from .music.render import RENDERINGS

    p = _Parser(prog="python -m emolib", description="From a face to a melody.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    c = sub.add_parser("compose", help="compose a 16-bar melody with harmony for an emotion or a face photo")
    source = c.add_mutually_exclusive_group()
    source.add_argument("--emotion", choices=EMOTIONS, type=str.lower)
    source.add_argument("--image", help="a face photo (default: the bundled sample face)")
    c.add_argument("--center-crop", action="store_true", help="use the photo's centre when no face is found")
    c.add_argument("--seed", type=int, default=0, help=f"0..{MAX_SEED}; the same seed gives the same music")
    c.add_argument("--bars", type=int, default=16, help=f"1..{MAX_BARS} (default 16)")
    c.add_argument("--model", default="gan", choices=list(MODELS), type=str.lower,
                   help="; ".join(f"{s.name}: {s.summary}" for s in MODELS.values()))
    c.add_argument("--opening", default="seed", metavar="{seed,scratch,FILE.mid}",
                   help="how the piece starts: 4 bars of a real tune from the seed bank (default), 'scratch' "
                        "(the model writes from the first bar), or your own MIDI file (its first 4 bars)")
    d = c.add_argument_group("decoding (how the model's notes are chosen; default: the model's settings in "
                             "emolib.music.models)")
    d.add_argument("--temperature", type=float, help="above 0: 1 = the model's probabilities as they are")
    d.add_argument("--top-k", type=int, help="choose among the k most likely (1 = always the most likely)")
    d.add_argument("--top-p", type=float, help="nucleus sampling: choose within probability top-p")
    d.add_argument("--leap-penalty", type=float, metavar="0..10",
                   help="make leaps beyond a fourth less likely (0 = off)")
    d.add_argument("--grid", type=int, help="notes start only every GRID steps (1, 2, 4, 8, 16; 1 = off)")
    c.add_argument("--rendering", default="expressive", choices=list(RENDERINGS),
                   help="expressive: per-emotion tempo, register, loudness and accompaniment; neutral: the melody "
                        "alone at one tempo on the piano (the notes are the same)")
    c.add_argument("--checkpoint", help="a generator checkpoint to use instead of the shipped one "
                   "(e.g. one trained with scripts/train_gan.py or scripts/train_transformer.py)")
    c.add_argument("--out", required=True, help="MIDI file to write")
    c.add_argument("--wav", help="also write audio here")
    c.add_argument("--force", action="store_true", help="overwrite existing output files")
    k = sub.add_parser("classify", help="classify the emotion of face photos (one JSON line per image)")
    k.add_argument("--image", action="append", required=True,
                   help="a face photo or a folder of them; repeat for more (classified in batches)")
    k.add_argument("--no-detect", action="store_true", help="images are already-cropped faces")
    k.add_argument("--center-crop", action="store_true", help="use a photo's centre when no face is found")
    k.add_argument("--json", action="store_true", help="JSON lines (the default output, kept for scripts)")
    t = sub.add_parser("train-classifier", help="train the face classifier on FER2013's official split")
    training.add_arguments(t)
    return p


DECODING_FLAGS = ("temperature", "top_k", "top_p", "leap_penalty", "grid")


def _compose(args) -> int:
    from .output import check_target, write_files
    from .pipeline import compose

    out = check_target(args.out, args.force)  # refused before any work is done
    wav = check_target(args.wav, args.force) if args.wav else None
    if wav is not None and os.path.abspath(wav) == os.path.abspath(out):
        raise EmolibError(f"--wav and --out both name {out}", f"give the audio its own file, e.g. {out.with_suffix('.wav')}")
    decoding = {k: getattr(args, k) for k in DECODING_FLAGS if getattr(args, k) is not None}
    result = compose(image=args.image, emotion=args.emotion, center_fallback=args.center_crop, bars=args.bars,
                     seed=args.seed, model=args.model, checkpoint=args.checkpoint, opening=args.opening,
                     decoding=decoding, rendering=args.rendering)
    files = [(out, lambda tmp: result.midi.write(tmp))]
    if wav is not None:
        from .music.audio import write_wav

        files.append((wav, lambda tmp: write_wav(tmp, *result.audio())))
    write_files(files, force=args.force)
    print(f"{result.summary()} -> {out}" + (f" and {wav}" if wav else ""))
    return 0


def _classify(args) -> int:
    from .pipeline import expand_images, iter_classify

    images = expand_images(args.image)
    if not images:
        raise EmolibError("no image files found in " + ", ".join(args.image))
    failed = 0
    for r in iter_classify(images, detect=not args.no_detect, center_fallback=args.center_crop,
                           progress=len(images) > 500):
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
            from .faces.training import run

            run(args)
    except EmolibError as exc:
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
