"""Where Pieces come from: the folk corpus bundled with music21 (corpus), EMOPIA (emopia), the bank of real openings
and progressions that ships (bank), and the opening a model continues (opening: the bank, nothing, or your MIDI)."""
