"""Lesson 06's figures of the game in progress (data from ``coursekit.gan.dynamics``).

``saturation_figure``: D(G(z)) and the generator's output gradient over training, and the gradient
against D(G(z)), for several runs (one ``GANProbe.record`` each). ``coverage_figure``: modes covered and
the share of high-quality samples over training. ``samples_row``: G's samples at kept iterations over the
real data. ``figure1_frame``: one frame of Goodfellow et al.'s Figure 1 in 1-D. ``orbit_plot``: paths of
the bilinear game. ``figure1_stepper``: a slider over Figure 1's snapshots.
"""

from __future__ import annotations

from matplotlib.axes import Axes
from torch import Tensor

from ..plots import axes_or_new
from .dynamics import Figure1Snapshot, figure1_densities
from .plots import FAKE, REAL

__all__ = ["RUN_STYLES", "saturation_figure", "coverage_figure", "samples_row", "figure1_frame", "orbit_plot",
           "figure1_stepper"]

# (optimiser, generator loss) -> (colour, line style); minimax red, non-saturating blue, Adam dashed
RUN_STYLES = {("sgd", "non_saturating"): ("tab:blue", "-"), ("sgd", "minimax"): ("tab:red", "-"),
              ("adam", "non_saturating"): ("tab:blue", "--"), ("adam", "minimax"): ("tab:red", "--")}


def _label(key) -> str:
    opt, kind = key
    return f"{kind.replace('_', '-')}, {'SGD + momentum' if opt == 'sgd' else 'Adam'}"


def saturation_figure(records: dict, axes) -> list:
    """Three panels on ``axes`` from ``records[(opt, kind)] = GANProbe.record``: mean D(G(z)) against
    the iteration, the mean per-sample gradient norm ||∂ℓ/∂x|| at G's output against the iteration
    (log scale), and that gradient against D(G(z)) (log-log): each probe is one point.
    Returns the gradient curves (one ``Line2D`` per run)."""
    a1, a2, a3 = axes
    drawn = []
    for key, rec in records.items():
        colour, ls = RUN_STYLES.get(key, ("k", "-"))
        a1.plot(rec["step"], rec["D(G(z))"], color=colour, ls=ls, lw=1.2, label=_label(key))
        drawn += a2.plot(rec["step"], rec["grad"], color=colour, ls=ls, lw=1.2, label=_label(key))
        a3.scatter(rec["D(G(z))"], rec["grad"], s=9, color=colour, marker="o" if key[0] == "sgd" else "x",
                   alpha=0.7, label=_label(key))
    a1.set(xlabel="iteration", ylabel="mean D(G(z)) on a fixed z", ylim=(0, 1), title="how much D is fooled")
    a2.set(xlabel="iteration", ylabel="mean ||∂ℓ/∂x|| at x = G(z)", yscale="log", title="G's learning signal")
    a3.set(xlabel="mean D(G(z))", ylabel="mean ||∂ℓ/∂x|| at x = G(z)", xscale="log", yscale="log",
           title="gradient against D(G(z)), same runs")
    for ax in axes:
        ax.grid(alpha=0.3)
    a1.legend(fontsize=7)
    return drawn


def coverage_figure(records: dict, axes, *, n_modes: int, colours: dict | None = None) -> list:
    """Two panels from ``records[label] = GANProbe.record`` (with "modes" and "high_quality"): modes
    covered (of ``n_modes``) and the share of high-quality samples against the iteration.
    Returns the mode-count curves (one ``Line2D`` per run)."""
    a1, a2 = axes
    drawn = []
    for i, (label, rec) in enumerate(records.items()):
        colour = (colours or {}).get(label, f"C{i}")
        drawn += a1.plot(rec["step"], rec["modes"], color=colour, lw=1.2, label=label)
        a2.plot(rec["step"], rec["high_quality"], color=colour, lw=1.2, label=label)
    a1.set(xlabel="iteration", ylabel=f"modes covered (of {n_modes})", ylim=(-0.3, n_modes + 0.3),
           title="modes covered")
    a2.set(xlabel="iteration", ylabel="share of high-quality samples", ylim=(-0.03, 1.03),
           title="samples within 3 std of a centre")
    for ax in axes:
        ax.grid(alpha=0.3)
    a1.legend(fontsize=7)
    return drawn


