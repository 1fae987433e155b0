"""MIDI -> audio as (waveform, sample_rate), from pure functions.

Real instrument sound by default: ``midirenderer`` (a self-contained wheel, no system library) plays
the MIDI through a General MIDI soundfont, the ``TimGM6mb.sf2`` that ``pretty_midi`` already ships,
so piano, strings and pads sound like themselves. ``$EMOLIB_SOUNDFONT`` points at another ``.sf2``.
If neither can be used, pretty_midi's own sine synthesis is the fallback, and it says so in one line.
IPython's Audio widget is built only in notebooks and widgets, never here.
"""
from __future__ import annotations

import functools
import io
import os
import sys
import wave
from pathlib import Path

import numpy as np

SAMPLE_RATE = 22050  # the sine fallback's rate; the soundfont renderer gives 48 kHz


def find_soundfont() -> Path | None:
    """$EMOLIB_SOUNDFONT if it is a file, else the General MIDI soundfont that ships inside pretty_midi."""
    env = os.environ.get("EMOLIB_SOUNDFONT")
    if env and Path(env).is_file():
        return Path(env)
    try:
        import pretty_midi
    except ImportError:  # pragma: no cover - pretty_midi is a hard dependency
        return None
    bundled = Path(pretty_midi.__file__).resolve().parent / "TimGM6mb.sf2"
    return bundled if bundled.is_file() else None


@functools.lru_cache(maxsize=2)
def _soundfont_bytes(path: str) -> bytes:
    return Path(path).read_bytes()


def renderer() -> str:
    """Which synthesizer synthesize() uses here: 'soundfont' or 'sine' (with the reason)."""
    try:
        import midirenderer  # noqa: F401
    except ImportError:
        return "sine (midirenderer is not installed: pip install midirenderer)"
    sf2 = find_soundfont()
    if sf2 is None:
        return "sine (no General MIDI soundfont found: set EMOLIB_SOUNDFONT to an .sf2 file)"
    return f"soundfont ({sf2.name})"


_WARNED: set[str] = set()


def _say_once(message: str) -> None:
    if message not in _WARNED:
        _WARNED.add(message)
        print(message, file=sys.stderr)


def decode_wav(data: bytes) -> tuple[np.ndarray, int]:
    """16-bit PCM WAV bytes -> (mono float32 in [-1, 1], sample rate)."""
    with wave.open(io.BytesIO(data)) as f:
        channels, rate, width = f.getnchannels(), f.getframerate(), f.getsampwidth()
        frames = f.readframes(f.getnframes())
    if width != 2:
        raise ValueError(f"expected 16-bit audio, got {8 * width}-bit")
    pcm = np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768.0
    return pcm.reshape(-1, channels).mean(axis=1), rate


def render_soundfont(pm, sf2: str | Path | None = None) -> tuple[np.ndarray, int]:
    """Render a pretty_midi object through a soundfont (midirenderer): mono float32 and its sample rate."""
    import midirenderer

    sf2 = Path(sf2) if sf2 else find_soundfont()
    if sf2 is None:
        raise FileNotFoundError("no General MIDI soundfont found")
    buf = io.BytesIO()
    pm.write(buf)
    return decode_wav(bytes(midirenderer.render_wave_from(_soundfont_bytes(str(sf2)), buf.getvalue())))


def synthesize(pm, sample_rate: int = SAMPLE_RATE) -> tuple[np.ndarray, int]:
    """Render a pretty_midi object to a mono float32 waveform in [-1, 1]: real instruments when possible.

    sample_rate is used by the sine fallback only; the soundfont renderer returns its own (48 kHz).
    """
    audio = None
    how = renderer()
    if how.startswith("soundfont"):
        try:
            audio, sample_rate = render_soundfont(pm)
        except Exception as exc:  # noqa: BLE001 - a broken soundfont or renderer: fall back, and say so
            how = f"sine ({type(exc).__name__} from the soundfont renderer: {exc})"
    if audio is None:
        _say_once(f"emolib audio: using pretty_midi's sine synthesis, not real instruments: {how[len('sine ('):-1]}")
        audio = pm.synthesize(fs=sample_rate)
    audio = np.asarray(audio, dtype=np.float32)
    if audio.size and pm.get_end_time() > 0:  # trim the renderer's silent tail beyond the last note's release
        audio = audio[: int((pm.get_end_time() + 1.0) * sample_rate)]
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
