"""The MIDINet GAN and the emotion-token transformer: the flaws of the earlier student version, as tests."""
import numpy as np
import pytest
import torch

from emolib.emotion import quadrant
from emolib.music.models import gan, gan_training, registry, transformer, transformer_training
from emolib.music.notes import steps as st
from emolib.music.notes import tokens as tk
from emolib.music.notes.chords import Chord
from emolib.music.notes.piece import OPENING, Piece
from emolib.music.notes.roll import REGISTER, notes_to_roll, roll_to_notes


def _toy_melodies(n=24, bars=8, seed=0):
    """Scale-wise melodies: major and dense for happy, minor and sparse for sad; bar 5 restates bar 1."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        emotion = "happy" if i % 2 else "sad"
        scale = [0, 2, 4, 5, 7, 9, 11] if emotion == "happy" else [0, 2, 3, 5, 7, 8, 10]
        step = 2 if emotion == "happy" else 8
        notes = [(60 + scale[rng.integers(7)], t, t + step) for t in range(0, bars * 16, step)]
        notes = [n for n in notes if not 64 <= n[1] < 80] + [(p, t + 64, e + 64) for p, t, e in notes if t < 16]
        out.append(Piece(notes_to_roll(notes, bars * 16), [Chord(0, emotion == "sad")] * bars, 0, quadrant(emotion).mode,
                         quadrant(emotion)))
    return out


def _prompt(roll, emotion="happy", chords=None):
    """A 4-bar opening to continue (or none, for roll=None), under C major chords."""
    roll = np.zeros((0, 128), np.uint8) if roll is None else roll[:64]
    return Piece(roll, chords or [Chord(0, False)] * 16, 0, "major", quadrant(emotion), by=(OPENING,) * (len(roll) // 16))


@pytest.fixture(scope="module")
def trained_gan():
    data = gan_training.bar_pairs(_toy_melodies())
    cfg = gan.GANConfig.fast()
    return gan_training.train(gan_training.build(cfg), data, progress=False), data


def test_bar_pairs_are_real_bars_with_their_previous_and_reference_bars():
    mel = _toy_melodies(2)
    data = gan_training.bar_pairs(mel)
    steps = st.roll_to_steps(mel[0].roll).reshape(8, 16)
    assert data.cur.shape == (16, 16) and np.array_equal(data.cur[:8], steps)  # one bar of 16 steps per row
    assert np.array_equal(data.prev[4], steps[3]) and not (data.prev[0] != st.REST).any()  # bar 1 has no bar before
    assert np.array_equal(data.ref[4], steps[0]) and data.y[4, -1] == 1  # bar 5 restates bar 1: its reference
    assert data.y[1, -1] == 0 and not (data.ref[1] != st.REST).any()  # bar 2 restates nothing
    planned = gan_training.bar_pairs(mel, references="planned")  # bars 5-7 against 1-3, whatever they hold
    has = planned.y[:8, -1] == 1
    assert list(np.flatnonzero(has)) == [4, 5, 6] and np.array_equal(planned.ref[5], steps[1])
    with pytest.raises(ValueError, match="alike"):
        gan_training.bar_pairs(mel, references="similar")


def test_steps_round_trip_and_transpose_like_the_roll():
    from emolib.music.notes.roll import transpose

    notes = [(60, 0, 4), (60, 5, 8), (62, 8, 24), (57, 26, 30), (83, 30, 40)]  # a re-struck note, a tie, a rest
    roll = notes_to_roll(notes, 48)
    steps = st.roll_to_steps(roll)
    assert roll_to_notes(st.steps_to_roll(steps)) == roll_to_notes(roll)
    assert list(steps[:9]) == [14, 1, 1, 1, 1, 14, 1, 1, 16] and st.last_sounding(steps[:16]) == 62  # the gap: an onset
    moved = gan_training._shift_steps(torch.from_numpy(st.one_hot(steps))[None], -3)[0].argmax(-1).numpy()
    assert roll_to_notes(st.steps_to_roll(moved)) == roll_to_notes(transpose(roll, -3))
    up = gan_training._shift_steps(torch.from_numpy(st.one_hot(steps))[None], 4)[0].argmax(-1).numpy()
    assert [n.pitch for n in roll_to_notes(st.steps_to_roll(up))] == [64, 64, 66, 61, 75]  # 87 left the register


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
    real, fake = torch.rand(8, 16, st.N_CLASSES), torch.rand(8, 16, st.N_CLASSES) + 3.0
    separate = (D(real, y)[0].mean() - D(fake, y)[0].mean()).abs().item()
    pr, pf, _, _ = gan_training.judge_together(D, real, fake, y)
    assert separate < 0.02 and (pr.mean() - pf.mean()).abs().item() > separate


def test_drawn_bars_are_one_hot_samples_that_pass_gradients():
    """D judges bars as the default decoding draws them: one class per step, drawn in proportion to G's
    probabilities (never a class of probability 0), with the softmax's gradient passed straight through."""
    p = torch.tensor([[[0.2, 0.5, 0.3] + [0.0] * (st.N_CLASSES - 3)]] * 3000, requires_grad=True)
    h = gan_training.drawn(p, torch.Generator().manual_seed(0))
    assert torch.all(h.sum(-1) == 1) and h[..., 3:].sum() == 0
    share = h[:, 0, :3].mean(0).tolist()
    assert all(abs(a - b) < 0.03 for a, b in zip(share, [0.2, 0.5, 0.3]))  # drawn, not the most likely
    h.sum().backward()
    assert torch.all(p.grad == 1)


