"""``fastbp bench --plot PATH``: the results as bar charts, one panel per section.

The kernels and user panels show every contender's time as a multiple of fastbp's, per
workload (above 1: fastbp is faster), on a log axis where the multiples spread over more than
a factor of ``LOG_SPREAD``; the first-fit panel shows seconds, cold, installed and warm,
beside issue 26's bounds (``FIRST_FIT_BOUNDS``). Drawn with matplotlib's Agg canvas (the
``plot`` extra), so no display is needed.
"""

import textwrap

import numpy as np

LOG_SPREAD = 10
TICK_WIDTH = 20  # characters of a workload's title per line under its bars
COLOURS = {
    "reference": "#7f7f7f",
    "jax": "#1f77b4",
    "torch": "#d62728",
    "sklearn": "#ff7f0e",
    "cold fit": "#1f77b4",
    "installed fit": "#9467bd",
    "warm fit": "#2ca02c",
}
TITLES = {
    "kernels": "Kernels, per example: each contender's time as a multiple of fastbp's",
    "features": "W3 per example, fastbp with each feature: time as a multiple of plain SGD's",
    "users": "User workloads, per epoch: each contender's time as a multiple of fastbp's",
    "estimators": "fastbp.sklearn beside scikit-learn's MLPClassifier, per epoch: its multiple",
    "first-fit": "First fit in a fresh process (seconds)",
}
FIRST_FIT_KINDS = ("cold fit", "installed fit", "warm fit")
# Issue 26's bounds: a first fit after installing, and one with the cache filled.
FIRST_FIT_BOUNDS = {"installed fit": 3.0, "warm fit": 0.3}


def plot_results(records, path):
    """Draw ``records`` (as ``compare`` collects them) into the image file ``path``; return
    the matplotlib ``Figure``."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(
            'fastbp bench --plot needs matplotlib: pip install ".[plot]" in a clone of fastbp'
        ) from None
    sections = [name for name in TITLES if any(r["section"] == name for r in records)]
    if not sections:
        raise ValueError("no results to plot")
    widest = max(
        len({(r["workload"], r["threads"]) for r in records if r["section"] == name})
        for name in sections
    )
    figure = Figure(figsize=(max(11, 1.5 * widest), 4.4 * len(sections)), layout="constrained")
    panels = np.atleast_1d(figure.subplots(len(sections), 1))
    for axes, section in zip(panels, sections, strict=True):
        chosen = [r for r in records if r["section"] == section]
        if section == "first-fit":
            _first_fit_panel(axes, chosen)
        else:
            _ratio_panel(axes, chosen)
        axes.set_title(TITLES[section], loc="left", fontsize=11)
    figure.savefig(path, dpi=110)
    return figure


def _group_label(r):
    threads = "" if r["threads"] == 1 else f", {r['threads']} threads"
    title = textwrap.fill(r.get("title", ""), TICK_WIDTH, max_lines=4, placeholder=" ...")
    return f"{r['workload']}{threads}\n{title}".rstrip()


def _ratio_panel(axes, records):
    groups = list(dict.fromkeys(_group_label(r) for r in records))
    fastbp = {_group_label(r): r["value"] for r in records if r["contender"] == "fastbp"}
    peers = list(dict.fromkeys(r["contender"] for r in records if r["contender"] != "fastbp"))
    ratios = {
        (_group_label(r), r["contender"]): r["value"] / fastbp[_group_label(r)]
        for r in records
        if r["contender"] != "fastbp" and _group_label(r) in fastbp
    }
    baseline = "plain SGD" if any(r["section"] == "features" for r in records) else "fastbp"
    axes.axhline(1.0, color="black", linewidth=1.2, label=f"{baseline} (= 1)")
    _bars(axes, groups, peers, ratios, _multiple)
    if any(r["section"] == "features" for r in records):
        axes.set_ylabel("time / plain SGD's time")
    else:
        axes.set_ylabel("time / fastbp's time\n(above 1: fastbp is faster)")


def _multiple(value):
    return f"{value:.2f}x" if value < 10 else f"{value:.0f}x"


def _first_fit_panel(axes, records):
    groups = list(dict.fromkeys(_group_label(r) for r in records))
    kinds = [kind for kind in FIRST_FIT_KINDS if any(r["contender"] == kind for r in records)]
    seconds = {(_group_label(r), r["contender"]): r["value"] for r in records}
    for kind in (kind for kind in kinds if kind in FIRST_FIT_BOUNDS):
        axes.axhline(
            FIRST_FIT_BOUNDS[kind],
            color=COLOURS[kind],
            linestyle="--",
            linewidth=1,
            label=f"bound, {kind.split()[0]}: {FIRST_FIT_BOUNDS[kind]:g} s",
        )
    _bars(axes, groups, kinds, seconds, lambda value: f"{value:.2f} s")
    axes.set_ylabel("seconds of the fit call")


def _bars(axes, groups, series, values, text):
    """Grouped bars: one group per entry of ``groups``, one bar per ``series`` present; a
    log axis where the values spread more than ``LOG_SPREAD`` times."""
    width = 0.8 / max(1, len(series))
    present = [v for v in values.values() if v > 0]
    logarithmic = bool(present) and max(present) / min(present) > LOG_SPREAD
    for position, name in enumerate(series):
        xs, heights = [], []
        for index, group in enumerate(groups):
            if (group, name) in values:
                xs.append(index - 0.4 + width * (position + 0.5))
                heights.append(values[group, name])
        bars = axes.bar(xs, heights, width, label=name, color=COLOURS.get(name))
        # Upright labels over the bars of wide groups, where flat ones would run together.
        rotation = 90 if len(series) > 3 and len(groups) > 1 else 0
        axes.bar_label(bars, [text(h) for h in heights], fontsize=8, padding=2, rotation=rotation)
    axes.set_xticks(range(len(groups)), groups, fontsize=8)
    axes.set_xlim(-0.5, len(groups) - 0.5)
    if logarithmic:
        axes.set_yscale("log")
        low, high = min([*present, 1.0]), max([*present, 1.0])
        axes.set_ylim(low / 2, high * 12)  # room for the labels above the bars
    else:
        axes.set_ylim(0, max([*present, 1.0]) * 1.2)
    axes.grid(axis="y", color="#dddddd", linewidth=0.6)
    axes.set_axisbelow(True)
    axes.legend(loc="upper left", fontsize=8, ncols=len(series) + 2, framealpha=0.9)
