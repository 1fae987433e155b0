"""The end-to-end pipeline, the widget demo (driven without a browser) and the command line."""
import datetime
import io
import subprocess
import sys

import numpy as np
import pytest


def _upload(name: str, content: bytes) -> tuple[dict]:
    return ({"name": name, "type": "", "size": len(content), "content": memoryview(content),
             "last_modified": datetime.datetime(2026, 1, 1)},)


def _png(array: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(array).save(buf, "PNG")
    return buf.getvalue()


def test_compose_from_sample_face_holds_everything():
    from emolib.pipeline import compose

    r = compose(seed=1)
    assert r.classification is not None and r.box is not None and len(r.box) == 4
    assert abs(sum(r.probabilities.values()) - 1) < 1e-6
    assert r.quadrant.name == r.emotion and r.roll.shape == (16 * 16, 128)
    assert len(r.midi.instruments) == 2 and abs(r.midi.get_end_time() - 16 * 4 * 60 / r.midi.get_tempo_changes()[1][0]) < 1e-6
    wave, rate = r.audio()
    assert rate > 0 and wave.ndim == 1 and np.abs(wave).max() > 0
    again = compose(seed=1)
    assert np.array_equal(again.roll, r.roll) and again.probabilities == r.probabilities


def test_compose_given_emotion_skips_the_face():
    from emolib.pipeline import compose

    r = compose(emotion="sad", seed=0, bars=8)
    assert r.classification is None and r.box is None and r.emotion == "sad" and r.roll.shape[0] == 8 * 16


# angry and calm: the two quadrants whose melody the expressive rendering plays an octave off; neutral: no shift
@pytest.mark.parametrize("emotion, rendering", [("angry", "expressive"), ("calm", "expressive"), ("calm", "neutral")])
def test_composition_figure_draws_what_the_midi_plays(emotion, rendering):
    import matplotlib

    matplotlib.use("Agg")
    from emolib import viz
    from emolib.music.notes.roll import STEPS_PER_BAR
    from emolib.pipeline import compose

    r = compose(emotion=emotion, seed=2, bars=4, rendering=rendering)
    fig = viz.plot_composition(r)
    roll_ax = fig.axes[-1]
    drawn = {name: sorted(int(round(b.get_y() + b.get_height() / 2)) for b in c)
             for c in roll_ax.containers for name in [c.get_label()]}
    step = 60 / r.midi.get_tempo_changes()[1][0] / (STEPS_PER_BAR // 4)
    played = {name: sorted(n.pitch for n in inst.notes) for inst in r.midi.instruments
              for name in ["melody" if inst.name == "melody" else "accompaniment (the rendering's)"]}
    if rendering == "neutral":  # one layer, the melody as written: no legend needed, nothing to tell apart
        drawn = {"melody": sorted(int(round(b.get_y() + b.get_height() / 2)) for b in roll_ax.containers[-1])}
    assert drawn == played  # same pitches, same register, for the melody and the accompaniment
    starts = sorted(round(b.get_x()) for b in roll_ax.containers[-1])
    assert starts == sorted(round(n.start / step) for n in r.midi.instruments[0].notes)
    if rendering == "expressive":
        legend = roll_ax.get_legend()
        assert {t.get_text() for t in legend.get_texts()} >= {"melody", "accompaniment (the rendering's)"}
        fig.canvas.draw()  # the legend sits beside the roll, so it cannot hide a note
        assert legend.get_window_extent().x0 >= roll_ax.get_window_extent().x1
    viz._plt().close(fig)


def test_upload_bytes_work_like_a_file(tmp_path):
    from emolib.pipeline import SAMPLE_FACE, classify

    a = classify(SAMPLE_FACE)
    b = classify(SAMPLE_FACE.read_bytes())
    assert a.probabilities == b.probabilities and a.box == b.box


def test_widget_demo_composes_and_survives_bad_uploads(tmp_path):
    from emolib.widgets import UPLOAD, Demo

    demo = Demo(out_dir=tmp_path)
    demo.button.click()  # the bundled sample face
    assert demo.result.ok, demo.result.message
    first = demo.result.midi_path
    assert first.is_file() and "Download" in demo.download.value
    assert demo.result.wav_path.read_bytes()[:4] == b"RIFF" and demo.download.value.count("Download") == 2
    demo.button.click()  # same settings again: a new file, the first one is kept
    assert demo.result.midi_path != first and first.is_file()
    demo.emotion.value, demo.model.value = "calm", "transformer"  # override the face, switch the model
    demo.button.click()
    assert demo.result.ok and demo.result.composition.emotion == "calm" and demo.result.composition.model == "transformer"
    assert demo.result.composition.classification is not None and "you chose" in demo.status.value
    demo.emotion.value, demo.model.value = "from the face", "gan"

    bad = {
        "notes.txt": (b"hello, not a photo", "not an image"),
        "blank.png": (_png(np.full((120, 120), 128, np.uint8)), "no face"),
        "huge.jpg": (b"\xff\xd8" + b"0" * 21_000_000, "MB"),
    }
    for name, (content, expected) in bad.items():
        demo.upload.value = _upload(name, content)
        assert demo.source.value == UPLOAD
        demo.button.click()
        assert not demo.result.ok and expected in demo.status.value, (name, demo.status.value)
        assert not demo.button.disabled and demo.download.value == ""
    demo.fallback.value = True  # centre crop instead of refusing a photo without a detectable face
    demo.upload.value = _upload("blank.png", bad["blank.png"][0])
    demo.button.click()
    assert demo.result.ok, demo.result.message
    demo.source.value = next(iter(__import__("emolib.widgets", fromlist=["SAMPLES"]).SAMPLES))
    demo.button.click()
    assert demo.result.ok


def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "emolib", *map(str, args)], capture_output=True, text=True, cwd=cwd)


