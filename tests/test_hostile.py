"""Hardening, round 2: what a hostile but realistic user tries, each case one line, a non-zero exit, no traceback,
no partial, lost or replaced file; and a bounded fuzz test of the image and MIDI readers."""
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from emolib.errors import BadImage, BadInput, BadMidi, EmolibError

from conftest import HANG_GUARD
from test_hardening import ROOT_USER, one_line_error, run

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "emolib" / "assets" / "faces" / "happy_1.jpg"


def _midi(notes=((60, 0.0, 0.5),), ts=(4, 4), tempo=100.0) -> bytes:
    import pretty_midi

    pm = pretty_midi.PrettyMIDI(initial_tempo=tempo)
    pm.time_signature_changes.append(pretty_midi.TimeSignature(*ts, 0))
    inst = pretty_midi.Instrument(0)
    for p, s, e in notes:
        inst.notes.append(pretty_midi.Note(90, p, s, e))
    pm.instruments.append(inst)
    buf = io.BytesIO()
    pm.write(buf)
    return buf.getvalue()


def _cli(*args, cwd=None, env=None, **kw):
    return subprocess.run([sys.executable, "-m", "emolib", *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {})}, timeout=HANG_GUARD, **kw)


def _vmhwm_kb(code: str, cwd) -> int:
    """Peak resident memory (kB) of a fresh process running code (VmHWM: Linux keeps ru_maxrss across exec)."""
    r = subprocess.run([sys.executable, "-c", code + "\nprint(next(l.split()[1] for l in open('/proc/self/status') "
                        "if l.startswith('VmHWM')))"], capture_output=True, text=True, timeout=HANG_GUARD, cwd=cwd)
    assert r.returncode == 0, r.stderr[-1500:]
    return int(r.stdout.split()[-1])


# --- files are never lost, replaced or half-written ---------------------------------------------------

def test_a_device_is_never_written_even_through_a_link(capsys, tmp_path):
    code, _, err = run(capsys, "compose", "--emotion", "calm", "--bars", "4", "--out", "/dev/stdout", "--force")
    one_line_error(code, err, "is in /dev, a system file system")
    assert os.path.islink("/dev/stdout")
    (tmp_path / "null.mid").symlink_to("/dev/null")
    code, _, err = run(capsys, "compose", "--emotion", "calm", "--bars", "4", "--out", tmp_path / "null.mid", "--force")
    one_line_error(code, err, "system file system")
    code, _, err = run(capsys, "compose", "--emotion", "calm", "--bars", "4", "--out", "/proc/x.mid")
    one_line_error(code, err, "is in /proc")


def test_an_input_is_never_overwritten(capsys, tmp_path):
    photo = tmp_path / "me.jpg"
    photo.write_bytes(SAMPLE.read_bytes())
    for out in (photo, tmp_path / "." / "me.jpg"):
        code, _, err = run(capsys, "compose", "--image", photo, "--out", out, "--force")
        one_line_error(code, err, "emolib will not write over it")
    opening = tmp_path / "tune.mid"
    opening.write_bytes(_midi([(60 + i, i * 0.5, i * 0.5 + 0.4) for i in range(8)]))
    code, _, err = run(capsys, "compose", "--emotion", "sad", "--opening", opening, "--out", tmp_path / "x.mid",
                       "--wav", opening, "--force")
    one_line_error(code, err, "emolib will not write over it")
    assert photo.read_bytes() == SAMPLE.read_bytes() and opening.read_bytes()[:4] == b"MThd"


def test_outputs_are_compared_as_files_not_names(capsys, tmp_path):
    (tmp_path / "sub").symlink_to(tmp_path)
    code, _, err = run(capsys, "compose", "--emotion", "sad", "--bars", "4", "--out", tmp_path / "a.mid",
                       "--wav", tmp_path / "sub" / "a.mid")
    one_line_error(code, err, "both name")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sub"]


