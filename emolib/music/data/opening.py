"""Where a melody starts: a real opening from the opening bank, nothing (from scratch), or the user's own MIDI file.

- ``"bank"``: 4 bars of a real folk tune of the requested quadrant, with that tune's 16-bar harmony.
- ``"scratch"``: no notes. The GAN writes its first segment from noise with a silent previous segment
  (MIDINet's first bar), the transformer from the emotion token alone; the chord progression and key
  still come from a bank tune of the quadrant, so the harmony is real.
- a MIDI file (path or bytes): its first 4 bars (from the bar of its first note) become the opening.
  Its melody is the skyline of its pitched tracks, each note moved by octaves into the common register; its
  key is detected (Krumhansl-Kessler) and its chords are estimated bar by bar, then repeated. Only those bars
  are read: the file's messages are cut there before any piano roll is made, whatever length the file claims.
  The models write 16 sixteenths a bar, so an opening must be in a duple or quadruple meter (2/4, 4/4, 2/2,
  4/2); one in 3/4, 6/8, 7/8 ... is refused with one line rather than played at the wrong speed.
"""
from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import numpy as np

from ...emotion import Quadrant
from ...errors import BadInput, BadMidi, brief
from ...files.reading import check_readable_file
from ..notes.chords import bar_chords
from ..notes.key import detect_key
from ..notes.piece import OPENING, Piece, empty
from ..notes.roll import (REGISTER, STEPS_PER_BAR, TUNE_BARS, fold_into_register, into_register, midi_to_roll,
                          pad_to_bars, skyline)
from .bank import OPENING_BARS, bank_opening

OPENINGS = ("bank", "scratch")  # or a MIDI file
MAX_MIDI_BYTES = 5_000_000  # a long orchestral MIDI is about 1 MB; a bigger one is not a melody file


YOUR_MIDI = "your MIDI"


DUPLE = {(2, 4), (4, 4), (2, 2), (4, 2), (1, 4), (2, 8), (4, 8)}  # meters whose bar is a whole number of 4/4 halves


def _first_bars(data: bytes, name: str) -> bytes:
    """The MIDI file's first OPENING_BARS bars from the bar of its first pitched note, moved to the file's start (the
    tempo, meter, programs and controls in force there carried along; notes still sounding at the end are ended),
    as bytes: what is read later stays small and near its start whatever the file claims (an opening after an hour
    of silence is still an opening)."""
    import mido

    try:
        mid = mido.MidiFile(file=io.BytesIO(data), clip=True)
    except Exception as exc:  # noqa: BLE001 - mido raises many types for a non-MIDI file
        raise BadMidi(f"{name}: not a MIDI file that can be read ({type(exc).__name__})",
                      "give a standard MIDI file (.mid)") from None
    tpq = mid.ticks_per_beat
    if not isinstance(tpq, int) or tpq <= 0:
        raise BadMidi(f"{name}: its timing is in SMPTE frames, not beats", "give a MIDI file timed in beats")
    tracks = [[(t, m) for t, m in zip(np.cumsum([m.time for m in tr]).tolist(), tr)] for tr in mid.tracks]
    onsets = [t for tr in tracks for t, m in tr if m.type == "note_on" and m.velocity > 0 and m.channel != 9]
    if not onsets:
        drums = any(m.type == "note_on" and m.velocity > 0 for tr in tracks for _, m in tr)
        raise BadMidi(f"{name}: the MIDI file has {'only drum notes' if drums else 'no notes'}",
                      "give one with a melody on a pitched instrument")
    first = min(onsets)
    meters = [(t, m.numerator, m.denominator) for tr in tracks for t, m in tr if m.type == "time_signature"]
    meter = max((x for x in meters if x[0] <= first), default=(0, 4, 4))[1:]
    if meter not in DUPLE:
        shown = f"{meter[0]}/{meter[1]}" if max(meter) < 10_000 else "a meter of absurd numbers"
        raise BadMidi(f"{name}: the opening is in {shown}, and the models write in 2/4, 4/4 or 2/2",
                      "give an opening in one of those meters")
    bar = 4 * tpq  # the opening is cut into 4/4 bars of sixteenths, whatever duple meter it is written in
    start = first // bar * bar
    end = start + OPENING_BARS * bar
    out = mido.MidiFile(type=1 if len(tracks) > 1 else 0, ticks_per_beat=tpq)
    for tr in tracks:
        sounding, events, scene = {}, [], {}
        for t, m in tr:
            if m.is_meta and m.type == "end_of_track":
                continue
            if t > end:
                break
            if t < start:  # before the opening: only what is still in force there (the latest of each kind)
                if m.is_meta or m.type in ("program_change", "control_change"):
                    scene[(m.type, getattr(m, "channel", None), getattr(m, "control", None))] = m
                continue
            events.append((t - start, m))
            if m.type == "note_on" and m.velocity > 0:
                sounding[(m.channel, m.note)] = True
            elif m.type in ("note_off", "note_on"):
                sounding.pop((m.channel, m.note), None)
        events = [(0, m) for m in scene.values()] + events
        events += [(end - start, mido.Message("note_off", channel=c, note=n)) for c, n in sounding]
        track, now = mido.MidiTrack(), 0
        for t, m in events:
            track.append(m.copy(time=t - now))
            now = t
        track.append(mido.MetaMessage("end_of_track", time=0))
        out.tracks.append(track)
    buf = io.BytesIO()
    out.save(file=buf)
    return buf.getvalue()


