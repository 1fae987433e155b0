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

from ...errors import EmolibError, short
from ...files.reading import check_readable_file

SAMPLE_RATE = 22050  # the sine fallback's rate; the soundfont renderer gives 48 kHz
MAX_SOUNDFONT_BYTES = 300_000_000  # General MIDI soundfonts are 6-150 MB; a bigger file is not read into memory


def find_soundfont() -> Path | None:
    """$EMOLIB_SOUNDFONT if it is a file of a sensible size, else the General MIDI soundfont inside pretty_midi."""
    env = os.environ.get("EMOLIB_SOUNDFONT")
    if env:
        try:
            check_readable_file(Path(env), "soundfont", EmolibError)
            if Path(env).stat().st_size > MAX_SOUNDFONT_BYTES:
                raise EmolibError(f"{short(env)} is {Path(env).stat().st_size / 1e6:.0f} MB, over "
                                  f"{MAX_SOUNDFONT_BYTES // 10**6} MB")
            return Path(env)
        except EmolibError as exc:  # a missing file, a FIFO, /dev/zero, a huge file: said, never read
            _say_once(f"emolib audio: EMOLIB_SOUNDFONT cannot be used ({exc.message}); using the bundled soundfont")
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


def render_soundfont(pm, sf2: str | Path | None = None, *, separate_process: bool = False) -> tuple[np.ndarray, int]:
    """Render a pretty_midi object through a soundfont (midirenderer): mono float32 and its sample rate.

    separate_process: render in a forked child process that the caller can stop at once. The renderer's C code
    holds the interpreter for as long as it runs (tens of seconds for a long, slow piece), so Ctrl-C or SIGTERM
    would otherwise wait for it; the command line renders this way."""
    import midirenderer

    sf2 = Path(sf2) if sf2 else find_soundfont()
    if sf2 is None:
        raise FileNotFoundError("no General MIDI soundfont found")
    buf = io.BytesIO()
    pm.write(buf)
    sf2_bytes = _soundfont_bytes(str(sf2))
    if not separate_process:
        return decode_wav(bytes(midirenderer.render_wave_from(sf2_bytes, buf.getvalue())))
    return decode_wav(_in_child(lambda: bytes(midirenderer.render_wave_from(sf2_bytes, buf.getvalue()))))


def _end_with_parent(parent: int) -> None:
    """In a forked child: ask the kernel to kill this process when its parent ends, however the parent ends (even by
    SIGKILL, which no handler sees); where that cannot be asked (not Linux), the child still ends when its pipe's
    reader is gone."""
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent ended before the request was made
        os._exit(1)


def _in_child(work) -> bytes:
    """work() -> bytes, run in a forked child; the parent waits in short steps and kills the child if interrupted."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)

    parent = os.getpid()

    def run():
        _end_with_parent(parent)
        try:
            send.send_bytes(work())
        except BaseException as exc:  # noqa: BLE001 - told to the parent as one line
            send.send_bytes(b"ERROR " + f"{type(exc).__name__}: {exc}".encode())
        finally:
            send.close()

    child = ctx.Process(target=run, daemon=True)
    child.start()
    send.close()
    try:
        while not receive.poll(0.1):
            if not child.is_alive():
                raise RuntimeError("the audio renderer stopped without a result")
        data = receive.recv_bytes()
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        receive.close()
    if data.startswith(b"ERROR "):
        raise RuntimeError(data[6:].decode(errors="replace"))
    return data


def synthesize(pm, sample_rate: int = SAMPLE_RATE, *, separate_process: bool = False) -> tuple[np.ndarray, int]:
    """Render a pretty_midi object to a mono float32 waveform in [-1, 1]: real instruments when possible.

    sample_rate is used by the sine fallback only; the soundfont renderer returns its own (48 kHz).
    separate_process: see render_soundfont (the command line's way, so Ctrl-C stops it at once).
    """
    audio = None
    how = renderer()
    if how.startswith("soundfont"):
        try:
            audio, sample_rate = render_soundfont(pm, separate_process=separate_process)
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


def wav_bytes(waveform: np.ndarray, sample_rate: int) -> bytes:
    """A mono waveform in [-1, 1] as a 16-bit PCM WAV file's bytes (no extra dependency)."""
    pcm = (np.clip(waveform, -1, 1) * 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(sample_rate)
        f.writeframes(pcm.tobytes())
    return buf.getvalue()


def write_wav(path: str | Path, waveform: np.ndarray, sample_rate: int) -> Path:
    """16-bit PCM WAV."""
    path = Path(path)
    path.write_bytes(wav_bytes(waveform, sample_rate))
    return path