def _children(pid: int) -> set[int]:
    """The processes whose parent is pid (Linux's /proc, else pgrep)."""
    proc = Path("/proc")
    if proc.is_dir():
        found = set()
        for stat in proc.glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()  # after "(name)": state, ppid, ...
            except (OSError, IndexError):
                continue  # a process that ended meanwhile
            if int(fields[1]) == pid:
                found.add(int(stat.parent.name))
        return found
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return {int(x) for x in out.stdout.split()}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_signal_during_wav_rendering_stops_at_once_and_leaves_nothing(tmp_path, sig):
    """The signal ends the run without waiting for the render: the renderer (a child process) is frozen first, so
    a run that waited for it would never end. No clock is read: the timeout only keeps a broken run from hanging
    the suite. One line, exit 130, the frozen renderer gone, and no file or temporary file left."""
    # A suite started in the background of a non-interactive shell inherits SIGINT ignored (as a background job
    # should), and the run would then rightly not hear it: the run under test starts with each signal's default.
    proc = subprocess.Popen([sys.executable, "-m", "emolib", "compose", "--emotion", "sad", "--bars", "256",
                             "--out", "a.mid", "--wav", "a.wav"], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=lambda: signal.signal(sig, signal.SIG_DFL))
    renderers: set[int] = set()
    while not renderers:  # the WAV is being rendered, in a child process
        assert proc.poll() is None, proc.communicate()
        if any(p.name.endswith(".part") for p in tmp_path.iterdir()):
            renderers = _children(proc.pid)
        time.sleep(0.05)
    for pid in renderers:
        os.kill(pid, signal.SIGSTOP)  # it can never finish now
    proc.send_signal(sig)
    try:
        _, err = proc.communicate(timeout=HANG_GUARD)
    except subprocess.TimeoutExpired:
        for pid in renderers | {proc.pid}:
            os.kill(pid, signal.SIGKILL)
        pytest.fail("the run waited for the frozen renderer instead of stopping")
    assert proc.returncode == 130 and err.strip() == "interrupted; nothing was written", err
    assert not any(_alive(pid) for pid in renderers)  # the run stopped its renderer too
    assert list(tmp_path.iterdir()) == []


def test_a_long_valid_output_name_is_written(capsys, tmp_path):
    name = "s" * 246 + ".mid"  # 250 bytes: a valid name whose temporary file once did not fit
    code, out, err = run(capsys, "compose", "--emotion", "sad", "--bars", "4", "--out", tmp_path / name)
    assert code == 0 and (tmp_path / name).is_file(), err
    assert [p.name for p in tmp_path.iterdir()] == [name]


@pytest.mark.parametrize("args, expected", [
    (["--out", "newdir/"], "names a folder"),
    (["--out", "a.mid", "--wav", ""], "output file name is empty"),
    (["--out", "a.mid", "--checkpoint", ""], "checkpoint must be the path of a .pt file"),
    (["--out", "a.mid", "--image", ""], "--image is empty"),
    (["--out", "a.mid", "--opening", ""], "MIDI file path is empty"),
])
def test_empty_and_folder_names_are_refused(capsys, tmp_path, monkeypatch, args, expected):
    monkeypatch.chdir(tmp_path)
    extra = [] if "--image" in args else ["--emotion", "sad"]
    code, _, err = run(capsys, "compose", *extra, *args)
    one_line_error(code, err, expected)
    assert list(tmp_path.iterdir()) == []


# --- classify over folders: every image gets its line ------------------------------------------------

def test_classify_reports_each_bad_image_and_goes_on(capsys, tmp_path):
    from PIL import Image

    (tmp_path / "a_good.jpg").write_bytes(SAMPLE.read_bytes())
    Image.new("LAB", (64, 64)).save(tmp_path / "b_lab.tif")  # converted through its lightness channel
    png = (tmp_path / "a_good.jpg")
    with Image.open(png) as im:
        im.save(tmp_path / "c_text.png", pnginfo=_huge_text())
    good = (tmp_path / "c_text.png").read_bytes()
    (tmp_path / "d_cut_ihdr.png").write_bytes(good[:20])
    for suffix in (".jfif", ".jpe", ".ppm", ".pgm"):
        with Image.open(png) as im:
            im.convert("L" if suffix == ".pgm" else "RGB").save(tmp_path / f"e{suffix}", format="JPEG" if suffix in
                                                                (".jfif", ".jpe") else "PPM")
    (tmp_path / "f.avif").write_bytes(b"not really an avif")
    code, out, err = run(capsys, "classify", "--image", tmp_path, "--center-crop")  # not all of them are faces
    lines = [json.loads(line) for line in out.splitlines()]
    names = sorted(Path(line["image"]).name for line in lines)
    assert names == sorted(p.name for p in tmp_path.iterdir())  # nothing skipped, nothing lost
    errors = {Path(line["image"]).name for line in lines if "error" in line}
    assert errors == {"d_cut_ihdr.png", "f.avif"} and code == 1
    assert "Traceback" not in err