def opening_from_midi(source: str | Path | bytes) -> Piece:
    """The first 4 bars of a MIDI file as an opening, with its key and chords; a one-line BadInput otherwise."""
    import pretty_midi

    if isinstance(source, str) and not source:
        raise BadMidi("the MIDI file path is empty", "give a MIDI file's path, or the opening 'scratch' or 'bank'")
    if not isinstance(source, (str, Path, bytes, bytearray, memoryview)):
        raise BadMidi(f"an opening is a MIDI file's path or its bytes, got {brief(source)}")
    if isinstance(source, (bytes, bytearray, memoryview)):
        name, title, data = "the uploaded MIDI file", "uploaded MIDI", bytes(source)
    else:
        path = Path(source)
        check_readable_file(path, "MIDI file", BadMidi)
        with path.open("rb") as f:  # never more than the limit in memory
            name, title, data = str(path), path.name, f.read(MAX_MIDI_BYTES + 1)
    if len(data) > MAX_MIDI_BYTES:
        raise BadMidi(f"{name}: too large for a MIDI opening", f"give one of at most {MAX_MIDI_BYTES // 1_000_000} MB")
    if not data:
        raise BadMidi(f"{name}: the file is empty", "give a MIDI file (.mid) with a melody")
    cut = _first_bars(data, name)
    try:
        pm = pretty_midi.PrettyMIDI(io.BytesIO(cut))
    except Exception as exc:  # noqa: BLE001 - pretty_midi raises many types for a strange file
        raise BadMidi(f"{name}: not a MIDI file pretty_midi can read ({type(exc).__name__})",
                      "give a standard MIDI file (.mid)") from None
    full = pad_to_bars(midi_to_roll(pm))
    played = np.flatnonzero(full.any(axis=1))
    if not len(played):
        raise BadMidi(f"{name}: the MIDI file has no notes in its first bars", "give one with a melody")
    first_bar = int(played[0]) // STEPS_PER_BAR  # skip a silent pickup of whole bars
    full = pad_to_bars(full[first_bar * STEPS_PER_BAR:], OPENING_BARS)
    tonic, mode, _ = detect_key(full)
    melody = fold_into_register(into_register(skyline(full), *REGISTER))
    chords = bar_chords(full, key=(tonic, mode))
    return Piece(melody, [chords[b % len(chords)] for b in range(TUNE_BARS)], tonic, mode, title=title,
                 source=YOUR_MIDI, by=(OPENING,) * OPENING_BARS)


def choose_opening(opening, emotion: Quadrant, rng: np.random.Generator) -> Piece:
    """The prompt a model continues, for an opening choice: the given bars (none from scratch), with the key and
    the chord progression of the tune they come from (from scratch: a bank tune of the quadrant's)."""
    if not isinstance(emotion, Quadrant):
        raise BadInput(f"an opening is chosen for an emotion's quadrant (emolib.emotion.quadrant), got {brief(emotion)}")
    if isinstance(opening, str) and opening in OPENINGS:
        tune = bank_opening(emotion.name, rng)
        return tune if opening == "bank" else tune.with_notes(empty(0), by=(), edits=())
    if isinstance(opening, (str, Path, bytes, bytearray, memoryview)):
        return replace(opening_from_midi(opening), quadrant=emotion)
    raise BadInput(f"opening must be 'bank', 'scratch' or a MIDI file, got {brief(opening)}")


def describe(prompt: Piece) -> str:
    """Where a piece's opening came from, in a few words: "opening bank: <title>", "from scratch", "your MIDI: <file>"."""
    return f"{prompt.source}: {prompt.title}" if prompt.bars else "from scratch"