def test_sounding_follows_holds_and_rhythm_transitions_count_note_lengths():
    steps = np.array([14, 1, 1, 1, 16, 1, 0, 0] * 2)  # C held 4 steps, D held 2, two rests
    x = torch.from_numpy(st.one_hot(steps))[None]
    s = gan_training.sounding(x)[0]
    assert s[:4, 12].tolist() == [1, 1, 1, 1] and s[4:6, 14].tolist() == [1, 1] and not s[6:8].any()
    t = gan_training.rhythm_transitions(x)  # rest, hold, onset
    assert abs(t.sum().item() - 1) < 1e-6 and t[2, 1] > 0 and t[2, 2] == 0  # onsets are followed by holds here


def test_batchnorm_modules_kept_and_generation_deterministic(trained_gan, tmp_path):
    net, data = trained_gan
    path = gan_training.save(net, tmp_path / "g.pt")
    model = gan.load(path)
    G = model.net
    assert any(isinstance(m, torch.nn.BatchNorm1d) for m in G.modules())
    prompt = _prompt(None)
    a = model.generate(prompt, 16, seed=5, top_k=1)
    b = model.generate(prompt, 16, seed=5, top_k=1)
    assert np.array_equal(a.roll, b.roll) and a.roll.shape == (256, 128) and a.roll.sum(axis=1).max() <= 1
    assert a.authors == ("gan",) * 16 and a.roll[:16].any()  # from bar 1, every bar the model's
    assert not np.array_equal(a.roll, model.generate(prompt, 16, seed=6, top_k=1).roll)  # the noise is the seed's
    assert not G.training and all(not m.training for m in G.modules())
    opened = model.generate(_prompt(_toy_melodies(1)[0].roll), 8, seed=5, top_k=1)
    assert np.array_equal(opened.roll[:64], _toy_melodies(1)[0].roll[:64]) and opened.authors[4:] == ("gan",) * 4


