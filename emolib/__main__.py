"""Command line: python -m emolib {compose,classify,train-classifier} ... (a thin layer over pure functions)."""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path

from .emotion import EMOTIONS
from .errors import EmolibError, short


def _emotion(text: str) -> str:
    """--emotion as compose() takes it: a music emotion or a face label, any case, spaces ignored."""
    from .music.compose import check_emotion

    try:
        return check_emotion(text).name
    except EmolibError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit code 2, no traceback
        self.exit(2, f"{self.prog}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    from .music.compose import MAX_BARS, MAX_SEED, POST_STEPS
    from .music.models.registry import DEFAULT, MODELS
    from .music.render.midi import RENDERINGS

    p = _Parser(prog="python -m emolib", description="From a face to a melody.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    c = sub.add_parser("compose", help="compose a 16-bar melody with harmony for an emotion or a face photo")
    source = c.add_mutually_exclusive_group()
    source.add_argument("--emotion", type=_emotion, metavar="EMOTION",
                        help=f"{', '.join(EMOTIONS)}, or a face label (neutral, surprise, ...); any case")
    source.add_argument("--image", help="a face photo, or sample:NAME for a bundled sample face (default: the "
                                        "bundled astronaut photo)")
    source.add_argument("--sample", metavar="NAME", help="a bundled sample face, e.g. happy_1 (see --list-samples)")
    c.add_argument("--list-samples", action="store_true", help="list the bundled sample faces and exit")
    c.add_argument("--center-crop", action="store_true", help="use the photo's centre when no face is found")
    c.add_argument("--seed", type=int, default=0, help=f"0..{MAX_SEED}; the same seed gives the same music")
    c.add_argument("--bars", type=int, default=16, help=f"1..{MAX_BARS} (default 16)")
    c.add_argument("--model", default=DEFAULT, choices=list(MODELS), type=str.lower,
                   help=f"default {DEFAULT}; " + "; ".join(f"{s.name}: {s.summary}" for s in MODELS.values()))
    c.add_argument("--opening", default="scratch", metavar="{scratch,bank,FILE.mid}",
                   help="how the piece starts: 'scratch' (default: the model writes every bar), 'bank' (4 bars of a "
                        "real tune from the opening bank, continued by the model), or your own MIDI file (its first 4 bars)")
    d = c.add_argument_group("decoding (how the model's notes are chosen from its probabilities; default: the "
                             "model's settings in emolib.music.models.registry)")
    d.add_argument("--raw", action="store_true",
                   help="the decoding the model was trained for, every aid off (with no --post: the model alone)")
    d.add_argument("--temperature", type=float, help="0.01..10: 1 = the model's probabilities as they are")
    d.add_argument("--top-k", type=int, help="choose among the k most likely (1 = always the most likely)")
    d.add_argument("--top-p", type=float, help="nucleus sampling: choose within probability top-p")
    d.add_argument("--leap-penalty", type=float, metavar="0..10",
                   help="make leaps beyond a fourth less likely (0 = off)")
    d.add_argument("--grid", type=int, help="notes start only every GRID steps (1, 2, 4, 8, 16; 1 = off)")
    d.add_argument("--cadence-tries", type=int, metavar="1..64",
                   help="re-rank the model's own versions of bar 8 and the last bar: up to N versions, the first that "
                        "closes on the cadence chord is kept (1 = off)")
    d.add_argument("--variation-tries", type=int, metavar="1..64",
                   help="re-rank the model's own versions of the bars the form plan has vary bars 1-3 (5-7, 13-15): "
                        "up to N versions, the first that varies its reference bar without copying it is kept (1 = off)")
    c.add_argument("--post", action="append", choices=list(POST_STEPS), default=[],
                   help="post-processing after the model (repeat for more, applied in order): 'form' pastes the form "
                        "plan's restated bars and cadence notes, 'snap' moves out-of-key notes into the key; none by "
                        "default")
    c.add_argument("--rendering", default="expressive", choices=list(RENDERINGS),
                   help="expressive: per-emotion tempo, register, loudness and accompaniment; neutral: the melody "
                        "alone at one tempo on the piano (the notes are the same)")
    c.add_argument("--checkpoint", help="a generator checkpoint to use instead of the shipped one "
                   "(e.g. one trained with scripts/train_melody.py)")
    c.add_argument("--out", help="MIDI file to write (required)")
    c.add_argument("--wav", help="also write audio here")
    c.add_argument("--force", action="store_true", help="overwrite existing output files")
    k = sub.add_parser("classify", help="classify the emotion of face photos (one JSON line per image)")
    k.add_argument("--image", action="append", default=[],
                   help="a face photo, a folder of them or sample:NAME; repeat for more (classified in batches)")
    k.add_argument("--sample", action="append", default=[], metavar="NAME",
                   help="a bundled sample face (repeat for more; 'all' for every one)")
    k.add_argument("--list-samples", action="store_true", help="list the bundled sample faces and exit")
    k.add_argument("--no-detect", action="store_true", help="images are already-cropped faces")
    k.add_argument("--center-crop", action="store_true", help="use a photo's centre when no face is found")
    k.add_argument("--json", action="store_true", help="JSON lines (the default output, kept for scripts)")
    t = sub.add_parser("train-classifier", help="train the face classifier on FER2013's official split")
    _training_arguments(t)
    return p


DECODING_FLAGS = ("temperature", "top_k", "top_p", "leap_penalty", "grid", "cadence_tries", "variation_tries")


def _list_samples() -> int:
    from .faces.data.samples import SAMPLES, SOURCES

    for s in SAMPLES.values():
        print(f"{s.name:12s} {s.expression:9s} {SOURCES[s.source]}")
    print("credits: emolib/assets/faces/ATTRIBUTION.md")
    return 0


def _compose(args) -> int:
    from .faces.data.samples import resolve, sample
    from .files.writing import check_target, write_files
    from .pipeline import compose

    if args.list_samples:
        return _list_samples()
    if not args.out:
        raise EmolibError("the following argument is required: --out", "give the MIDI file to write, e.g. --out song.mid")
    image = sample(args.sample).path if args.sample else resolve(args.image)
    if image == "":
        raise EmolibError("--image is empty", "give a photo's path, or leave --image out for the sample face")
    inputs = _inputs(args, image)
    out = check_target(args.out, args.force, inputs=inputs)  # refused before any work is done
    wav = check_target(args.wav, args.force, inputs=inputs) if args.wav is not None else None
    if wav is not None and (os.path.realpath(wav) == os.path.realpath(out)):
        raise EmolibError(f"--wav and --out both name {out}", f"give the audio its own file, e.g. {out.with_suffix('.wav')}")
    decoding = {k: getattr(args, k) for k in DECODING_FLAGS if getattr(args, k) is not None}
    result = compose(image=image, emotion=args.emotion, center_fallback=args.center_crop, bars=args.bars,
                     seed=args.seed, model=args.model, checkpoint=args.checkpoint, opening=args.opening,
                     decoding=decoding, raw=args.raw, post=tuple(args.post), rendering=args.rendering)
    files = [(Path(args.out), lambda tmp: result.midi.write(tmp))]
    if wav is not None:
        from .music.render.audio import write_wav

        files.append((Path(args.wav), lambda tmp: write_wav(tmp, *result.audio(separate_process=True))))
    write_files(files, force=args.force, inputs=inputs)
    print(f"{result.summary()} -> {short(args.out)}" + (f" and {short(args.wav)}" if wav else ""))
    return 0


def _inputs(args, image) -> list[tuple]:
    """Every file a compose run reads, named or implied, with what it is: an output may be none of them."""
    from .music.models.registry import checkpoint_path
    from .music.render.audio import find_soundfont

    given = [(image, "the photo"), (args.opening if args.opening not in ("bank", "scratch") else None, "the opening"),
             (args.checkpoint, f"the {args.model} checkpoint")]
    try:
        given.append((checkpoint_path(args.model, args.checkpoint), f"the {args.model} checkpoint this run reads"))
    except EmolibError:
        pass  # a bad --checkpoint is reported when it is read
    if args.wav is not None:
        given.append((find_soundfont(), "the soundfont the audio is played with"))
    return given


def _classify(args) -> int:
    from .faces.data.samples import SAMPLES, resolve, sample
    from .pipeline import expand_images, iter_classify

    if args.list_samples:
        return _list_samples()
    names = list(SAMPLES) if "all" in args.sample else args.sample
    given = [resolve(i) for i in args.image] + [sample(n).path for n in names]
    if not given:
        raise EmolibError("no image given", "pass --image FILE (or a folder), or --sample NAME")
    images = expand_images(given)
    if not images:
        raise EmolibError("no image files found in " + ", ".join(map(str, given)))
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


# ---- train-classifier -------------------------------------------------------------------------------------------

PROVENANCE = "FER2013 official split (Training -> train/val; PublicTest+PrivateTest -> test), emolib train-classifier"


def _training_arguments(ap) -> None:
    """The train-classifier command's options."""
    ap.add_argument("--data", help="FER2013 folder (default: $EMOLIB_DATA/fer2013)")
    ap.add_argument("--out", required=True, help="checkpoint to write (.pt; a .json report goes beside it). Each finished "
                    "epoch is kept in OUT.epoch: if the run is interrupted, the same command goes on from there")
    ap.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    ap.add_argument("--classes", help="comma-separated classes (default: all seven), e.g. happy,sad,angry")
    ap.add_argument("--init", choices=["lite0", "imagenet", "random"])
    ap.add_argument("--epochs", type=int)
    ap.add_argument("--image-size", type=int)
    ap.add_argument("--max-train", type=int)
    ap.add_argument("--label-smoothing", type=float)
    ap.add_argument("--class-weight-power", type=float)
    ap.add_argument("--labels", choices=["fer2013", "ferplus", "ferplus_soft"])
    ap.add_argument("--soft-weight", type=float)
    ap.add_argument("--blur", type=float)
    ap.add_argument("--erase", type=float)
    ap.add_argument("--flip-tta", dest="flip_tta", action="store_true", default=None)
    ap.add_argument("--no-flip-tta", dest="flip_tta", action="store_false")


def _resume_file(out: str | Path) -> Path:
    """Where the training command keeps its last finished epoch: beside --out, removed once --out is written."""
    out = Path(out)
    return out.with_name(out.name + ".epoch")


def _train_classifier(args) -> int:
    """Train with the command's options, score once on the official test split, save."""
    from dataclasses import replace

    from .config import load
    from .faces.data.datasets import load_fer2013
    from .faces.training import FaceConfig, fit_and_evaluate, save_run
    from .files.writing import check_target

    check_target(args.out, args.force)  # refused before an hour of training, not after (the report too)
    check_target(Path(args.out).with_suffix(".json"), args.force)
    cfg = load(FaceConfig)
    if args.classes:
        cfg = replace(cfg, classes=tuple(c.strip() for c in args.classes.split(",")))
    for key in ("init", "epochs", "image_size", "max_train", "label_smoothing", "class_weight_power", "labels",
                "soft_weight", "blur", "erase", "flip_tta"):
        if getattr(args, key) is not None:
            cfg = replace(cfg, **{key: getattr(args, key)})
    resume = _resume_file(args.out)
    result = fit_and_evaluate(load_fer2013(args.data), cfg, resume_file=resume)
    path = save_run(result, args.out, provenance=PROVENANCE, force=args.force)  # OUT.epoch stays if this fails
    resume.unlink(missing_ok=True)
    print(f"test accuracy {result.test['accuracy']:.4f} macro-F1 {result.test['macro_f1']:.4f} "
          f"({result.history.images_per_second:.0f} img/s, {result.seconds / 60:.1f} min) -> {path}")
    return 0


def _interrupt(signum, frame):  # SIGTERM, SIGHUP, SIGQUIT, SIGUSR1/2 end a run as Ctrl-C does: files removed
    raise KeyboardInterrupt


def _cannot_load(exc: BaseException) -> int:
    """torch or numpy could not load, or memory ran out: most often a memory limit (ulimit -v). One line."""
    first = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
    print(f"error: a library could not be loaded or ran out of memory ({first}); is memory limited (ulimit -v)? "
          "emolib needs a few GB of address space", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    try:
        parser = _parser()  # imports the models' modules, so torch
    except (ImportError, MemoryError) as exc:
        return _cannot_load(exc)
    args = parser.parse_args(argv)
    handlers = {}
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2):
        try:
            handlers[sig] = signal.signal(sig, _interrupt)
        except ValueError:  # not the main thread (a test runner, a notebook): leave the signals alone
            pass
    try:
        from .config import is_fast

        is_fast()  # a mistyped EMOLIB_FAST is one line now, not a surprise later
        if args.command == "compose":
            return _compose(args)
        if args.command == "classify":
            return _classify(args)
        if args.command == "train-classifier":
            return _train_classifier(args)
    except EmolibError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; nothing was written", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `... | head`: the reader left; not an error of ours
        return 0
    except (ImportError, MemoryError) as exc:
        return _cannot_load(exc)
    except OSError as exc:  # anything the checks above did not foresee still gets one line
        print(f"error: {exc.strerror or exc}" + (f": {exc.filename}" if getattr(exc, "filename", None) else ""),
              file=sys.stderr)
        return 1
    finally:
        for sig, old in handlers.items():
            signal.signal(sig, old)
    return 0


if __name__ == "__main__":
    sys.exit(main())
