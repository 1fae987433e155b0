import numpy as np
import pytest

from emolib.music.eval.metrics import evaluate, notes_from_midi, notes_from_roll, pitch_class_entropy, qualified_note_rate
from emolib.music.notes.chords import Chord, accompaniment, bar_chords, chord_vector
from emolib.music.notes.key import detect_key
from emolib.music.notes.roll import SEGMENT_STEPS, midi_to_roll, notes_to_roll, roll_to_midi, roll_to_notes

C_MAJOR = [60, 62, 64, 65, 67, 69, 71, 72]


def scale_roll(pitches, step=4):
    return notes_to_roll([(p, i * step, i * step + step) for i, p in enumerate(pitches)])


def test_a_segment_is_four_whole_bars_and_an_opening_is_one():
    """The earlier student version called one bar a "4-bar segment": here a segment is 64 steps, four 16-step bars,
    and every opening a model continues (the opening bank's, a MIDI file's) is one segment."""
    from emolib.music.data.bank import OPENING_BARS, load_bank
    from emolib.music.notes.roll import BARS_PER_SEGMENT, STEPS_PER_BAR

    assert SEGMENT_STEPS == BARS_PER_SEGMENT * STEPS_PER_BAR == 64 and OPENING_BARS == BARS_PER_SEGMENT == 4
    bank = load_bank()
    assert len(bank) == 4 * 48 and all(len(p.roll) == SEGMENT_STEPS and p.bars == 4 for p in bank)
    assert all(p.roll[16:].any() for p in bank)  # notes past the first bar: a real phrase, not one bar padded


def test_roll_midi_round_trip_keeps_repeated_and_held_notes():
    roll = notes_to_roll([(60, 0, 4), (60, 4, 8), (64, 8, 16)])
    back = midi_to_roll(roll_to_midi(roll, tempo=97))
    assert roll_to_notes(back) == roll_to_notes(roll)
    assert len(roll_to_notes(roll)) == 3


def test_one_draw_function_takes_top_k_top_p_and_temperature():
    import torch

    from emolib.music.models.sampling import draw

    w = torch.tensor([0.1, 0.6, 0.3, 0.0]).log()  # a model's scores; -inf rules the last choice out
    gen = torch.Generator().manual_seed(0)
    state = gen.get_state()
    assert draw(w, generator=gen, top_k=1) == 1 and torch.equal(gen.get_state(), state)  # greedy: no draw
    assert {draw(w, generator=gen, top_k=2) for _ in range(200)} == {1, 2}  # never outside the top 2, never a zero
    assert {draw(w, generator=gen, top_p=0.5) for _ in range(50)} == {1}  # the nucleus holding half the mass
    assert {draw(w, generator=gen, top_p=0.95) for _ in range(300)} == {0, 1, 2}
    cold = [draw(w, generator=gen, temperature=0.05) for _ in range(100)]
    assert cold.count(1) > 95  # a low temperature all but always takes the favourite
    allowed = torch.tensor([True, False, True, True])
    assert {draw(w, generator=gen, allowed=allowed) for _ in range(100)} <= {0, 2}  # only what the grammar allows


def _torch_draw(logits, *, generator, allowed=None, temperature=1.0, top_k=None, top_p=None) -> int:
    """How draw chose through torch before it computed the same in numpy (the reference for the test below)."""
    import torch

    logits = logits / temperature
    if allowed is not None:
        logits[~allowed] = -float("inf")
    probs = torch.softmax(logits, -1)
    order = torch.argsort(probs, descending=True, stable=True)
    keep = torch.ones(len(order), dtype=torch.bool)
    if top_k is not None:
        keep[top_k:] = False
    if top_p is not None:
        keep &= torch.cumsum(probs[order], 0) - probs[order] < top_p
    p = torch.zeros_like(probs)
    p[order[keep]] = probs[order[keep]]
    return int(torch.multinomial(p / p.sum(), 1, generator=generator))