def test_leap_penalty_moves_pitches_never_the_rhythm():
    """choose_bar with and without the leap penalty on the same probabilities: the same steps start notes,
    hold or rest; only the pitches move, and towards the previous note."""
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(st.N_CLASSES) * 0.3, size=16)
    gen = torch.Generator().manual_seed(0)
    plain = gan.choose_bar(probs, sounding_at_start=60, generator=gen, top_k=1)
    aided = gan.choose_bar(probs, sounding_at_start=60, generator=gen, top_k=1, leap_penalty=2.0)
    kind = lambda s: np.minimum(s, 2)  # noqa: E731 - rest 0, hold 1, onset 2
    assert np.array_equal(kind(plain), kind(aided)) and (plain >= 2).any()

    def leaps(s):
        pitches = [60] + [st.LOW + c - 2 for c in s if c >= 2]
        return np.abs(np.diff(pitches)).mean()
    assert leaps(aided) < leaps(plain)
    gridded = gan.choose_bar(probs, sounding_at_start=None, generator=gen, top_k=1, grid=4)
    assert all(c < 2 for t, c in enumerate(gridded) if t % 4)  # on a grid of 4, notes start on beats only


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
        ids = tk.roll_to_tokens(roll, [Chord(2, True)], 3, (2, "minor"))
        assert np.array_equal(tk.tokens_to_roll(ids, 8), roll)
    assert ids[:7] == [tk.emotion_token(3), tk.key_token(2, "minor"), tk.BAR, tk.index_token(0), tk.TOGO0 + 7,
                       tk.NO_REF, tk.chord_token(Chord(2, True))]  # emotion, key, bar 1 of 8: seven to go, no earlier bar
    long = tk.roll_to_tokens(roll, [Chord(2, True)], 3, (2, "minor"), total_bars=40)
    assert long[4] == tk.TOGO0 + 15  # far from the end: 15 or more


def test_transformer_learns_only_what_it_chooses():
    """The loss covers notes and bar ends, not the emotion, key, bar-position and chord tokens we write in."""
    ids = torch.tensor([[tk.emotion_token(1), tk.key_token(0, "major"), *tk.bar_header(0, Chord(0, False), 1),
                         tk.POS0, tk.PITCH0 + 60, tk.DUR0 + 3, tk.EOS]])
    logits = torch.zeros(1, ids.shape[1] - 1, len(tk.VOCAB))
    logits[0, [0, 2, 3, 4], tk.EOS] = 50.0  # sure of a wrong token where the key, index, bars-left and chord come
    loss = transformer_training.loss_on_choices(logits, ids[:, 1:])
    assert abs(loss.item() - np.log(len(tk.VOCAB))) < 1e-4  # only BAR and the note and EOS count, all at chance


def test_ref_weight_counts_the_choices_of_returning_bars_more():
    """Bars whose header names an earlier bar (REF_j) are the returns; ref_weight weighs their choices, BAR included."""
    c = Chord(0, False)
    note = [tk.POS0, tk.PITCH0 + 60, tk.DUR0 + 3]
    ids = torch.tensor([[tk.emotion_token(1), tk.key_token(0, "major"), *tk.bar_header(0, c, 3), *note,
                         *tk.bar_header(1, c, 3, reference=0), *note, *tk.bar_header(2, c, 3), *note, tk.EOS]])
    targets = ids[:, 1:]
    returning = transformer_training.in_returning_bars(targets)[0]
    h = len(tk.bar_header(0, c, 3))
    expected = torch.zeros_like(returning)
    expected[h + 5:2 * h + 8] = True  # bar 1 after its BAR (index, bars left, REF_0, chord, its note) and bar 2's BAR
    assert torch.equal(returning, expected)
    logits = torch.zeros(1, targets.shape[1], len(tk.VOCAB))
    logits[0, ~returning, targets[0, ~returning]] = 50.0  # sure of every choice outside the returning bar
    plain = transformer_training.loss_on_choices(logits, targets)
    assert torch.allclose(transformer_training.loss_on_choices(logits, targets, 1.0), plain)
    weighted = transformer_training.loss_on_choices(logits, targets, 3.0)
    assert weighted > plain  # the unsure choices, all in bar 1, count three times


