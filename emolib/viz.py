"""Plots for the notebooks: piano rolls, curves, confusion matrices, faces, the valence-arousal plane.

Every function returns the matplotlib Figure; :func:`save_fig` writes it to ``figures/``.
"""
from __future__ import annotations

import numpy as np

from .config import ensure_dir, plots_dir
from .emotion import QUADRANTS, VA_COORDINATES, quadrant, valence_arousal
from .music.notes.roll import REGISTER, STEPS_PER_BAR

QUADRANT_COLORS = {"happy": "#f2b701", "angry": "#e73f3f", "sad": "#3969ac", "calm": "#11a579"}
ACCOMPANIMENT_COLOR = "#9aa5b1"


def _plt():
    """pyplot, imported when a plot is drawn. The backend is left to matplotlib (inline in notebooks, Agg when there
    is no display): emolib never switches a backend the caller chose."""
    import matplotlib.pyplot as plt

    return plt


def save_fig(fig, name: str, *, data: str | None = None, dpi: int = 110) -> None:
    """Save a figure as figures/<name>.png (config.plots_dir: a temporary folder under the tests), or
    figures/<name>_<data>.png for a figure whose content depends on which optional dataset was found
    (data="fer2013" or "synthetic"), so that running a notebook without a dataset never overwrites the figure made
    with it. Returns nothing: no machine path is echoed."""
    name = name.removesuffix(".png") + (f"_{data}" if data else "")
    fig.savefig(ensure_dir(plots_dir()) / f"{name}.png", dpi=dpi, bbox_inches="tight")


UNITS = {  # y-axis labels of the music metrics, with their units
    "pitch_class_entropy": "bits", "scale_consistency": "share of notes in the best key", "note_density": "notes per second",
    "notes_per_beat": "notes per beat", "empty_beat_rate": "share of silent beats", "groove_consistency": "0-1 (1 = same rhythm every bar)",
    "qualified_note_rate": "share of notes >= a sixteenth", "polyphony": "notes sounding together",
}


def provenance(item) -> tuple[np.ndarray, list[int], list[int]]:
    """(roll, bars the model did not write, bars post-processing changed) of a roll, a Piece or a Composition."""
    piece = getattr(item, "piece", item)
    if not hasattr(piece, "authors"):
        return np.asarray(item), [], []
    from .music.notes.piece import EMPTY, OPENING, REAL

    given = [b for b, who in enumerate(piece.authors) if who in (OPENING, REAL, EMPTY)]
    edited = [b for b, ed in enumerate(piece.changes) if ed]
    return piece.roll, given, edited


def plot_roll(roll, ax=None, *, title: str = "", accompaniment: np.ndarray | None = None,
              color: str = "#222222", pitch_range: tuple[int, int] | None = None, opening_bars: int = 0,
              given: list[int] | None = None, edited: list[int] | None = None):
    """A piano roll (time, 128): each note a bar from onset to release, bar lines, an optional accompaniment
    underneath in grey (the legend names both). Who wrote what: the bars the model did not write are shaded (`given`; a Piece or a
    Composition passed as `roll` says which, as does `opening_bars` for the first bars) and the bars that
    post-processing changed are hatched (`edited`)."""
    from .music.notes.roll import roll_to_notes

    roll, auto_given, auto_edited = provenance(roll)
    given = sorted(set(given if given is not None else auto_given) | set(range(opening_bars)))
    edited = edited if edited is not None else auto_edited
    plt = _plt()
    if ax is None:
        fig, ax = plt.subplots(figsize=(10, 3))
    layers = [(accompaniment, ACCOMPANIMENT_COLOR, "accompaniment (the rendering's)")] if accompaniment is not None else []
    layers.append((roll, color, "melody"))
    used = np.flatnonzero(np.any([layer.any(axis=0) for layer, _, _ in layers], axis=0))
    lo, hi = pitch_range or ((used.min() - 2, used.max() + 3) if len(used) else REGISTER)
    for layer, c, name in layers:
        notes = roll_to_notes(layer)
        ax.barh([n.pitch for n in notes], [n.end - n.start - 0.15 for n in notes], left=[n.start for n in notes],
                height=0.8, color=c, edgecolor="none", label=name if len(layers) > 1 else None)
    for bar in range(0, len(roll) + 1, STEPS_PER_BAR):
        ax.axvline(bar, color="#dddddd", lw=0.6 if bar % 64 else 1.4, zorder=0)
    for i, b in enumerate(given):
        ax.axvspan(b * STEPS_PER_BAR, (b + 1) * STEPS_PER_BAR, color="#f2e6c9", alpha=0.6, zorder=-1,
                   label="given, not the model's" if i == 0 else None)
    for i, b in enumerate(edited):
        ax.axvspan(b * STEPS_PER_BAR, (b + 1) * STEPS_PER_BAR, facecolor="none", edgecolor="#b07aa1", hatch="///",
                   lw=0, zorder=-1, label="changed after the model" if i == 0 else None)
    if given or edited or len(layers) > 1:
        # beside the roll, not on it: inside the axes it hid the highest notes
        ax.legend(loc="upper left", bbox_to_anchor=(1.005, 1), borderaxespad=0, fontsize=7, frameon=False)
    ax.set_xlim(0, len(roll))
    ax.set_ylim(lo, hi)
    ax.set_xlabel(f"time (steps; {STEPS_PER_BAR} per 4/4 bar)")
    ax.set_ylabel("MIDI pitch")
    if title:
        ax.set_title(title)
    return ax.figure


