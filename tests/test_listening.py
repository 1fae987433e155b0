"""The blind listening test (emolib.music.eval.listening and emolib.widgets.Quiz), driven without a browser: the two
clips of a round differ only in their notes, answers are appended and never overwritten, the summary and its
interval are right, bad input gets emolib's own errors. (tests/test_browser.py plays one round in Chromium.)"""
from __future__ import annotations

import io
import wave

import numpy as np
import pytest

from emolib.errors import BadInput
from emolib.music.eval import listening as L


@pytest.fixture(scope="module")
def pairs():
    return L.choose_pairs(3, models=("gan",), seed=1)


def _wav(data: bytes) -> tuple[np.ndarray, int]:
    with wave.open(io.BytesIO(data)) as f:
        return np.frombuffer(f.readframes(f.getnframes()), "<i2") / 32767, f.getframerate()


def test_the_two_clips_of_a_round_can_be_told_apart_only_by_their_notes(pairs):
    for pair in pairs:
        assert pair.model_roll.shape == pair.real_roll.shape == (16 * 16, 128)
        assert not np.array_equal(pair.model_roll, pair.real_roll)
        midis = [L.clip_midi(roll) for roll in pair.rolls]
        tempos = [list(m.get_tempo_changes()[1]) for m in midis]
        assert tempos[0] == tempos[1]  # one tempo
        assert [[(i.program, i.is_drum) for i in m.instruments] for m in midis][0] == [(0, False)]
        assert len({(i.program, i.is_drum) for m in midis for i in m.instruments}) == 1  # one instrument, the piano
        assert {n.velocity for m in midis for i in m.instruments for n in i.notes} == {80}  # one loudness per note
        (a, rate_a), (b, rate_b) = (_wav(data) for data in L.render_pair(pair))
        assert rate_a == rate_b and len(a) == len(b) == int(L.CLIP_SECONDS * rate_a)  # the same length
        rms = [float(np.sqrt(np.mean(x ** 2))) for x in (a, b)]
        assert abs(rms[0] - rms[1]) < 0.01 * L.CLIP_RMS  # the same loudness
    assert {p.model_is_a for p in L.choose_pairs(8, models=("gan",), seed=2)} == {True, False}  # either side
    assert [p.tune for p in L.choose_pairs(3, models=("gan",), seed=1)] == [p.tune for p in pairs]  # seeded


def test_the_model_wrote_its_clip_and_the_real_one_is_a_held_out_tune(pairs):
    from emolib.music.compose import compose_music

    test_split = L.real_tunes("test")
    for pair in pairs:
        real = [m for m in test_split if m.title == pair.tune and np.array_equal(L._in_c_16(m), pair.real_roll)]
        assert real and real[0].quadrant.name == pair.emotion  # a test-split tune, of the emotion asked for
        written = compose_music(pair.emotion, seed=pair.seed, model=pair.model, rendering="neutral").piece
        assert written.authors == ("gan",) * 16 and np.array_equal(L._in_c_16(written), pair.model_roll)


def test_answers_are_appended_and_read_back_never_overwritten(pairs, tmp_path):
    folder = tmp_path / "class"
    for pair in pairs:
        L.save_answer(folder, L.answer_row(pair, "A", critic_choice="B", emotion_a="sad"))
    path = folder / L.ANSWERS_FILE
    first = path.read_text()
    L.save_answer(folder, L.answer_row(pairs[0], "B"))  # a second run: appended after the first
    assert path.read_text().startswith(first) and path.read_text().count("time,round") == 1
    with open(path, "a") as f:
        f.write("2026-01-01T00:00:00,0,gan,1")  # a run interrupted mid-row
    L.save_answer(folder, L.answer_row(pairs[1], "A"))
    rows = L.read_answers(folder)
    assert len(rows) == 5  # the cut row is skipped, the row after it kept whole
    assert [r["correct"] for r in rows[:3]] == [int(L.score(p, "A")) for p in pairs]
    assert rows[0]["critic_correct"] == int(L.score(pairs[0], "B")) and rows[3]["critic_correct"] is None
    assert rows[0]["emotion_a"] == "sad" and rows[0]["tune"] == pairs[0].tune
    other = tmp_path / "other"
    other.mkdir()
    (other / L.ANSWERS_FILE).write_text("name,score\nx,1\n")
    with pytest.raises(BadInput, match="other columns"):
        L.save_answer(other, L.answer_row(pairs[0], "A"))
    assert (other / L.ANSWERS_FILE).read_text() == "name,score\nx,1\n"  # left as it was
    assert len(L.read_answers(tmp_path / "class", path)) == 10  # files and folders pooled


def test_score_summary_and_its_interval():
    low, high = L.wilson(5, 10)
    assert round(low, 3) == 0.237 and round(high, 3) == 0.763
    assert L.wilson(0, 0) == (0.0, 1.0) and L.wilson(10, 10)[1] == 1.0
    rows = [{"model": "gan", "correct": int(i < 19), "critic_correct": 1} for i in range(20)] + \
           [{"model": "transformer", "correct": i % 2, "critic_correct": None} for i in range(10)]
    s = L.summarise(rows)
    assert s["gan"]["accuracy"] == 0.95 and s["gan"]["interval"][0] > 0.5 and s["gan"]["critic_accuracy"] == 1.0
    assert s["transformer"]["accuracy"] == 0.5 and s["transformer"]["critic_accuracy"] is None
    text = L.explain(s)
    assert "more often than chance" in text and "coin toss" in text and "0.5 means" in text


def test_bad_input_gets_emolibs_errors(pairs):
    with pytest.raises(BadInput, match="rounds"):
        L.choose_pairs(0)
    with pytest.raises(BadInput, match="unknown model"):
        L.choose_pairs(1, models=("nope",))
    with pytest.raises(BadInput, match="'A' or 'B'"):
        L.score(pairs[0], "C")
    with pytest.raises(BadInput, match="no answers file"):
        L.read_answers("/nonexistent/answers.csv")


def test_the_critic_takes_the_same_test_on_the_same_pairs(pairs):
    choices = L.critic_choices(pairs, per_emotion=4)
    assert len(choices) == len(pairs) and set(choices) <= {"A", "B"}


def test_the_quiz_widget_plays_scores_saves_and_sums_up(tmp_path):
    from emolib.widgets import Quiz

    quiz = Quiz(2, folder=tmp_path, models=("gan",), seed=5, critic=False)
    assert "Round 1 of 2" in quiz.title.value and all(len(c.value) > 10_000 for c in quiz.clips)
    assert quiz.submit() is None and "Choose A or B" in quiz.reveal.value  # no choice yet: nothing saved
    assert not (tmp_path / L.ANSWERS_FILE).exists()
    quiz.choice.value = "A"
    row = quiz.submit()
    assert ("Right" in quiz.reveal.value) == bool(row["correct"]) and quiz.pairs[0].tune in quiz.reveal.value
    assert quiz.answer.disabled and not quiz.next.disabled
    quiz.advance()
    assert "Round 2 of 2" in quiz.title.value and quiz.choice.value is None
    quiz.choice.value = "B"
    quiz.submit()
    quiz.advance()
    assert "0.5 means" in quiz.reveal.value and quiz.summary["gan"]["rounds"] == 2
    assert len(L.read_answers(tmp_path)) == 2