def test_training_can_start_from_saved_weights():
    from emolib.errors import EmolibError

    mel = _toy_melodies(16)
    cfg = transformer.TransformerConfig.fast()
    start = transformer.EmotionTransformer(cfg).state_dict()
    still = transformer.TransformerConfig(**{**cfg.__dict__, "steps": 1, "lr": 0.0})  # a step that changes nothing
    net, _ = transformer_training.train(mel, still, progress=False, init=start)
    assert all(torch.equal(net.state_dict()[k], v) for k, v in start.items())
    other = transformer.TransformerConfig(**{**cfg.__dict__, "n_embd": 32})
    with pytest.raises(EmolibError, match="not of this config's shape"):
        transformer_training.train(mel, other, progress=False, init=start)


def test_transformer_context_holds_a_whole_16_bar_tune():
    from emolib.music.data.corpus import load_folk

    cfg = transformer.TransformerConfig()
    tunes = transformer_training.tokenize([m for m in load_folk(progress=False) if m.bars >= 16])
    assert np.mean([len(t.tokens) <= cfg.block_size for t in tunes]) >= 0.95  # bar 13 can see bar 1


def test_transformer_learns_and_generates_valid_melodies(tmp_path):
    mel = _toy_melodies(16)
    cfg = transformer.TransformerConfig.fast()
    trained = transformer_training.fit(mel, cfg, progress=False)
    loss = trained.meta["history"]["loss"]
    assert np.mean(loss[-10:]) < 0.6 * loss[0]
    model = transformer.load(transformer_training.save(trained, tmp_path / "t.pt"))
    assert model.meta["history"]["loss"] == loss
    prompt = _prompt(mel[1].roll)
    a = model.generate(prompt, 16, seed=3).roll
    b = model.generate(prompt, 16, seed=3).roll
    assert np.array_equal(a, b) and a.shape == (256, 128) and a.sum(axis=1).max() <= 1
    assert np.array_equal(a[:64], mel[1].roll[:64]) and a[64:].any()
    lo, hi = REGISTER
    assert set(np.flatnonzero(a[64:].any(0))) <= set(range(lo, hi + 1))


def test_compose_with_each_shipped_model_is_sixteen_bars_with_harmony(tmp_path):
    from emolib.music.compose import compose_music
    from emolib.music.eval.benchmark import score_midi

    for model in registry.MODELS:
        r = compose_music("sad", seed=0, model=model)
        assert r.model == model and len(r.midi.instruments) == 2 and r.midi.instruments[1].notes
        assert r.piece.authors == (model,) * 16 and r.post == () and not any(r.piece.changes)  # all the model's
        seeded = compose_music("sad", seed=0, model=model, opening="bank")
        assert seeded.piece.authors == (OPENING,) * 4 + (model,) * 12
        r.midi.write(str(tmp_path / f"{model}.mid"))
        row = score_midi(tmp_path / f"{model}.mid", "sad")
        assert abs(row["bars"] - 16) < 1e-6 and row["qualified_note_rate"] >= 0.8 and row["mode"] == "minor"


def test_music_judge_learns_separable_features():
    from emolib.music.eval.judge import CHANNELS, FRAMES, JudgeConfig, fit

    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(4), 40)
    x = rng.random((160, CHANNELS, FRAMES)).astype(np.float32) * 0.2
    x[np.arange(160), 12 + y, :] += 1.0  # each quadrant in its own octave band
    split = np.arange(160) % 4
    pick = lambda k: (x[split == k], y[split == k])  # noqa: E731
    _, report = fit((x[split < 2], y[split < 2]), pick(2), pick(3), JudgeConfig(epochs=15))
    assert report.accuracy > 0.9 and report.n_test == 40


@pytest.mark.skipif("not __import__('emolib.music.data.emopia', fromlist=['x']).emopia_available()",
                    reason="EMOPIA not found under $EMOLIB_DATA/emopia")
