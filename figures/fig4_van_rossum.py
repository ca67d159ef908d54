"""Figure 4: Van Rossum diversity of E and I spiking, before and after training, against accuracy
and noise.

Reads ``DATA/tables/vanrossum.csv`` (every analysed run of every study); writes
``fig4_van_rossum.png`` and ``.pdf``. Diversity is the mean Van Rossum distance (tau 10 ms)
between the spike trains of a population's neurons for the same probe input, averaged over the 20
probe samples. (a, b) E and I diversity before and after training, per ratio (ratio study; mean
+/- sd over seeds). (c) I diversity after training against the peak accuracy, noise-free runs of
every study. (d) E and I diversity after training against the update-noise level (update-noise
study; mean over seeds).

    python figures/fig4_van_rossum.py [--data data/quick] [--out DIR]
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from ei_brian import plotting  # noqa: E402

NAME = "fig4_van_rossum"
MEASURE = "van_rossum_within_population"


def draw(table):
    figure, axes = plotting.study_figure(2, 2, width=4.6, height=3.4)
    ratio = table[table["study"] == "ratio"]
    for axis, population, letter in ((axes[0, 0], "E", "a"), (axes[0, 1], "I", "b")):
        part = ratio[ratio["population"] == population]
        order = [n for n in plotting.network_order(part["network"])]
        for offset, snapshot, fill in ((-0.15, "initial", "none"), (0.15, "final", None)):
            stats = plotting.mean_sd_n(part[part["snapshot"] == snapshot], "network",
                                       MEASURE).set_index("network")
            for x, network in enumerate(order):
                if network in stats.index:
                    color = plotting.network_color(network)
                    axis.errorbar(x + offset, stats.loc[network, "mean"],
                                  yerr=stats["sd"].fillna(0)[network], fmt="o", color=color,
                                  markerfacecolor=fill or color,
                                  label=snapshot if x == 0 else None)
        axis.set_xticks(range(len(order)), order, rotation=45)
        axis.set_ylabel(f"{population} diversity (Van Rossum distance)")
        axis.set_title(f"({letter}) {population} neurons: before (open) and after training")
        if len(order):
            axis.legend(loc="upper left")
    clean = table[(table["snapshot"] == "final") & (table["population"] == "I") &
                  (table["update_noise"].fillna(0) == 0)]
    axis = axes[1, 0]
    for network in plotting.network_order(clean["network"]):
        part = clean[clean["network"] == network]
        axis.plot(part[MEASURE], 100 * part["peak_test_acc"], "o", alpha=0.7,
                  color=plotting.network_color(network), label=network)
    axis.set_xscale("symlog", linthresh=1.0)  # a few runs far out at high rates
    axis.set_xlabel("I diversity after training (Van Rossum distance, log above 1)")
    axis.set_ylabel("peak test accuracy (%)")
    axis.set_title(f"(c) I diversity and accuracy, {len(clean)} noise-free runs")
    if len(clean):
        axis.legend(ncol=2)
    noisy = table[(table["study"] == "update_noise") & (table["snapshot"] == "final")]
    axis = axes[1, 1]
    for network in plotting.network_order(noisy["network"]):
        for population, style in (("I", "-"), ("E", "--")):
            part = noisy[(noisy["network"] == network) & (noisy["population"] == population)]
            if part.empty:
                continue
            stats = plotting.mean_sd_n(part, "update_noise", MEASURE).sort_values("update_noise")
            axis.plot(stats["update_noise"], stats["mean"], style, marker="o", markersize=3,
                      color=plotting.network_color(network),
                      label=f"{network} {population}")
    axis.set_xscale("symlog", linthresh=1.0)
    axis.set_xlabel("relative update noise eta")
    axis.set_ylabel("diversity after training")
    axis.set_title("(d) I (solid) and E (dashed) diversity under noise")
    if len(noisy):
        axis.legend(ncol=2, fontsize=6.5)
    figure.suptitle(f"Van Rossum diversity (tau 10 ms), {plotting.seed_note(table)}")
    return figure


def main(argv=None):
    args = plotting.figure_arguments(__doc__, argv)
    table = plotting.read_table(args.data, os.path.join("tables", "vanrossum.csv"))
    if table is None:
        return plotting.skip(NAME, os.path.join(args.data, "tables", "vanrossum.csv"))
    plotting.save_figure(draw(table), args.out, NAME)
    return 0


if __name__ == "__main__":
    sys.exit(main())
