"""What bad input gets: one line that says what is wrong, a non-zero exit, no traceback, no partial or lost file.

Most cases drive the command line in-process (emolib.__main__.main) so the table stays fast; the cases
that need a fresh process (a file-size limit, peak memory) run it as a subprocess.
"""
import json
import os
import stat
import subprocess
import sys

import numpy as np
import pytest

from emolib.__main__ import main
from emolib.errors import BadInput, EmolibError

from conftest import HANG_GUARD

ROOT_USER = hasattr(os, "geteuid") and os.geteuid() == 0


def run(capsys, *args) -> tuple[int, str, str]:
    """The CLI in-process: (exit code, stdout, stderr); a SystemExit from argparse counts as its code."""
    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(code, err, expected: str) -> None:
    assert code not in (0, None), err
    assert "Traceback" not in err and "weights_only" not in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert expected in err, err


def _png(path, array) -> None:
    from PIL import Image

    Image.fromarray(array).save(path)


# --- compose: every bad argument is one line, and nothing is written ------------------------------------

LONG = "x" * 300 + ".png"


@pytest.mark.parametrize("args, expected", [
    (["--emotion", "sad", "--bars", "0"], "bars must be a whole number from 1 to 256"),
    (["--emotion", "sad", "--bars", "99999999999"], "bars must be a whole number from 1 to 256"),
    (["--emotion", "sad", "--seed", str(2**70)], "seed must be a whole number from 0 to 4294967295"),
    (["--emotion", "sad", "--seed", "-1"], "seed must be a whole number"),
    (["--emotion", "sad", "--leap-penalty", "11"], "leap_penalty must be a number from 0 (off) to 10"),
    (["--emotion", "sad", "--leap-penalty", "nan"], "leap_penalty must be a number from 0 (off) to 10"),
    (["--emotion", "sad", "--leap-penalty", "lots"], "invalid float value"),
    (["--emotion", "gloomy"], "unknown emotion 'gloomy'"),
    (["--emotion", "sad", "--image", "face.png"], "not allowed with argument"),
    (["--image", LONG], "cannot open (File name too long)"),
    (["--image", "."], "is a folder, not an image"),
    (["--image", "/dev/zero"], "not a regular file"),
    (["--image", "missing.jpg"], "no such file"),
])
def test_compose_bad_arguments(tmp_path, capsys, monkeypatch, args, expected):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "compose", *args, "--out", tmp_path / "song.mid")
    one_line_error(code, err, expected)
    assert list(tmp_path.iterdir()) == []


def test_compose_accepts_any_case_emotion(tmp_path, capsys):
    code, out, err = run(capsys, "compose", "--emotion", "HAPPY", "--bars", "4", "--out", tmp_path / "a.mid")
    assert code == 0 and "happy" in out, err


def test_fifo_as_image_is_refused_without_blocking(tmp_path, capsys):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    code, _, err = run(capsys, "compose", "--image", fifo, "--out", tmp_path / "a.mid")
    one_line_error(code, err, "not a regular file")


@pytest.mark.skipif(ROOT_USER, reason="root reads files whatever their mode; run the tests as a normal user to check this")
def test_unreadable_image(tmp_path, capsys):
    img = tmp_path / "face.png"
    _png(img, np.zeros((64, 64), np.uint8))
    img.chmod(0)
    code, _, err = run(capsys, "compose", "--image", img, "--out", tmp_path / "a.mid")
    one_line_error(code, err, "permission denied")


# --- outputs: never lost, never partial, never through a device or a link ---------------------------

@pytest.mark.parametrize("make, out_name, extra, expected", [
    ("dir", "song.mid", [], "is a folder"),
    (None, "x" * 300 + ".mid", [], "file name is longer than 255 bytes"),
    (None, "no/such/dir/a.mid", [], "missing or not writable"),
    (None, "same.mid", ["--wav", "{tmp}/same.mid"], "both name"),
    ("file", "song.mid", [], "exists; pass --force"),
])
def test_compose_bad_outputs(tmp_path, capsys, make, out_name, extra, expected):
    out = tmp_path / out_name
    if make == "dir":
        out.mkdir()
    elif make == "file":
        out.write_bytes(b"precious")
    before = sorted(p.name for p in tmp_path.iterdir())
    code, _, err = run(capsys, "compose", "--emotion", "calm", "--bars", "4", "--out", out,
                       *[e.format(tmp=tmp_path) for e in extra])
    one_line_error(code, err, expected)
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    if make == "file":
        assert out.read_bytes() == b"precious"