def test_music_judge_on_emopia_official_split():
    from emolib.music.eval.judge import train_on_emopia

    _, report = train_on_emopia(progress=False)
    assert report.n_test > 50 and report.accuracy > 0.35 and report.arousal_accuracy > 0.6


def test_transformer_cache_gives_the_same_logits_and_rebuilds_past_the_block():
    """The key/value cache is only a speed-up: token by token it gives the full pass's logits (its speed is
    measured in scripts/benchmark_speed.py, not here: a busy machine must not fail a test)."""
    import torch

    from emolib.music.data.bank import bank_opening

    wrapped = registry.load("transformer")
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
    with torch.no_grad():  # several tokens at once after the cache (a bar header) see the past and each other
        _, start = model.step(x[:, :16])
        chunk, after = model.step(x[:, 16:21], start)
        assert torch.allclose(chunk[0], full[16:21], atol=1e-4) and after.length == 21
        kept = after.copy()  # a copy keeps its tokens when others are written over them in the shared buffers
        model.step(x[:, 30:40], start)  # writing after the shorter cache: tokens 16-25 of the buffers change
        again, _ = model.step(x[:, 21:22], kept)
        assert torch.allclose(again[0, -1], full[21], atol=1e-4)
        back, _ = model.step(x[:, 16:17], start)  # the shorter cache is the context as it was
        assert torch.allclose(back[0, -1], full[16], atol=1e-4)
    s = bank_opening("happy", np.random.default_rng(0))
    long = wrapped.generate(s, 48, seed=0).roll
    assert long.shape == (48 * 16, 128) and long[-64:].any()  # past the block size, the cache is rebuilt
    assert np.array_equal(long[:64], s.roll) and long.sum(axis=1).max() <= 1


def test_transformer_re_ranking_restores_its_context_as_it_was(monkeypatch):
    """Re-ranked bars go back to the context where the bar started (a shorter cache over the same buffers) and keep
    the first version aside (a copy): the notes are the same as with a cache that never shares its buffers."""
    from emolib.music.form import plan_chords
    from emolib.music.models.transformer import KVCache

    model = registry.load("transformer")
    decoding = dict(top_p=0.95, cadence_tries=6, variation_tries=6)
    pieces = [model.generate(plan_chords(_prompt(None, e), 16), 16, seed=s, **decoding).roll
              for e in ("happy", "sad") for s in range(2)]
    monkeypatch.setattr(KVCache, "advanced", lambda self, n: KVCache(self.k.clone(), self.v.clone(), self.length + n))
    unshared = [model.generate(plan_chords(_prompt(None, e), 16), 16, seed=s, **decoding).roll
                for e in ("happy", "sad") for s in range(2)]
    assert all(np.array_equal(a, b) for a, b in zip(pieces, unshared))


@pytest.mark.parametrize("model", list(registry.MODELS))
def test_the_readme_music_table_is_what_the_shipped_models_write(model):
    """figures/music_targets.json (the README's table, scripts/benchmark_music.py --targets --write) is what each
    shipped model's default output measures today: every figure that depends on the model alone. 128 pieces take
    minutes; in fast mode the JSON is checked against the shipped checkpoints' digests and decoding instead
    (tests/test_readme_tables.py) and the default pieces against their recorded bytes (tests/test_structure.py)."""
    import json
    from pathlib import Path

    from emolib import config

    if config.is_fast():
        pytest.skip("recomputes 128 pieces: run with EMOLIB_FAST=0 (in fast mode the digests are checked instead)")
    from emolib.music.eval import benchmark
    from emolib.music.compose import compose_music

    stored = json.loads((Path(__file__).resolve().parents[1] / "figures" / "music_targets.json").read_text())
    rows, _ = benchmark.generated_rows(compose_music, seeds=stored["seeds_per_emotion"], model=model, rendering="neutral",
                                       progress=False)
    now = benchmark.targets_summary(rows, rows)
    then = stored["columns"][f"{model}, default"]
    for key in ("restated_or_varied", "half_cadence", "tonic_close", "longest_note_bars", "sixteenths", "rest_share",
                "in_key", "mode_match_major", "mode_match_minor", "arousal_notes_ratio"):
        assert abs(now[key] - then[key]) < 1e-3, (key, now[key], then[key])