def samples_row(samples: dict, x_real: Tensor, axes, *, lim: float = 3.0, name: str = "") -> list:
    """G's samples (purple) over real samples (green), one panel per kept iteration in ``samples``.
    Returns the scatters of G's samples."""
    drawn = []
    for ax, (step, x) in zip(axes, sorted(samples.items())):
        ax.scatter(x_real[:, 0], x_real[:, 1], s=3, c=REAL, alpha=0.3)
        drawn.append(ax.scatter(x[:, 0], x[:, 1], s=6, c=FAKE, edgecolors="k", linewidths=0.2, zorder=3))
        ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal", title=f"{name} iteration {step}",
               xlabel="$x_1$", ylabel="$x_2$")
        ax.title.set_fontsize(9)
    return drawn


def figure1_frame(grid: Tensor, snap: Figure1Snapshot, ax: Axes | None = None) -> Axes:
    """Goodfellow et al.'s Figure 1 in 1-D: p_data (green), p_g (purple), D(x) (black dashed) and
    the equilibrium value 1/2 (grey) at one snapshot."""
    ax = axes_or_new(ax, (6, 3))
    p_data, p_g = figure1_densities(grid, snap)
    ax.plot(grid, p_data, color=REAL, lw=1.8, label="$p_{data}$")
    ax.plot(grid, p_g, color=FAKE, lw=1.8, label="$p_g$")
    ax.plot(grid, snap.d, "k--", lw=1.4, label="D(x)")
    ax.axhline(0.5, color="0.6", lw=0.8, ls=":")
    top = max(1.02, 1.05 * float(p_g.max()))
    ax.set(xlabel="x", ylabel="density, or D(x)", ylim=(0, top), xlim=(float(grid[0]), float(grid[-1])),
           title=f"iteration {snap.step}: $p_g$ = N({snap.mean:.2f}, {snap.std:.2f}²)")
    ax.legend(fontsize=7, loc="upper left")
    return ax


def orbit_plot(orbits: dict, ax: Axes | None = None) -> Axes:
    """Paths (n, 2) of (x, y) for the game min_x max_y xy, one line per entry, start marked, equilibrium (0, 0)."""
    ax = axes_or_new(ax, (4, 4))
    for i, (label, path) in enumerate(orbits.items()):
        ax.plot(path[:, 0], path[:, 1], "-", color=f"C{i}", lw=1, marker=".", ms=3, label=label)
    first = next(iter(orbits.values()))
    ax.plot(first[0, 0], first[0, 1], "ko", ms=6, label="start")
    ax.plot(0, 0, "k*", ms=10, label="equilibrium (0, 0)")
    ax.set(xlabel="x (minimises xy)", ylabel="y (maximises xy)", aspect="equal")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return ax


def figure1_stepper(grid: Tensor, snaps: list[Figure1Snapshot]):
    """A slider over the stored snapshots of ``figure1_run``; each position redraws ``figure1_frame`` as a
    PNG. Returns the ``ipywidgets.VBox`` (its ``children`` are the slider and the image)."""
    import ipywidgets as w

    from ..widgets.render import figure_png, new_figure

    slider = w.IntSlider(value=0, min=0, max=len(snaps) - 1, description="snapshot",
                         continuous_update=False)
    image = w.Image(format="png", layout=w.Layout(align_self="flex-start"))

    def draw(index: int) -> None:
        fig = new_figure((6, 3))
        figure1_frame(grid, snaps[index], fig.add_subplot(1, 1, 1))
        fig.tight_layout()
        image.value = figure_png(fig)

    slider.observe(lambda change: draw(change["new"]), "value")
    draw(0)
    return w.VBox([slider, image])