def test_force_never_replaces_a_device(capsys):
    code, _, err = run(capsys, "compose", "--emotion", "calm", "--bars", "4", "--out", "/dev/null", "--force")
    one_line_error(code, err, "system file system")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_outputs_get_normal_permissions_and_force_keeps_them(tmp_path, capsys):
    umask = os.umask(0o022)
    try:
        mid = tmp_path / "a.mid"
        assert run(capsys, "compose", "--emotion", "sad", "--bars", "4", "--out", mid)[0] == 0
        assert stat.S_IMODE(mid.stat().st_mode) == 0o644
        mid.chmod(0o640)
        assert run(capsys, "compose", "--emotion", "sad", "--bars", "4", "--out", mid, "--force")[0] == 0
        assert stat.S_IMODE(mid.stat().st_mode) == 0o640
    finally:
        os.umask(umask)


def test_no_overwrite_is_atomic_when_the_name_appears_meanwhile(tmp_path):
    """Check and write are one step: a file that appears while we write is kept, and we fail cleanly."""
    from emolib.files.writing import write_files

    target = tmp_path / "song.mid"

    def writer(tmp):
        target.write_bytes(b"the other run's song")  # another process wins the race here
        open(tmp, "wb").write(b"ours")

    with pytest.raises(EmolibError, match="appeared while emolib was writing"):
        write_files([(target, writer)])
    assert target.read_bytes() == b"the other run's song" and [p.name for p in tmp_path.iterdir()] == ["song.mid"]


def test_dangling_symlink_is_never_written_through(tmp_path):
    from emolib.files.writing import free_path

    (tmp_path / "emolib_calm.mid").symlink_to(tmp_path / "elsewhere" / "target.mid")
    assert free_path(tmp_path, "emolib_calm", ".mid").name == "emolib_calm_1.mid"


def test_a_write_failure_leaves_neither_file(tmp_path):
    """ulimit -f: the WAV cannot be written, so the MIDI must not appear alone either."""
    mid, wav = tmp_path / "s.mid", tmp_path / "s.wav"
    cmd = f"ulimit -f 100; exec {sys.executable} -m emolib compose --emotion happy --out {mid} --wav {wav}"
    r = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True)
    one_line_error(r.returncode, r.stderr, "could not write")
    assert list(tmp_path.iterdir()) == []


# --- checkpoints: every bad file is one line, checked before anything big is allocated ---------------

def _bad_checkpoints(tmp_path):
    import torch

    from emolib.music.models.registry import MODELS

    GAN_CHECKPOINT, TRANSFORMER_CHECKPOINT = MODELS["gan"].path, MODELS["transformer"].path
    good = torch.load(GAN_CHECKPOINT, weights_only=True)
    cases = {}
    (tmp_path / "text.pt").write_text("hello")
    cases["text"] = (tmp_path / "text.pt", "not a readable GAN checkpoint")
    (tmp_path / "empty.pt").write_bytes(b"")
    cases["empty"] = (tmp_path / "empty.pt", "not a readable GAN checkpoint")
    (tmp_path / "cut.pt").write_bytes(GAN_CHECKPOINT.read_bytes()[:5000])
    cases["truncated"] = (tmp_path / "cut.pt", "not a readable GAN checkpoint")
    cases["another model's"] = (TRANSFORMER_CHECKPOINT, "not an emolib GAN checkpoint (it has no generator)")
    extra = dict(good, generator=dict(good["generator"], surplus=torch.zeros(3)))
    torch.save(extra, tmp_path / "extra.pt")
    cases["extra keys"] = (tmp_path / "extra.pt", "do not fit the GAN generator")
    huge = dict(good, config=dict(good["config"], z_dim=10**9))
    torch.save(huge, tmp_path / "huge.pt")
    cases["z_dim=10**9"] = (tmp_path / "huge.pt", "z_dim=1000000000, outside 1..1024")
    odd = dict(good, config=dict(good["config"], colour="blue"))
    torch.save(odd, tmp_path / "odd.pt")
    cases["unknown setting"] = (tmp_path / "odd.pt", "settings this emolib does not know (colour)")
    return cases


def test_bad_checkpoints_are_one_line(tmp_path, capsys):
    import resource

    for name, (path, expected) in _bad_checkpoints(tmp_path).items():
        code, _, err = run(capsys, "compose", "--emotion", "sad", "--checkpoint", path, "--out", tmp_path / "o.mid")
        one_line_error(code, err, expected)
        assert not (tmp_path / "o.mid").exists(), name
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss < 4_000_000  # kB: no 10**9-wide layer was built


def test_bad_classifier_checkpoint(tmp_path):
    from emolib.faces.classifier import load_classifier

    (tmp_path / "t.pt").write_text("not torch")
    with pytest.raises(EmolibError, match="not a readable face classifier checkpoint"):
        load_classifier(tmp_path / "t.pt")


# --- classify: streams one JSON line per input, failures included, each with its path ---------------