def test_draw_chooses_as_torch_multinomial_does():
    """draw computes in numpy what torch.multinomial would choose from the same generator (the largest probability
    over Exp(1) noise), after temperature, top_k, top_p and the allowed mask: the same seed gives the same notes as
    when drawing went through torch. Ruling every option out is an error, not option 0."""
    import torch

    from emolib.music.models.sampling import draw

    rng = np.random.default_rng(0)
    settings = [{}, {"top_p": 0.8}, {"top_k": 5}, {"temperature": 0.5, "top_p": 0.95}, {"temperature": 2.0}]
    for dtype, n in ((torch.float64, 3), (torch.float32, 37), (torch.float32, 300)):
        ours, theirs = torch.Generator().manual_seed(n), torch.Generator().manual_seed(n)
        for i in range(250):
            logits = torch.from_numpy(rng.normal(0, 2, n)).to(dtype)
            allowed = torch.from_numpy(rng.random(n) < 0.7) if i % 2 else None
            if allowed is not None:
                allowed[0] = True
            how = settings[i % len(settings)]
            assert draw(logits.clone(), generator=ours, allowed=allowed, **how) == \
                _torch_draw(logits.clone(), generator=theirs, allowed=allowed, **how), (dtype, n, i, how)
    with pytest.raises(ValueError, match="ruled out"):
        draw(torch.tensor([0.0, 1.0]), generator=ours, allowed=torch.tensor([False, False]))


def test_leap_weights_only_lower_leaps_beyond_a_fourth():
    from emolib.music.models.sampling import leap_weights

    w = leap_weights(60, 0.3)
    assert w[55:66].tolist() == [1.0] * 11  # within a fourth: untouched
    assert w[67] == pytest.approx(np.exp(-0.6)) and w[84] < w[67]  # beyond: the further, the lower
    assert leap_weights(None, 0.3).tolist() == [1.0] * 128 and leap_weights(60, 0.0).tolist() == [1.0] * 128


def test_metrics_known_answers():
    n = notes_from_roll(scale_roll(C_MAJOR), tempo=120)
    m = evaluate(n)
    assert m["scale_consistency"] == 1.0 and m["polyphony"] == 1.0 and m["empty_beat_rate"] == 0.0
    assert m["note_density"] == pytest.approx(2.0)  # a quarter note per beat at 120 bpm
    assert pitch_class_entropy(notes_from_roll(scale_roll([60] * 4))) == 0.0
    assert pitch_class_entropy(n) == pytest.approx(-(2 / 8 * np.log2(2 / 8) + 6 / 8 * np.log2(1 / 8)))


def test_qualified_notes_measured_at_full_resolution():
    import pretty_midi

    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    inst = pretty_midi.Instrument(0)
    inst.notes = [pretty_midi.Note(80, 60, 0.0, 0.03), pretty_midi.Note(80, 62, 0.5, 1.0)]
    pm.instruments.append(inst)
    assert qualified_note_rate(notes_from_midi(pm)) == 0.5


def test_mode_detection():
    assert detect_key(scale_roll(C_MAJOR * 2))[:2] == (0, "major")
    a_minor = [57, 59, 60, 62, 64, 65, 68, 69, 64, 60, 57]
    assert detect_key(scale_roll(a_minor))[:2] == (9, "minor")


def test_chords_from_data_and_accompaniment():
    roll = notes_to_roll([(p, s, s + 4) for s, p in zip(range(0, 16, 4), [60, 64, 67, 64])] +
                         [(p, s, s + 4) for s, p in zip(range(16, 32, 4), [57, 60, 64, 60])])
    chords = bar_chords(roll, key=(0, "major"))
    assert chords == [Chord(0, False), Chord(9, True)]
    assert chord_vector(Chord(9, True)).tolist()[9] == 1 and chord_vector(Chord(9, True))[12] == 1
    acc = accompaniment(chords)
    assert acc.shape == (32, 128) and acc.sum(axis=1).max() == 4