def _huge_text():
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("comment", "x" * 2_000_000)  # a text chunk bigger than PIL's safety limit
    return info


def test_classify_empty_path_is_an_error_not_the_current_folder(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "face.jpg").write_bytes(SAMPLE.read_bytes())
    code, out, err = run(capsys, "classify", "--image", "")
    assert code == 1 and "image path is empty" in err and "face.jpg" not in out


@pytest.mark.skipif(ROOT_USER, reason="root reads every folder whatever its mode; run as a normal user to check this")
def test_an_unreadable_subfolder_is_reported(capsys, tmp_path):
    (tmp_path / "ok.jpg").write_bytes(SAMPLE.read_bytes())
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0)
    try:
        code, out, err = run(capsys, "classify", "--image", tmp_path)
    finally:
        locked.chmod(0o755)
    assert code == 1 and "cannot read this folder" in err and '"ok.jpg"' not in out.replace(str(tmp_path) + "/", "")


def test_an_unreadable_folder_is_a_line_of_its_own(monkeypatch, tmp_path):
    """The same, for any user: os.walk's error for a folder becomes a BadInput in the list, not silence."""
    import emolib.pipeline as pipeline

    def walk(top, onerror=None):
        yield str(tmp_path), ["locked"], ["ok.jpg"]
        onerror(PermissionError(13, "Permission denied", str(tmp_path / "locked")))

    monkeypatch.setattr(os, "walk", walk)
    found = pipeline.expand_images([tmp_path])
    assert found[0] == tmp_path / "ok.jpg" and isinstance(found[1], BadInput) and "locked" in str(found[1])


# --- resources stay bounded -----------------------------------------------------------------------------

def test_a_midi_opening_claiming_a_huge_length_is_read_only_as_far_as_used(tmp_path):
    import mido

    for name, gap in (("long.mid", 2**27), ("longer.mid", 2**28 - 1)):
        mid = mido.MidiFile()
        track = mido.MidiTrack()
        mid.tracks.append(track)
        track.append(mido.Message("note_on", note=60, velocity=90, time=0))
        track.append(mido.Message("note_off", note=60, time=gap))  # a 10-hour note, in 37 bytes
        mid.save(tmp_path / name)
        code = (f"from emolib.music.data.opening import opening_from_midi; p = opening_from_midi({str(tmp_path / name)!r}); "
                "assert p.roll[:64, 60].all(), p.roll.sum()")
        assert _vmhwm_kb(code, tmp_path) < 600_000


def test_a_huge_soundfont_is_not_read(tmp_path, monkeypatch, capsys):
    from emolib.music.render import audio

    big = tmp_path / "huge.sf2"
    with open(big, "wb") as f:
        f.truncate(2_000_000_000)  # sparse: no disk used
    monkeypatch.setenv("EMOLIB_SOUNDFONT", str(big))
    audio._WARNED.clear()
    assert audio.find_soundfont() != big and "over 300 MB" in capsys.readouterr().err


def test_a_16_bit_6000x6000_png_stays_under_a_gigabyte(tmp_path):
    from PIL import Image

    Image.fromarray(np.random.default_rng(0).integers(0, 65535, (6000, 6000)).astype(np.uint16)).save(tmp_path / "b.png")
    code = "from emolib.faces.detect import load_image; g = load_image('b.png'); assert g.shape == (6000, 6000)"
    assert _vmhwm_kb(code, tmp_path) < 1_000_000


# --- nonsense is refused, or taken as what it means -------------------------------------------------------

@pytest.mark.parametrize("ts, ok", [((4, 4), True), ((2, 2), True), ((2, 4), True), ((6, 8), False), ((3, 4), False),
                                     ((7, 8), False), ((13, 16), False)])
def test_openings_keep_their_speed_or_are_refused_by_meter(ts, ok):
    from emolib.music.data.opening import opening_from_midi
    from emolib.music.notes.roll import roll_to_notes

    data = _midi([(60 + i % 12, i * 0.3, i * 0.3 + 0.25) for i in range(32)], ts=ts, tempo=100)
    if not ok:
        with pytest.raises(BadMidi, match=f"in {ts[0]}/{ts[1]}"):
            opening_from_midi(data)
        return
    notes = roll_to_notes(opening_from_midi(data).roll)
    # 0.3 s at 100 quarters a minute = half a quarter = 2 sixteenths: every note of the 4 bars, at its speed
    assert [n.start for n in notes] == list(range(0, 64, 2)) and len(notes) == 32


