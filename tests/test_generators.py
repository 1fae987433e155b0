"""The MIDINet GAN and the emotion-token transformer: the flaws of the earlier student version, as tests."""
import numpy as np
import pytest
import torch

from emolib.music import gan, models, transformer
from emolib.music.benchmark import LISTENER_COLUMNS
from emolib.music import tokens as tk
from emolib.music.chords import Chord
from emolib.music.piece import OPENING, Piece
from emolib.emotion import quadrant
from emolib.music.roll import REGISTER, notes_to_roll


def _toy_melodies(n=24, bars=8, seed=0):
    """Scale-wise melodies: major and dense for happy, minor and sparse for sad."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        emotion = "happy" if i % 2 else "sad"
        scale = [0, 2, 4, 5, 7, 9, 11] if emotion == "happy" else [0, 2, 3, 5, 7, 8, 10]
        step = 2 if emotion == "happy" else 8
        notes = [(60 + scale[rng.integers(7)], t, t + step) for t in range(0, bars * 16, step)]
        out.append(Piece(notes_to_roll(notes, bars * 16), [Chord(0, emotion == "sad")] * bars, 0, quadrant(emotion).mode,
                         quadrant(emotion)))
    return out


def _prompt(roll, emotion="happy", chords=None):
    """A 4-bar opening to continue (or none, for roll=None), under C major chords."""
    roll = np.zeros((0, 128), np.uint8) if roll is None else roll[:64]
    return Piece(roll, chords or [Chord(0, False)] * 16, 0, "major", quadrant(emotion), by=(OPENING,) * (len(roll) // 16))


@pytest.fixture(scope="module")
def trained_gan():
    data = gan.segment_pairs(_toy_melodies())
    cfg = gan.GANConfig.fast()
    return gan.train(gan.build(cfg), data, progress=False), data


def test_segments_are_four_real_bars():
    data = gan.segment_pairs(_toy_melodies(4))
    assert data.cur.shape[1:] == (64, 128)  # 4 bars of 16 steps, not 1 bar


def test_discriminator_learns_and_is_not_at_chance(trained_gan):
    net, _ = trained_gan
    h = net.history
    assert np.mean(h.d_real[-5:]) - np.mean(h.d_fake[-5:]) > 0.1
    assert min(h.feature_match) > 0  # MIDINet's feature matching is part of G's loss


def test_joint_batch_lets_batchnorm_see_the_difference():
    """Fed separately, a BatchNorm discriminator cannot see a shift of the whole batch; fed jointly it can."""
    torch.manual_seed(0)
    D = gan.Discriminator(df=8, fc=16).train()
    y = torch.zeros(8, gan.Y_DIM)
    real, fake = torch.rand(8, 64, 128), torch.rand(8, 64, 128) + 3.0
    separate = (D(real, y)[0].mean() - D(fake, y)[0].mean()).abs().item()
    pr, pf, _, _ = gan._judge(D, real, fake, y)
    assert separate < 0.02 and (pr.mean() - pf.mean()).abs().item() > separate


def test_chord_profile_counts_pitch_classes_from_each_bars_root():
    """A C minor triad over C minor bars and an A major triad over A major bars: root, third, fifth."""
    y = torch.from_numpy(gan.condition("sad", [Chord(0, True), Chord(9, False)] * 2))[None]
    roll = torch.zeros(1, 64, 128)
    for bar, triad in enumerate([(60, 63, 67), (69, 73, 76)] * 2):
        for j, p in enumerate(triad):
            roll[0, bar * 16 + 5 * j, p] = 1
    major, minor = gan.chord_profile(roll, y)
    assert torch.allclose(major[[0, 4, 7]], torch.full((3,), 1 / 3)) and major.sum() == pytest.approx(1)
    assert torch.allclose(minor[[0, 3, 7]], torch.full((3,), 1 / 3)) and minor.sum() == pytest.approx(1)
    shifted = gan.chord_profile(torch.roll(roll, 2, dims=2), gan.transpose_condition(y, 2))
    assert torch.allclose(shifted, torch.stack([major, minor]))  # the same relative to the chords in any key


def test_binarize_is_hard_forward_and_passes_gradients():
    p = torch.tensor([[[0.2, 0.7, 0.6], [0.1, 0.3, 0.2]]], requires_grad=True)
    b = gan.binarize(p)
    assert b.tolist() == [[[0, 1, 0], [0, 0, 0]]]  # top-1 above 0.5, else silence
    b.sum().backward()
    assert torch.all(p.grad == 1)


def test_batchnorm_modules_kept_and_generation_deterministic(trained_gan, tmp_path):
    net, data = trained_gan
    path = gan.save(net, tmp_path / "g.pt")
    model = gan.load(path)
    G = model.net
    assert any(isinstance(m, torch.nn.BatchNorm1d) for m in G.modules())
    prompt = _prompt(data.cur[0])
    a = model.generate(prompt, 16, seed=5, top_k=1).roll
    b = model.generate(prompt, 16, seed=5, top_k=1).roll
    assert np.array_equal(a, b) and a.shape == (256, 128) and a.sum(axis=1).max() <= 1
    assert not np.array_equal(a, model.generate(prompt, 16, seed=6, top_k=1).roll)  # the noise is the seed's
    assert not G.training and all(not m.training for m in G.modules())
    model.threshold = 1.01
    silent = model.generate(prompt, 8, seed=5).roll
    assert not silent[64:].any()  # the threshold makes silence possible


def test_leap_penalty_changes_pitches_not_rhythm_and_shrinks_leaps():
    """The shipped GAN with and without its decoding aid: the same steps sound, the leaps get smaller."""
    from emolib.music.melodic import features
    from emolib.music.seeds import choose_seed

    model = models.load("gan")
    raw_leaps, aided_leaps = [], []
    for s in range(6):
        sd = choose_seed("angry", np.random.default_rng(s))
        raw = model.generate(sd, 16, seed=s, top_k=1).roll
        aided = model.generate(sd, 16, seed=s, top_k=1, leap_penalty=0.3).roll
        # in the first generated segment (same input to G) a step sounds with the aid iff it sounds without;
        # later segments differ anyway, each being conditioned on the one before
        assert np.array_equal(raw[64:128].any(axis=1), aided[64:128].any(axis=1))
        raw_leaps.append(features(raw)["leaps_over_fifth"])
        aided_leaps.append(features(aided)["leaps_over_fifth"])
    assert np.mean(aided_leaps) < np.mean(raw_leaps)


def test_tokens_round_trip_random_melodies():
    rng = np.random.default_rng(1)
    for _ in range(20):
        t, notes = 0, []
        while t < 8 * 16:
            d = int(rng.integers(1, 9))
            if rng.random() < 0.8:
                notes.append((int(rng.integers(48, 85)), t, min(t + d, 128)))
            t += d + int(rng.integers(0, 2))
        roll = notes_to_roll(notes, 128)
        ids = tk.roll_to_tokens(roll, [Chord(2, True)], 3)
        assert np.array_equal(tk.tokens_to_roll(ids, 8), roll)


def test_transformer_learns_and_generates_valid_melodies(tmp_path):
    mel = _toy_melodies(16)
    cfg = transformer.TransformerConfig.fast()
    trained = transformer.fit(mel, cfg, progress=False)
    loss = trained.meta["history"]["loss"]
    assert np.mean(loss[-10:]) < 0.6 * loss[0]
    model = transformer.load(transformer.save(trained, tmp_path / "t.pt"))
    assert model.meta["history"]["loss"] == loss
    prompt = _prompt(mel[1].roll)
    a = model.generate(prompt, 16, seed=3).roll
    b = model.generate(prompt, 16, seed=3).roll
    assert np.array_equal(a, b) and a.shape == (256, 128) and a.sum(axis=1).max() <= 1
    assert np.array_equal(a[:64], mel[1].roll[:64]) and a[64:].any()
    lo, hi = REGISTER
    assert set(np.flatnonzero(a[64:].any(0))) <= set(range(lo, hi + 1))


def test_compose_with_each_shipped_model_is_sixteen_bars_with_harmony(tmp_path):
    from emolib.music.benchmark import judge
    from emolib.music.compose import compose

    for model in models.MODELS:
        r = compose("sad", seed=0, model=model)
        assert r.model == model and len(r.midi.instruments) == 2 and r.midi.instruments[1].notes
        assert r.piece.authors == (OPENING,) * 4 + (model,) * 12  # who wrote each bar
        r.midi.write(str(tmp_path / f"{model}.mid"))
        row = judge(tmp_path / f"{model}.mid", "sad")
        assert abs(row["bars"] - 16) < 1e-6 and row["qualified_note_rate"] >= 0.8 and row["mode"] == "minor"


def test_music_judge_learns_separable_features():
    from emolib.music.judge import CHANNELS, FRAMES, JudgeConfig, fit

    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(4), 40)
    x = rng.random((160, CHANNELS, FRAMES)).astype(np.float32) * 0.2
    x[np.arange(160), 12 + y, :] += 1.0  # each quadrant in its own octave band
    split = np.arange(160) % 4
    pick = lambda k: (x[split == k], y[split == k])  # noqa: E731
    _, report = fit((x[split < 2], y[split < 2]), pick(2), pick(3), JudgeConfig(epochs=15))
    assert report.accuracy > 0.9 and report.n_test == 40


@pytest.mark.skipif("not __import__('emolib.music.emopia', fromlist=['x']).emopia_available()",
                    reason="EMOPIA not found under $EMOLIB_DATA/emopia")
def test_music_judge_on_emopia_official_split():
    from emolib.music.judge import train_on_emopia

    _, report = train_on_emopia(progress=False)
    assert report.n_test > 50 and report.accuracy > 0.35 and report.arousal_accuracy > 0.6


def test_transformer_cache_gives_the_same_logits_and_rebuilds_past_the_block():
    """The key/value cache is only a speed-up: token by token it gives the full pass's logits (its speed is
    measured in scripts/benchmark_speed.py, not here: a busy machine must not fail a test)."""
    import torch

    from emolib.music.seeds import choose_seed

    wrapped = models.load("transformer")
    model = wrapped.net
    x = torch.randint(0, 60, (1, 48), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        full = model(x)[0]
        logits, cache = model.step(x[:, :16])
        steps = [logits[0, -1]]
        for i in range(16, 48):
            logits, cache = model.step(x[:, i:i + 1], cache)
            steps.append(logits[0, -1])
    assert torch.allclose(torch.stack(steps[:-1]), full[15:47], atol=1e-4)
    s = choose_seed("happy", np.random.default_rng(0))
    long = wrapped.generate(s, 48, seed=0).roll
    assert long.shape == (48 * 16, 128) and long[-64:].any()  # past the block size, the cache is rebuilt
    assert np.array_equal(long[:64], s.roll) and long.sum(axis=1).max() <= 1


@pytest.mark.parametrize("column", LISTENER_COLUMNS, ids=[c[0] for c in LISTENER_COLUMNS])
def test_listener_figures_of_the_shipped_models_are_what_the_readme_table_says(tmp_path, column):
    """figures/music_listener.json (the README's melody table) is what the shipped models write today."""
    import json
    from pathlib import Path

    from emolib.emotion import EMOTIONS
    from emolib.music.benchmark import _roll_and_tonic, listener_options, listener_rows, listener_summary
    from emolib.music.compose import compose

    stored = json.loads((Path(__file__).resolve().parents[1] / "figures" / "music_listener.json").read_text())
    label, model, form, aid = column
    pieces = {(e, s): _roll_and_tonic(compose(e, seed=s, **listener_options(model, form, aid)))
              for e in EMOTIONS for s in range(stored["seeds_per_emotion"])}
    now = listener_summary(listener_rows(pieces, tmp_path, "x"))
    for key, value in now.items():
        assert abs(value - stored["table"][label][key]) < 1e-3, (key, value, stored["table"][label][key])
