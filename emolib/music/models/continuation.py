"""What both melody models are to the rest of emolib, and the steps they share when they continue a prompt.

Both answer one call, in the style of nanoGPT's ``model.generate(idx, max_new_tokens, temperature=1.0, top_k=None)``:
``model.generate(prompt, bars, seed=..., temperature=..., top_k=..., ...)`` continues a
:class:`~emolib.music.notes.piece.Piece` (the given opening bars, possibly none, with the chord plan for every bar)
to `bars` bars and returns the longer Piece. :meth:`MelodyModel.generate` takes the steps both models share, written
once here: check the prompt and the decoding, move the prompt to C (how both learned every tune, as folk-rnn
does), let the model write its bars (:meth:`MelodyModel.write`, each model's own), move the piece back to the
prompt's key, keep the given bars note for note and the prompt's chords, and mark the new bars as the model's.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from ...config import one_thread
from ...errors import BadInput, brief
from ..notes.piece import Piece, from_c, in_c
from ..notes.roll import STEPS_PER_BAR, TUNE_BARS
from . import sampling


class MelodyModel:
    """A melody model: ``name`` is what a Piece's bars say wrote them, ``meta`` the checkpoint's provenance, history
    and metrics (never its weights); ``write`` is the model's own part of ``generate``."""

    name: str
    meta: dict

    @one_thread
    @torch.inference_mode()  # as no_grad, and without autograd's version counting: about a third faster per token
    def generate(self, prompt: Piece, bars: int = TUNE_BARS, *, seed: int = 0, temperature: float = 1.0,
                 top_k: int | None = None, top_p: float | None = None, leap_penalty: float = 0.0,
                 grid: int = 1, cadence_tries: int = 1, variation_tries: int = 1) -> Piece:
        """Continue `prompt` to `bars` bars under its chords and emotion; the same seed gives the same notes. The
        decoding settings are emolib.music.models.sampling's, with the same meaning for both models."""
        if not isinstance(prompt, Piece) or prompt.quadrant is None:
            raise BadInput(f"a prompt is a Piece with an emotion (its quadrant), got {brief(prompt)}",
                           "start from emolib.music.data.opening.choose_opening")
        if isinstance(bars, bool) or not isinstance(bars, (int, np.integer)) or bars < 1:
            raise BadInput(f"bars must be a whole number of at least 1, got {brief(bars)}")
        settings = sampling.check(dict(temperature=temperature, top_k=top_k, top_p=top_p, leap_penalty=leap_penalty,
                                       grid=grid, cadence_tries=cadence_tries,
                                       variation_tries=variation_tries))
        given = min(prompt.bars, bars)
        in_key_of_c = in_c(prompt)
        roll = self.write(in_key_of_c, given, int(bars), seed=int(seed), **settings)
        new = int(bars) - given
        piece = from_c(in_key_of_c.with_notes(roll, by=in_key_of_c.authors[:given] + (self.name,) * new,
                                              edits=in_key_of_c.changes[:given] + ((),) * new), prompt.tonic)
        if given:  # the given bars are the prompt's notes exactly (in C they were only the model's input)
            piece.roll[:given * STEPS_PER_BAR] = prompt.roll[:given * STEPS_PER_BAR]
        return replace(piece, chords=prompt.chords)

    def write(self, prompt: Piece, given: int, bars: int, *, seed: int, **decoding) -> np.ndarray:
        """The model's own part: the roll of `bars` bars in C whose first `given` bars are the prompt's (already in C),
        the rest written by the model with these decoding settings and this seed."""
        raise NotImplementedError
