"""Train a melody model on the folk corpus's training split (shipped) or on EMOPIA (never shipped: CC BY-NC-SA).

    python scripts/train_melody.py --model gan --out emolib/assets/checkpoints/midinet_folk.pt --opening-bank
    python scripts/train_melody.py --model transformer --out runs/transformer_first.pt
    python scripts/train_melody.py --model transformer --out emolib/assets/checkpoints/transformer_folk.pt \
        --init runs/transformer_first.pt --set steps=1500 --set warmup=50 --set lr=3e-4 --set ref_weight=10
    python scripts/train_melody.py --model gan --out runs/gan.pt --set lambda_diversity=0 --set steps=4000
    EMOLIB_DATA=/path/to/data python scripts/train_melody.py --model gan --data emopia --out runs/midinet_emopia.pt

This is how the shipped checkpoints were made: the GAN with the defaults of GANConfig; the transformer in two runs,
the defaults of TransformerConfig (4,500 steps), then 1,500 more steps from those weights with the notes of
returning bars weighted ten times (ref_weight; the checkpoint keeps the first run's history as history["before"]).
The folk corpus's "val" and "test" splits (emolib.music.data.corpus.FOLK_SPLITS) are never trained on: choices are
made on "val", the critic's final judgement uses "test". --set overrides one setting of the model's config (repeat it for
more); EMOLIB_FAST=1 gives the small configuration CI uses. The run keeps its state in OUT.state as it goes: if it
is interrupted (Ctrl-C, a closed laptop, the end of a session), the same command goes on from there.
"""
from __future__ import annotations

import argparse
import typing
from hashlib import sha256
from dataclasses import fields
from pathlib import Path

from emolib.config import load
from emolib.errors import EmolibError
from emolib.files.writing import check_output
from emolib.music.data.corpus import CorpusConfig
from emolib.music.models import gan, gan_training, transformer, transformer_training

KINDS = {"gan": (gan.GANConfig, gan_training), "transformer": (transformer.TransformerConfig, transformer_training)}


def settings(config: type, pairs: list[str]) -> dict:
    """--set name=value pairs as config overrides, each value read as the field's type."""
    hints = typing.get_type_hints(config)
    out = {}
    for pair in pairs:
        name, _, text = pair.partition("=")
        if name not in {f.name for f in fields(config)} or not text:
            raise SystemExit(f"error: --set {pair!r}: give name=value with one of {', '.join(f.name for f in fields(config))}")
        kind = hints[name]
        try:
            out[name] = (text.lower() in ("1", "true", "yes")) if kind is bool else \
                tuple(int(v) for v in text.split(",")) if typing.get_origin(kind) is tuple else \
                int(text) if kind is int else float(text) if kind is float else text
        except ValueError:
            raise SystemExit(f"error: --set {pair!r}: {text!r} is not a {kind}") from None
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", choices=list(KINDS), required=True)
    ap.add_argument("--data", choices=["folk", "emopia"], default="folk")
    ap.add_argument("--out", required=True, help="the checkpoint to write (its state while training: OUT.state)")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="a config setting to override")
    ap.add_argument("--force", action="store_true", help="overwrite an existing checkpoint")
    ap.add_argument("--init", metavar="CHECKPOINT",
                    help="transformer only: start from this saved transformer's weights (trained on with this run's "
                         "settings and schedule) instead of random ones")
    ap.add_argument("--opening-bank", action="store_true",
                    help="also rebuild the shipped opening bank (4-bar openings + chords) from the training split")
    args = ap.parse_args()
    config, trainer = KINDS[args.model]
    out = check_output(args.out, args.force)
    cfg = load(config, **settings(config, args.set))
    init, before, started = None, None, ""
    if args.init:
        if args.model != "transformer":
            raise SystemExit("error: --init: only the transformer can start from saved weights")
        if Path(args.init).resolve() == out.resolve():
            raise SystemExit(f"error: --init {args.init} is also --out: write the new model to another file")
        try:
            before = transformer.load(args.init)
            init = before.net.state_dict()
        except EmolibError as exc:
            raise SystemExit(f"error: --init: {exc}") from None
        started = f", trained on from {Path(args.init).name} (sha256 {sha256(Path(args.init).read_bytes()).hexdigest()[:12]})"
    if args.data == "folk":
        from emolib.music.data.corpus import load_folk

        train, val = load_folk(load(CorpusConfig), split="train"), load_folk(load(CorpusConfig), split="val")
        provenance = (f"music21 folk corpus (Essen, O'Neill 1850, Ryan's Mammoth), training split; "
                      f"scripts/train_melody.py --model {args.model}{started}")
        if args.opening_bank:
            from emolib.music.data.bank import build_bank, save_bank

            print("opening bank ->", save_bank(build_bank(train)))
    else:
        from emolib.music.data.emopia import load_emopia

        train, val = load_emopia(split="train"), load_emopia(split="val")
        provenance = f"EMOPIA 1.0 official train split (CC BY-NC-SA 4.0: do not redistribute); {args.model}{started}"
    state = Path(str(out) + ".state")
    try:
        extra = {"val": val, "init": init} if args.model == "transformer" else {}  # it keeps its best held-out step
        model = trainer.fit(train, cfg, resume_file=state, **extra)
    except EmolibError as exc:
        raise SystemExit(f"error: {exc}") from None
    print(f"{cfg.steps} steps in {model.meta['history']['seconds'] / 60:.1f} min")
    if before is not None:  # the run it started from, so the checkpoint tells its whole training
        model.meta["history"]["before"] = {**before.meta.get("history", {}), "provenance": before.meta.get("provenance", "")}
    print("->", trainer.save(model, out, provenance=provenance))
    state.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