def test_classify_streams_a_line_per_input_with_failures_named(tmp_path, capsys):
    from emolib.pipeline import SAMPLE_FACE

    blank = tmp_path / "blank.png"
    _png(blank, np.full((120, 120), 128, np.uint8))
    text = tmp_path / "notes.png"
    text.write_text("text")
    code, out, err = run(capsys, "classify", "--image", SAMPLE_FACE, "--image", blank, "--image", text,
                         "--image", tmp_path / LONG)
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 1 and len(lines) == 4 and "Traceback" not in err
    assert lines[0]["emotion"] and "error" not in lines[0]
    assert lines[1]["image"] == str(blank) and "no face found" in lines[1]["error"] and str(blank) in lines[1]["error"]
    assert lines[2]["image"] == str(text) and "not an image" in lines[2]["error"]
    assert "File name too long" in lines[3]["error"]
    assert sum("error:" in line for line in err.splitlines()) == 3


def test_classify_yields_results_before_the_input_ends(tmp_path):
    from emolib.faces.data.synthetic import synthetic_faces
    from emolib.pipeline import iter_classify

    paths = []
    for i, img in enumerate(synthetic_faces(2, seed=0).images[:4]):
        paths.append(tmp_path / f"{i}.png")
        _png(paths[-1], img)

    def images():
        yield from paths
        raise KeyboardInterrupt  # the user stops a long run here

    got = []
    with pytest.raises(KeyboardInterrupt):
        for r in iter_classify(images(), detect=False, batch_size=2):
            got.append(r)
    assert len(got) == 4  # every finished batch was already out


# --- the library refuses nonsense with BadInput -------------------------------------------------------

@pytest.mark.parametrize("kwargs, expected", [
    ({"emotion": "sad", "decoding": {"grid": 3}}, "grid must be one of 1, 2, 4, 8, 16"),
    ({"emotion": "sad", "bars": True}, "bars must be a whole number"),
    ({"emotion": "sad", "bars": 2.5}, "bars must be a whole number"),
    ({"emotion": "sad", "bars": 10_000}, "from 1 to 256"),
    ({"image": 123}, "an image is a file path or the bytes of an upload"),
    ({"emotion": "sad", "model": "lstm"}, "unknown model"),
    ({"emotion": "sad", "decoding": {"leap_penalty": -1}}, "leap_penalty must be a number from 0"),
    ({"emotion": "sad", "decoding": {"leap_penalty": "high"}}, "leap_penalty must be a number from 0"),
    ({"emotion": "sad", "model": "transformer", "decoding": {"leap_penalty": 11}}, "leap_penalty must be a number from 0"),
    ({"emotion": "sad", "decoding": {"temperature": 0}}, "temperature must be a number from 0.01"),
    ({"emotion": "grumpy"}, "unknown emotion"),
])
def test_compose_refuses(kwargs, expected):
    from emolib.pipeline import compose

    with pytest.raises(BadInput, match=expected):
        compose(**kwargs)


def test_compose_accepts_numpy_integers_and_both_image_and_emotion():
    from emolib.pipeline import SAMPLE_FACE, compose

    r = compose(emotion="sad", bars=np.int64(8), seed=np.int64(3))
    assert r.roll.shape[0] == 8 * 16
    both = compose(image=SAMPLE_FACE, emotion="calm", bars=4)  # the face is shown, the emotion overrides it
    assert both.emotion == "calm" and both.classification is not None


# --- resources stay bounded ---------------------------------------------------------------------------

def test_huge_photo_is_shrunk_before_detection(tmp_path):
    """A 6000x6000 photo: the face is searched on a small copy, the box scaled back, memory bounded."""
    from PIL import Image

    from emolib.pipeline import SAMPLE_FACE

    big = tmp_path / "big.png"
    with Image.open(SAMPLE_FACE) as im:
        im.convert("L").resize((6000, 6000)).save(big)
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss across exec, so it would count pytest's own memory
    code = ("import sys; from emolib.faces.detect import load_image, detect_face, crop_face; "
            f"g = load_image({str(big)!r}); box = detect_face(g); crop_face(g); "
            "print(box, next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=HANG_GUARD)
    assert r.returncode == 0, r.stderr
    box_text, peak_kb = r.stdout.rsplit(" ", 1)
    from emolib.faces.detect import detect_face, load_image

    gray = load_image(SAMPLE_FACE)
    small = detect_face(gray)
    x, y, w, h = eval(box_text)
    scale = 6000 / gray.shape[1]
    assert abs(w - small[2] * scale) < 0.15 * w and abs(x - small[0] * scale) < 0.15 * w
    assert int(peak_kb) < 1_200_000, f"peak {int(peak_kb) / 1e6:.1f} GB"


# --- the widget reports every failure and stays usable ------------------------------------------------

def test_widget_with_unwritable_folder_reports_and_recovers(tmp_path):
    from emolib.widgets import Demo

    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    demo = Demo(out_dir=blocker / "sub")
    demo.button.click()
    assert not demo.result.ok and "Composing" not in demo.status.value and not demo.button.disabled
    assert "output folder" in demo.result.message
    demo.out_dir = tmp_path / "ok"
    demo.button.click()
    assert demo.result.ok and demo.result.midi_path.is_file()