def test_emopia_loader_on_tiny_files(tmp_path, recwarn):
    from emolib.music.data.emopia import load_emopia

    (tmp_path / "midis").mkdir()
    (tmp_path / "split").mkdir()
    for name, pitches in {"Q1_abc_0": C_MAJOR, "Q3_def_1": [57, 60, 64, 57, 60, 64]}.items():
        roll_to_midi(scale_roll(pitches)).write(str(tmp_path / "midis" / f"{name}.mid"))
    (tmp_path / "midis" / "Q2_bad_0.mid").write_bytes(b"garbage")
    (tmp_path / "split" / "train_clip.csv").write_text(",clip_name\n0,Q1_abc_0.mid\n1,Q2_bad_0.mid\n2,Q3_def_1.mid\n")
    clips = load_emopia(tmp_path, split="train", progress=False)
    assert [c.quadrant.name for c in clips] == ["happy", "sad"]
    assert any("Q2_bad_0.mid" in str(w.message) for w in recwarn)


def test_midi_lasts_as_long_as_its_roll_even_ending_on_a_rest():
    roll = notes_to_roll([(60, 0, 8)], length=4 * 16)  # one note, then three and a half bars of rest
    pm = roll_to_midi(roll, tempo=120)
    assert abs(pm.get_end_time() - 4 * 4 * 0.5) < 1e-9
    assert midi_to_roll(pm).shape[0] == 64


def test_reference_table_separates_quadrants():
    from emolib.emotion import quadrant
    from emolib.music.eval.benchmark import melody_rows, reference_table
    from emolib.music.notes.piece import Piece

    fast = notes_to_roll([(p, i * 2, i * 2 + 2) for i, p in enumerate([60, 62, 64, 65, 67, 69, 71, 72] * 4)])
    slow = notes_to_roll([(p, i * 8, i * 8 + 8) for i, p in enumerate([57, 59, 60, 62, 64, 65, 68, 69])])
    rows = melody_rows([Piece(fast, [], 0, "major", quadrant("happy")), Piece(slow, [], 9, "minor", quadrant("sad"))])
    table = reference_table(rows)
    assert table["happy"]["notes_per_beat"][0] == 2.0 and table["sad"]["notes_per_beat"][0] == 0.5
    assert table["happy"]["minor_share"][0] == 0.0 and table["sad"]["minor_share"][0] == 1.0


def _harmonics(wave: np.ndarray, rate: int, f0: float = 440.0) -> list[float]:
    """Spectral peaks at 2, 3 and 4 times f0, relative to the peak at f0 (a sine has none)."""
    seg = wave[int(0.05 * rate):int(0.55 * rate)]
    spec = np.abs(np.fft.rfft(seg * np.hanning(len(seg))))
    freq = np.fft.rfftfreq(len(seg), 1 / rate)

    def peak(f):
        return spec[(freq > 0.97 * f) & (freq < 1.03 * f)].max()

    return [peak(k * f0) / peak(f0) for k in (2, 3, 4)]


def _one_note():
    import pretty_midi

    pm = pretty_midi.PrettyMIDI()
    piano = pretty_midi.Instrument(program=0)
    piano.notes.append(pretty_midi.Note(velocity=90, pitch=69, start=0.0, end=1.0))  # A4, 440 Hz
    pm.instruments.append(piano)
    return pm


def test_audio_is_a_real_piano_not_a_pure_tone():
    from emolib.music.render.audio import renderer, synthesize

    assert renderer().startswith("soundfont"), renderer()
    wave, rate = synthesize(_one_note())
    assert max(_harmonics(wave, rate)) > 0.05  # overtones a piano has
    sine = _one_note().synthesize(fs=22050)  # the fallback, which this test must tell apart
    assert max(_harmonics(sine, 22050)) < 1e-3


def test_rendered_audio_lasts_as_long_as_the_piece():
    """A happy 16-bar piece (about 29 s of two-track audio; its render time is in scripts/benchmark_speed.py)."""
    from emolib.music.render.audio import synthesize
    from emolib.music.compose import compose_music

    midi = compose_music("happy", bars=16).midi
    wave, rate = synthesize(midi)
    assert abs(len(wave) / rate - midi.get_end_time()) < 1.5 and np.abs(wave).max() == pytest.approx(0.9, abs=1e-3)