def test_opening_notes_far_out_of_range_move_into_the_register():
    from emolib.music.data.opening import opening_from_midi
    from emolib.music.notes.roll import roll_to_notes

    notes = roll_to_notes(opening_from_midi(_midi([(0, 0, 0.5), (127, 0.6, 1.1), (60, 1.2, 1.7)])).roll)
    assert all(48 <= n.pitch <= 84 for n in notes) and len(notes) == 3


@pytest.mark.parametrize("mutate, expected", [
    ("nan", "NaN or infinite"), ("inf", "NaN or infinite"), ("int8", "not floating point"),
    ("bool", "not floating point"), ("complex", "not floating point"), ("scalar_transpose", "transpose="),
])
def test_broken_gan_checkpoints_are_refused_before_composing(tmp_path, capsys, mutate, expected):
    import torch

    from emolib.music.models.registry import MODELS

    ck = torch.load(MODELS["gan"].path, weights_only=True)
    g = ck["generator"]
    name = next(k for k, v in g.items() if v.is_floating_point() and v.ndim > 1)
    if mutate == "nan":
        g[name] = torch.full_like(g[name], float("nan"))
    elif mutate == "inf":
        g[name] = torch.full_like(g[name], float("inf"))
    elif mutate in ("int8", "bool", "complex"):
        g[name] = g[name].to({"int8": torch.int8, "bool": torch.bool, "complex": torch.complex64}[mutate])
    else:
        ck["config"] = dict(ck["config"], transpose=5)
    torch.save(ck, tmp_path / "g.pt")
    code, _, err = run(capsys, "compose", "--emotion", "sad", "--checkpoint", tmp_path / "g.pt", "--out", tmp_path / "o.mid")
    one_line_error(code, err, expected)
    assert not (tmp_path / "o.mid").exists()


def test_a_transformer_with_nan_weights_is_refused(tmp_path, capsys):
    import torch

    from emolib.music.models.registry import MODELS

    ck = torch.load(MODELS["transformer"].path, weights_only=True)
    ck["state_dict"] = {k: torch.full_like(v, float("nan")) if v.is_floating_point() else v for k, v in ck["state_dict"].items()}
    torch.save(ck, tmp_path / "t.pt")
    code, _, err = run(capsys, "compose", "--emotion", "sad", "--model", "transformer", "--checkpoint", tmp_path / "t.pt",
                       "--out", tmp_path / "o.mid")
    one_line_error(code, err, "NaN or infinite")


def test_emolib_fast_must_be_on_or_off(tmp_path):
    r = _cli("compose", "--emotion", "sad", "--out", tmp_path / "a.mid", env={"EMOLIB_FAST": "banana"})
    one_line_error(r.returncode, r.stderr, "EMOLIB_FAST='banana' is neither on nor off")


@pytest.mark.parametrize("emotion, music", [("neutral", "calm"), ("surprise", "happy"), ("HAPPY ", "happy"), ("Q3", "sad")])
def test_the_cli_takes_what_compose_takes(capsys, tmp_path, emotion, music):
    code, out, err = run(capsys, "compose", "--emotion", emotion, "--bars", "4", "--out", tmp_path / "a.mid")
    assert code == 0 and out.startswith(music), err


def test_the_demo_refuses_a_fractional_bar_count(tmp_path):
    from emolib.widgets import run_demo

    r = run_demo(None, bars=16.9, out_dir=tmp_path)
    assert not r.ok and "bars must be a whole number" in r.message and list(tmp_path.iterdir()) == []


# --- messages: one short line, in Python as on the command line -----------------------------------------

def test_python_errors_are_emolibs_and_short():
    from emolib.pipeline import classify, compose

    with pytest.raises(BadInput, match="unknown emotion"):
        compose(emotion="grumpy")
    with pytest.raises(BadImage):
        classify(b"GIF89a" + bytes(30))
    with pytest.raises(EmolibError, match="classifier checkpoint is the path"):
        classify(SAMPLE, checkpoint=123)
    with pytest.raises(BadInput) as info:
        compose(emotion="sad", bars=np.zeros((500, 500)))
    assert len(str(info.value)) < 120 and "ndarray" in str(info.value)


def test_train_classifier_on_too_few_faces_says_so(tmp_path):
    from emolib.faces.data.synthetic import synthetic_faces, write_fer2013_csv

    (tmp_path / "fer").mkdir()
    write_fer2013_csv(synthetic_faces(2), tmp_path / "fer" / "fer2013.csv")
    r = _cli("train-classifier", "--data", tmp_path / "fer", "--out", tmp_path / "c.pt", "--epochs", "1")
    one_line_error(r.returncode, r.stderr, "too few faces to train on")


def test_a_broken_image_in_a_dataset_is_named(tmp_path):
    from emolib.errors import DatasetNotFound
    from emolib.faces.data.datasets import load_image_folder

    for cls in ("happy", "sad"):
        (tmp_path / "train" / cls).mkdir(parents=True)
        (tmp_path / "train" / cls / "a.jpg").write_bytes(SAMPLE.read_bytes())
    (tmp_path / "train" / "sad" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(10))
    with pytest.raises(DatasetNotFound, match="broken.png is not a readable image"):
        load_image_folder(tmp_path, cache=False, progress=False)


@pytest.mark.parametrize("case", ["49mp", "corrupt_exif", "newline_in_path", "legacy_pickle"])
def test_odd_files_give_exactly_one_line(tmp_path, case):
    from PIL import Image

    if case == "49mp":
        Image.new("L", (7000, 7000)).save(tmp_path / "big.png")
        args, expected = ["compose", "--image", tmp_path / "big.png"], "image too large"
    elif case == "corrupt_exif":
        with Image.open(SAMPLE) as im:
            exif = Image.Exif()
            exif[0x0112] = 1
            exif[0x010E] = "a face"
            im.save(tmp_path / "exif.jpg", exif=exif)
        data = bytearray((tmp_path / "exif.jpg").read_bytes())
        at = data.index(b"Exif\x00\x00") + 6
        data[at + 8:at + 10] = b"\xff\xff"  # the IFD claims 65535 entries: PIL warns of a corrupt EXIF block
        (tmp_path / "exif.jpg").write_bytes(bytes(data))
        r = _cli("classify", "--image", tmp_path / "exif.jpg")
        assert r.returncode == 0 and r.stderr == "", r.stderr
        return
    elif case == "newline_in_path":
        odd = tmp_path / "a\nb.png"
        odd.write_text("not an image")
        args, expected = ["compose", "--image", odd], "a?b.png: not an image file"
    else:
        import pickle

        (tmp_path / "legacy.pt").write_bytes(pickle.dumps({"generator": 1}, protocol=2))
        args, expected = ["compose", "--emotion", "sad", "--checkpoint", tmp_path / "legacy.pt"], "not a readable GAN"
    r = _cli(*args, "--out", tmp_path / "o.mid")
    one_line_error(r.returncode, r.stderr, expected)


# --- what held in round 1 still holds ---------------------------------------------------------------------

def test_a_malicious_pickle_is_not_run(tmp_path, capsys):
    import pickle

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {tmp_path / 'pwned'}",))

    (tmp_path / "evil.pt").write_bytes(pickle.dumps({"generator": Evil(), "config": {}}))
    code, _, err = run(capsys, "compose", "--emotion", "sad", "--checkpoint", tmp_path / "evil.pt", "--out", tmp_path / "o.mid")
    one_line_error(code, err, "not a readable GAN checkpoint")
    assert not (tmp_path / "pwned").exists()


def test_twenty_four_racing_writers_have_one_winner(tmp_path):
    """24 writers, each ready (imports done) and waiting on its stdin, all released at once: no clock is read."""
    code = ("import sys; from pathlib import Path; from emolib.files.writing import write_files\n"
            "print('ready', flush=True); sys.stdin.readline()\n"
            "try:\n write_files([(Path('song.mid'), lambda t: open(t, 'wb').write(sys.argv[1].encode()))]); print('won')\n"
            "except Exception as e: print('lost', e)")
    procs = [subprocess.Popen([sys.executable, "-c", code, f"run {i}"], cwd=tmp_path, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True) for i in range(24)]
    assert all(p.stdout.readline().strip() == "ready" for p in procs)
    for p in procs:  # the go signal, as close together as writes to 24 pipes can be
        p.stdin.write("go\n")
        p.stdin.flush()
    results = [p.communicate(timeout=HANG_GUARD)[0].strip() for p in procs]
    assert sum(r == "won" for r in results) == 1 and all(r == "won" or "appeared" in r or "exists" in r for r in results)
    assert [p.name for p in tmp_path.iterdir()] == ["song.mid"] and (tmp_path / "song.mid").read_text().startswith("run ")


@pytest.mark.parametrize("kind", ["exif_rotated", "cmyk", "16bit", "webp", "gif", "palette_rgba"])
def test_every_common_image_kind_is_read(tmp_path, kind):
    from PIL import Image

    from emolib.faces.detect import load_image

    with Image.open(SAMPLE) as im:
        rgb = im.convert("RGB")
    path = tmp_path / f"face.{ {'webp': 'webp', 'gif': 'gif', '16bit': 'png', 'palette_rgba': 'png'}.get(kind, 'jpg')}"
    if kind == "exif_rotated":
        exif = Image.Exif()
        exif[0x0112] = 6  # rotate 90 degrees when shown
        rgb.rotate(90, expand=True).save(path, exif=exif)
    elif kind == "cmyk":
        rgb.convert("CMYK").save(path)
    elif kind == "16bit":
        Image.fromarray(np.asarray(rgb.convert("L"), np.uint16) * 257).save(path)
    elif kind == "palette_rgba":
        rgb.convert("RGBA").convert("P").save(path)
    else:
        rgb.save(path)
    gray = load_image(path)
    ref = load_image(SAMPLE)
    assert gray.shape == ref.shape and np.abs(gray.astype(int) - ref.astype(int)).mean() < 12


def test_a_fifo_in_a_folder_is_a_line_not_a_hang(capsys, tmp_path):
    (tmp_path / "a.jpg").write_bytes(SAMPLE.read_bytes())
    os.mkfifo(tmp_path / "b.png")
    code, out, err = run(capsys, "classify", "--image", tmp_path)
    assert code == 1 and "not a regular file" in err and len(out.splitlines()) == 2


# --- fuzz: mutated images and MIDI files only ever raise emolib's errors ---------------------------------------

def _mutations(data: bytes, rng: np.random.Generator, n: int):
    for _ in range(n):
        b = bytearray(data)
        how = rng.integers(4)
        if how == 0:  # flip bytes
            for i in rng.integers(0, len(b), rng.integers(1, 20)):
                b[i] = int(rng.integers(256))
        elif how == 1:  # cut
            b = b[:rng.integers(1, len(b))]
        elif how == 2:  # insert junk
            i = int(rng.integers(len(b)))
            b[i:i] = bytes(rng.integers(0, 256, rng.integers(1, 64)).astype(np.uint8))
        else:  # a byte run set to a large value (lengths, sizes, counts)
            i = int(rng.integers(len(b)))
            b[i:i + 4] = b"\xff\xff\xff\x7f"
        yield bytes(b)


def test_fuzzed_images_and_midi_files_raise_only_emolibs_errors():
    from emolib.faces.detect import crop_face, load_image
    from emolib.music.data.opening import opening_from_midi

    rng = np.random.default_rng(2026)
    buf = io.BytesIO()
    from PIL import Image

    with Image.open(SAMPLE) as im:
        im.convert("L").resize((96, 96)).save(buf, format="PNG")
    images = [buf.getvalue(), (ROOT / "emolib" / "assets" / "faces" / "sad_3.jpg").read_bytes()]
    midis = [_midi([(60 + i % 7, i * 0.25, i * 0.25 + 0.2) for i in range(24)]),
             _midi([(72 - i, i * 0.5, i * 0.5 + 0.5) for i in range(10)], ts=(2, 2))]
    seen = {"ok": 0, "refused": 0}
    for data in images:
        for bad in _mutations(data, rng, 120):
            try:
                crop_face(load_image(bad), center_fallback=True)
                seen["ok"] += 1
            except (BadInput, EmolibError):
                seen["refused"] += 1
    for data in midis:
        for bad in _mutations(data, rng, 150):
            try:
                opening_from_midi(bad)
                seen["ok"] += 1
            except (BadInput, EmolibError):
                seen["refused"] += 1
    assert seen["ok"] > 20 and seen["refused"] > 20  # both kinds happened: the fuzzer reached the readers