def test_interval_histogram_counts_melodic_intervals_across_the_bar_line():
    steps = np.array([14, 1, 1, 1, 16, 1, 0, 0, 18, 1, 1, 1, 14, 1, 1, 1])  # C D (rest) E C
    x = torch.from_numpy(st.one_hot(steps))[None]
    prev = torch.from_numpy(st.one_hot(np.array([1] * 15 + [21])))[None]  # the bar before ends on G
    h = gan_training.interval_histogram(x, prev)
    got = {d - gan_training.MAX_INTERVAL: round(float(v), 3) for d, v in enumerate(h) if v > 0}
    assert got == {-7: 0.333, 2: 0.333, -4: 0.333}  # G->C, C->D, E->C; after the rest, E has no interval
    profile = gan_training.scale_profile(x, torch.tensor([0.0]))
    assert profile[0, [0, 2, 4]].tolist() == [0.5, 0.25, 0.25] and profile[1].sum() == 0  # a major-key bar


def test_cadence_goal_and_the_bar_tests_that_re_rank_by_it():
    from emolib.music.form import cadence_goal

    assert cadence_goal(15, 16, 0) == (0,) and cadence_goal(7, 16, 0) == (7, 11, 2) and cadence_goal(6, 16, 0) is None
    assert cadence_goal(7, 8, 2) == (2,) and cadence_goal(7, 10, 0) is None  # short pieces: only the close
    c, g = 2 + 60 - st.LOW, 2 + 67 - st.LOW
    held = np.array([g, 1, 1, 1, c] + [1] * 11)  # ... C held from step 4 to the end
    assert gan.closes_on(held, (0,)) and not gan.closes_on(held, (7,))
    short = np.array([c] + [1] * 11 + [g, 1, 0, 0])  # the last note, G, lasts 2 steps
    assert not gan.closes_on(short, (7,)) and not gan.closes_on(np.zeros(16, np.int64), (0,))
    bar = [tk.POS0 + 0, tk.PITCH0 + 64, tk.DUR0 + 7, tk.POS0 + 8, tk.PITCH0 + 72, tk.DUR0 + 7]  # E (8), C (8)
    assert transformer.closes(bar, (0,)) and not transformer.closes(bar, (4,)) and not transformer.closes([], (0,))


def test_varies_keeps_a_bars_shape_without_copying_it():
    from emolib.music.form import varies
    from emolib.music.notes.roll import notes_to_roll

    motif = [(60, 0, 4), (62, 4, 8), (64, 8, 12), (65, 12, 16)]  # C D E F, quarters
    bars = [motif, motif,  # bar 2 copies bar 1
            [(60, 0, 4), (62, 4, 8), (64, 8, 12), (67, 12, 16)],  # the last note changed: 3 of 4 alike
            [(60, 0, 4), (62, 4, 8), (64, 8, 12), (65, 12, 14)],  # the same notes, the last one shorter
            [(67, 0, 8), (69, 8, 16)]]  # another bar
    roll = notes_to_roll([(p, 16 * b + s, 16 * b + e) for b, notes in enumerate(bars) for p, s, e in notes], 80)
    assert [varies(roll, b, 0) for b in (1, 2, 3, 4)] == [False, True, True, False]