def plot_roll_cells(roll: np.ndarray, pitches: range, *, title: str = "one bar, step by step"):
    """The roll's cells (time x pitch, 1 = sounding) above the notes they encode: consecutive cells of a
    pitch are one held note, and a re-struck pitch is told apart by the empty cell before it."""
    from .music.notes.roll import roll_to_notes

    plt = _plt()
    fig, (a, b) = plt.subplots(2, 1, figsize=(8, 4.4), sharex=True)
    cells = roll[:, pitches.start:pitches.stop].T
    a.imshow(cells, origin="lower", cmap="Greys", vmin=0, vmax=1.6, aspect="auto",
             extent=(0, len(roll), pitches.start - 0.5, pitches.stop - 0.5))
    a.set_xticks(np.arange(len(roll) + 1), minor=True)
    a.set_yticks(np.arange(pitches.start, pitches.stop) + 0.5, minor=True)
    a.grid(which="minor", color="#bbbbbb", lw=0.5)
    for n in roll_to_notes(roll):
        a.annotate("onset", (n.start + 0.5, n.pitch), xytext=(n.start + 0.5, n.pitch + 1.6), fontsize=7,
                   ha="center", arrowprops={"arrowstyle": "->", "lw": 0.6})
    a.set_ylabel("MIDI pitch")
    a.set_title(f"{title}: the roll's cells (1 = the pitch sounds in that sixteenth)")
    plot_roll(roll, b, title="the notes they encode", pitch_range=(pitches.start - 0.5, pitches.stop - 0.5))
    fig.tight_layout()
    return fig


def plot_rolls(rolls: dict, *, accompaniments: dict[str, np.ndarray] | None = None,
               colors: dict[str, str] | None = None, ncols: int = 1, openings: dict[str, int] | None = None,
               share_pitch: bool = True):
    """Several piano rolls, one per named entry, on one pitch axis (so they compare at a glance). An entry may
    be a roll, a Piece or a Composition; for the last two the bars the model did not write are shaded and
    the bars post-processing changed are hatched (for a plain roll, openings: name -> given bars)."""
    plt = _plt()
    n = len(rolls)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(11 if ncols == 1 else 6 * ncols, 2.4 * nrows), squeeze=False,
                             sharey=share_pitch)
    pitch_range = None
    if share_pitch:
        layers = [*(provenance(r)[0] for r in rolls.values()), *(accompaniments or {}).values()]
        used = np.flatnonzero(np.any([layer.any(axis=0) for layer in layers], axis=0))
        pitch_range = (used.min() - 2, used.max() + 3) if len(used) else REGISTER
    for ax, (name, roll) in zip(axes.ravel(), rolls.items()):
        plot_roll(roll, ax, title=name, accompaniment=(accompaniments or {}).get(name), pitch_range=pitch_range,
                  color=(colors or {}).get(name, QUADRANT_COLORS.get(name.split()[0], "#222222")),
                  opening_bars=(openings or {}).get(name, 0))
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    fig.tight_layout()
    return fig


