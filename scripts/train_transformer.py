"""Train the emotion-token transformer on the folk corpus (shipped) or on EMOPIA (never shipped).

    python scripts/train_transformer.py --data folk --out emolib/assets/checkpoints/transformer_folk.pt
    EMOLIB_DATA=/path/to/data python scripts/train_transformer.py --data emopia --out runs/transformer_emopia.pt
"""
from __future__ import annotations

import argparse
from dataclasses import replace

import numpy as np

from emolib.music import transformer
from emolib.config import load
from emolib.music.corpus import CorpusConfig
from emolib.output import check_output


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", choices=["folk", "emopia"], default="folk")
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int)
    ap.add_argument("--force", action="store_true", help="overwrite an existing checkpoint")
    args = ap.parse_args()
    out = check_output(args.out, args.force)
    cfg = load(transformer.TransformerConfig)
    if args.steps:
        cfg = replace(cfg, steps=args.steps)
    if args.data == "folk":
        from emolib.music.corpus import load_folk

        melodies = load_folk(load(CorpusConfig))
        rng = np.random.default_rng(0)
        held = set(rng.permutation(len(melodies))[: max(1, len(melodies) // 20)].tolist())  # 5% held out for val loss
        train = [m for i, m in enumerate(melodies) if i not in held]
        val = [m for i, m in enumerate(melodies) if i in held]
        provenance = "music21 folk corpus (95% of tunes; 5% held out), scripts/train_transformer.py"
    else:
        from emolib.music.emopia import load_emopia

        train, val = load_emopia(split="train"), load_emopia(split="val")
        provenance = "EMOPIA 1.0 official train split (CC BY-NC-SA 4.0: do not redistribute), scripts/train_transformer.py"
    model = transformer.fit(train, cfg, val=val)
    h = model.meta["history"]
    print(f"{cfg.steps} steps in {h['seconds'] / 60:.1f} min; train loss {np.mean(h['loss'][-50:]):.3f}, "
          f"held-out loss {h['val_loss'][-1]:.3f}")
    print("->", transformer.save(model, out, provenance=provenance))


if __name__ == "__main__":
    main()
