"""Figure 4: Van Rossum diversity of E and I spiking, before and after training, against accuracy
(each data set on its own) and against the chance-corrected retention under update noise.

Reads ``DATA/tables/vanrossum.csv`` (every analysed run of every study), and for the tuned cells
and the retention ``DATA/ratio/runs.csv`` and ``DATA/update_noise/runs.csv`` where present; writes
``fig4_van_rossum.png``, ``.pdf`` and ``.caption.md``. Diversity is the mean Van Rossum distance
(tau 10 ms) between the spike trains of a population's neurons for the same probe input. A run
that appears in two studies (same ``command``) is counted once. (a, b) E and I diversity before
(open) and after (filled) training per network, ratio study at each network's tuned cell, mean of
the trained seeds with a 95 % t-interval. (c) I diversity after training against accuracy,
noise-free runs, one panel per data set. (d) I diversity after training against the
chance-corrected retention of the noisy runs of the update-noise study. LIF networks only: the
spike-timing study's adaptive arm (``neuron_model`` other than lif) is left out, as in H5.

    python figures/fig4_van_rossum.py [--data data/quick] [--out DIR]
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402

from ei_brian import plotting  # noqa: E402

NAME = "fig4_van_rossum"
MEASURE = "van_rossum_within_population"


def prepare(table, ratio_runs=None, noise_runs=None):
    """``(table, column, tuned_commands, retention)``: the Van Rossum rows with one run per
    ``command`` (and per snapshot and population) and an ``accuracy`` column
    (:func:`plotting.accuracy_measure`); given the ratio study's runs, the commands of the runs
    at each network's tuned cell (else None); given the update-noise runs, the chance-corrected
    retention of each noisy run by ``command`` (a Series; else None)."""
    column, _ = plotting.accuracy_measure(table)
    table = table.copy()
    table["accuracy"] = table[column].astype(float)
    if "outcome" not in table:
        table["outcome"] = "trained"
    table["outcome"] = table["outcome"].fillna("trained")
    if "update_noise" not in table:
        table["update_noise"] = 0.0
    table["update_noise"] = table["update_noise"].fillna(0.0)
    if "command" not in table or table["command"].isna().all():  # a table from before commands
        table["command"] = table["label"].astype(str) + "/seed-" + table["seed"].astype(str)
    table = plotting.dedupe(table, extra=("snapshot", "population"))
    tuned_commands = None
    if ratio_runs is not None and "command" in ratio_runs:
        ratio_runs, _ = plotting.prepare_runs(ratio_runs)
        tuned_commands = set(plotting.tuned_runs(ratio_runs)["command"])
    retention = None
    if noise_runs is not None:
        noise_runs, _ = plotting.prepare_runs(noise_runs)
        noise_runs["retention"] = plotting.chance_retention(noise_runs)
        noisy = noise_runs[noise_runs["update_noise"] > 0]
        retention = noisy.drop_duplicates("command").set_index("command")["retention"]
    return table, column, tuned_commands, retention


def _before_after(axis, part, population, letter):
    order = plotting.network_order(part["network"])
    counts = []
    for offset, snapshot, filled in ((-0.17, "initial", False), (0.17, "final", True)):
        chosen = part[part["snapshot"] == snapshot]
        for x, network in enumerate(order):
            runs = chosen[chosen["network"] == network]
            trained = runs[runs["outcome"] == "trained"]
            mean, sd, n, half = plotting.t_interval(trained[MEASURE])
            color = plotting.network_color(network)
            if n:
                axis.errorbar(x + offset, mean, yerr=half if np.isfinite(half) else None,
                              fmt="o", color=color, markerfacecolor=color if filled else "white",
                              markersize=6, zorder=5)
                counts.append(n)
            others = runs[runs["outcome"] != "trained"]
            plotting.draw_seeds(axis, np.full(len(others), x + offset + 0.09), others[MEASURE],
                                others["outcome"], color, size=10)
    axis.set_xticks(range(len(order)), order, rotation=45)
    axis.set_xlim(-0.6, len(order) - 0.4)
    axis.set_xlabel("network")
    axis.set_ylabel(f"{population} diversity (Van Rossum distance)")
    axis.set_title(f"({letter}) {population} neurons: before (open) and after (filled) training")
    return counts


def _scatter(parent, spec, part, x_column, y_column, y_scale=1.0, y_gap=0.0):
    """Runs coloured by network, one marker per outcome, on axes broken where silent runs lie
    far from the trained ones; Spearman's rho over the trained runs. Returns ``(axes, main,
    (rho, p, n))``."""
    from scipy import stats
    part = part[np.isfinite(part[x_column]) & np.isfinite(part[y_column])]
    is_trained = part["outcome"] == "trained"
    x, y = part[x_column].to_numpy(float), y_scale * part[y_column].to_numpy(float)
    axes = plotting.broken_axes(parent, spec, x, y,
                                plotting.split_point(x, x[is_trained], relative=1.0),
                                plotting.split_point(y, y[is_trained], relative=1.0,
                                                     minimum=y_gap))
    for axis in axes.values():
        for network in plotting.network_order(part["network"]):
            runs = part[part["network"] == network]
            plotting.draw_seeds(axis, runs[x_column], y_scale * runs[y_column], runs["outcome"],
                                plotting.network_color(network), size=12)
    trained = part[is_trained]
    result = (float("nan"), float("nan"), len(trained))
    if len(trained) >= 3 and trained[x_column].nunique() > 1:
        rho, p = stats.spearmanr(trained[x_column], trained[y_column])
        result = (float(rho), float(p), len(trained))
    return axes, axes[("high", "high")], result


def _label(axes, xlabel, ylabel):
    rows = sorted({row for row, _ in axes}, key=["high", "low"].index)
    columns = sorted({column for _, column in axes}, key=["low", "high"].index)
    axes[(rows[-1], "high")].set_xlabel(xlabel)
    axes[("high", columns[0])].set_ylabel(ylabel)


def _rho_text(rho, p, n):
    if not np.isfinite(rho):
        return f"n = {n} trained runs"
    return f"rho {rho:+.2f} (p {'< 0.001' if p < 0.001 else f'= {p:.2g}'}), {n} trained runs"


def draw(table, ratio_runs=None, noise_runs=None):
    from matplotlib.lines import Line2D
    table, column, tuned_commands, retention = prepare(table, ratio_runs, noise_runs)
    final_i = table[(table["snapshot"] == "final") & (table["population"] == "I")]
    clean = final_i[final_i["update_noise"] == 0]
    datasets = list(dict.fromkeys(clean["dataset"])) if "dataset" in clean else ["unknown"]
    n_bottom = max(1, len(datasets)) + 1
    figure = plotting.empty_figure(max(9.6, 3.6 * n_bottom), 8.4)
    top, bottom = figure.subfigures(2, 1, height_ratios=[1.05, 1])
    axis_e, axis_i = top.subplots(1, 2)
    ratio = table[table["study"] == "ratio"]
    if tuned_commands is not None:
        ratio = ratio[ratio["command"].isin(tuned_commands)]
    counts = []
    for axis, population, letter in ((axis_e, "E", "a"), (axis_i, "I", "b")):
        part = ratio[ratio["population"] == population]
        if part.empty:
            axis.text(0.5, 0.5, f"no {population} rows in the ratio study",
                      transform=axis.transAxes, ha="center")
            continue
        counts += _before_after(axis, part, population, letter)

    grid = bottom.add_gridspec(1, n_bottom)
    letters = iter("cdefgh")
    panel_texts = []
    accuracy_label = f"{plotting.accuracy_measure(table)[1].split(' (')[0]} (%)"
    for k, dataset in enumerate(datasets):
        part = clean[clean["dataset"] == dataset] if "dataset" in clean else clean
        axes, main, (rho, p, n) = _scatter(bottom, grid[0, k], part, MEASURE, "accuracy", 100.0,
                                           y_gap=10.0)
        name = plotting.dataset_name(dataset)
        letter = next(letters)
        main.set_title(f"({letter}) {name}: I diversity and accuracy\n{_rho_text(rho, p, n)}")
        _label(axes, "I diversity after training", accuracy_label)
        panel_texts.append(f"({letter}) {name}: {len(part)} noise-free runs with I neurons, "
                           f"{plotting.outcome_text(part)}; {_rho_text(rho, p, n)}")
    letter = next(letters)
    noisy = final_i[final_i["update_noise"] > 0].copy()
    if retention is not None and len(noisy):
        noisy["retention"] = noisy["command"].map(retention).astype(float)
        noisy = noisy[np.isfinite(noisy["retention"])]
    if retention is not None and len(noisy):
        axes, main, (rho, p, n) = _scatter(bottom, grid[0, n_bottom - 1], noisy, MEASURE,
                                           "retention")
        for axis in axes.values():
            axis.axhline(0.5, color="#E69F00", lw=1.0, ls="-.")
        main.set_title(f"({letter}) I diversity and retention under noise\n"
                       f"{_rho_text(rho, p, n)}")
        _label(axes, "I diversity after training", "retention (acc - chance) / (acc0 - chance)")
        retention_text = (f"({letter}) I diversity after training against the chance-corrected "
                          "retention (acc - chance) / (acc0 - chance) of each noisy run (eta > 0) "
                          "of the update-noise study, acc0 the same network and seed at eta = 0 "
                          f"(not against the noise level): {len(noisy)} runs with I neurons, "
                          f"{plotting.outcome_text(noisy)}; {_rho_text(rho, p, n)}.")
    else:
        axis = bottom.add_subplot(grid[0, n_bottom - 1])
        axis.text(0.5, 0.5, "no update-noise runs", transform=axis.transAxes, ha="center")
        axis.set_title(f"({letter}) I diversity and retention under noise")
        retention_text = f"({letter}) has no update-noise runs."

    networks = plotting.network_order(table["network"])
    handles = [Line2D([], [], color=plotting.network_color(n), marker="o", ls="", label=n)
               for n in networks]
    handles += plotting.outcome_handles(outcomes=[o for o in plotting.OUTCOMES
                                                  if o in set(table["outcome"])
                                                  or o == "trained"])
    handles.append(Line2D([], [], color="#E69F00", ls="-.", label="retention 0.5"))
    bottom.legend(handles=handles, loc="outside lower center", ncol=min(8, len(handles)))

    n_commands = table["command"].nunique() if "command" in table else len(table)
    caption = (
        "**Figure 4.** Van Rossum diversity (mean distance between the spike trains of a "
        "population's neurons for the same probe input, tau 10 ms; dimensionless) of E and I "
        f"neurons of the {n_commands} LIF runs (the spike-timing study's adaptive runs are "
        "compared in Figure 5), each counted once (a command trained by two studies would count "
        "once). (a, b) E and I diversity before (open) and "
        "after (filled) training per network, ratio study at each network's tuned cell: means "
        f"over the trained seeds ({plotting.count_text(counts)} per point) with 95 % t-intervals "
        "(none below two seeds); silent or saturated runs are drawn singly and left out of the "
        "means. I diversity after training against accuracy, noise-free runs of every study, "
        "one panel per data set (never pooled): "
        + "; ".join(panel_texts)
        + f". {retention_text} Spearman's rho is over the trained runs (the report tests the "
        "relation within ratio and initial rate; these panels pool them); "
        f"{plotting.OUTCOME_CAPTION}. Where runs lie far from the others (a run that hardly "
        "spikes has a diversity near 0; one that did not learn, an accuracy near chance), the "
        "axes are broken and those runs are drawn at their values beyond the break. "
        + plotting.accuracy_caption(column))
    return figure, caption


def main(argv=None):
    args = plotting.figure_arguments(__doc__, argv)
    table = plotting.read_table(args.data, os.path.join("tables", "vanrossum.csv"))
    if table is None:
        return plotting.skip(NAME, os.path.join(args.data, "tables", "vanrossum.csv"))
    if "neuron_model" in table:  # LIF networks only, as H5 (the adaptive arm has its own panel)
        table = table[table["neuron_model"].fillna("lif") == "lif"]
    ratio_runs = plotting.read_table(args.data, os.path.join("ratio", "runs.csv"))
    noise_runs = plotting.read_table(args.data, os.path.join("update_noise", "runs.csv"))
    figure, caption = draw(table, ratio_runs, noise_runs)
    plotting.save_figure(figure, args.out, NAME, caption)
    return 0


if __name__ == "__main__":
    sys.exit(main())