def plot_history(history: dict[str, list[float]], *, title: str = ""):
    """Training curves: loss on the left, accuracy (or any other *_acc / *_f1 keys) on the right."""
    plt = _plt()
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.4))
    for key, values in history.items():
        if not isinstance(values, (list, tuple)) or not values:
            continue
        epochs = np.arange(1, len(values) + 1)
        if "loss" in key:
            a.plot(epochs, values, marker="o", label=key)
        elif "acc" in key or "f1" in key:
            b.plot(epochs, values, marker="o", label=key)
    for ax, label in ((a, "loss"), (b, "score")):
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        if ax.get_lines():
            ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_confusion(confusion, classes, *, title: str = "Confusion matrix (test split)"):
    """Seaborn heat map of a confusion matrix, rows = true class, with row-normalised percentages."""
    import seaborn as sns

    plt = _plt()
    cm = np.asarray(confusion, dtype=float)
    pct = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    labels = np.array([[f"{int(c)}\n{p:.0%}" for c, p in zip(row, prow)] for row, prow in zip(cm, pct)])
    fig, ax = plt.subplots(figsize=(1.4 * len(classes) + 2, 1.2 * len(classes) + 1.5))
    sns.heatmap(pct, annot=labels, fmt="", cmap="Blues", vmin=0, vmax=1, xticklabels=classes, yticklabels=classes,
                cbar=False, ax=ax)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_faces(images: np.ndarray, titles: list[str], *, ncols: int = 8, colors: list[str] | None = None):
    """A grid of grayscale faces with a title under each (green/red for right/wrong if colors given)."""
    plt = _plt()
    n = len(images)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.4 * ncols, 1.7 * nrows), squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if i < n:
            ax.imshow(images[i], cmap="gray", vmin=0, vmax=255)
            ax.set_title(titles[i], fontsize=8, color=(colors[i] if colors else "black"))
    fig.tight_layout()
    return fig


def plot_counts(counts: dict[str, int], *, title: str = "", colors: dict[str, str] | None = None):
    """A bar chart of counts per class or quadrant."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(1.0 * len(counts) + 2.5, 3))
    names = list(counts)
    ax.bar(names, [counts[k] for k in names], color=[(colors or QUADRANT_COLORS).get(k, "#777777") for k in names])
    for i, k in enumerate(names):
        ax.text(i, counts[k], str(counts[k]), ha="center", va="bottom", fontsize=9)
    ax.set_ylim(0, max(counts.values(), default=1) * 1.15 or 1)  # room for the labels above the bars
    ax.set_ylabel("count")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_choices(runs: dict[str, dict], keys: dict[str, str], *, title: str = "", xlabel: str = "validation accuracy"):
    """Grouped horizontal bars: one group per variant (runs), one bar per measure (keys: run key -> legend).
    A measure a variant does not have (None) gets no bar."""
    plt = _plt()
    names = list(runs)
    fig, ax = plt.subplots(figsize=(8, 0.36 * len(names) * len(keys) + 1.8))
    height = 0.8 / len(keys)
    values = [v for n in names for k in keys if (v := runs[n].get(k)) is not None]
    for j, (key, label) in enumerate(keys.items()):
        ys = [i + j * height for i, n in enumerate(names) if runs[n].get(key) is not None]
        vs = [runs[n][key] for n in names if runs[n].get(key) is not None]
        ax.barh(ys, vs, height=height, label=label)
        for y, v in zip(ys, vs):
            ax.text(v + 0.003, y, f"{v:.3f}", va="center", fontsize=7)
    ax.set_yticks(np.arange(len(names)) + 0.4 - height / 2, names, fontsize=8)
    ax.set_xlim(max(0.0, min(values) - 0.08), min(1.0, max(values) + 0.05))
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=len(keys))
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_probabilities(probs: dict[str, float], *, title: str = "Emotion probabilities"):
    """Horizontal bars of class probabilities."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(4.5, 0.5 * len(probs) + 1))
    _draw_probabilities(ax, probs, title)
    fig.tight_layout()
    return fig