def test_sine_fallback_says_so_in_one_line(monkeypatch, capsys):
    from emolib.music.render import audio

    monkeypatch.setenv("EMOLIB_SOUNDFONT", "")
    monkeypatch.setattr(audio, "find_soundfont", lambda: None)
    audio._WARNED.clear()
    wave, rate = audio.synthesize(_one_note())
    err = capsys.readouterr().err
    assert rate == audio.SAMPLE_RATE and wave.size and "sine synthesis" in err and len(err.strip().splitlines()) == 1


def test_shuffled_intervals_keep_rhythm_and_interval_sizes():
    from emolib.music.eval.critic import shuffled_intervals
    from emolib.music.notes.roll import Note, notes_to_roll, roll_to_notes

    rng = np.random.default_rng(1)
    pitches = 60 + np.cumsum(rng.integers(-2, 3, 64))
    roll = notes_to_roll([Note(int(p), 4 * i, 4 * i + 3) for i, p in enumerate(pitches)], 256)
    shuffled = shuffled_intervals(roll, rng)
    assert [n.start for n in roll_to_notes(shuffled)] == [n.start for n in roll_to_notes(roll)]
    def interval_sizes(r):
        written = [n.pitch for n in roll_to_notes(r) if n.start >= 4 * 16]  # after the 4 bars it keeps
        return sorted(np.abs(np.diff(written)))

    assert interval_sizes(shuffled) == interval_sizes(roll) and not np.array_equal(shuffled, roll)


def test_neutral_rendering_changes_only_the_rendering():
    from emolib.music.compose import compose_music

    neutral = compose_music("sad", seed=3, rendering="neutral")
    expressive = compose_music("sad", seed=3)
    assert np.array_equal(neutral.roll, expressive.roll) and neutral.piece.edits == expressive.piece.edits  # same notes
    assert len(neutral.midi.instruments) == 1 and neutral.midi.instruments[0].program == 0
    assert np.allclose(neutral.midi.get_tempo_changes()[1], [100.0])
    assert {n.velocity for n in neutral.midi.instruments[0].notes} == {80}
    assert roll_to_notes(midi_to_roll(neutral.midi)) == roll_to_notes(neutral.roll)  # the melody, note for note
    assert len(expressive.midi.instruments) == 2 and abs(expressive.midi.get_tempo_changes()[1][0] - 100.0) > 1


@pytest.mark.parametrize("model", ["gan", "transformer"])
def test_form_restates_the_opening_and_cadences(model):
    """The form plan as post-processing (post=("form",)): bars 13-15 restate bars 1-3, bar 8 ends on a dominant half
    note, the piece on a long tonic, and the provenance says the plan wrote them; without it, no bar says so."""
    from emolib.music.compose import compose_music
    from emolib.music.form import dominant
    from emolib.music.post import FORM
    from emolib.music.notes.roll import roll_to_notes

    for seed in range(3):
        c = compose_music("sad", seed=seed, model=model, post=("form",))
        assert np.array_equal(c.roll[12 * 16:15 * 16], c.roll[:3 * 16])
        notes = roll_to_notes(c.roll)
        bar8 = [n for n in notes if 7 * 16 <= n.start < 8 * 16][-1]
        # at least a half note, to the bar line (one step short when bar 9 strikes the same pitch again)
        assert bar8.start <= 7 * 16 + 8 and bar8.end >= 8 * 16 - 1 and bar8.pitch % 12 in dominant(c.tonic).pitch_classes
        assert notes[-1].start <= 15 * 16 + 8 and notes[-1].end == 16 * 16 and notes[-1].pitch % 12 == c.tonic
        assert c.chords[7] == c.chords[14] == dominant(c.tonic) and c.chords[15].root == c.tonic
        alone = compose_music("sad", seed=seed, model=model)
        assert alone.post == () and not any(alone.piece.changes)  # by default nothing is written over the model's notes
        for b in range(16):  # the provenance names the plan in exactly the bars whose notes it changed
            changed = not np.array_equal(c.roll[16 * b:16 * b + 16], alone.roll[16 * b:16 * b + 16])
            assert (FORM in c.piece.changes[b]) == changed, b