@pytest.mark.parametrize("args, expected", [
    (["--image", "missing.jpg"], "no such file"),
    (["--emotion", "gloomy"], "unknown emotion"),
    (["--emotion", "sad", "--bars", "0"], "bars"),
    (["--emotion", "sad", "--bars", "-4"], "bars"),
])
def test_cli_compose_bad_input_is_one_line_and_writes_nothing(tmp_path, args, expected):
    out = tmp_path / "song.mid"
    r = _cli("compose", *args, "--out", out, cwd=tmp_path)
    assert r.returncode != 0 and "Traceback" not in r.stderr and expected in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and not out.exists() and list(tmp_path.iterdir()) == []


def test_cli_text_file_as_image_and_unwritable_output(tmp_path):
    text = tmp_path / "face.jpg"
    text.write_text("just text")
    r = _cli("compose", "--image", text, "--out", tmp_path / "a.mid")
    assert r.returncode == 1 and "not an image" in r.stderr and not (tmp_path / "a.mid").exists()
    r = _cli("compose", "--emotion", "calm", "--out", tmp_path / "no" / "such" / "dir" / "a.mid")
    assert r.returncode != 0 and "not writable" in r.stderr and "Traceback" not in r.stderr


def test_cli_wav_and_force(tmp_path):
    mid, wav = tmp_path / "s.mid", tmp_path / "s.wav"
    r = _cli("compose", "--emotion", "angry", "--bars", "4", "--out", mid, "--wav", wav)
    assert r.returncode == 0, r.stderr
    assert wav.read_bytes()[:4] == b"RIFF" and mid.stat().st_size > 0
    before = mid.read_bytes()
    r = _cli("compose", "--emotion", "happy", "--bars", "4", "--out", mid)
    assert r.returncode != 0 and "--force" in r.stderr and mid.read_bytes() == before
    r = _cli("compose", "--emotion", "happy", "--bars", "4", "--out", mid, "--force")
    assert r.returncode == 0 and mid.read_bytes() != before


def test_cli_classify_batches_json_lines_and_reports_bad_files(tmp_path):
    import json

    from emolib.pipeline import SAMPLE_FACE

    faces = tmp_path / "faces"
    faces.mkdir()
    rng = np.random.default_rng(0)
    for i in range(5):
        (faces / f"f{i}.png").write_bytes(_png(rng.integers(0, 255, (48, 48), dtype=np.uint8)))
    (faces / "broken.png").write_text("not a png")
    r = _cli("classify", "--no-detect", "--image", faces, "--image", SAMPLE_FACE)
    lines = [json.loads(l) for l in r.stdout.splitlines()]
    assert r.returncode == 1 and "broken.png" in r.stderr and len(lines) == 7
    failed = [obj for obj in lines if "error" in obj]
    assert len(failed) == 1 and failed[0]["image"].endswith("broken.png")
    for obj in (obj for obj in lines if "error" not in obj):
        assert set(obj) == {"image", "emotion", "probabilities", "box", "valence", "arousal", "quadrant", "music_emotion"}
        assert abs(sum(obj["probabilities"].values()) - 1) < 1e-6
    again = _cli("classify", "--no-detect", "--image", faces, "--image", SAMPLE_FACE)
    assert again.stdout == r.stdout


