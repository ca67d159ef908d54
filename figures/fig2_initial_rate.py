"""Figure 2: accuracy against the measured initial E rate, learning curves, and the silent
boundary of the two weight distributions.

Reads ``DATA/initial_rate/runs.csv`` and ``epochs.csv`` (the initial-rate study); writes
``fig2_initial_rate.png``, ``.pdf`` and ``.caption.md``. (a) Every run of the target-rate arm at
its measured initial E rate (log axis); runs measured at 0 Hz sit at their value in a strip of their
own left of the axis break (never moved onto the log axis); one marker per outcome; per network a
least-squares line of accuracy on log10 rate over the trained runs, its slope (points per decade,
95 % t-interval over the per-seed slopes) and Spearman's rho in the legend. (b) Learning curves of
80:20 at a few target rates (validation accuracy per epoch; thin: seeds, thick: mean). (c, d) The
scale arm: accuracy and measured initial E rate against the excitatory weight gain for half-normal
and log-normal weights, with the gain below which the runs are silent.

    python figures/fig2_initial_rate.py [--data data/quick] [--out DIR]
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402

from ei_brian import plotting  # noqa: E402

NAME = "fig2_initial_rate"
#: the strip of runs measured at exactly 0 Hz, and the log axis of the rest
ZERO_STRIP, LOG_AXIS = "0 Hz", "log"
DISTRIBUTION_COLORS = {"half-normal": "#E69F00", "log-normal": "#009E73"}
CURVE_NETWORK = "80:20"


def prepare(runs):
    """The runs with the common columns, ``arm`` ("scale" for the weight-scale arm, else the
    init, e.g. "target-rate"), ``rate`` (the measured initial E rate, unchanged) and ``strip``
    (``ZERO_STRIP`` for a run measured at 0 Hz, ``LOG_AXIS`` for one above, "unmeasured" for
    NaN). Returns ``(runs, accuracy column)``."""
    runs, column = plotting.prepare_runs(runs)
    runs["arm"] = runs["init"].fillna("scale") if "init" in runs else "target-rate"
    runs["rate"] = runs["rate_exc_initial_hz"].astype(float)
    runs["strip"] = np.where(runs["rate"] == 0, ZERO_STRIP,
                             np.where(runs["rate"] > 0, LOG_AXIS, "unmeasured"))
    return runs, column


def trend(part):
    """H2's slope of accuracy (points) on log10 initial rate over the trained runs above 0 Hz of
    one network (:func:`ei_brian.plotting.seed_slopes`: fitted per seed, the mean over seeds):
    ``dict(slope, low, high, rho, p, n, seeds, fit, pooled)``; low/high: its 95 % t-interval over
    seeds; ``fit``: the line of that slope through the mean of the trained runs. Without a seed
    of two rates, the least-squares fit over all trained runs (``pooled``)."""
    from scipy import stats

    trained = part[(part["outcome"] == "trained") & (part["strip"] == LOG_AXIS)]
    out = {"n": len(trained), "slope": np.nan, "low": np.nan, "high": np.nan, "rho": np.nan,
           "p": np.nan, "seeds": 0, "fit": None, "pooled": False}
    if trained["rate"].nunique() < 2:
        return out
    x, y = np.log10(trained["rate"]), 100 * trained["accuracy"]
    rho, p = stats.spearmanr(x, y)
    slopes = 100 * plotting.seed_slopes(trained.assign(rate_exc_initial_hz=trained["rate"]))
    mean, sd, n, half = plotting.t_interval(slopes)
    if n:
        fit = np.array([mean, float(y.mean()) - mean * float(x.mean())])
    else:
        fit = np.polyfit(x, y, 1)
    out.update(slope=float(fit[0]), rho=float(rho), p=float(p), seeds=n, fit=fit,
               low=mean - half, high=mean + half, pooled=not n)
    return out


def _rate_panel(subfigure, arm_runs, networks, chance):
    """(a): every run at its measured rate; a strip for 0 Hz left of the x break, and a strip
    for runs far below the trained ones (silent, near chance) under a y break."""
    from matplotlib.lines import Line2D
    values = 100 * arm_runs["accuracy"]
    floor = plotting.break_floor(values, values[arm_runs["outcome"] == "trained"])
    rows = 2 if floor is not None else 1
    grid = subfigure.add_gridspec(rows, 2, width_ratios=[1, 9], height_ratios=[5, 1.3][:rows],
                                  wspace=0.03, hspace=0.06)
    upper = [subfigure.add_subplot(grid[0, 0])]
    upper.append(subfigure.add_subplot(grid[0, 1], sharey=upper[0]))
    lower = []
    if rows == 2:
        lower = [subfigure.add_subplot(grid[1, 0], sharex=upper[0])]
        lower.append(subfigure.add_subplot(grid[1, 1], sharex=upper[1], sharey=lower[0]))
    strips = [upper[0]] + lower[:1]
    logs = [upper[1]] + lower[1:]
    handles, fits = [], {}
    for k, network in enumerate(networks):
        part = arm_runs[arm_runs["network"] == network]
        color = plotting.network_color(network)
        on_log = part[part["strip"] == LOG_AXIS]
        zero = part[part["strip"] == ZERO_STRIP]
        centre = -0.3 + 0.6 * k / max(1, len(networks) - 1)
        for axis in logs:
            plotting.draw_seeds(axis, on_log["rate"], 100 * on_log["accuracy"], on_log["outcome"],
                                color, size=12)
        for axis in strips:
            plotting.draw_seeds(axis, centre + np.linspace(-0.05, 0.05, len(zero)),
                                100 * zero["accuracy"], zero["outcome"], color, size=12)
        fit = trend(part)
        fits[network] = fit
        label = f"{network}: no trend (fewer than two trained rates)"
        if fit["fit"] is not None:
            trained = part[(part["outcome"] == "trained") & (part["strip"] == LOG_AXIS)]
            xs = np.array([trained["rate"].min(), trained["rate"].max()])
            upper[1].plot(xs, np.polyval(fit["fit"], np.log10(xs)), color=color, lw=1.6,
                          zorder=4)
            interval = (f" [{fit['low']:+.1f}, {fit['high']:+.1f}]"
                        if np.isfinite(fit["low"]) else "")
            seeds = "pooled: no seed with two rates" if fit["pooled"] else \
                f"{fit['seeds']} seed{'s' if fit['seeds'] != 1 else ''}"
            label = (f"{network}: {fit['slope']:+.1f}{interval} pts/decade ({seeds}), "
                     f"rho {fit['rho']:+.2f}, {fit['n']} trained")
        handles.append(Line2D([], [], color=color, marker="o", markersize=4, lw=1.6, label=label))
    for axis in (lower or upper):
        plotting.chance_line(axis, chance, label=False)
    top = float(values.max()) + 1.5
    if rows == 2:
        upper[0].set_ylim(float(values[values >= floor].min()) - 1.5, top)
        below = values[values < floor]
        lower[0].set_ylim(min(below.min(), 100 * chance) - 2, max(below.max(), 100 * chance) + 2)
        plotting.axis_break(upper[0], lower[0])
        plotting.axis_break(upper[1], lower[1], marks=False)  # no left spine there
    for left, right in zip(strips, logs):
        plotting.axis_break(left, right, horizontal=True, marks=left is strips[-1])
    logs[0].set_xscale("log")
    positive = arm_runs.loc[arm_runs["strip"] == LOG_AXIS, "rate"]
    if len(positive):
        logs[0].set_xlim(positive.min() / 1.6, positive.max() * 1.6)
    logs[-1].set_xlabel("measured initial mean E rate (Hz, log scale)")
    strips[0].set_xlim(-0.5, 0.5)
    strips[-1].set_xticks([0], ["0 Hz"])
    for axis in strips:
        axis.grid(False, axis="x")
    strips[0].set_ylabel(f"{plotting.accuracy_measure(arm_runs)[1].split(' (')[0]} (%)")
    n_zero = int((arm_runs["strip"] == ZERO_STRIP).sum())
    subfigure.suptitle("(a) accuracy against the measured initial E rate (target-rate "
                       f"calibration): {n_zero} run(s) at 0 Hz in the strip left of the break"
                       + ("; runs near chance under the break" if rows == 2 else ""),
                       fontsize="medium")
    handles += plotting.outcome_handles()
    handles.append(Line2D([], [], color="0.35", ls="--", lw=0.9,
                          label=f"chance (1/{round(1 / chance)})"))
    subfigure.legend(handles=handles, loc="outside right center",
                     title="trend over trained runs: slope [95 % t-int. over seeds]")
    return fits


def _curve_panel(axis, arm_runs, epochs, chance):
    import matplotlib
    network = CURVE_NETWORK if CURVE_NETWORK in set(arm_runs["network"]) else \
        plotting.network_order(arm_runs["network"])[0]
    part = arm_runs[arm_runs["network"] == network]
    measure = "val_acc" if epochs is not None and "val_acc" in epochs and \
        epochs["val_acc"].notna().any() else "test_acc"
    if epochs is None or part.empty:
        axis.text(0.5, 0.5, "no epochs table", transform=axis.transAxes, ha="center")
        return network, measure, [], []
    key = "target_rate" if part["target_rate"].notna().any() else "label"
    conditions = (part.groupby(key)["rate"].mean().sort_index() if key == "target_rate"
                  else part.groupby(key)["rate"].mean().sort_values())
    chosen = conditions.index[np.unique(np.linspace(0, len(conditions) - 1,
                                                    min(6, len(conditions))).round().astype(int))]
    cmap = matplotlib.colormaps["viridis"]
    shown = []
    for k, condition in enumerate(chosen):
        color = cmap(0.9 * k / max(1, len(chosen) - 1))
        runs = part[part[key] == condition]
        curves = []
        for run in runs.itertuples():
            rows = epochs[(epochs["label"] == run.label) & (epochs["seed"] == run.seed)]
            rows = rows[rows[measure].notna()].sort_values("epoch")
            axis.plot(rows["epoch"], 100 * rows[measure], color=color, lw=0.6, alpha=0.35)
            curves.append(rows.set_index("epoch")[measure])
        if curves:
            import pandas as pd
            mean = pd.concat(curves, axis=1).mean(axis=1)
            counts = runs["outcome"].value_counts()
            failed = ", ".join(f"{int(counts[o])} {o}" for o in ("silent", "saturated")
                               if counts.get(o, 0))
            label = (f"{condition:g} Hz" if key == "target_rate" else str(condition)) + \
                f" (measured {plotting.format_rate(runs['rate'].mean())} Hz; n = {len(runs)}" + \
                (f", {failed})" if failed else ")")
            axis.plot(mean.index, 100 * mean.to_numpy(), color=color, lw=2.0, label=label)
            shown.append(len(runs))
    left_out = [c for c in conditions.index if c not in set(chosen)]
    plotting.chance_line(axis, chance, label=False)
    axis.set_xlabel("epoch")
    axis.set_ylabel(f"{'validation' if measure == 'val_acc' else 'test'} accuracy (%)")
    axis.set_title(f"(b) {network}: learning curves (thin: seeds)")
    axis.legend(title="target rate", loc="center right", fontsize=6.5)
    named = [f"{c:g} Hz" if key == "target_rate" else str(c) for c in left_out]
    return network, measure, shown, named


def _boundary(part):
    """The gains of one distribution split where the runs stop being silent: ``(last silent gain,
    first trained gain)``, or None."""
    share = part.groupby("init_scale_exc")["outcome"].apply(lambda o: (o == "silent").mean())
    share = share.sort_index()
    silent = [g for g, s in share.items() if s >= 0.5]
    if not silent:
        return None
    above = [g for g in share.index if g > max(silent)]
    return (max(silent), above[0] if above else None)


def _scale_panels(accuracy_axis, rate_axis, scale_runs, chance):
    from matplotlib.lines import Line2D
    distributions = list(dict.fromkeys(scale_runs["init_distribution"].fillna("half-normal")))
    handles, notes = [], []
    for k, distribution in enumerate(distributions):
        part = scale_runs[scale_runs["init_distribution"].fillna("half-normal") == distribution]
        color = DISTRIBUTION_COLORS.get(distribution, f"C{k}")
        factor = 1.0 + 0.07 * (k - (len(distributions) - 1) / 2)
        x = part["init_scale_exc"].astype(float) * factor
        plotting.draw_seeds(accuracy_axis, x, 100 * part["accuracy"], part["outcome"], color,
                            size=12)
        plotting.draw_seeds(rate_axis, x, part["rate"], part["outcome"], color, size=12)
        trained = part[part["outcome"] == "trained"]
        stats = plotting.summarize(trained, "init_scale_exc", "accuracy").sort_values(
            "init_scale_exc")
        accuracy_axis.plot(stats["init_scale_exc"] * factor, 100 * stats["mean"], color=color,
                           lw=1.2)
        boundary = _boundary(part)
        text = distribution
        if boundary is not None:
            last, first = boundary
            n_silent = int((part.loc[part["init_scale_exc"] <= last, "outcome"] == "silent").sum())
            n_low = int((part["init_scale_exc"] <= last).sum())
            text += f": silent at gain <= {last:g} ({n_silent}/{n_low} runs)"
            notes.append(f"{distribution} weights are silent at gains up to {last:g} "
                         f"({n_silent} of {n_low} runs)"
                         + (f" and train from {first:g}" if first is not None else ""))
            if first is not None:
                edge = float(np.sqrt(last * first))
                for ax in (accuracy_axis, rate_axis):
                    ax.axvline(edge, color=color, ls="-.", lw=1.0)
        else:
            notes.append(f"{distribution} weights are not silent at any tested gain")
        handles.append(Line2D([], [], color=color, marker="o", lw=1.2, markersize=4, label=text))
    gains = sorted(scale_runs["init_scale_exc"].astype(float).unique())
    for ax in (accuracy_axis, rate_axis):
        ax.set_xscale("log")
        ax.set_xticks(gains, [f"{g:g}" for g in gains])
        ax.minorticks_off()
        ax.set_xlabel("excitatory weight gain (init_scale_exc, log scale)")
    plotting.chance_line(accuracy_axis, chance, label=False)
    accuracy_axis.set_ylabel("accuracy (%)")
    accuracy_axis.set_title("(c) scale arm, 80:20: accuracy (line: mean of trained)")
    rate_axis.set_yscale("symlog", linthresh=0.1, linscale=0.6)
    rate_axis.set_ylim(bottom=-0.02)
    rate_axis.axhline(0.1, color="0.35", ls=":", lw=0.9)
    rate_axis.set_ylabel("measured initial E rate (Hz)")
    rate_axis.set_title("(d) scale arm: initial E rate (linear to 0.1 Hz)")
    handles.append(Line2D([], [], color="0.35", ls="-.", lw=1.0, label="silent boundary"))
    return notes, handles


def draw(runs, epochs):
    runs, column = prepare(runs)
    chance = float(runs["chance"].iloc[0])
    figure = plotting.empty_figure(11.0, 7.6)
    top, bottom = figure.subfigures(2, 1, height_ratios=[1.1, 1])
    arm = runs[runs["arm"] != "scale"]
    scale_runs = runs[runs["arm"] == "scale"]
    networks = plotting.network_order(arm["network"])
    fits = _rate_panel(top, arm, networks, chance) if len(arm) else {}
    panels = bottom.subplots(1, 3 if len(scale_runs) else 1, squeeze=False)[0]
    network, measure, shown, left_out = _curve_panel(panels[0], arm, epochs, chance)
    notes = []
    if len(scale_runs):
        notes, handles = _scale_panels(panels[1], panels[2], scale_runs, chance)
        bottom.legend(handles=handles, loc="outside lower right", ncol=len(handles))

    per_condition = arm.groupby(["network", "target_rate" if arm["target_rate"].notna().any()
                                 else "label"])["seed"].nunique()
    def slope_text(name, f):
        if f["pooled"]:
            return (f"{name} {f['slope']:+.1f} points per decade (fitted over its trained runs: "
                    f"no seed has two rates), rho {f['rho']:+.2f} over {f['n']} trained runs")
        spread = (f", 95 % t-interval {f['low']:+.1f} to {f['high']:+.1f}"
                  if np.isfinite(f["low"]) else ", no interval from one seed")
        return (f"{name} {f['slope']:+.1f} points per decade (mean over {f['seeds']} "
                f"seed{'s' if f['seeds'] != 1 else ''}{spread}), rho {f['rho']:+.2f} over "
                f"{f['n']} trained runs")

    slopes = "; ".join(slope_text(n, f) for n, f in fits.items() if np.isfinite(f["slope"]))
    scale_text = ""
    if len(scale_runs):
        per_gain = scale_runs.groupby(["init_distribution", "init_scale_exc"])["seed"].nunique()
        scale_text = (f" (c, d) The scale arm (80:20, init 'scale'): accuracy and measured initial "
                      f"E rate against the excitatory weight gain, {plotting.count_text(per_gain)}"
                      f" per gain and distribution, markers nudged sideways per distribution; "
                      f"the rate axis is linear from 0 to 0.1 Hz and logarithmic above, so 0 Hz "
                      f"is drawn at 0. The dash-dotted line is the silent boundary: "
                      f"{'; '.join(notes)}. Outcomes: {plotting.outcome_text(scale_runs)}.")
    caption = (
        f"**Figure 2.** (a) {plotting.accuracy_measure(runs)[1].capitalize()} of every run of "
        f"the target-rate arm against its measured initial mean E rate (log axis), "
        f"{plotting.count_text(per_condition)} per network and target rate; "
        f"{plotting.OUTCOME_CAPTION}. Runs measured at exactly 0 Hz are drawn at their accuracy "
        "in their own strip left of the axis break, never moved onto the log axis "
        f"({int((arm['strip'] == ZERO_STRIP).sum())} runs). Lines: H2's slope of accuracy on log10 "
        "initial rate, the mean of the least-squares slopes fitted to single seeds over their "
        "trained runs (silent and saturated runs left out), drawn through the mean of the trained "
        "runs; the legend gives it in points per decade with its 95 % t-interval over seeds, and "
        f"Spearman's rho over the trained runs: {slopes or 'no fit'}. Dashed: chance "
        f"(1/{round(1 / chance)}). Outcomes: {plotting.outcome_text(arm)}. (b) Learning curves of "
        f"{network} at {len(shown)} of its {len(shown) + len(left_out)} target rates"
        + (f" (not shown: {', '.join(left_out)})" if left_out else "") + ": "
        f"{'validation' if measure == 'val_acc' else 'test'} accuracy per epoch, thin lines single "
        f"seeds, thick the mean over the {plotting.count_text(shown)} (all outcomes; a saturated "
        f"run stops early).{scale_text} {plotting.accuracy_caption(column)}")
    return figure, caption


def main(argv=None):
    args = plotting.figure_arguments(__doc__, argv)
    runs = plotting.read_table(args.data, os.path.join("initial_rate", "runs.csv"))
    epochs = plotting.read_table(args.data, os.path.join("initial_rate", "epochs.csv"),
                                 finished=False)
    if runs is None:
        return plotting.skip(NAME, os.path.join(args.data, "initial_rate", "runs.csv"))
    figure, caption = draw(runs, epochs)
    plotting.save_figure(figure, args.out, NAME, caption)
    return 0


if __name__ == "__main__":
    sys.exit(main())