@pytest.mark.parametrize("kind", list(registry.MODELS))
def test_variation_tries_re_rank_the_shipped_models_own_bars(kind):
    """With variation_tries the planned returns (bars 5-7, 13-15) are chosen among the model's own versions of them:
    one try changes nothing, more tries vary their reference bar at least as often (the shipped models)."""
    from emolib.music.compose import compose_music
    from emolib.music.form import form_plan, varies

    planned = [(b, r) for b, r in enumerate(form_plan(16)) if r is not None]
    first = planned[0][0] * 16  # the bars before the first planned return are written as without re-ranking:

    def opening(roll):  # the notes (pitch, start) that begin before it (a note held into a return that starts on the
        return [(n.pitch, n.start) for n in roll_to_notes(roll) if n.start < first]  # same pitch ends a step early in the roll)

    assert opening(compose_music("sad", seed=0, model=kind).piece.roll) == \
        opening(compose_music("sad", seed=0, model=kind, decoding={"variation_tries": 8}).piece.roll)
    varied = {1: 0, 8: 0}
    for seed in range(2):
        for emotion in ("happy", "sad", "angry", "calm"):
            for tries in varied:
                piece = compose_music(emotion, seed=seed, model=kind, decoding={"variation_tries": tries}).piece
                assert piece.by == (kind,) * 16 and piece.roll.sum(axis=1).max() <= 1
                varied[tries] += sum(varies(piece.roll, b, r) for b, r in planned)
    assert varied[8] >= varied[1] and varied[8] > 0, varied


@pytest.mark.parametrize("kind", list(registry.MODELS))
def test_cadence_tries_re_rank_the_shipped_models_own_bars(kind):
    """With cadence_tries the close is one of the model's own versions of the last bar: one try changes nothing,
    more tries close on a long tonic at least as often (the shipped models, composing from bar 1)."""
    from emolib.music.eval.benchmark import form_features
    from emolib.music.compose import compose_music, decoding_settings
    from emolib.music.form import plan_chords

    model = registry.load(kind)
    prompt = plan_chords(_prompt(None, "happy"), 16)
    settings = {k: v for k, v in decoding_settings(kind).items() if k != "cadence_tries"}
    assert np.array_equal(model.generate(prompt, 16, seed=1, **settings).roll,
                          model.generate(prompt, 16, seed=1, cadence_tries=1, **settings).roll)
    closed = {1: 0, 16: 0}
    for seed in range(3):
        for emotion in ("happy", "sad", "angry", "calm"):
            for tries in closed:
                piece = compose_music(emotion, seed=seed, model=kind, decoding={"cadence_tries": tries}).piece
                assert piece.roll.shape == (256, 128) and piece.roll.sum(axis=1).max() <= 1
                closed[tries] += form_features(piece.roll, piece.tonic, piece.mode)["tonic_close"]
    assert closed[16] >= closed[1] and closed[16] > 0, closed


def test_train_melody_trains_on_from_a_saved_transformer(tmp_path, monkeypatch):
    """--init starts from a checkpoint's weights and keeps that run's history beside the new one's; it never writes
    over the file it starts from, and only the transformer can start from saved weights."""
    from conftest import script

    train_melody = script("train_melody")

    def run(*argv):
        monkeypatch.setattr("sys.argv", ["train_melody.py", "--model", *argv])
        train_melody.main()

    first, more = tmp_path / "first.pt", tmp_path / "more.pt"
    run("transformer", "--out", str(first), "--set", "steps=2")
    run("transformer", "--out", str(more), "--init", str(first), "--set", "steps=2", "--set", "ref_weight=10")
    before, after = transformer.load(first), transformer.load(more)
    assert after.net.cfg.ref_weight == 10 and "trained on from first.pt" in after.meta["provenance"]
    assert after.meta["history"]["before"]["loss"] == before.meta["history"]["loss"]
    with pytest.raises(SystemExit, match="also --out"):
        run("transformer", "--out", str(first), "--init", str(first), "--force")
    with pytest.raises(SystemExit, match="only the transformer"):
        run("gan", "--out", str(tmp_path / "g.pt"), "--init", str(first))