def _draw_probabilities(ax, probs: dict[str, float], title: str) -> None:
    names = list(probs)
    colors = [QUADRANT_COLORS[quadrant(k).name] if k in VA_COORDINATES or k in QUADRANTS else "#777777" for k in names]
    ax.barh(names, [probs[k] for k in names], color=colors)
    for i, k in enumerate(names):
        ax.text(min(probs[k] + 0.02, 0.8), i, f"{probs[k]:.2f}", va="center", fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_xlabel("probability")
    ax.invert_yaxis()
    ax.set_title(title)


def plot_quadrant_plane(face_probs: dict[str, float] | None = None, *, point: tuple[float, float] | None = None,
                        labels: list[str] | None = None, title: str = "Russell's valence-arousal plane"):
    """The four quadrants with their emotions, the face labels' published points (labels, or those of
    face_probs), and the face's probability-weighted (valence, arousal) as a star."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(4.6, 4.6))
    if face_probs is not None:
        point = valence_arousal(face_probs)
    _draw_plane(ax, point, title, labels=labels if labels is not None else list(face_probs) if face_probs else None)
    ax.axhline(0, color="k", lw=0.8)
    ax.axvline(0, color="k", lw=0.8)
    fig.tight_layout()
    return fig


def _draw_plane(ax, point: tuple[float, float] | None, title: str, *, highlight: str | None = None,
                labels: list[str] | None = None) -> None:
    """The four coloured quadrants with their names, each face label's published point (dots), and a star
    at `point`, the probability-weighted mean of those points (the chosen quadrant drawn brighter)."""
    plt = _plt()
    for name, q in QUADRANTS.items():
        alpha = 0.18 if highlight is None else 0.35 if name == highlight else 0.12
        ax.add_patch(plt.Rectangle((0 if q.valence > 0 else -1, 0 if q.arousal > 0 else -1), 1, 1,
                                   color=QUADRANT_COLORS[name], alpha=alpha))
        ax.text(0.5 * q.valence, 0.5 * q.arousal, f"{q.code}\n{name}", ha="center", va="center",
                fontsize=11 if highlight is None else 9)
    for label in labels or []:
        if label in VA_COORDINATES:
            v, a = VA_COORDINATES[label]
            ax.plot(v, a, "o", color="dimgray", markersize=4)
            ax.annotate(label, (v, a), fontsize=7, color="dimgray", xytext=(3, 3), textcoords="offset points")
    if point is not None:
        ax.plot(*point, marker="*", markersize=18 if highlight is None else 16, color="black")
    ax.set_xlim(-1.1, 1.1)
    ax.set_ylim(-1.1, 1.1)
    ax.set_xlabel("valence (unpleasant - pleasant)")
    ax.set_ylabel("arousal (calm - excited)")
    ax.set_title(title)


def plot_metric_distributions(rows: list[dict], metrics: list[str], *, hue: str = "quadrant", title: str = ""):
    """Box plots of metrics per group (rows are dicts with a `hue` key and the metric values)."""
    import pandas as pd
    import seaborn as sns

    plt = _plt()
    df = pd.DataFrame(rows)
    fig, axes = plt.subplots(1, len(metrics), figsize=(3.0 * len(metrics), 3.2), squeeze=False)
    order = [q for q in QUADRANT_COLORS if q in set(df[hue])] or None
    for ax, metric in zip(axes.ravel(), metrics):
        sns.boxplot(data=df, x=hue, y=metric, order=order, hue=hue, hue_order=order, palette=QUADRANT_COLORS
                    if order else None, ax=ax, fliersize=1, legend=False)
        ax.set_title(metric.replace("_", " "), fontsize=10)
        ax.set_xlabel("")
        ax.set_ylabel(UNITS.get(metric, ""), fontsize=8)
        ax.tick_params(axis="x", rotation=30)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_composition(result, image: np.ndarray | None = None):
    """One figure for a pipeline result: the face and its box, the probabilities, the quadrant, the piano roll."""
    plt = _plt()
    fig = plt.figure(figsize=(12, 6.2))
    grid = fig.add_gridspec(2, 3, height_ratios=[1, 0.9])
    if result.classification is not None:
        ax = fig.add_subplot(grid[0, 0])
        shown = image if image is not None else result.classification.face
        ax.imshow(shown, cmap="gray")
        if image is not None and result.box is not None:
            x, y, w, h = result.box
            ax.add_patch(plt.Rectangle((x, y), w, h, fill=False, color=QUADRANT_COLORS[result.emotion], lw=2))
        ax.set_title(f"face: {result.classification.emotion}")
        ax.axis("off")
        if image is not None:  # what the network sees: the 48x48 grayscale crop
            inset = ax.inset_axes([0.70, 0.0, 0.30, 0.30])
            inset.imshow(result.classification.face, cmap="gray", vmin=0, vmax=255)
            inset.set_xticks([])
            inset.set_yticks([])
            inset.set_title("48x48 crop", fontsize=7)
        _draw_probabilities(fig.add_subplot(grid[0, 1]), result.probabilities, "face: class probabilities")
        point = valence_arousal(result.probabilities)
        labels = list(result.probabilities)
    else:
        q = result.quadrant
        point, labels = (0.5 * q.valence, 0.5 * q.arousal), None
    _draw_plane(fig.add_subplot(grid[0, 2]), point,
                f"(v, a) = ({point[0]:+.2f}, {point[1]:+.2f}) -> {result.quadrant.code} {result.emotion}",
                highlight=result.emotion, labels=labels)
    ax = fig.add_subplot(grid[1, :])
    from .music.notes.roll import Track
    from .music.render.midi import expressive_tracks

    roll, given, edited = provenance(result)
    # as the rendering plays them: the expressive one shifts the register and adds an accompaniment
    expressive = getattr(result, "rendering", "expressive") == "expressive"
    tracks = expressive_tracks(result.piece) if expressive else [Track(roll)]
    plot_roll(tracks[0].roll, ax, color=QUADRANT_COLORS[result.emotion], given=given, edited=edited,
              accompaniment=tracks[1].roll if len(tracks) > 1 else None,
              title=f"{len(result.roll) // STEPS_PER_BAR} bars in {NOTE_NAMES[result.tonic]} {result.mode}, as played: "
                    f"{result.piece.describe()}")
    fig.tight_layout()
    return fig


NOTE_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


def plot_gan_history(history: dict, *, every: int = 5):
    """GAN curves: D and G losses, and the discriminator's mean outputs D(x) and D(G(z))."""
    plt = _plt()
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 3.4))
    steps = np.arange(len(history["d_loss"])) * every

    def smooth(v, k=max(1, len(history["d_loss"]) // 60)):
        v = np.asarray(v, float)
        return np.convolve(v, np.ones(k) / k, mode="valid") if len(v) > k else v

    for key, ax in (("d_loss", a), ("g_loss", a), ("d_real", b), ("d_fake", b)):
        v = smooth(history[key])
        label = {"d_loss": "D loss", "g_loss": "G loss (adversarial + feature matching)", "d_real": "D(x): real",
                 "d_fake": "D(G(z)): generated"}[key]
        ax.plot(steps[:len(v)], v, label=label)
    a.set_yscale("log")
    b.axhline(0.45, color="grey", ls=":", lw=1, label="chance (smoothed labels)")
    b.set_ylim(0, 1)
    for ax, title in ((a, "losses"), (b, "discriminator outputs")):
        ax.set_xlabel("discriminator step")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_curves(curves: dict[str, list[float]], *, xlabel: str = "step", x: dict[str, np.ndarray] | None = None,
                title: str = "", logy: bool = False):
    """Named curves on one axis (x defaults to 0, 1, 2, ...; give x per curve for sparse ones)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 3.4))
    for name, values in curves.items():
        xs = (x or {}).get(name, np.arange(len(values)))
        ax.plot(xs, values, label=name, marker="o" if len(values) < 40 else None)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.grid(alpha=0.3)
    ax.legend()
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_listening(summary: dict[str, dict], *, title: str = "Which tune did the model write?"):
    """The listening test's accuracy per model (emolib.music.eval.listening.summarise): yours and the critic's on
    the same pairs, with 95 % intervals, against 0.5 (a coin toss)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(1.6 + 1.6 * len(summary), 3.2))
    x = np.arange(len(summary))
    for offset, who, key, color in ((-0.18, "you", "", "tab:blue"), (0.18, "the critic", "critic_", "tab:gray")):
        acc = [s[f"{key}accuracy"] for s in summary.values()]
        if any(a is None for a in acc):
            continue
        low, high = np.array([s[f"{key}interval"] for s in summary.values()]).T
        ax.bar(x + offset, acc, width=0.34, color=color, label=who,
               yerr=[np.array(acc) - low, high - np.array(acc)], capsize=4)
    ax.axhline(0.5, color="k", lw=0.8, ls="--", label="0.5: a coin toss")
    ax.set_xticks(x, [f"{m}\n({s['rounds']} rounds)" for m, s in summary.items()])
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("share told apart")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig
