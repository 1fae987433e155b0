"""The course's ipywidgets: the demo (Demo) and the blind listening test (Quiz).

The demo: upload a face (or pick a sample), choose the emotion (from the face, or any of the
four), the model, the opening (a real tune's, from scratch, or your MIDI file), bars and seed, press
Compose; see the crop, every class probability, the valence-arousal point and the roll, listen, and
download the MIDI and the WAV.

A thin layer over :func:`emolib.pipeline.compose`. :func:`run_demo` is the pure part (bytes in,
result or friendly message out) and :class:`Demo` only moves values between it and the widgets,
so tests drive the whole demo without a browser: set ``demo.upload.value``, call
``demo.button.click()``, read ``demo.status.value``.
"""
from __future__ import annotations

import base64
import html
import time
from dataclasses import dataclass
from pathlib import Path

from .emotion import EMOTIONS, quadrant
from .errors import BadMidi, EmolibError, NoFace, brief
from .files.writing import free_path, write_files
from .music.compose import Composition
from .music.models.registry import DEFAULT as DEFAULT_MODEL
from .pipeline import SAMPLE_FACE, compose

MAX_UPLOAD_BYTES = 20_000_000  # a phone photo is 2-8 MB; larger uploads are refused, not decoded


def _samples() -> dict[str, object]:
    """The face list: the astronaut photo, then every bundled sample face by expression and source."""
    from .faces.data.samples import SAMPLES as FACES

    return {"astronaut (NASA, public domain)": SAMPLE_FACE, **{f.label: f.path for f in FACES.values()}}


SAMPLES = _samples()
UPLOAD = "my uploaded photo"
FROM_FACE = "from the face"
OPENINGS = {"from scratch: the model writes every bar": "scratch", "opening bank: a real tune's first 4 bars": "bank",
            "my MIDI file: its first 4 bars": "upload"}


@dataclass
class DemoResult:
    ok: bool
    message: str  # what the user reads: the result, or what went wrong and what to do
    composition: Composition | None = None
    midi_path: Path | None = None
    image: object = None  # the grayscale photo, for drawing the face box
    wav_path: Path | None = None
    audio: tuple | None = None  # (waveform, sample_rate), rendered once for the player and the WAV


def run_demo(upload: bytes | None, *, sample: str | None = None, bars: int = 16, seed: int = 0,
             center_fallback: bool = False, out_dir: str | Path = ".", emotion: str | None = None,
             model: str = DEFAULT_MODEL, opening: str | bytes = "scratch") -> DemoResult:
    """Compose for an uploaded photo's bytes (or a bundled sample) and save the MIDI; never raises for bad input.

    emotion: None (the face decides) or a music emotion that overrides the face's.
    opening: "bank", "scratch" or the bytes of an uploaded MIDI file (see emolib.music.data.opening).
    """
    from .faces.detect import load_image
    from .music.compose import check_bars, check_seed

    try:
        bars, seed = check_bars(bars), check_seed(seed)
        if upload is not None and len(upload) > MAX_UPLOAD_BYTES:
            raise EmolibError(f"the upload is {len(upload) / 1e6:.0f} MB; please use a photo under "
                              f"{MAX_UPLOAD_BYTES // 1_000_000} MB")
        if upload is not None and len(upload) == 0:
            raise EmolibError("the uploaded file is empty")
        if upload is None and sample is not None and sample not in SAMPLES:  # an upload needs no sample name
            raise EmolibError(f"no sample face named {brief(sample)}", "choose one of the demo's face list")
        source = upload if upload is not None else SAMPLES.get(sample or "", SAMPLE_FACE)
        image = load_image(source)
        result = compose(image=source, emotion=emotion, bars=bars, seed=seed, model=model,
                         center_fallback=center_fallback, opening=opening)
        out_dir = Path(out_dir)
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise EmolibError(f"cannot create the output folder {out_dir} ({exc.strerror})") from None
        from .music.render.audio import write_wav

        stem = f"emolib_{result.emotion}_{model}_seed{seed}_{bars}bars"
        path = free_path(out_dir, stem, ".mid")
        wav_path = free_path(out_dir, path.stem, ".wav")
        audio = result.audio()
        write_files([(path, lambda tmp: result.midi.write(tmp)), (wav_path, lambda tmp: write_wav(tmp, *audio))])
    except EmolibError as exc:
        return DemoResult(False, f"Sorry: {exc.message}. {widget_hint(exc)}")
    except Exception as exc:  # noqa: BLE001 - the demo must never be left stuck on "Composing..."
        return DemoResult(False, f"Sorry, something went wrong ({type(exc).__name__}: {exc}). The demo still works: "
                                 "try again, or another photo.")
    p = result.probabilities[result.classification.emotion]
    v, a = result.classification.valence_arousal
    chosen = "you chose" if emotion else "->"
    return DemoResult(True, f"{result.classification.emotion} face (p = {p:.2f}), valence {v:+.2f}, arousal {a:+.2f} "
                            f"{chosen} {result.quadrant.code} {result.emotion} music ({model}: {result.piece.describe()}), "
                            f"saved as {path.name} and {wav_path.name}",
                     result, path, image, wav_path, audio)


def thumbnail(source, size: int = 96) -> bytes:
    """JPEG bytes of a face image (a path or an upload's bytes), at most `size` px a side: what the face list shows."""
    import io

    from PIL import Image

    from .faces.detect import load_image

    im = Image.fromarray(load_image(source))
    im.thumbnail((size, size))
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=85)
    return buf.getvalue()


def widget_hint(exc: EmolibError) -> str:
    """What to do next, in the widget's words, for each kind of error (the CLI's hint names CLI options)."""
    if isinstance(exc, NoFace):
        return "Use a frontal face photo, or tick 'centre crop if no face is found'."
    if isinstance(exc, BadMidi):
        return "Try another MIDI file, or another opening."
    return "Try another photo, or pick the bundled sample face."


def probability_table(result: Composition) -> str:
    """HTML: every class probability of the face (largest first) and its valence-arousal point and quadrant."""
    c = result.classification
    if c is None:
        return f"<p>no face: {html.escape(result.quadrant.code)} {html.escape(result.emotion)} music as chosen</p>"
    rows = "".join(f"<tr><td>{html.escape(k)}</td><td style='text-align:right'>{p:.3f}</td>"
                   f"<td><div style='background:#4c72b0;height:0.8em;width:{120 * p:.0f}px'></div></td></tr>"
                   for k, p in sorted(c.probabilities.items(), key=lambda kv: -kv[1]))
    v, a = c.valence_arousal
    return (f"<table class='emolib-probabilities'><tr><th>class</th><th>p</th><th></th></tr>{rows}</table>"
            f"<p>valence {v:+.2f}, arousal {a:+.2f}: quadrant {html.escape(quadrant(c.music_emotion).code)} "
            f"({html.escape(c.music_emotion)})</p>")


class Demo:
    """The widget layout; display it in a notebook cell (``Demo()`` as the last line)."""

    def __init__(self, out_dir: str | Path = "."):
        import ipywidgets as w

        self.out_dir = Path(out_dir)
        self.upload = w.FileUpload(accept="image/*", multiple=False, description="Upload face")
        self.source = w.Dropdown(options=[*SAMPLES, UPLOAD], value=next(iter(SAMPLES)), description="Face",
                                 layout=w.Layout(width="420px"))
        self.thumbnail = w.Image(format="jpeg", layout=w.Layout(width="96px", height="96px", object_fit="contain"))
        self.bars = w.IntSlider(value=16, min=4, max=32, step=4, description="Bars")
        self.seed = w.BoundedIntText(value=0, min=0, max=10_000, description="Seed")
        self.fallback = w.Checkbox(value=False, description="centre crop if no face is found")
        self.emotion = w.Dropdown(options=[FROM_FACE, *EMOTIONS], value=FROM_FACE, description="Emotion")
        self.model = w.ToggleButtons(options=[("GAN", "gan"), ("transformer", "transformer")], value=DEFAULT_MODEL)
        model_label = w.Label("Model", layout=w.Layout(width="50px"))  # beside its toggle, not above it
        self.opening = w.Dropdown(options=list(OPENINGS.items()), value="scratch", description="Opening",
                                  layout=w.Layout(width="420px"))
        self.midi_upload = w.FileUpload(accept=".mid,.midi", multiple=False, description="Upload MIDI")
        self.button = w.Button(description="Compose", button_style="primary", icon="music")
        self.status = w.HTML()
        self.probabilities = w.HTML()
        self.output = w.Output()
        self.download = w.HTML()
        self.result: DemoResult | None = None
        self.upload.observe(lambda _: (setattr(self.source, "value", UPLOAD), self._show_thumbnail()), names="value")
        self.source.observe(lambda _: self._show_thumbnail(), names="value")
        self.midi_upload.observe(lambda _: setattr(self.opening, "value", "upload"), names="value")
        self.button.on_click(self.compose)
        for name in ("upload", "midi_upload", "button", "status", "probabilities", "output", "download", "thumbnail"):
            getattr(self, name).add_class(f"emolib-{name.replace('_', '-')}")  # stable hooks for the browser test
        self._show_thumbnail()
        self.widget = w.VBox([w.HBox([w.VBox([w.HBox([self.source, self.upload]),
                                              w.HBox([self.emotion, model_label, self.model])]), self.thumbnail]),
                              w.HBox([self.opening, self.midi_upload]),
                              w.HBox([self.bars, self.seed]), w.HBox([self.fallback, self.button]),
                              self.status, w.HBox([self.probabilities, self.output]), self.download])
        self.widget.add_class("emolib-demo")

    def _show_thumbnail(self) -> None:
        """The chosen face, small, before Compose (the upload's, once there is one)."""
        data = self._upload_bytes() if self.source.value == UPLOAD else None
        try:
            self.thumbnail.value = thumbnail(data if data else SAMPLES.get(self.source.value, SAMPLE_FACE))
        except EmolibError:
            self.thumbnail.value = b""

    def _upload_bytes(self) -> bytes | None:
        if self.source.value != UPLOAD:
            return None
        if not self.upload.value:
            return b""
        return bytes(self.upload.value[-1]["content"])

    def _opening(self) -> str | bytes | None:
        """The opening choice; None when "my MIDI file" is chosen but nothing was uploaded."""
        if self.opening.value != "upload":
            return self.opening.value
        return bytes(self.midi_upload.value[-1]["content"]) if self.midi_upload.value else None

    def compose(self, _button=None) -> DemoResult:
        """The Compose button's handler."""
        self.button.disabled = True
        self.status.value = "Composing..."
        try:
            upload, opening = self._upload_bytes(), self._opening()
            if upload == b"" and not self.upload.value:
                result = DemoResult(False, "Please upload a photo first, or pick the bundled sample face.")
            elif opening is None:
                result = DemoResult(False, "Please upload a MIDI file for the opening, or pick another opening.")
            else:
                result = run_demo(upload, sample=self.source.value, bars=self.bars.value, seed=self.seed.value,
                                  center_fallback=self.fallback.value, out_dir=self.out_dir,
                                  emotion=None if self.emotion.value == FROM_FACE else self.emotion.value,
                                  model=self.model.value, opening=opening)
            self.output.clear_output()
            self.download.value = self.probabilities.value = ""
            if result.ok:
                self._show(result)
        except Exception as exc:  # noqa: BLE001 - showing the result failed: say so, stay usable
            result = DemoResult(False, f"Sorry, the result could not be shown ({type(exc).__name__}: {exc}).")
        finally:
            self.button.disabled = False
        self.result = result
        color = "#1a7f37" if result.ok else "#b42318"
        self.status.value = f'<b style="color:{color}">{html.escape(result.message)}</b>'
        return result

    def _show(self, result: DemoResult) -> None:
        from IPython.display import Audio, display

        from .viz import _plt, plot_composition

        self.probabilities.value = probability_table(result.composition)
        with self.output:
            fig = plot_composition(result.composition, result.image)
            display(fig)
            _plt().close(fig)
            wave, rate = result.audio
            display(Audio(wave, rate=rate))
        links = []
        for path, mime in ((result.midi_path, "audio/midi"), (result.wav_path, "audio/wav")):
            data = base64.b64encode(path.read_bytes()).decode()
            links.append(f'<a download="{html.escape(path.name)}" href="data:{mime};base64,{data}">'
                         f"Download {html.escape(path.name)}</a>")
        self.download.value = " &nbsp; ".join(links)

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)


