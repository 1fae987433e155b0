"""Train the emotion-token transformer on the folk corpus's training split (shipped) or on EMOPIA (never shipped).

    python scripts/train_transformer.py --data folk --out emolib/assets/checkpoints/transformer_folk.pt
    EMOLIB_DATA=/path/to/data python scripts/train_transformer.py --data emopia --out runs/transformer_emopia.pt
"""
from __future__ import annotations

import argparse

import numpy as np

from emolib.music.models import transformer, transformer_training
from emolib.config import load
from emolib.music.data.corpus import CorpusConfig
from emolib.files.writing import check_output


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", choices=["folk", "emopia"], default="folk")
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int)
    ap.add_argument("--balance", type=float, help="quadrant balance of the batches (TransformerConfig.balance)")
    ap.add_argument("--seed", type=int, help="TransformerConfig.seed")
    ap.add_argument("--force", action="store_true", help="overwrite an existing checkpoint")
    args = ap.parse_args()
    out = check_output(args.out, args.force)
    given = {"steps": args.steps or None, "balance": args.balance, "seed": args.seed}
    cfg = load(transformer.TransformerConfig, **{k: v for k, v in given.items() if v is not None})
    if args.data == "folk":
        from emolib.music.data.corpus import load_folk

        train, val = load_folk(load(CorpusConfig), split="train"), load_folk(load(CorpusConfig), split="val")
        provenance = "music21 folk corpus, training split (val: held-out loss; test: never seen), scripts/train_transformer.py"
    else:
        from emolib.music.data.emopia import load_emopia

        train, val = load_emopia(split="train"), load_emopia(split="val")
        provenance = "EMOPIA 1.0 official train split (CC BY-NC-SA 4.0: do not redistribute), scripts/train_transformer.py"
    model = transformer_training.fit(train, cfg, val=val)
    h = model.meta["history"]
    print(f"{cfg.steps} steps in {h['seconds'] / 60:.1f} min; train loss {np.mean(h['loss'][-50:]):.3f}, "
          f"held-out loss {h['val_loss'][-1]:.3f}")
    print("->", transformer_training.save(model, out, provenance=provenance))


if __name__ == "__main__":
    main()
