"""Where a melody starts: a real opening from the seed bank, nothing (from scratch), or the user's own MIDI file.

- ``"seed"``: 4 bars of a real folk tune of the requested quadrant, with that tune's 16-bar harmony.
- ``"scratch"``: no notes. The GAN writes its first segment from noise with a silent previous segment
  (MIDINet's first bar), the transformer from the emotion token alone; the chord progression and key
  still come from a seed-bank tune of the quadrant, so the harmony is real.
- a MIDI file (path or bytes): its first 4 bars (from the bar of its first note) become the opening.
  Its melody is the skyline of its pitched tracks, moved by octaves into the common register; its key
  is detected (Krumhansl-Kessler) and its chords are estimated bar by bar, then repeated.
"""
from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..emotion import Quadrant
from ..errors import BadInput, BadMidi
from .chords import bar_chords
from .key import detect_key
from .piece import OPENING, REGISTER, Piece, empty
from .roll import SEGMENT_STEPS, STEPS_PER_BAR, into_register, midi_to_roll, pad_to_bars, skyline
from .seeds import OPENING_BARS, PROGRESSION_BARS, choose_seed

OPENINGS = ("seed", "scratch")  # or a MIDI file
MAX_MIDI_BYTES = 5_000_000  # a long orchestral MIDI is about 1 MB; a bigger one is not a melody file


YOUR_MIDI = "your MIDI"


def opening_from_midi(source: str | Path | bytes) -> Piece:
    """The first 4 bars of a MIDI file as an opening, with its key and chords; a one-line BadInput otherwise."""
    import pretty_midi

    if isinstance(source, (bytes, bytearray, memoryview)):
        name, title, data = "the uploaded MIDI file", "uploaded MIDI", bytes(source)
    else:
        from ..faces.detect import check_readable_file

        path = Path(source)
        check_readable_file(path, "MIDI file", BadMidi)
        with path.open("rb") as f:  # never more than the limit in memory
            name, title, data = str(path), path.name, f.read(MAX_MIDI_BYTES + 1)
    if len(data) > MAX_MIDI_BYTES:
        raise BadMidi(f"{name}: too large for a MIDI opening", f"give one of at most {MAX_MIDI_BYTES // 1_000_000} MB")
    if not data:
        raise BadMidi(f"{name}: the file is empty", "give a MIDI file (.mid) with a melody")
    try:
        pm = pretty_midi.PrettyMIDI(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - mido raises many types for a non-MIDI file
        raise BadMidi(f"{name}: not a MIDI file pretty_midi can read ({type(exc).__name__})",
                      "give a standard MIDI file (.mid)") from None
    if not any(i.notes for i in pm.instruments):
        raise BadMidi(f"{name}: the MIDI file has no notes", "give one with a melody")
    if not any(i.notes for i in pm.instruments if not i.is_drum):
        raise BadMidi(f"{name}: the MIDI file has only drum notes", "give one with a melody on a pitched instrument")
    full = pad_to_bars(midi_to_roll(pm))
    first_bar = int(np.flatnonzero(full.any(axis=1))[0]) // STEPS_PER_BAR  # skip a silent pickup of whole bars
    full = pad_to_bars(full[first_bar * STEPS_PER_BAR:], SEGMENT_STEPS // STEPS_PER_BAR)
    tonic, mode, _ = detect_key(full)
    melody = into_register(skyline(full), *REGISTER)
    chords = bar_chords(full, key=(tonic, mode))
    return Piece(melody, [chords[b % len(chords)] for b in range(PROGRESSION_BARS)], tonic, mode, title=title,
                 source=YOUR_MIDI, by=(OPENING,) * OPENING_BARS)


def choose_opening(opening, emotion: Quadrant, rng: np.random.Generator) -> Piece:
    """The prompt a model continues, for an opening choice: the given bars (none from scratch), with the key and
    the chord progression of the tune they come from (from scratch: a seed-bank tune of the quadrant's)."""
    if isinstance(opening, str) and opening in OPENINGS:
        seed = choose_seed(emotion.name, rng)
        return seed if opening == "seed" else seed.with_notes(empty(0), by=(), edits=())
    if isinstance(opening, (str, Path, bytes, bytearray, memoryview)):
        return replace(opening_from_midi(opening), quadrant=emotion)
    raise BadInput(f"opening must be 'seed', 'scratch' or a MIDI file, got {opening!r}")


def describe(prompt: Piece) -> str:
    """Where a piece's opening came from, in a few words: "seed bank: <title>", "from scratch", "your MIDI: <file>"."""
    return f"{prompt.source}: {prompt.title}" if prompt.bars else "from scratch"