class Quiz:
    """The blind listening test (emolib.music.eval.listening): each round two clips, A and B, one a model's and one
    a real folk tune; choose the model's, optionally name each one's emotion, press Answer to see if you were right,
    then Next. After the last round your accuracy is shown beside the critic's on the same pairs. Answers are
    appended to `folder`/listening_answers.csv (default: emolib.config.answers_dir()); `critic=False` skips the
    critic's answers (it composes 32 more pieces per model to learn from). Display it in a notebook cell (``Quiz()`` as the last line)."""

    def __init__(self, rounds: int = 10, *, folder: str | Path | None = None, models: tuple[str, ...] | None = None,
                 seed: int | None = None, emotions: bool = True, critic: bool = True):
        import ipywidgets as w

        from .config import answers_dir
        from .music.eval import listening

        self.folder = Path(folder) if folder is not None else answers_dir()
        self.seed = int(time.time()) % 100_000 if seed is None else seed  # new pairs each time, unless given
        self.pairs = listening.choose_pairs(rounds, models=models, seed=self.seed)
        self.critic = listening.critic_choices(self.pairs) if critic else [""] * len(self.pairs)
        self.index, self.rows = 0, []
        self.title = w.HTML()
        self.clips = [w.Audio(format="wav", autoplay=False, loop=False, controls=True) for _ in "AB"]
        self.choice = w.ToggleButtons(options=["A", "B"], value=None, description="The model's:")
        guesses = [("(not sure)", ""), *[(e, e) for e in EMOTIONS]]
        self.emotions = [w.Dropdown(options=guesses, value="", description=f"{c} sounds", layout=w.Layout(width="260px"))
                         for c in "AB"]
        self.answer = w.Button(description="Answer", button_style="primary")
        self.next = w.Button(description="Next round", disabled=True)
        self.reveal = w.HTML()
        self.output = w.Output()
        self.answer.on_click(self.submit)
        self.next.on_click(self.advance)
        for name in ("title", "choice", "answer", "next", "reveal", "output"):
            getattr(self, name).add_class(f"emolib-quiz-{name}")  # stable hooks for the browser test
        emotion_row = [w.HBox(self.emotions)] if emotions else []
        self.widget = w.VBox([self.title, w.HBox([w.VBox([w.Label(f"Tune {c}"), clip]) for c, clip in zip("AB", self.clips)]),
                              *emotion_row, self.choice, w.HBox([self.answer, self.next]), self.reveal, self.output])
        self.widget.add_class("emolib-quiz")
        self._show_round()

    def _show_round(self) -> None:
        from .music.eval.listening import render_pair

        pair = self.pairs[self.index]
        self.title.value = (f"<b>Round {self.index + 1} of {len(self.pairs)}</b>: which tune did a model write? "
                            "Both are 16 bars, in C, on the piano, at one tempo and loudness.")
        for clip, data in zip(self.clips, render_pair(pair)):
            clip.value = data
        self.choice.value = None
        for d in self.emotions:
            d.value = ""
        self.answer.disabled, self.next.disabled, self.reveal.value = False, True, ""

    def submit(self, _button=None) -> dict | None:
        """The Answer button: score the choice, save the row, show the answer."""
        from .music.eval.listening import answer_row, save_answer

        if self.choice.value is None:
            self.reveal.value = "<b>Choose A or B first.</b>"
            return None
        pair = self.pairs[self.index]
        row = answer_row(pair, self.choice.value, critic_choice=self.critic[self.index],
                         emotion_a=self.emotions[0].value, emotion_b=self.emotions[1].value)
        try:
            save_answer(self.folder, row)
            saved = f"saved to {html.escape(str(self.folder))}"
        except (EmolibError, OSError) as exc:
            saved = f"not saved: {html.escape(str(exc))}"
        self.rows.append(row)
        model_clip = "A" if pair.model_is_a else "B"
        critic = (f" The critic said {self.critic[self.index]}." if self.critic[self.index] else "")
        self.reveal.value = (f"<b>{'Right' if row['correct'] else 'Wrong'}</b>: {model_clip} was written by the "
                             f"{pair.model}; {'B' if model_clip == 'A' else 'A'} is the real folk tune "
                             f"&laquo;{html.escape(pair.tune)}&raquo; ({pair.emotion}).{critic} ({saved})")
        self.answer.disabled = True
        self.next.disabled = False
        self.next.description = "Next round" if self.index + 1 < len(self.pairs) else "See the results"
        return row

    def advance(self, _button=None) -> None:
        """The Next button: the next round, or the results after the last."""
        from IPython.display import display

        from .music.eval.listening import explain, summarise
        from .viz import _plt, plot_listening

        self.index += 1
        if self.index < len(self.pairs):
            self._show_round()
            return
        self.next.disabled = True
        rows = [{**r, "critic_correct": r["critic_correct"] if r["critic_correct"] != "" else None} for r in self.rows]
        summary = summarise(rows)
        self.reveal.value = "<pre>" + html.escape(explain(summary)) + "</pre>"
        with self.output:
            fig = plot_listening(summary)
            display(fig)
            _plt().close(fig)
        self.summary = summary

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)
