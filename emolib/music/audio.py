"""MIDI -> audio as (waveform, sample_rate), from pure functions.

pretty_midi's own synthesis (sine-like, needs nothing extra) is the default; FluidSynth with a
General MIDI soundfont is used when both are installed (as note-seq does). IPython's Audio widget
is built only in notebooks and widgets, never here.
"""
from __future__ import annotations

import os
import wave
from pathlib import Path

import numpy as np

SAMPLE_RATE = 22050
SOUNDFONT_PLACES = ("/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/sounds/sf2/default-GM.sf2",
                    "/usr/share/soundfonts/default.sf2")


def find_soundfont() -> str | None:
    """A General MIDI soundfont from $EMOLIB_SOUNDFONT or the usual system places, if any."""
    for place in (os.environ.get("EMOLIB_SOUNDFONT"), *SOUNDFONT_PLACES):
        if place and Path(place).is_file():
            return place
    return None


def synthesize(pm, sample_rate: int = SAMPLE_RATE) -> tuple[np.ndarray, int]:
    """Render a pretty_midi object to a mono float32 waveform in [-1, 1]."""
    sf2 = find_soundfont()
    audio = None
    if sf2:
        try:
            audio = pm.fluidsynth(fs=sample_rate, sf2_path=sf2)
        except Exception:  # noqa: BLE001 - pyfluidsynth missing or broken: fall back silently
            audio = None
    if audio is None:
        audio = pm.synthesize(fs=sample_rate)
    audio = np.asarray(audio, dtype=np.float32)
    peak = float(np.abs(audio).max()) if audio.size else 0.0
    return (audio / peak * 0.9 if peak > 0 else audio), sample_rate


def write_wav(path: str | Path, waveform: np.ndarray, sample_rate: int) -> Path:
    """16-bit PCM WAV (no extra dependency)."""
    path = Path(path)
    pcm = (np.clip(waveform, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(sample_rate)
        f.writeframes(pcm.tobytes())
    return path
