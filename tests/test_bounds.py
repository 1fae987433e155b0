"""Hardening, round 3: no output replaces a file the run reads or ships with; everything read from disk is bounded by
what it unpacks to; a checkpoint's settings are checked against its weights before any network is built; the audio
renderer ends with its parent; caches are never followed through a link and are true in value; and the smaller
cases, each one line (CLI) or emolib's own error (API)."""
import io
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from emolib.errors import BadInput, BadMidi, EmolibError

from conftest import HANG_GUARD
from test_hardening import one_line_error, run
from test_hostile import _midi, _mutations

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "emolib" / "assets"
CHECKPOINTS = ASSETS / "checkpoints"


# --- no output replaces a file the run reads or ships with, --force or not --------------------------------------

@pytest.mark.parametrize("target", ["checkpoints/midinet_folk.pt", "checkpoints/transformer_folk.pt", "astronaut.jpg",
                                    "checkpoints/face_classifier.pt", "opening_bank.npz", "faces/happy_1.jpg",
                                    "checkpoints/face_classifier/face_classifier_round9.pt"])
def test_a_shipped_file_is_never_an_output(capsys, target):
    before = (ASSETS / target).read_bytes()
    code, _, err = run(capsys, "compose", "--emotion", "sad", "--bars", "2", "--out", ASSETS / target, "--force")
    one_line_error(code, err, "emolib will not write over it")
    assert ("emolib ships" in err or "checkpoint this run reads" in err) and (ASSETS / target).read_bytes() == before


def test_a_hard_link_to_a_shipped_file_or_the_soundfont_in_use_is_refused(capsys, tmp_path, monkeypatch):
    os.link(CHECKPOINTS / "midinet_folk.pt", tmp_path / "alias.mid")
    code, _, err = run(capsys, "compose", "--emotion", "sad", "--bars", "2", "--out", tmp_path / "alias.mid", "--force")
    one_line_error(code, err, "the gan checkpoint this run reads")
    font = tmp_path / "my.sf2"
    import pretty_midi

    font.write_bytes((Path(pretty_midi.__file__).parent / "TimGM6mb.sf2").read_bytes())
    monkeypatch.setenv("EMOLIB_SOUNDFONT", str(font))
    code, _, err = run(capsys, "compose", "--emotion", "sad", "--bars", "2", "--out", tmp_path / "v.mid", "--wav",
                       font, "--force")
    one_line_error(code, err, "the soundfont the audio is played with")
    assert font.stat().st_size > 1_000_000 and not (tmp_path / "v.mid").exists()


def test_the_scripts_that_make_shipped_files_may_replace_them(tmp_path):
    from emolib.files.writing import check_target

    with pytest.raises(EmolibError, match="emolib ships"):
        check_target(ASSETS / "opening_bank.npz", force=True)
    assert check_target(ASSETS / "opening_bank.npz", force=True, shipped=True).name == "opening_bank.npz"


# --- what is read is bounded by what it unpacks to -------------------------------------------------------------

def _deflated(path: Path, extra_bytes: int, base: Path = CHECKPOINTS / "midinet_folk.pt") -> None:
    """A real checkpoint's records, deflated, with one more record of extra_bytes of zeros (a few kB on disk)."""
    with zipfile.ZipFile(base) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info.filename))
        with dst.open(f"{src.namelist()[0].split('/')[0]}/data/9999", "w", force_zip64=True) as f:
            block = bytes(1 << 20)
            for _ in range(extra_bytes >> 20):
                f.write(block)


def test_a_checkpoint_that_would_unpack_to_gigabytes_is_refused_before_unpacking(capsys, tmp_path):
    bomb = tmp_path / "bomb.pt"
    _deflated(bomb, 1 << 30)  # 1 GiB of zeros, a few MB on disk
    assert bomb.stat().st_size < 20_000_000
    code, _, err = run(capsys, "compose", "--emotion", "sad", "--checkpoint", bomb, "--out", tmp_path / "o.mid")
    one_line_error(code, err, "would unpack to")


def test_a_cache_that_would_unpack_to_gigabytes_or_lies_in_value_is_scored_again(tmp_path, monkeypatch):
    from emolib.faces import remembered

    monkeypatch.setenv("EMOLIB_CACHE", str(tmp_path))
    probs = np.full((5, 2), 0.5)
    calls = []

    def compute():
        calls.append("all")
        return {"probs": probs}

    def spot(rows):
        calls.append(len(rows))
        return {"probs": probs[rows]}

    arrays, fresh = remembered.remembered("t", "n", "f", (5, 2), compute, spot)
    cached = next((tmp_path / "t").glob("*.npz"))
    assert fresh and np.array_equal(arrays["probs"], probs)
    assert not remembered.remembered("t", "n", "f", (5, 2), compute, spot)[1]  # read back, spot-checked
    with zipfile.ZipFile(cached, "w", zipfile.ZIP_DEFLATED) as z:  # 1 GiB of zeros under the cache's name
        with z.open("probs.npy", "w", force_zip64=True) as f:
            for _ in range(1024):
                f.write(bytes(1 << 20))
    with pytest.warns(UserWarning, match="would unpack to"):
        assert remembered.remembered("t", "n", "f", (5, 2), compute, spot)[1]
    np.savez(cached, probs=np.full((5, 2), 0.5)[:, ::-1] * [[1.6, 0.4]])  # the right shape, sums to 1, but wrong
    with pytest.warns(UserWarning, match="not these networks' answers"):
        assert remembered.remembered("t", "n", "f", (5, 2), compute, spot)[1]
    np.savez(cached, probs=np.full((5, 2), 3.0))
    with pytest.warns(UserWarning, match="not probabilities"):
        assert remembered.remembered("t", "n", "f", (5, 2), compute, spot)[1]


def test_a_link_planted_at_a_cache_name_is_removed_and_its_target_untouched(tmp_path, monkeypatch):
    from emolib.faces import remembered

    monkeypatch.setenv("EMOLIB_CACHE", str(tmp_path / "cache"))
    remembered.remembered("t", "n", "f", (2, 2), lambda: {"p": np.eye(2)}, lambda rows: {"p": np.eye(2)[rows]})
    cached = next((tmp_path / "cache" / "t").glob("*.npz"))
    cached.unlink()
    victim = tmp_path / "notes.txt"
    victim.write_text("a user's file")
    cached.symlink_to(victim)
    with pytest.warns(UserWarning, match="is a link"):
        remembered.remembered("t", "n", "f", (2, 2), lambda: {"p": np.eye(2)}, lambda rows: {"p": np.eye(2)[rows]})
    assert victim.read_text() == "a user's file" and not cached.is_symlink() and cached.is_file()


@pytest.mark.parametrize("swap", ["fifo", "dev_zero", "huge"])
def test_a_network_file_beside_the_classifier_is_read_only_as_a_bounded_regular_file(tmp_path, swap):
    import shutil

    from emolib.faces.classifier import load_classifier

    shutil.copy(CHECKPOINTS / "face_classifier.pt", tmp_path / "face_classifier.pt")
    shutil.copytree(CHECKPOINTS / "face_classifier", tmp_path / "face_classifier")
    net = tmp_path / "face_classifier" / "face_classifier_round9.pt"
    net.unlink()
    if swap == "fifo":
        os.mkfifo(net)
    elif swap == "dev_zero":
        net.symlink_to("/dev/zero")
    else:
        with open(net, "wb") as f:
            f.truncate(200_000_000)  # sparse: 200 MB to read, none on disk
    with pytest.raises(EmolibError, match="not a regular file|over 50 MB"):
        load_classifier(tmp_path / "face_classifier.pt")


# --- a checkpoint's settings are checked against its weights before any network is built ------------------------

def test_a_transformer_checkpoint_asking_for_a_huge_network_is_refused_before_building_it(capsys, tmp_path):
    from emolib.music.models import transformer

    ckpt = torch.load(CHECKPOINTS / "transformer_folk.pt", weights_only=True)
    for config, state, expected in (
            ({"n_layer": 4, "n_head": 64, "n_embd": 4096, "block_size": 8192}, {}, "more than the 1 GB"),
            ({"n_layer": 48, "n_head": 64, "n_embd": 4096, "block_size": 8192}, {}, "more than the 1 GB"),
            ({"n_layer": 6}, ckpt["state_dict"], "does not match its weights"),  # settings its weights do not have
            ({}, {}, "does not match its weights")):  # no weights at all
        path = tmp_path / "t.pt"
        torch.save({**ckpt, "config": {**ckpt["config"], **config}, "state_dict": state}, path)
        with pytest.raises(EmolibError, match=expected):
            transformer.load(path)
        code, _, err = run(capsys, "compose", "--emotion", "sad", "--model", "transformer", "--checkpoint", path,
                           "--out", tmp_path / "o.mid")
        one_line_error(code, err, expected)


def test_a_gan_checkpoint_whose_settings_are_not_its_weights_is_refused():
    from emolib.music.models import gan

    ckpt = torch.load(CHECKPOINTS / "midinet_folk.pt", weights_only=True)
    for config in ({"fc": 8192, "gf": 1024}, {"z_dim": 64}):
        buf = io.BytesIO()
        torch.save({**ckpt, "config": {**ckpt["config"], **config}}, buf)
        path = Path(f"/tmp/emolib_gan_{os.getpid()}.pt")
        path.write_bytes(buf.getvalue())
        try:
            with pytest.raises(EmolibError, match="does not match its weights|more than the 1 GB"):
                gan.load(path)
        finally:
            path.unlink()


def test_fuzzed_checkpoints_raise_only_emolibs_errors(tmp_path):
    """A bounded fuzz of checkpoint files, joining the fuzz of images and MIDI files: only emolib's errors come out."""
    from emolib.music.models import gan

    rng = np.random.default_rng(39)
    data = (CHECKPOINTS / "midinet_folk.pt").read_bytes()
    seen = {"ok": 0, "refused": 0}
    for i, bad in enumerate(_mutations(data, rng, 60)):
        path = tmp_path / f"g{i}.pt"
        path.write_bytes(bad)
        try:
            gan.load(path)
            seen["ok"] += 1
        except EmolibError:
            seen["refused"] += 1
    assert seen["refused"] > 10


# --- the audio renderer ends with its parent -------------------------------------------------------------------