def test_cli_transformer_and_missing_checkpoint(tmp_path):
    out = tmp_path / "t.mid"
    r = _cli("compose", "--emotion", "calm", "--model", "transformer", "--bars", "8", "--out", out)
    assert r.returncode == 0 and out.stat().st_size > 0, r.stderr
    r = _cli("compose", "--emotion", "calm", "--checkpoint", tmp_path / "none.pt", "--out", tmp_path / "x.mid")
    assert r.returncode == 1 and "checkpoint not found" in r.stderr and not (tmp_path / "x.mid").exists()


def _scale_midi(path, *, drums_only: bool = False, notes: bool = True):
    """A one-line C major scale in eighths (4 bars at 120 bpm), optionally only on drums or with no notes."""
    import pretty_midi

    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    inst = pretty_midi.Instrument(0, is_drum=drums_only)
    if notes:
        for i, p in enumerate([60, 62, 64, 65, 67, 69, 71, 72] * 4):
            inst.notes.append(pretty_midi.Note(90, p, i * 0.25, i * 0.25 + 0.2))
    pm.instruments.append(inst)
    pm.write(str(path))
    return path


@pytest.mark.parametrize("model", ["gan", "transformer"])
def test_openings_bank_scratch_and_a_users_midi(tmp_path, model):
    from emolib.music.notes.roll import roll_to_notes
    from emolib.pipeline import compose

    banked = compose(emotion="calm", seed=2, model=model, opening="bank")
    assert banked.opening.startswith("opening bank") and banked.opening_bars == 4
    scratch = compose(emotion="calm", seed=2, model=model)  # the default: the model writes every bar
    assert scratch.opening == "from scratch" and scratch.opening_bars == 0 and scratch.roll.shape == (256, 128)
    assert scratch.roll[:64].any() and not np.array_equal(scratch.roll[:64], banked.roll[:64])
    mine = compose(emotion="sad", seed=2, model=model, opening=_scale_midi(tmp_path / "scale.mid"))
    notes = [n for n in roll_to_notes(mine.roll) if n.start < 64]
    assert [n.pitch for n in notes] == [60, 62, 64, 65, 67, 69, 71, 72] * 4 and [n.start for n in notes] == list(range(0, 64, 2))
    assert mine.opening == "your MIDI: scale.mid" and (mine.tonic, mine.mode) == (0, "major") and mine.roll[64:].any()


@pytest.mark.parametrize("case, expected", [
    ("text", "not a MIDI file"), ("empty", "the file is empty"), ("silent", "has no notes"), ("drums", "only drum notes"),
    ("missing", "no such file"),
])
def test_cli_opening_bad_files_are_one_line(tmp_path, case, expected):
    path = tmp_path / f"{case}.mid"
    if case == "text":
        path.write_text("MThd? no, just text")
    elif case == "empty":
        path.write_bytes(b"")
    elif case in ("silent", "drums"):
        _scale_midi(path, drums_only=case == "drums", notes=case == "drums")
    out = tmp_path / "song.mid"
    r = _cli("compose", "--emotion", "happy", "--opening", path, "--out", out)
    assert r.returncode == 1 and expected in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and not out.exists()


def test_widget_opening_choices(tmp_path):
    from emolib.widgets import Demo

    demo = Demo(out_dir=tmp_path)
    demo.emotion.value, demo.opening.value = "sad", "scratch"
    demo.button.click()
    assert demo.result.ok and demo.result.composition.opening == "from scratch", demo.result.message
    assert "<table class='emolib-probabilities'>" in demo.probabilities.value and demo.probabilities.value.count("<tr>") == 8
    demo.opening.value = "upload"
    demo.button.click()  # "my MIDI file" without a file: a message, not a crash
    assert not demo.result.ok and "upload a MIDI file" in demo.status.value
    demo.midi_upload.value = _upload("drums.mid", _scale_midi(tmp_path / "d.mid", drums_only=True).read_bytes())
    demo.button.click()
    assert not demo.result.ok and "only drum notes" in demo.status.value and "another MIDI file" in demo.status.value
    demo.midi_upload.value = _upload("scale.mid", _scale_midi(tmp_path / "s.mid").read_bytes())
    demo.button.click()
    assert demo.result.ok and demo.result.composition.opening.startswith("your MIDI"), demo.result.message

