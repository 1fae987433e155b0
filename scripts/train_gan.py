"""Train MIDINet (bar by bar) on the folk corpus's training split (shipped) or on EMOPIA (never shipped: CC BY-NC-SA).

    python scripts/train_gan.py --data folk --out emolib/assets/checkpoints/midinet_folk.pt
    EMOLIB_DATA=/path/to/data python scripts/train_gan.py --data emopia --out runs/midinet_emopia.pt

This is how the shipped checkpoint was made. The folk corpus's "val" and "test" splits (emolib.music.data.corpus.FOLK_SPLITS)
are never trained on: choices are made on "val", the critic's final judgement uses "test". Options override
GANConfig's defaults; EMOLIB_FAST=1 gives the small configuration CI uses.
"""
from __future__ import annotations

import argparse

from emolib.config import load
from emolib.music.models import gan, gan_training
from emolib.music.data.corpus import CorpusConfig
from emolib.files.writing import check_output


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", choices=["folk", "emopia"], default="folk")
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int)
    ap.add_argument("--lambda-interval", type=float, help="weight of interval feature matching (GANConfig.lambda_interval)")
    ap.add_argument("--lambda-rhythm", type=float, help="weight of rest/hold/onset transition matching (GANConfig.lambda_rhythm)")
    ap.add_argument("--lambda-mean", type=float, help="weight of mean-bar feature matching (GANConfig.lambda_mean)")
    ap.add_argument("--balance", type=float, help="quadrant balance of the batches (GANConfig.balance)")
    ap.add_argument("--seed", type=int, help="GANConfig.seed (weights, batches, noise)")
    ap.add_argument("--force", action="store_true", help="overwrite an existing checkpoint")
    ap.add_argument("--opening-bank", action="store_true",
                    help="also rebuild the shipped opening bank (4-bar openings + chords) from the training split")
    args = ap.parse_args()
    out = check_output(args.out, args.force)
    given = {"steps": args.steps or None, "lambda_interval": args.lambda_interval, "lambda_rhythm": args.lambda_rhythm,
             "lambda_mean": args.lambda_mean, "balance": args.balance, "seed": args.seed}
    cfg = load(gan.GANConfig, **{k: v for k, v in given.items() if v is not None})
    if args.data == "folk":
        from emolib.music.data.corpus import load_folk

        melodies = load_folk(load(CorpusConfig), split="train")
        provenance = "music21 folk corpus (Essen, O'Neill 1850, Ryan's Mammoth), training split, scripts/train_gan.py"
        if args.opening_bank:
            from emolib.music.data.bank import build_bank, save_bank

            print("opening bank ->", save_bank(build_bank(melodies)))
    else:
        from emolib.music.data.emopia import load_emopia

        melodies = load_emopia(split="train")
        provenance = "EMOPIA 1.0 official train split (CC BY-NC-SA 4.0: do not redistribute), scripts/train_gan.py"
    model = gan_training.fit(melodies, cfg)
    h = model.meta["history"]
    print(f"{cfg.steps} steps in {h['seconds'] / 60:.1f} min; last D(x) {h['d_real'][-1]:.2f} D(G(z)) {h['d_fake'][-1]:.2f}")
    print("->", gan_training.save(model, out, provenance=provenance))


if __name__ == "__main__":
    main()