@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGUSR1, signal.SIGQUIT])
def test_the_renderer_child_ends_with_its_parent(tmp_path, sig):
    proc = subprocess.Popen([sys.executable, "-m", "emolib", "compose", "--emotion", "sad", "--bars", "256", "--out",
                             tmp_path / "k.mid", "--wav", tmp_path / "k.wav"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    _poll(lambda: _children(proc.pid) or proc.poll() is not None)  # until the renderer is forked
    children = _children(proc.pid)
    os.kill(proc.pid, sig)
    proc.wait(timeout=HANG_GUARD)
    _poll(lambda: not any(_alive(c) for c in children))  # the kernel ends it; a busy machine may take a while
    assert children and not any(_alive(c) for c in children)
    if sig != signal.SIGKILL:  # a parent that can act leaves no temporary file
        assert not list(tmp_path.glob(".emolib-*")) and proc.returncode == 130


def _poll(done, step: float = 0.2) -> None:
    """Check `done` every `step` seconds until it holds, for at most HANG_GUARD seconds of polling (a guard against
    a hang, never a measure of speed: no clock is read)."""
    for _ in range(int(HANG_GUARD / step)):
        if done():
            return
        time.sleep(step)


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


# --- the smaller cases: one line, or emolib's own error --------------------------------------------------------

def test_a_temperature_too_small_to_compute_is_refused(capsys, tmp_path):
    code, _, err = run(capsys, "compose", "--emotion", "sad", "--model", "transformer", "--temperature", "1e-40",
                       "--out", tmp_path / "o.mid")
    one_line_error(code, err, "temperature must be a number from 0.01")


def test_a_meter_of_absurd_numbers_is_named_briefly_and_a_late_opening_is_read(tmp_path):
    import mido

    mid = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    mid.tracks.append(track)
    track.append(mido.MetaMessage("time_signature", numerator=4, denominator=4))
    track.append(mido.Message("note_on", note=60, velocity=80, time=0))
    track.append(mido.Message("note_off", note=60, velocity=0, time=480))
    buf = io.BytesIO()
    mid.save(file=buf)
    raw = bytearray(buf.getvalue())
    at = raw.index(bytes([0xFF, 0x58, 0x04])) + 4
    raw[at] = 200  # the denominator's power of two: 2**200
    with pytest.raises(BadMidi) as e:
        from emolib.music.data.opening import opening_from_midi

        opening_from_midi(bytes(raw))
    assert "absurd" in str(e.value) and len(str(e.value)) < 200
    late = _midi([(67, 3600.0, 3600.5), (69, 3600.5, 3601.0)], tempo=120.0)  # an hour of silence first
    from emolib.music.notes.roll import roll_to_notes

    assert [n.pitch for n in roll_to_notes(opening_from_midi(late).roll)] == [67, 69]


def test_a_newline_in_out_stays_on_one_summary_line(capsys, tmp_path):
    code, out, _ = run(capsys, "compose", "--emotion", "sad", "--bars", "2", "--out", tmp_path / "a\nb.mid")
    assert code == 0 and len(out.strip().splitlines()) == 1 and (tmp_path / "a\nb.mid").exists()


def test_odd_arguments_get_emolibs_own_errors(tmp_path):
    from emolib.emotion import quadrant
    from emolib.files.writing import check_target
    from emolib.music.compose import compose_music
    from emolib.music.data.opening import choose_opening, opening_from_midi
    from emolib.pipeline import compose
    from emolib.widgets import run_demo

    with pytest.raises(EmolibError, match="a path, got 123"):
        check_target(123)
    assert check_target(os.fsencode(tmp_path / "b.mid")) == tmp_path / "b.mid"  # a bytes path is a path
    with pytest.raises(EmolibError, match="NUL byte"):
        check_target(str(tmp_path / "a\x00b.mid"))
    with pytest.raises(BadInput) as e:
        compose(image=np.zeros((200, 200)))
    assert "[[" not in str(e.value) and "ndarray" in str(e.value)
    for bad in (lambda: opening_from_midi(None), lambda: choose_opening("bank", None, np.random.default_rng(0)),
                lambda: quadrant(""), lambda: quadrant(None), lambda: compose(emotion="sad", center_fallback="no"),
                lambda: compose_music("sad", raw="no")):
        with pytest.raises(BadInput):
            bad()
    result = run_demo(None, sample="nope", out_dir=tmp_path)
    assert not result.ok and "no sample face named 'nope'" in result.message and not list(tmp_path.iterdir())


def test_an_unusable_soundfont_is_said_once_and_the_bundled_one_plays(tmp_path, monkeypatch, capsys):
    from emolib.music.render import audio

    fifo = tmp_path / "font.sf2"
    os.mkfifo(fifo)
    for bad in ("/dev/zero", str(fifo)):
        monkeypatch.setenv("EMOLIB_SOUNDFONT", bad)
        audio._WARNED.clear()
        assert audio.find_soundfont().name == "TimGM6mb.sf2"
        assert "EMOLIB_SOUNDFONT cannot be used" in capsys.readouterr().err


def test_a_very_wide_image_is_searched_without_a_gigabyte(tmp_path):
    from test_hostile import _vmhwm_kb

    from PIL import Image

    Image.new("L", (39_999_999, 1), 128).save(tmp_path / "wide.png")
    assert (tmp_path / "wide.png").stat().st_size < 100_000
    peak = _vmhwm_kb("from emolib.faces.detect import detect_face, load_image; detect_face(load_image('wide.png'))",
                     tmp_path)
    assert peak < 600_000  # kB: the image is 40 MB; the search must not cost half a gigabyte more


@pytest.mark.parametrize("kb", [1_000_000, 3_000_000])
def test_a_memory_limit_that_stops_torch_loading_is_one_line(tmp_path, kb):
    # emolib found by its path: an editable install's import hook may itself not load under the limit
    r = subprocess.run(f"ulimit -v {kb}; exec {sys.executable} -m emolib compose --emotion sad --out o.mid", shell=True,
                       capture_output=True, text=True, cwd=tmp_path, timeout=HANG_GUARD,
                       env=dict(os.environ, PYTHONPATH=str(ROOT)))
    if r.returncode == 0:
        pytest.skip(f"this machine loads torch within {kb} kB of address space")
    one_line_error(r.returncode, r.stderr, "is memory limited (ulimit -v)")
