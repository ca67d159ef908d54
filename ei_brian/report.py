"""The report: the paper's five claims, tested on the study's tables (issue 20's design).

Each claim has a function that takes the tables of :mod:`ei_brian.reproduce` (pandas DataFrames of
``runs.csv`` rows and of the Van Rossum table) and returns a :class:`Verdict`: the numbers (mean
+/- sd over seeds with n), the test, and one of three verdicts: **supported**, **not supported** or
**inconclusive at this scale**, with the reason. The rules are constants at the top of this module
and stated in each function's docstring and in the report; they are fixed before the numbers are
seen and tested on fabricated tables where a claim holds, where it fails, where silent and
saturated runs are added and where the data cannot decide (``tests/test_report.py``).

Conventions shared by every rule:

- **Which runs count.** Only runs with ``status == "finished"``. Of those, only
  ``outcome == "trained"`` enters means, slopes, spreads and models; *silent* and *saturated*
  runs (``ei_brian/outcome.py``) are counted apart per condition (:attr:`Verdict.counts`) and put
  back in for the *sensitivity line* (:attr:`Verdict.sensitivity`): the verdict and its key number
  with them in. The runs with each training warning (the ``warnings`` column, from
  :func:`ei_brian.outcome.run_warnings`) are counted beside; warnings change no verdict.
- **Accuracy.** ``val_test_acc``, the test accuracy at the epoch chosen on validation data; when a
  table has no validation split (``val_test_acc`` all NaN) ``peak_test_acc`` (the paper's measure)
  and the test text says so. ``peak_test_acc`` is shown beside in the tables.
- **Intervals.** From t-distributions over seeds (Welch for two groups), never a bootstrap. The
  test-set noise of one accuracy is stated as the binomial sd ``sqrt(p (1 - p) / test_samples)``.
- The statistics are written out here with numpy and scipy (Welch's t, the two one-sided tests,
  ordinary least squares); they give the numbers of statsmodels' ``ttost_ind(usevar="unequal")``
  and ``ols`` (checked by hand in the tests).

Claims (Kilgore, Kopsick, Ascoli & Adam 2025; numbered as in ``docs`` and the README):

- H1: Dale's-law networks reach > 80 % test accuracy on Fashion-MNIST, close to the unbounded
  baseline.
- H2: at 80:20, 95:5 and 100:0, a lower initial firing rate gives a higher accuracy.
- H3: 80:20 trains reliably (small spread over seeds) at low activity.
- H4: 80:20 stays trainable under weight-update noise; without inhibition (100:0) it is less so.
- H5: more diverse inhibitory spiking (Van Rossum) goes with higher accuracy and robustness to
  noise.
"""
import dataclasses
import math
import warnings

import numpy as np

from ei_brian.outcome import WARNINGS

__all__ = ["Verdict", "CLAIMS", "SUPPORTED", "NOT_SUPPORTED", "INCONCLUSIVE", "mean_sd",
           "t_interval", "welch", "tost", "ols", "binomial_sd", "spearman", "eta50", "e_share",
           "accuracy_measure", "outcome_counts", "tuned_settings", "compare_to_baseline",
           "retention", "how_low", "verdict_h1", "verdict_h2", "verdict_h3",
           "verdict_h4", "verdict_h5", "verdicts"]

SUPPORTED = "supported"
NOT_SUPPORTED = "not supported"
INCONCLUSIVE = "inconclusive at this scale"

CLAIMS = {
    "H1": "Dale's-law networks reach > 80 % test accuracy on Fashion-MNIST in 30 epochs, "
          "close to the unbounded baseline of the same size.",
    "H2": "At 80:20, 95:5 and 100:0, a lower initial firing rate gives a higher accuracy.",
    "H3": "80:20 trains reliably (small spread over seeds) at low activity.",
    "H4": "80:20 stays trainable under weight-update noise; without inhibition (100:0) it is "
          "less so.",
    "H5": "More diverse inhibitory spiking (Van Rossum distance) goes with higher accuracy and "
          "with robustness to noise.",
}

#: the significance level of every test (and 1 - the level of every two-sided interval)
ALPHA = 0.05
#: the outcomes of a finished run (``ei_brian/outcome.py``)
TRAINED, SILENT, SATURATED = "trained", "silent", "saturated"

#: H1: the paper's accuracy threshold (full scale only), and the equivalence margin to the
#: baseline (difference = ratio - baseline, within +/- this)
H1_THRESHOLD = 0.80
H1_MARGIN = 0.02
#: H1: the E shares of the ratios found in the brain (10:90 to 90:10)
H1_BIOLOGICAL = (0.1, 0.9)
#: H1: seeds needed on each side of a comparison
H1_MIN_SEEDS = 3
#: H1: the columns that make a network's tuning cell
H1_CELL = ("learning_rate", "target_rate")

#: H2: the ratios of the claim; the flat band (accuracy per decade of initial rate); seeds needed
H2_RATIOS = ("80:20", "95:5", "100:0")
H2_FLAT = 0.01
H2_MIN_SEEDS = 3
#: H2: a measured initial rate below this counts as this (log10 of 0 Hz is undefined)
H2_RATE_FLOOR_HZ = 0.01

#: H3: "low activity" = calibrated initial E rate at most this
H3_LOW_RATE_HZ = 5.0
#: H3: share of low-rate runs that train: at least the first for supported, below the second
#: for not supported
H3_SHARE_GOOD = 0.9
H3_SHARE_BAD = 0.7
#: H3: the pooled sd over seeds that counts as small (or 2 binomial sds, whichever is larger)
#: and large, and the degrees of freedom a "small" needs
H3_SMALL_SD = 0.02
H3_LARGE_SD = 0.05
H3_MIN_DOF = 8
#: H3 "how low can it start": a condition trains when at least this share of its runs train
H3_STARTS = 0.8

#: H4: "stays trainable" = mean chance-corrected retention at least this at the lowest level;
#: eta50 is where mean retention falls to it
H4_HALF = 0.5
H4_MIN_SEEDS = 3

#: H5: the data set that decides, and the runs each model needs for "no relation" to count
H5_DATASET = "fashion-mnist"
H5_MIN_N = 30


@dataclasses.dataclass
class Verdict:
    """A claim's verdict with what it rests on.

    Attributes
    ----------
    claim : str
        ``"H1"`` ... ``"H5"``.
    verdict : str
        :data:`SUPPORTED`, :data:`NOT_SUPPORTED` or :data:`INCONCLUSIVE`.
    reason : str
        Why, in a sentence or two, with the numbers that decided it.
    rule : str
        The rule that turns the numbers into the verdict.
    test : str
        The statistical test and its result (and the accuracy measure used).
    table : pandas.DataFrame or None
        The numbers: one row a condition.
    sensitivity : str
        The verdict and its key number with the silent and saturated runs put back in.
    counts : pandas.DataFrame or None
        Per condition of the claim: runs ``trained``, ``silent``, ``saturated``, ``unfinished``
        and, where the table records them, ``warnings`` (:func:`outcome_counts`).
    reading : str
        A plain-language paragraph generated from the numbers.
    influence : str
        The leave-one-run-out line (:func:`_one_out`): whether leaving out any single run that
        the rule reads changes the verdict, and which runs do.
    single_runs : int
        How many runs, each left out alone, change the verdict.
    """
    claim: str
    verdict: str
    reason: str
    rule: str
    test: str = ""
    table: object = None
    sensitivity: str = ""
    counts: object = None
    reading: str = ""
    influence: str = ""
    single_runs: int = 0

    @property
    def statement(self):
        return CLAIMS[self.claim]


# ---------------------------------------------------------------------------------------------
# statistics

def _finite(values):
    values = np.asarray(values, dtype=float).ravel()
    return values[np.isfinite(values)]


def mean_sd(values):
    """``(mean, sd, n)`` of the finite values (sd with n - 1; NaN below two values)."""
    values = _finite([np.nan if v is None else v for v in values])
    n = len(values)
    mean = float(values.mean()) if n else math.nan
    sd = float(values.std(ddof=1)) if n > 1 else math.nan
    return mean, sd, n


def t_interval(values, level=1 - ALPHA):
    """``(mean, low, high, n)``: the mean of the finite values and its t-interval
    (``mean +/- t_{(1+level)/2, n-1} sd / sqrt(n)``; NaN bounds below two values)."""
    from scipy.stats import t  # scipy.stats (0.6 s) only when a test is computed
    values = _finite(values)
    n = len(values)
    if n < 2:
        return (float(values.mean()) if n else math.nan), math.nan, math.nan, n
    mean, half = float(values.mean()), float(values.std(ddof=1) / math.sqrt(n))
    q = float(t.ppf((1 + level) / 2, n - 1))
    return mean, mean - q * half, mean + q * half, n


def welch(a, b, level=1 - ALPHA):
    """Welch's t comparison of ``mean(a) - mean(b)``.

    Returns
    -------
    dict
        ``diff``, ``se``, ``df`` (Welch-Satterthwaite), ``low``/``high`` (the two-sided
        ``level`` interval), ``p`` (two-sided), ``n_a``, ``n_b``; NaN with fewer than two values
        on a side.
    """
    from scipy.stats import t  # scipy.stats (0.6 s) only when a test is computed
    a, b = _finite(a), _finite(b)
    out = {"diff": math.nan, "se": math.nan, "df": math.nan, "low": math.nan, "high": math.nan,
           "p": math.nan, "n_a": len(a), "n_b": len(b)}
    if len(a) < 2 or len(b) < 2:
        return out
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    diff, se = float(a.mean() - b.mean()), float(math.sqrt(va + vb))
    if se == 0:
        df = float(len(a) + len(b) - 2)
        p = 1.0 if diff == 0 else 0.0
        out.update(diff=diff, se=0.0, df=df, low=diff, high=diff, p=p)
        return out
    df = float((va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1)))
    q = float(t.ppf((1 + level) / 2, df))
    out.update(diff=diff, se=se, df=df, low=diff - q * se, high=diff + q * se,
               p=float(2 * t.sf(abs(diff) / se, df)))
    return out


def tost(a, b, margin, alpha=ALPHA):
    """Two one-sided Welch tests of equivalence of ``mean(a) - mean(b)`` within ``+/- margin``
    (statsmodels' ``ttost_ind(a, b, -margin, margin, usevar="unequal")``).

    Returns
    -------
    dict
        Welch's numbers (:func:`welch`) plus ``p_equivalent`` (the larger of the two one-sided
        p-values: equivalence when below ``alpha``), ``p_lower`` (H0: diff <= -margin),
        ``p_upper`` (H0: diff >= margin), ``p_worse`` (one-sided p of diff < -margin, i.e.
        ``a`` worse than ``b`` by more than the margin), and ``ci_low``/``ci_high``, the
        ``1 - 2 alpha`` (90 %) interval of the difference that TOST uses.
    """
    from scipy.stats import t  # scipy.stats (0.6 s) only when a test is computed
    out = welch(a, b)
    out.update(p_equivalent=math.nan, p_lower=math.nan, p_upper=math.nan, p_worse=math.nan,
               ci_low=math.nan, ci_high=math.nan)
    if not np.isfinite(out["diff"]):
        return out
    diff, se, df = out["diff"], out["se"], out["df"]
    if se == 0:
        inside = -margin < diff < margin
        out.update(p_lower=0.0 if diff > -margin else 1.0, p_upper=0.0 if diff < margin else 1.0,
                   p_worse=0.0 if diff < -margin else 1.0, p_equivalent=0.0 if inside else 1.0,
                   ci_low=diff, ci_high=diff)
        return out
    # statsmodels (1.1 s) only for this test
    from statsmodels.stats.weightstats import ttest_ind, ttost_ind
    a, b = _finite(a), _finite(b)
    p_equivalent, (_, p_lower, _), (_, p_upper, _) = ttost_ind(a, b, -margin, margin,
                                                               usevar="unequal")
    _, p_worse, _ = ttest_ind(a, b, alternative="smaller", usevar="unequal", value=-margin)
    q = float(t.ppf(1 - alpha, df))
    out.update(p_lower=float(p_lower), p_upper=float(p_upper), p_worse=float(p_worse),
               p_equivalent=float(p_equivalent), ci_low=diff - q * se, ci_high=diff + q * se)
    return out


def binomial_sd(p, n):
    """The test-set (binomial) sd of an accuracy ``p`` measured on ``n`` samples:
    ``sqrt(p (1 - p) / n)`` (NaN when either is unknown)."""
    if not (np.isfinite(p) and np.isfinite(n)) or n <= 0:
        return math.nan
    return math.sqrt(p * (1 - p) / n)


def ols(frame, response, numeric=(), categorical=(), level=1 - ALPHA):
    """Ordinary least squares of ``response`` on numeric columns and treatment-coded categorical
    columns (first level in sorted order the reference; a column with one level is left out),
    as statsmodels' ``ols("y ~ x + C(g)")``.

    Returns
    -------
    dict
        ``n``, ``df_resid`` and ``coef``: a dict from term name (the numeric column, or
        ``"C(col)[T.level]"``) to ``{"coef", "se", "p", "low", "high"}`` (two-sided t); empty
        ``coef`` when the model cannot be fitted (fewer runs than terms + 1).
    """
    import pandas as pd  # pandas (0.3 s) and statsmodels (1.1 s) only for a regression
    columns = [response, *numeric, *categorical]
    data = frame[columns].copy()
    for column in (response, *numeric):
        data[column] = pd.to_numeric(data[column], errors="coerce")
    data = data.replace([np.inf, -np.inf], np.nan).dropna()
    names, parts = ["Intercept"], [np.ones(len(data))]
    for column in numeric:
        names.append(column)
        parts.append(data[column].to_numpy(float))
    for column in categorical:
        levels = sorted(data[column].astype(str).unique())
        for level_name in levels[1:]:
            names.append(f"C({column})[T.{level_name}]")
            parts.append((data[column].astype(str) == level_name).to_numpy(float))
    x, y = np.column_stack(parts), data[response].to_numpy(float)
    n = len(y)
    rank = int(np.linalg.matrix_rank(x)) if n else 0
    result = {"n": n, "df_resid": n - rank, "coef": {}}
    if n - rank < 1:
        return result

    import statsmodels.api as sm
    with warnings.catch_warnings():  # a rank-deficient design (rank above) is fitted by pinv
        warnings.simplefilter("ignore")
        fit = sm.OLS(y, x).fit()
    intervals = fit.conf_int(alpha=1 - level)
    for index, name in enumerate(names):
        se = float(fit.bse[index])
        result["coef"][name] = {"coef": float(fit.params[index]), "se": se,
                                "p": float(fit.pvalues[index]) if se > 0 else math.nan,
                                "low": float(intervals[index, 0]),
                                "high": float(intervals[index, 1])}
    return result


def spearman(x, y):
    """Spearman's rho with its p-value and a Fisher-z 95 % interval
    (``tanh(atanh(rho) +/- 1.96 sqrt(1.06 / (n - 3)))``, Fieller et al. 1957; NaN below 4 pairs).

    Returns
    -------
    dict
        ``rho``, ``p``, ``low``, ``high``, ``n``.
    """
    from scipy.stats import norm, spearmanr  # scipy.stats (0.6 s) only when a test is computed
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    n = len(x)
    out = {"rho": math.nan, "p": math.nan, "low": math.nan, "high": math.nan, "n": n}
    if n < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return out
    result = spearmanr(x, y)
    rho = float(result.statistic)
    out.update(rho=rho, p=float(result.pvalue))
    if n > 3 and abs(rho) < 1:
        half = float(norm.ppf(1 - ALPHA / 2)) * math.sqrt(1.06 / (n - 3))
        out.update(low=math.tanh(math.atanh(rho) - half), high=math.tanh(math.atanh(rho) + half))
    return out


def eta50(levels, mean_retention, half=H4_HALF):
    """The noise level at which mean retention falls to ``half``: log-linear interpolation
    (linear in log10 eta) between the two tested nonzero levels that bracket it.

    Returns
    -------
    float
        The level; ``inf`` when retention stays above ``half`` at every tested level
        ("> max level"); ``0.0`` when it is at or below ``half`` already at the lowest nonzero
        level ("<= lowest level"); NaN without a nonzero level.
    """
    pairs = sorted((float(level), float(value)) for level, value in zip(levels, mean_retention)
                   if level > 0 and np.isfinite(value))
    if not pairs:
        return math.nan
    if pairs[0][1] <= half:
        return 0.0
    for (low, r_low), (high, r_high) in zip(pairs, pairs[1:]):
        if r_high <= half:
            share = (r_low - half) / (r_low - r_high)
            return float(10 ** (math.log10(low) + share * (math.log10(high) - math.log10(low))))
    return math.inf


def _eta50_text(value, levels):
    levels = sorted(level for level in levels if level > 0)
    if not np.isfinite(value):
        return f"> {levels[-1]:g}" if value == math.inf and levels else "n/a"
    if value == 0.0:
        return f"<= {levels[0]:g}" if levels else "n/a"
    return f"{value:.3g}"


# ---------------------------------------------------------------------------------------------
# tables

def e_share(network):
    """E share of a ratio such as ``"80:20"`` (NaN for ``"unbounded"``)."""
    try:
        exc, inh = (float(part) for part in str(network).split(":"))
        return exc / (exc + inh)
    except ValueError:
        return math.nan


def _order(networks):
    """Ratios by falling E share, the unbounded baseline (and anything else) last."""
    return sorted(set(networks), key=lambda name: (not np.isfinite(e_share(name)),
                                                    -e_share(name) if np.isfinite(e_share(name))
                                                    else 0, str(name)))


def _status(runs):
    return runs["status"] if "status" in runs else np.full(len(runs), "finished")


def _finished(runs):
    return runs[np.asarray(_status(runs) == "finished")].copy()


def _outcome(runs):
    """Each row's outcome; a finished row with none recorded counts as trained."""
    if "outcome" not in runs:
        return np.full(len(runs), TRAINED, dtype=object)
    return runs["outcome"].astype(object).where(runs["outcome"].notna(), TRAINED).astype(str) \
        .replace("", TRAINED).to_numpy()


def _keep(runs, failures):
    """The finished runs that enter the numbers: trained only, or every outcome when
    ``failures`` (the sensitivity analysis)."""
    runs = _finished(runs)
    if failures:
        return runs
    return runs[_outcome(runs) == TRAINED].copy()


def _n_failed(runs):
    runs = _finished(runs)
    outcome = _outcome(runs)
    return int((outcome == SILENT).sum()), int((outcome == SATURATED).sum())


def accuracy_measure(runs):
    """``(column, note)``: ``"val_test_acc"`` (validation-chosen test accuracy), or
    ``"peak_test_acc"`` when the finished runs have no validation (all NaN), with a sentence
    saying which."""
    finished = _finished(runs)
    if "val_test_acc" in finished and finished["val_test_acc"].notna().any():
        return "val_test_acc", ("accuracy = test accuracy at the epoch of best validation "
                                "accuracy (val_test_acc); peak test accuracy shown beside")
    return "peak_test_acc", ("no validation split in this table: accuracy = peak test accuracy "
                             "over epochs (peak_test_acc, the paper's measure, which rewards "
                             "swings between epochs)")


def outcome_counts(runs, by):
    """Per condition (``by`` columns, NaN kept as a value): runs ``trained``, ``silent``,
    ``saturated`` (finished runs by outcome) and ``unfinished`` (any other status); where
    ``runs`` has a ``warnings`` column (kinds joined by ``;``), also ``warnings``: how many of the
    condition's runs carry each kind, such as ``"2 rising-loss, 1 runaway"`` (``"none"``)."""
    import pandas as pd  # pandas (0.3 s) only when a table is read or built
    by = [column for column in ([by] if isinstance(by, str) else list(by)) if column in runs]
    rows = []
    if not len(runs):
        return pd.DataFrame(columns=[*by, TRAINED, SILENT, SATURATED, "unfinished"])
    finished = np.asarray(_status(runs) == "finished")
    outcome = np.where(finished, _outcome(runs), "")
    frame = runs.assign(_finished=finished, _outcome=outcome)
    if "network" in by:  # ratios by falling E share, the baseline last, as in the other tables
        frame["network"] = pd.Categorical(frame["network"], ordered=True,
                                          categories=_order(frame["network"].dropna()))
    groups = (frame.groupby(by, dropna=False, sort=True, observed=True) if by
              else [((), frame)])
    for keys, part in groups:
        keys = keys if isinstance(keys, tuple) else (keys,)
        row = dict(zip(by, keys))
        for name in (TRAINED, SILENT, SATURATED):
            row[name] = int((part["_finished"] & (part["_outcome"] == name)).sum())
        row["unfinished"] = int((~part["_finished"]).sum())
        if "warnings" in part:
            row["warnings"] = _warning_counts(part["warnings"])
        rows.append(row)
    return pd.DataFrame(rows)


def _warning_counts(cells):
    """``"2 rising-loss, 1 runaway"``: how many of the cells (kinds joined by ``;``, empty or NaN
    for none) hold each kind, in the order of :data:`ei_brian.outcome.WARNINGS`; ``"none"``."""
    counts = {}
    for cell in cells:
        if isinstance(cell, str):
            for kind in {kind for kind in cell.split(";") if kind}:
                counts[kind] = counts.get(kind, 0) + 1
    order = sorted(counts, key=lambda kind: (WARNINGS.index(kind) if kind in WARNINGS
                                             else len(WARNINGS), kind))
    return ", ".join(f"{counts[kind]} {kind}" for kind in order) or "none"


def _test_samples(runs):
    if "test_samples" in runs and runs["test_samples"].notna().any():
        return float(runs["test_samples"].dropna().median())
    return math.nan


def _pct(value):
    return "n/a" if not np.isfinite(value) else f"{100 * value:.1f} %"


def _pts(value, sign=True):
    if not np.isfinite(value):
        return "n/a"
    return f"{100 * value:+.1f}" if sign else f"{100 * value:.1f}"


def _mean_sd_text(mean, sd, n):
    if not np.isfinite(mean):
        return "no trained run"
    spread = f" +/- {100 * sd:.1f}" if np.isfinite(sd) else ""
    return f"{100 * mean:.1f}{spread} % (n = {n})"


def _sensitivity(silent, saturated, verdict_in, key_in, verdict_out):
    if silent + saturated == 0:
        return "no silent or saturated run among the runs of this rule: nothing to put back in."
    change = ("the same verdict" if verdict_in == verdict_out
              else f"a different verdict from {verdict_out!r}")
    return (f"with the {silent} silent and {saturated} saturated runs in: {verdict_in} "
            f"({key_in}); {change}.")


def _run_name(row):
    seed = row.get("seed")
    seed = f"seed-{int(seed)}" if isinstance(seed, (int, float, np.integer, np.floating)) and \
        np.isfinite(seed) else f"seed {seed}"
    name = f"{row['label']}/{seed}" if "label" in row else f"row {row.name}"
    return (f"{row['study']}: " if isinstance(row.get("study"), str) else "") + name


def _one_out(runs, candidates, decide, verdict, describe=None, state=None, build=None):
    """The leave-one-run-out line: the verdict recomputed with each of ``candidates`` (index
    labels of ``runs``: the runs the rule reads) left out in turn, by ``decide(runs) ->
    (verdict, reason, key)``. ``describe(row)``: a few words on a run (its accuracy).
    ``state(runs)``: where a verdict rests on several findings (H2's slopes, H5's two fits),
    what it rests on, compared with the full table's (a run whose absence changes it is named
    even when the verdict stays). ``build(runs)``: where given, ``decide`` and ``state`` take
    what it builds from the runs (a rule's table, built once a candidate). Returns ``(line,
    flips)``, ``flips`` the ``(name, verdict, key)`` of each run whose absence changes the
    verdict (or its state)."""
    candidates = list(candidates)
    if not candidates:
        return "no run enters the rule: nothing to leave out.", []
    build = build or (lambda table: table)
    base = state(build(runs)) if state else None
    flips, grounds = [], 0
    for index in candidates:
        kept = build(runs.drop(index))
        other, _, key = decide(kept)
        if other != verdict or (state and state(kept) != base):
            row = runs.loc[index]
            name = _run_name(row) + (f" ({describe(row)})" if describe else "")
            flips.append((name, other, key))
            grounds += other == verdict
    n = len(candidates)
    if not flips:
        return ((f"leaving out any one of the {n} runs the rule reads" if n != 1 else
                 "leaving out the one run the rule reads")
                + " gives the same verdict" + (" on the same grounds" if state else "") + ".", [])
    flips.sort(key=lambda flip: flip[1] == verdict)  # changes of the verdict first
    shown = "; ".join(f"without {name}: {other} ({key})" for name, other, key in flips[:2])
    more = f"; and {len(flips) - 2} more" if len(flips) > 2 else ""
    what = "the verdict" if not grounds else \
        "what the verdict rests on" if grounds == len(flips) else "the verdict or its grounds"
    lead = (f"one run decides {what}" if len(flips) == 1 else
            f"{len(flips)} runs each decide {what}")
    return (f"{lead} (of the {n} run{'s' if n != 1 else ''} the rule reads): {shown}{more}.",
            flips)


def _with_influence(verdict, line, flips):
    """``verdict`` with its leave-one-run-out line, and its reading saying when single runs
    decide it."""
    reading = verdict.reading
    if flips:
        name, other, key = flips[0]
        change = (f"The verdict rests on single runs: without {name} it would be {other}"
                  if other != verdict.verdict else
                  f"What the verdict rests on turns on single runs: without {name}, {key}")
        reading += (f" {change}"
                    + (f" ({len(flips)} runs can each change it)" if len(flips) > 1 else "")
                    + ".")
    return dataclasses.replace(verdict, influence=line, reading=reading,
                               single_runs=sum(other != verdict.verdict for _, other, _ in flips))


def _accuracy_of(column):
    return lambda row: f"accuracy {_pct(float(row[column]))}"


def _outcome_and_accuracy_of(column):
    return lambda row: f"{_outcome(row.to_frame().T)[0]}, accuracy {_pct(float(row[column]))}"


def _same(values, target):
    """Rows whose value equals ``target`` (NaN equals NaN)."""
    values = np.asarray(values, dtype=object)
    if isinstance(target, float) and math.isnan(target):
        return np.array([isinstance(v, float) and math.isnan(v) for v in values])
    return np.array([v == target for v in values])


def _missing(claim, study, runs=None):
    """The verdict of a claim whose study has no finished run (``runs``: its table, where it
    lists runs still to train)."""
    import pandas as pd  # pandas (0.3 s) only when a table is read or built
    waiting = sum(_pending(runs).values())
    if waiting:
        reason = (f"the {study.replace('_', '-')} study has no finished run yet; provisional: "
                  f"{waiting} run{'s' if waiting != 1 else ''} still to train.")
        return Verdict(claim, INCONCLUSIVE, reason, "", "", None, "no runs finished yet.",
                       pd.DataFrame(), f"{claim} cannot be read yet: {reason}")
    return Verdict(claim, INCONCLUSIVE, f"the {study} study's table is missing or has no run.",
                   "", "", None, "no runs.", pd.DataFrame(),
                   f"{claim} cannot be read yet: the {study} study has not produced runs.")


# ---------------------------------------------------------------------------------------------
# H1

def tuned_settings(runs):
    """Each network's tuning cell: the (``learning_rate``, ``target_rate``) combination with the
    highest mean ``val_acc`` over its finished runs, all outcomes counting (a failed run has a
    low one); the accuracy measure stands in where ``val_acc`` is all NaN.

    Returns
    -------
    dict
        network -> ``{"learning_rate": ..., "target_rate": ..., "cells": k, "score": s}``
        (``cells`` the number of cells tried).
    """
    finished = _finished(runs)
    cell = [column for column in H1_CELL if column in finished]
    score = "val_acc" if "val_acc" in finished and finished["val_acc"].notna().any() \
        else accuracy_measure(runs)[0]
    out = {}
    for network, part in finished.groupby("network"):
        groups = list(part.groupby(cell, dropna=False, sort=True)) if cell else [((), part)]
        best, best_score = None, -math.inf
        for keys, group in groups:
            keys = keys if isinstance(keys, tuple) else (keys,)
            value = group[score].mean()
            value = -math.inf if not np.isfinite(value) else float(value)
            if best is None or value > best_score:
                best, best_score = keys, value
        out[network] = {**dict(zip(cell, best)), "cells": len(groups), "score": best_score}
    return out


def _tuned_rows(runs, settings):
    """The rows (any status) of each network's tuned cell."""
    keep = np.zeros(len(runs), dtype=bool)
    for network, setting in settings.items():
        mask = np.array(runs["network"] == network, dtype=bool)
        for column in H1_CELL:
            if column in setting:
                mask &= _same(runs[column], setting[column])
        keep |= mask
    return runs[keep].copy()


def compare_to_baseline(runs, failures=False, margin=H1_MARGIN):
    """Each network of a ratio table against the unbounded baseline, as H1 does (also for the
    spike-timing study): each network at its tuned cell (:func:`tuned_settings`), accuracy mean
    +/- sd with a 95 % t-interval, peak test accuracy beside, the difference to the baseline
    (ratio - baseline, negative = worse) with its 90 % TOST interval, the TOST p (equivalence
    within ``+/- margin``), the p of being worse by more than the margin, and the binomial
    test-set sd.

    Parameters
    ----------
    runs : pandas.DataFrame
        ``runs.csv`` rows.
    failures : bool
        Put the silent and saturated runs in (the sensitivity analysis).
    """
    import pandas as pd  # pandas (0.3 s) only when a table is read or built
    column, _ = accuracy_measure(runs)
    settings = tuned_settings(runs)
    tuned = _keep(_tuned_rows(_finished(runs), settings), failures)
    base = tuned[tuned["network"] == "unbounded"][column].to_numpy(float)
    test_samples = _test_samples(runs)
    rows = []
    for network in _order(settings):
        part = tuned[tuned["network"] == network]
        values = part[column].to_numpy(float)
        mean, sd, n = mean_sd(values)
        _, low, high, _ = t_interval(values)
        setting = settings[network]
        row = {"network": network, "E share": e_share(network),
               "learning rate": setting.get("learning_rate", math.nan),
               "target rate (Hz)": setting.get("target_rate", math.nan),
               "cells tried": setting["cells"], "n": n, "accuracy": mean, "sd": sd,
               "95 % low": low, "95 % high": high,
               "peak test accuracy": part["peak_test_acc"].mean() if n else math.nan,
               "binomial sd": binomial_sd(mean, test_samples)}
        if network != "unbounded":
            result = tost(values, base, margin)
            row.update({"difference to baseline": result["diff"],
                        "difference 90 % low": result["ci_low"],
                        "difference 90 % high": result["ci_high"],
                        "TOST p": result["p_equivalent"], "p worse by > margin": result["p_worse"]})
        rows.append(row)
    return pd.DataFrame(rows)


def neuron_models_column(runs):
    """Each row's neuron model (``lif`` where the table has no ``neuron_model`` column or the
    cell is empty: every run before the option existed was a LIF network)."""
    if "neuron_model" not in runs:
        return np.array(["lif"] * len(runs), dtype=object)
    return runs["neuron_model"].fillna("lif").astype(str).to_numpy()


def compare_models(runs, other, reference="lif"):
    """Each network's runs of neuron model ``other`` against its runs of ``reference`` (the
    spike-timing study's adaptive arm): trained runs' accuracy (validation-chosen where there
    is a validation set), the difference ``other - reference`` with its Welch 95 % interval and
    p, and per model the counts of trained, silent and saturated runs and the mean final E rate.
    A network lacking either model is left out.
    """
    import pandas as pd  # pandas (0.3 s) only when a table is read or built
    column, _ = accuracy_measure(runs)
    finished = _finished(runs)
    models = neuron_models_column(finished)
    rows = []
    for network in _order(sorted(set(finished["network"]))):
        parts = {name: finished[(finished["network"] == network) & (models == name)]
                 for name in (reference, other)}
        if any(part.empty for part in parts.values()):
            continue
        trained = {name: _keep(part, False)[column].to_numpy(float)
                   for name, part in parts.items()}
        result = welch(trained[other], trained[reference])
        row = {"network": network}
        for name, part in parts.items():
            outcome = part["outcome"] if "outcome" in part else pd.Series([""] * len(part))
            row.update({f"{name} n": len(trained[name]),
                        f"{name} accuracy": mean_sd(trained[name])[0],
                        f"{name} silent": int((outcome == "silent").sum()),
                        f"{name} saturated": int((outcome == "saturated").sum()),
                        f"{name} final E rate (Hz)": float(part["rate_exc_final_hz"].mean())})
        row.update({"difference": result["diff"], "95 % low": result["low"],
                    "95 % high": result["high"], "Welch p": result["p"]})
        rows.append(row)
    return pd.DataFrame(rows)


def _pending(runs, statuses=("new", "partial")):
    """``{network: runs still to train}``: the runs whose status is ``new`` or ``partial`` (a
    piece of the reproduction has not reached them yet; failed runs are counted apart, with
    ``statuses=("failed", "conflict")``); ``{"": n}`` for a table without networks."""
    if runs is None or "status" not in runs:
        return {}
    waiting = runs[np.asarray(runs["status"].isin(list(statuses)), dtype=bool)]
    if "network" not in waiting:
        return {"": len(waiting)} if len(waiting) else {}
    return {name: int(n) for name, n in waiting.groupby("network").size().items()}


def _pending_text(pending):
    """``"20 at 80:20 and 10 at unbounded"``: the networks with runs still to train, in the
    report's order."""
    names = [f"{pending[name]} at {name}" for name in _order(pending)]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _h1_decide(table, full_scale, pending=None, networks=(), failed=None):
    """``(verdict, reason, key)`` of H1 from :func:`compare_to_baseline`'s table. ``networks``
    names every network of the study (any status, any outcome): a biological ratio without a
    trained run counts as one with too few seeds, not as one that is not there. ``pending``
    (:func:`_pending`) names the networks with runs still to train; the reason then says the
    verdict is provisional. ``failed``: the networks with failed runs (the next invocation
    retries them)."""
    verdict, reason, key = _h1_rule(table, full_scale, pending or {}, networks, failed or {})
    if pending:
        total = sum(pending.values())
        reason = (reason[:-1] + f"; provisional: {total} run{'s' if total != 1 else ''} still "
                  f"to train ({_pending_text(pending)}).")
    return verdict, reason, key


def _h1_rule(table, full_scale, pending, networks, failed):
    rows = table.set_index("network")
    if "unbounded" not in rows.index or rows.loc["unbounded", "n"] < H1_MIN_SEEDS:
        n = int(rows.loc["unbounded", "n"]) if "unbounded" in rows.index else 0
        return INCONCLUSIVE, (f"the unbounded baseline has {n} trained runs at its tuned setting "
                              f"(at least {H1_MIN_SEEDS} needed)."), f"baseline n = {n}"
    biological = [name for name in _order([*rows.index, *networks]) if name != "unbounded" and
                  H1_BIOLOGICAL[0] - 1e-9 <= e_share(name) <= H1_BIOLOGICAL[1] + 1e-9]
    if not biological:
        return INCONCLUSIVE, "no ratio between 10:90 and 90:10 has a trained run.", "no ratio"
    testable = [name for name in biological
                if name in rows.index and rows.loc[name, "n"] >= H1_MIN_SEEDS]
    few = [name for name in biological if name not in testable]
    worse = [name for name in testable if rows.loc[name, "p worse by > margin"] < ALPHA]
    equivalent = [name for name in testable if rows.loc[name, "TOST p"] < ALPHA]
    below = [name for name in testable if rows.loc[name, "accuracy"] < H1_THRESHOLD
             and rows.loc[name, "95 % high"] < H1_THRESHOLD]
    reach = [name for name in testable if rows.loc[name, "accuracy"] >= H1_THRESHOLD]
    diffs = {name: rows.loc[name, "difference to baseline"] for name in testable}
    if testable:
        low_name = min(diffs, key=diffs.get)
        worst_p = max(testable, key=lambda name: rows.loc[name, "TOST p"])
        key = (f"lowest difference to baseline {_pts(diffs[low_name])} points at {low_name}; "
               f"largest TOST p {rows.loc[worst_p, 'TOST p']:.3g} at {worst_p}; "
               f"lowest mean {_pct(min(rows.loc[testable, 'accuracy']))}")
    else:
        key = "no ratio with enough seeds"
    base = rows.loc["unbounded"]
    base_text = _mean_sd_text(base["accuracy"], base["sd"], int(base["n"]))
    which = "the biological ratios" + (" with enough seeds" if len(diffs) < len(biological)
                                       else "")
    summary = (f"the tuned unbounded baseline reaches {base_text}; "
               + (f"{which} differ from it by {_pts(min(diffs.values()))} to "
                  f"{_pts(max(diffs.values()))} points" if diffs else "no biological ratio has "
                  f"{H1_MIN_SEEDS} seeds"))
    if worse:
        verb = "is" if len(worse) == 1 else "are"
        return NOT_SUPPORTED, (f"{summary}; {', '.join(worse)} {verb} worse than the baseline "
                               f"by more than {100 * H1_MARGIN:.0f} points (one-sided "
                               f"p < {ALPHA})."), key
    if full_scale and below:
        return NOT_SUPPORTED, (f"{summary}; {', '.join(below)} stay below "
                               f"{_pct(H1_THRESHOLD)} (95 % upper bound below it) at the full "
                               "scale."), key
    if few:
        def has(names, what):
            return [f"{', '.join(names)} {'has' if len(names) == 1 else 'have'} {what}"] \
                if names else []
        missing = [name for name in few if name not in rows.index or not rows.loc[name, "n"]]
        parts = (has([name for name in missing if name in pending], "no trained run yet")
                 + has([name for name in missing if name not in pending and name in failed],
                       "no trained run (its failed runs are retried by the next invocation; "
                       "runs.csv's error column says why they failed)")
                 + has([name for name in missing if name not in pending and name not in failed],
                       "no trained run (every run ended silent or saturated)")
                 + has([name for name in few if name not in missing],
                       f"fewer than {H1_MIN_SEEDS} trained runs"))
        return INCONCLUSIVE, f"{summary}; {' and '.join(parts)}.", key
    all_equivalent = len(equivalent) == len(biological)
    if full_scale and all_equivalent and len(reach) == len(biological):
        return SUPPORTED, (f"{summary}: every biological ratio is equivalent to the baseline "
                           f"within +/- {100 * H1_MARGIN:.0f} points (TOST p < {ALPHA}) and "
                           f"reaches {_pct(H1_THRESHOLD)} at the full scale."), key
    if all_equivalent:
        why = ("but the 80 % threshold needs the full scale (all 60,000 training samples, 30 "
               "epochs) and is not testable at this one" if not full_scale else
               f"but {', '.join(n for n in biological if n not in reach)} do not reach "
               f"{_pct(H1_THRESHOLD)} and cannot be said to stay below it")
        return INCONCLUSIVE, (f"{summary}: every biological ratio is equivalent to the baseline "
                              f"within +/- {100 * H1_MARGIN:.0f} points (TOST p < {ALPHA}), "
                              f"{why}."), key
    return INCONCLUSIVE, (f"{summary}; equivalence within +/- {100 * H1_MARGIN:.0f} points is "
                          "not shown for "
                          f"{', '.join(n for n in biological if n not in equivalent)} (TOST "
                          f"p >= {ALPHA}) and no ratio is shown worse."), key


def verdict_h1(ratio_runs, full_scale, tuned_in=None):
    """H1 from the ratio study's runs (``tuned_in``: for the paper's-scale study, the networks
    whose cell the ratio study's tuning grids chose, which its reading names).

    Rule: each network at its tuned setting (:func:`tuned_settings`: the (learning rate,
    target rate) cell with the highest mean validation accuracy over its finished runs; only
    the networks with a tuning grid have several cells). The difference to the baseline is
    ratio - tuned unbounded baseline (negative = worse), over seeds of trained runs, with
    Welch's two one-sided tests (TOST) for equivalence within +/- 2 points and its 90 %
    interval. The claim is about the ratios found in the brain, E shares 0.1 to 0.9 (10:90 to
    90:10); 100:0 and 95:5 are reported beside. At least 3 seeds on each side.

    - **Supported** (only at the full scale: all training data, 30 epochs): every biological
      ratio equivalent to the baseline (TOST p < 0.05) and a mean of at least 80 %.
    - **Not supported**: a biological ratio worse than the baseline by more than 2 points
      (one-sided Welch test of difference < -2 points, p < 0.05), or, at the full scale, a
      mean below 80 % whose 95 % t upper bound is below 80 %.
    - **Inconclusive** otherwise; below the full scale the 80 % threshold is not testable, so
      the best verdict is inconclusive with the equivalence shown.
    """
    runs = ratio_runs.reset_index(drop=True)
    column, note = accuracy_measure(runs)
    rule = ("each network at its tuned (learning rate, target rate) cell (highest mean validation "
            "accuracy); difference = ratio - tuned unbounded baseline over seeds of trained runs. "
            f"Supported (full scale only) if every ratio with E share {H1_BIOLOGICAL[0]:g}-"
            f"{H1_BIOLOGICAL[1]:g} is equivalent to the baseline within +/- "
            f"{100 * H1_MARGIN:.0f} points (Welch TOST p < {ALPHA}) and has a mean >= "
            f"{_pct(H1_THRESHOLD)}; not supported if one is worse by more than "
            f"{100 * H1_MARGIN:.0f} points (one-sided p < {ALPHA}) or (full scale) has a mean "
            f"< {_pct(H1_THRESHOLD)} with a 95 % t upper bound below it; inconclusive otherwise "
            f"or with < {H1_MIN_SEEDS} seeds a side. Below the full scale the 80 % threshold is "
            "not testable.")
    settings = tuned_settings(runs)
    table = compare_to_baseline(runs)
    pending, networks = _pending(runs), set(runs["network"].dropna())
    failed = _pending(runs, ("failed", "conflict"))
    verdict, reason, key = _h1_decide(table, full_scale, pending, networks, failed)
    table_in = compare_to_baseline(runs, failures=True)
    verdict_in, _, key_in = _h1_decide(table_in, full_scale, pending, networks, failed)
    import pandas as pd  # pandas (0.3 s) only when a table is read or built
    # a network with no finished run has no tuned cell yet: its runs are counted as they are
    untuned = runs["network"].notna() & ~runs["network"].isin(list(settings))
    tuned_all = pd.concat([_tuned_rows(runs, settings), runs[np.asarray(untuned, dtype=bool)]])
    silent, saturated = _n_failed(tuned_all)
    counts = outcome_counts(tuned_all, "network")
    tuning = "; ".join(
        f"{name}: learning rate {s.get('learning_rate', math.nan):g}, target rate "
        f"{s.get('target_rate', math.nan):g} Hz (best of {s['cells']} cells)"
        for name, s in settings.items() if s["cells"] > 1)
    rows = table.set_index("network")
    test = (f"{note}. Welch TOST (margin +/- {100 * H1_MARGIN:.0f} points), difference = ratio - "
            "baseline with its 90 % interval: "
            + "; ".join(f"{name}: {_pts(r['difference to baseline'])} points "
                        f"({_pts(r['difference 90 % low'])} to {_pts(r['difference 90 % high'])}), "
                        f"TOST p = {r['TOST p']:.3g}, n = {int(r['n'])}"
                        for name, r in rows.iterrows() if name != "unbounded")
            + (f". Tuned cells: {tuning}" if tuning else ""))
    base_sd = rows.loc["unbounded", "binomial sd"] if "unbounded" in rows.index else math.nan
    if not np.isfinite(base_sd) and "binomial sd" in rows:
        base_sd = rows["binomial sd"].mean()  # no baseline yet: the ratios' own test sets
    scale = "the paper's full scale" if full_scale else "a smaller scale than the paper's"
    grids = list(tuned_in) if tuned_in else [name for name, s in settings.items()
                                             if s["cells"] > 1]
    whose = "its" if len(grids) == 1 else "their"
    how = (f"{' and '.join(grids)} at the cell{'s' if len(grids) > 1 else ''} that {whose} "
           f"tuning grid{'s' if len(grids) > 1 else ''} in the ratio study chose, the other "
           "networks at the study's one setting"
           if tuned_in else
           f"{' and '.join(grids)} each at the best cell of {whose} tuning "
           f"grid{'s' if len(grids) > 1 else ''}, the other networks at the study's one setting"
           if grids else
           "every network at the study's one setting")
    reading = (f"At {scale}, with {how}, the Dale's-law networks with 10 % to 90 % excitatory "
               f"neurons were compared with an unconstrained network. "
               f"{reason[0].upper() + reason[1:]} {_h1_beside(rows)}One accuracy on this test set "
               f"carries about {_pts(base_sd, sign=False)} points of binomial noise. ")
    reading += {SUPPORTED: "This agrees with the paper.",
                NOT_SUPPORTED: "This contradicts the paper's claim that Dale's law costs little.",
                INCONCLUSIVE: "The data do not decide the claim at this scale."}[verdict]
    # every finished run: the tuning reads the failed ones too
    finished = _finished(runs)
    line, flips = _one_out(
        runs, finished.index,
        lambda kept: _h1_decide(compare_to_baseline(kept), full_scale, pending, networks, failed),
        verdict, _outcome_and_accuracy_of(column))
    return _with_influence(
        Verdict("H1", verdict, reason, rule, test, table,
                _sensitivity(silent, saturated, verdict_in, key_in, verdict), counts, reading),
        line, flips)


def _h1_beside(rows):
    """What the rule leaves aside: the ratios outside 10:90 to 90:10 against the baseline, and
    which Dale's-law network has the highest mean (the paper puts 80:20 first)."""
    if "unbounded" not in rows.index:
        return ""
    dale = [name for name in rows.index if name != "unbounded" and rows.loc[name, "n"] > 0]
    outside = [name for name in dale
               if not H1_BIOLOGICAL[0] - 1e-9 <= e_share(name) <= H1_BIOLOGICAL[1] + 1e-9]
    text = ""
    if outside:
        text += "Beside the claim's range: " + "; ".join(
            f"{name} {_pts(rows.loc[name, 'difference to baseline'])} points (TOST p = "
            f"{rows.loc[name, 'TOST p']:.2g}: "
            + ("equivalent" if rows.loc[name, "TOST p"] < ALPHA else "not shown equivalent")
            + ")" for name in outside) + ". "
    if len(dale) > 1:
        best = max(dale, key=lambda name: rows.loc[name, "accuracy"])
        text += (f"The highest mean among the Dale's-law networks is {best}'s "
                 f"({_pct(rows.loc[best, 'accuracy'])})")
        if "80:20" in dale and best != "80:20":
            order = sorted(dale, key=lambda name: -rows.loc[name, "accuracy"])
            place = order.index("80:20") + 1
            text += (f"; 80:20 reaches {_pct(rows.loc['80:20', 'accuracy'])}, "
                     f"{place}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(place, 'th') } of {len(dale)}")
        text += ". "
    return text


# ---------------------------------------------------------------------------------------------
# H2

def _calibrated(runs):
    if "init" in runs:
        return runs[runs["init"] == "target-rate"].copy()
    return runs.copy()


def _log_rate(runs):
    rate = runs["rate_exc_initial_hz"].astype(float)
    if "target_rate" in runs:
        rate = rate.fillna(runs["target_rate"].astype(float))
    return np.log10(np.maximum(rate.to_numpy(float), H2_RATE_FLOOR_HZ))


def _seed_slopes(part, column):
    """Per seed: the least-squares slope of accuracy on log10 initial E rate."""
    slopes = []
    frame = part.assign(_x=_log_rate(part), _y=part[column].astype(float))
    frame = frame[np.isfinite(frame["_x"]) & np.isfinite(frame["_y"])]
    for _, group in frame.groupby("seed"):
        x, y = group["_x"].to_numpy(float), group["_y"].to_numpy(float)
        if len(np.unique(x)) >= 2:
            slopes.append(float(np.polyfit(x, y, 1)[0]))
    return np.asarray(slopes)


def _h2_table(runs, failures):
    import pandas as pd  # pandas (0.3 s) only when a table is read or built
    column, _ = accuracy_measure(runs)
    used = _keep(_calibrated(runs), failures)
    rows = []
    for network in list(H2_RATIOS) + [n for n in _order(used["network"]) if n not in H2_RATIOS]:
        part = used[used["network"] == network]
        slopes = _seed_slopes(part, column)
        mean, low, high, n = t_interval(slopes)
        best_rate, best_measured, best_acc, best_peak = math.nan, math.nan, math.nan, math.nan
        if len(part):
            by = part.groupby("target_rate" if "target_rate" in part else "label")
            means = by[column].mean()
            if means.notna().any():
                best = means.idxmax()
                best_acc = float(means.loc[best])
                best_rate = best if isinstance(best, (int, float)) else math.nan
                best_measured = float(by.get_group(best)["rate_exc_initial_hz"].mean())
                best_peak = float(by.get_group(best)["peak_test_acc"].mean())
        rows.append({"network": network, "runs": len(part), "seeds with a slope": n,
                     "slope (per decade)": mean, "slope 95 % low": low, "slope 95 % high": high,
                     "best condition: target rate (Hz)": best_rate,
                     "best condition: initial E rate (Hz)": best_measured,
                     "best condition: accuracy": best_acc,
                     "best condition: peak test accuracy": best_peak})
    return pd.DataFrame(rows)


def _h2_grounds(table):
    """What H2's verdict rests on: per ratio of the claim, whether its slope is rising (95 %
    interval above 0), falling (below 0), flat (within the flat band) or undecided (the
    interval includes 0 and leaves the band, or too few seeds)."""
    rows = table.set_index("network")
    grounds = []
    for name in H2_RATIOS:
        if name not in rows.index or rows.loc[name, "seeds with a slope"] < H2_MIN_SEEDS:
            grounds.append("undecided")
            continue
        low, high = rows.loc[name, "slope 95 % low"], rows.loc[name, "slope 95 % high"]
        grounds.append("rising" if low > 0 else "flat" if -H2_FLAT < low and high < H2_FLAT
                       else "falling" if high < 0 else "undecided")
    return tuple(grounds)


def _h2_decide(table):
    rows = table.set_index("network")
    present = [name for name in H2_RATIOS if name in rows.index]
    key = "; ".join(f"{name} {_pts(rows.loc[name, 'slope (per decade)'])} points per decade "
                    f"({_pts(rows.loc[name, 'slope 95 % low'])} to "
                    f"{_pts(rows.loc[name, 'slope 95 % high'])})" for name in present)
    few = [name for name in H2_RATIOS
           if name not in rows.index or rows.loc[name, "seeds with a slope"] < H2_MIN_SEEDS]
    rising = [name for name in present if rows.loc[name, "seeds with a slope"] >= H2_MIN_SEEDS
              and rows.loc[name, "slope 95 % low"] > 0]
    if rising:
        return NOT_SUPPORTED, (f"accuracy rises with the initial rate at {', '.join(rising)} "
                               "(95 % interval of the slope above 0): " + key + "."), key
    if few:
        return INCONCLUSIVE, (f"fewer than {H2_MIN_SEEDS} seeds with a slope at "
                              f"{', '.join(few)}."), key
    flat = [name for name in H2_RATIOS if rows.loc[name, "slope 95 % low"] > -H2_FLAT
            and rows.loc[name, "slope 95 % high"] < H2_FLAT]
    falling = [name for name in H2_RATIOS if rows.loc[name, "slope 95 % high"] < 0]
    if len(flat) == len(H2_RATIOS):
        return NOT_SUPPORTED, ("accuracy is flat in the initial rate at all three ratios (each "
                               f"95 % interval within +/- {100 * H2_FLAT:.0f} point per "
                               "decade): " + key + "."), key
    if len(falling) == len(H2_RATIOS):
        return SUPPORTED, ("accuracy falls with the initial rate at all three ratios (95 % upper "
                           "bound of the slope below 0): " + key + "."), key
    return INCONCLUSIVE, ("the slope's 95 % interval includes 0 at "
                          f"{', '.join(n for n in H2_RATIOS if n not in falling)}: "
                          + key + "."), key


def verdict_h2(initial_runs):
    """H2 from the initial-rate study's runs (the calibrated arm, ``init == "target-rate"``).

    Rule: for each of 80:20, 95:5 and 100:0, the least-squares slope of accuracy on log10 of the
    measured initial E rate (below 0.01 Hz counted as 0.01 Hz), fitted per seed over its
    trained runs; the mean slope over seeds with a 95 % t-interval (at least 3 seeds).

    - **Supported** if the upper bound is below 0 at all three ratios (and not all three are
      flat, below).
    - **Not supported** if at any of them the lower bound is above 0 (accuracy rises with the
      rate), or if at all three the interval lies within +/- 1 point per decade (flat: an
      effect that small counts as none, even when significant).
    - **Inconclusive** otherwise or with fewer than 3 seeds.

    The target rate and measured initial rate of the best condition (highest mean accuracy)
    of each ratio are reported beside, and 50:50 (or any other ratio present).
    """
    initial_runs = initial_runs.reset_index(drop=True)
    column, note = accuracy_measure(initial_runs)
    rule = (f"per ratio (80:20, 95:5, 100:0), calibrated arm: slope of accuracy on log10 initial E "
            f"rate over trained runs, fitted per seed, mean over seeds with a 95 % t-interval "
            f"(>= {H2_MIN_SEEDS} seeds). Supported if the upper bound < 0 at all three; not "
            f"supported if the lower bound > 0 at any, or the interval lies within +/- "
            f"{100 * H2_FLAT:.0f} point per decade at all three (flat, even when significant); "
            "inconclusive otherwise.")
    table = _h2_table(initial_runs, failures=False)
    verdict, reason, key = _h2_decide(table)
    verdict_in, _, key_in = _h2_decide(_h2_table(initial_runs, failures=True))
    calibrated = _calibrated(initial_runs)
    claim_runs = calibrated[calibrated["network"].isin(H2_RATIOS)]
    silent, saturated = _n_failed(claim_runs)
    counts = outcome_counts(calibrated, ["network", "target_rate"])
    rows = table.set_index("network")
    best = "; ".join(f"{name}: {rows.loc[name, 'best condition: target rate (Hz)']:g} Hz "
                     f"({_pct(rows.loc[name, 'best condition: accuracy'])})"
                     if np.isfinite(rows.loc[name, 'best condition: accuracy']) else
                     f"{name}: no trained run" for name in H2_RATIOS if name in rows.index)
    test = (f"{note}. Slope of accuracy on log10 initial E rate per seed, t-interval over seeds: "
            f"{key}. Best condition per ratio: {best}.")
    reading = ("Networks at 80:20, 95:5 and 100:0 were started at calibrated initial rates from "
               f"low to high. {reason[0].upper() + reason[1:]} The best mean accuracy was reached "
               f"at {best}. ")
    reading += {SUPPORTED: "This agrees with the paper: quieter starts train better.",
                NOT_SUPPORTED: "This contradicts the paper's claim that a lower initial rate "
                               "gives a higher accuracy.",
                INCONCLUSIVE: "The data do not decide the claim at this scale."}[verdict]
    finished = _finished(claim_runs)
    line, flips = _one_out(initial_runs, finished.index[_outcome(finished) == TRAINED],
                           _h2_decide, verdict, _accuracy_of(column), state=_h2_grounds,
                           build=lambda kept: _h2_table(kept, failures=False))
    return _with_influence(
        Verdict("H2", verdict, reason, rule, test, table,
                _sensitivity(silent, saturated, verdict_in, key_in, verdict), counts, reading),
        line, flips)


# ---------------------------------------------------------------------------------------------
# H3

def _pooled_sd(runs, column):
    """Pooled sd over seeds within conditions (target rates), with its degrees of freedom."""
    squares, dof = 0.0, 0
    by = "target_rate" if "target_rate" in runs else "label"
    for _, part in runs.groupby(by):
        values = _finite(part[column])
        if len(values) >= 2:
            squares += float(((values - values.mean()) ** 2).sum())
            dof += len(values) - 1
    return (math.sqrt(squares / dof) if dof else math.nan), dof


def how_low(initial_runs):
    """Where learning stalls: the lowest target rate at which at least :data:`H3_STARTS` of the
    finished 80:20 runs of the calibrated arm train, and for the ``init == "scale"`` arm, per
    ``init_distribution``, the lowest ``init_scale_exc`` at which at least that share train
    (the silent boundary).

    Returns
    -------
    dict
        ``"target_rate"``: float (NaN if none) and ``"scale"``: dict distribution -> gain.
    """
    finished = _finished(initial_runs)
    out = {"target_rate": math.nan, "scale": {}}

    def lowest(part, column):
        good = []
        for value, group in part.groupby(column):
            if (_outcome(group) == TRAINED).mean() >= H3_STARTS:
                good.append(float(value))
        return min(good) if good else math.nan

    calibrated = _calibrated(finished)
    ours = calibrated[calibrated["network"] == "80:20"]
    if len(ours) and "target_rate" in ours:
        out["target_rate"] = lowest(ours, "target_rate")
    if "init" in finished and "init_scale_exc" in finished:
        scale = finished[(finished["init"] == "scale") & (finished["network"] == "80:20")]
        by = "init_distribution" if "init_distribution" in scale else None
        for name, part in (scale.groupby(by) if by else [("", scale)]):
            out["scale"][name] = lowest(part, "init_scale_exc")
    return out


def _silent_start_text(runs, column):
    """A sentence on the silent runs, per network, that were silent only at the start: calibrated
    below the silent rate, they ended above it and beat chance (the rule still counts them as
    failures, in the share that trains too)."""
    from ei_brian.outcome import SILENT_HZ, TRAINED_MARGIN
    runs = _finished(runs)
    silent = runs[_outcome(runs) == SILENT]
    if not len(silent) or not {"rate_exc_initial_hz", "rate_exc_final_hz"} <= set(silent):
        return ""
    chance = (1.0 / silent["n_classes"].astype(float)).fillna(0.1) if "n_classes" in silent \
        else 0.1
    accuracy = silent[column].astype(float)
    start_only = (silent["rate_exc_initial_hz"].astype(float) < SILENT_HZ) \
        & (silent["rate_exc_final_hz"].astype(float) >= SILENT_HZ) \
        & (accuracy > chance + TRAINED_MARGIN)
    parts = []
    for network in _order(silent["network"]):
        mine = np.asarray(silent["network"] == network)
        k = int((start_only & mine).sum())
        if k:
            values = accuracy[start_only & mine]
            parts.append(f"{network} {k} of {int(mine.sum())} ({_pct(values.min())}"
                         + (f" to {_pct(values.max())}" if k > 1 else "") + ")")
    if not parts:
        return ""
    return ("Silent runs that were silent only at the start (initial E rate below "
            f"{SILENT_HZ:g} Hz) and later beat chance by more than {100 * TRAINED_MARGIN:.0f} "
            f"points, with their accuracies: {'; '.join(parts)}; the "
            "rule counts them as failures, also in the share that trains, and the sensitivity "
            "line puts them back in. ")


def _h3_table(runs, failures):
    import pandas as pd  # pandas (0.3 s) only when a table is read or built
    column, _ = accuracy_measure(runs)
    calibrated = _finished(_calibrated(runs))
    low = calibrated[calibrated["target_rate"] <= H3_LOW_RATE_HZ] if "target_rate" in calibrated \
        else calibrated[calibrated["rate_exc_initial_hz"] <= H3_LOW_RATE_HZ]
    test_samples = _test_samples(runs)
    rows = []
    for network in ["80:20"] + [n for n in _order(low["network"]) if n != "80:20"]:
        part = low[low["network"] == network]
        trained = part[_outcome(part) == TRAINED]
        used = part if failures else trained
        sd, dof = _pooled_sd(used, column)
        mean = float(used[column].mean()) if len(used) else math.nan
        rows.append({"network": network, "low-rate runs": len(part), "trained": len(trained),
                     "share trained": len(trained) / len(part) if len(part) else math.nan,
                     "accuracy": mean, "pooled sd over seeds": sd, "degrees of freedom": dof,
                     "binomial sd": binomial_sd(mean, test_samples),
                     "peak test accuracy": used["peak_test_acc"].mean() if len(used)
                     else math.nan})
    return pd.DataFrame(rows)


def _h3_decide(table):
    rows = table.set_index("network")
    if "80:20" not in rows.index or rows.loc["80:20", "low-rate runs"] == 0:
        return INCONCLUSIVE, f"no finished 80:20 run starts at <= {H3_LOW_RATE_HZ:g} Hz.", "no runs"
    row = rows.loc["80:20"]
    share, sd = row["share trained"], row["pooled sd over seeds"]
    dof = int(row["degrees of freedom"])
    small = max(H3_SMALL_SD, 2 * row["binomial sd"]) if np.isfinite(row["binomial sd"]) \
        else H3_SMALL_SD
    key = (f"share trained {share:.2f} of {int(row['low-rate runs'])}, pooled sd "
           f"{_pts(sd, sign=False)} points ({dof} df)")
    text = (f"{int(row['trained'])} of {int(row['low-rate runs'])} 80:20 runs at <= "
            f"{H3_LOW_RATE_HZ:g} Hz train (share {share:.2f}) and spread by "
            f"{_pts(sd, sign=False)} points over seeds ({dof} degrees of freedom; small = "
            f"<= {_pts(small, sign=False)} points)")
    if share < H3_SHARE_BAD or (np.isfinite(sd) and sd > H3_LARGE_SD):
        failing = ([f"fewer than {H3_SHARE_BAD:.0%} train"] if share < H3_SHARE_BAD else []) \
            + ([f"the spread exceeds {100 * H3_LARGE_SD:.0f} points"]
               if np.isfinite(sd) and sd > H3_LARGE_SD else [])
        return NOT_SUPPORTED, text + f": {' and '.join(failing)}.", key
    if share >= H3_SHARE_GOOD and np.isfinite(sd) and sd <= small and dof >= H3_MIN_DOF:
        return SUPPORTED, text + ".", key
    return INCONCLUSIVE, text + (f"; a small spread needs >= {H3_MIN_DOF} degrees of freedom"
                                 if dof < H3_MIN_DOF else "") + ".", key


def verdict_h3(initial_runs):
    """H3 from the initial-rate study's runs (the calibrated arm).

    Rule: "low activity" = a target rate of at most 5 Hz. For each ratio (80:20 beside 95:5,
    100:0 and the others present): the share of its finished low-rate runs that train, the sd
    over seeds within conditions (target rates) pooled over conditions (trained runs), and the
    binomial test-set sd of its mean accuracy.

    - **Supported** if at 80:20 the share trained is >= 0.9 and the pooled sd <= max(2 points,
      2 binomial sds) with >= 8 degrees of freedom.
    - **Not supported** if the share trained is < 0.7 or the pooled sd > 5 points.
    - **Inconclusive** otherwise.

    "How low can it start" (:func:`how_low`) is reported beside.
    """
    initial_runs = initial_runs.reset_index(drop=True)
    column, note = accuracy_measure(initial_runs)
    rule = (f"low activity = target rate <= {H3_LOW_RATE_HZ:g} Hz (calibrated arm). 80:20: share "
            f"of finished runs that train >= {H3_SHARE_GOOD:g} and pooled sd over seeds within "
            f"conditions (trained runs) <= max({100 * H3_SMALL_SD:.0f} points, 2 binomial sds) "
            f"with >= {H3_MIN_DOF} degrees of freedom: supported; share < {H3_SHARE_BAD:g} or "
            f"pooled sd > {100 * H3_LARGE_SD:.0f} points: not supported; else inconclusive.")
    table = _h3_table(initial_runs, failures=False)
    verdict, reason, key = _h3_decide(table)
    verdict_in, _, key_in = _h3_decide(_h3_table(initial_runs, failures=True))
    calibrated = _calibrated(initial_runs)
    low = calibrated[calibrated["target_rate"] <= H3_LOW_RATE_HZ] if "target_rate" in calibrated \
        else calibrated
    silent, saturated = _n_failed(low[low["network"] == "80:20"])
    counts = outcome_counts(calibrated, ["network", "target_rate"])
    low_start = how_low(initial_runs)
    scale = "; ".join(f"{name or 'scale'}: gain {value:g}" if np.isfinite(value) else
                      f"{name or 'scale'}: no gain trains" for name, value in
                      low_start["scale"].items())
    start = (f"lowest target rate at which >= {H3_STARTS:.0%} of 80:20 runs train: "
             + (f"{low_start['target_rate']:g} Hz" if np.isfinite(low_start["target_rate"])
                else "none") + (f"; silent boundary of the scale arm (lowest gain at which "
                                f">= {H3_STARTS:.0%} train): {scale}" if scale else ""))
    rows = table.set_index("network")
    beside = "; ".join(f"{name}: share {r['share trained']:.2f}, pooled sd "
                       f"{_pts(r['pooled sd over seeds'], sign=False)} points "
                       f"({int(r['degrees of freedom'])} df), binomial sd "
                       f"{_pts(r['binomial sd'], sign=False)}" for name, r in rows.iterrows())
    test = f"{note}. {beside}. How low can it start: {start}."
    reading = (f"At low initial activity (<= {H3_LOW_RATE_HZ:g} Hz), "
               f"{reason[0].lower() + reason[1:]} "
               f"For comparison, {beside}. {start[0].upper() + start[1:]}. "
               + _silent_start_text(low, column))
    reading += {SUPPORTED: "This agrees with the paper: 80:20 trains reliably at low activity.",
                NOT_SUPPORTED: "This contradicts the paper's claim of reliable training at low "
                               "activity.",
                INCONCLUSIVE: "The data do not decide the claim at this scale."}[verdict]
    # the share trained reads every finished low-rate 80:20 run; the spread its trained ones
    ours = _finished(low[low["network"] == "80:20"])
    line, flips = _one_out(initial_runs, ours.index,
                           lambda kept: _h3_decide(_h3_table(kept, failures=False)), verdict,
                           _outcome_and_accuracy_of(column))
    return _with_influence(
        Verdict("H3", verdict, reason, rule, test, table,
                _sensitivity(silent, saturated, verdict_in, key_in, verdict), counts, reading),
        line, flips)


# ---------------------------------------------------------------------------------------------
# H4

def retention(noise_runs):
    """The finished runs with their chance-corrected retention.

    ``retention = (acc - chance) / (acc0 - chance)``, where ``acc`` is the accuracy measure
    (:func:`accuracy_measure`), ``acc0`` that of the noise-free (``update_noise == 0``) trained
    run of the same network, seed (and data set), and ``chance = 1 / n_classes``. NaN where the
    noise-free run is missing or did not train.

    Returns
    -------
    pandas.DataFrame
        The finished runs with ``accuracy``, ``chance``, ``accuracy_noise_free`` and
        ``retention``.
    """
    column, _ = accuracy_measure(noise_runs)
    runs = _finished(noise_runs)
    runs["accuracy"] = runs[column].astype(float)
    runs["chance"] = (1.0 / runs["n_classes"].astype(float)).fillna(0.1) \
        if "n_classes" in runs else 0.1
    keys = [key for key in ("network", "seed", "dataset") if key in runs]
    clean = runs[(runs["update_noise"].astype(float) == 0) & (_outcome(runs) == TRAINED)]
    clean = clean.groupby(keys)["accuracy"].mean().rename("accuracy_noise_free").reset_index()
    runs = runs.drop(columns=["accuracy_noise_free"], errors="ignore").merge(
        clean, on=keys, how="left")
    runs["retention"] = (runs["accuracy"] - runs["chance"]) / (
        runs["accuracy_noise_free"] - runs["chance"])
    return runs




def _trained_counts(runs, network, level):
    cell = runs[(runs["network"] == network) & (runs["update_noise"].astype(float) == level)]
    trained = int((_outcome(cell) == TRAINED).sum())
    return trained, len(cell) - trained


def _h4_table(noise_runs, failures):
    import pandas as pd  # pandas (0.3 s) and scipy.stats (0.6 s) only here
    from scipy.stats import fisher_exact
    every = retention(noise_runs)
    runs = every if failures else every[_outcome(every) == TRAINED]
    rows = []
    networks = _order(runs["network"])
    levels = sorted(runs["update_noise"].astype(float).unique())
    reference = runs[runs["network"] == "100:0"]
    networks = _order(every["network"])
    levels = sorted(every["update_noise"].astype(float).unique())
    for network in networks:
        part = runs[runs["network"] == network]
        for level in levels:
            cell = part[part["update_noise"].astype(float) == level]
            trained, failed = _trained_counts(every, network, level)
            if not trained + failed:
                continue
            mean, low, high, n = t_interval(cell["retention"])
            acc_mean, acc_sd, _ = mean_sd(cell["accuracy"])
            row = {"network": network, "update noise": level, "runs": len(cell), "n": n,
                   "accuracy": acc_mean, "sd": acc_sd,
                   "peak test accuracy": cell["peak_test_acc"].mean(),
                   "retention": mean, "retention 95 % low": low, "retention 95 % high": high,
                   "trained": trained, "share trained": trained / (trained + failed),
                   "finished": trained + failed,
                   "difference to 100:0": math.nan, "difference 95 % low": math.nan,
                   "difference 95 % high": math.nan, "difference p": math.nan,
                   "trains more often than 100:0 (Fisher p)": math.nan,
                   "trains less often than 100:0 (Fisher p)": math.nan}
            if network != "100:0" and level > 0:
                theirs = _trained_counts(every, "100:0", level)
                if sum(theirs):
                    table_2x2 = [[trained, failed], list(theirs)]
                    row["trains more often than 100:0 (Fisher p)"] = float(
                        fisher_exact(table_2x2, alternative="greater").pvalue)
                    row["trains less often than 100:0 (Fisher p)"] = float(
                        fisher_exact(table_2x2, alternative="less").pvalue)
            if network != "100:0" and level > 0:
                other = reference[reference["update_noise"].astype(float) == level]["retention"]
                if len(_finite(cell["retention"])) >= H4_MIN_SEEDS and \
                        len(_finite(other)) >= H4_MIN_SEEDS:
                    result = welch(cell["retention"], other)
                    row.update({"difference to 100:0": result["diff"],
                                "difference 95 % low": result["low"],
                                "difference 95 % high": result["high"],
                                "difference p": result["p"]})
            rows.append(row)
    table = pd.DataFrame(rows)
    etas = {}
    for network in networks:
        part = table[table["network"] == network]
        etas[network] = eta50(part["update noise"], part["retention"])
    if len(table):
        table["eta50"] = [_eta50_text(etas[name], levels) for name in table["network"]]
    return table, etas


def _h4_reference(row, table):
    """The 100:0 row of ``table`` at ``row``'s noise level, or None where 100:0 has no
    finished run there."""
    match = table[(table["network"] == "100:0")
                  & (table["update noise"] == row["update noise"])]
    return match.iloc[0] if len(match) else None


def _h4_difference_text(row, table):
    """``eta 3: +0.25 (+0.19 to +0.32)``, or why there is no difference to give."""
    head = f"eta {row['update noise']:g}: "
    if np.isfinite(row["difference to 100:0"]):
        return head + (f"{row['difference to 100:0']:+.2f} ({row['difference 95 % low']:+.2f} "
                       f"to {row['difference 95 % high']:+.2f})")
    theirs = _h4_reference(row, table)
    if theirs is None:
        return head + "no 100:0 run yet"
    short = [f"{int(n)} trained {name}" for name, n in ((row["network"], row["n"]),
                                                         ("100:0", theirs["n"]))
             if n < H4_MIN_SEEDS]
    return head + (f"not compared: only {' and '.join(short)} runs with a retention "
                   f"({H4_MIN_SEEDS} a side needed)")


def _h4_share_text(row, table):
    """``eta 3: 80:20 5/5, 100:0 0/5 (80:20 more often: one-sided Fisher p = 0.004)``: both
    shares of runs that train, and the test in the direction the shares point."""
    def share(r):
        return f"{int(r['trained'])}/{int(r['finished'])}"
    head = f"eta {row['update noise']:g}: {row['network']} {share(row)}"
    theirs = _h4_reference(row, table)
    if theirs is None:
        return head + ", no 100:0 run yet"
    head += f", 100:0 {share(theirs)}"
    if row["share trained"] > theirs["share trained"]:
        return head + (f" ({row['network']} more often: one-sided Fisher p = "
                       f"{row['trains more often than 100:0 (Fisher p)']:.3g})")
    if row["share trained"] < theirs["share trained"]:
        return head + (f" ({row['network']} less often: one-sided Fisher p = "
                       f"{row['trains less often than 100:0 (Fisher p)']:.3g})")
    return head + " (the same share)"


def _h4_decide(table):
    if not len(table):
        return INCONCLUSIVE, "no finished run.", "no runs"
    ours = table[(table["network"] == "80:20") & (table["update noise"] > 0)]
    if not len(ours) or "100:0" not in set(table["network"]):
        return INCONCLUSIVE, "the noise study needs 80:20 and 100:0 runs with and without noise.", \
            "no 80:20 or 100:0"
    lowest = ours.sort_values("update noise").iloc[0]
    # more robust at a level: retains more (Welch) or trains more often (Fisher, one-sided)
    above = ours[(ours["difference 95 % low"] > 0)
                 | (ours["trains more often than 100:0 (Fisher p)"] < ALPHA)][
        "update noise"].tolist()
    below = ours[(ours["difference 95 % high"] < 0)
                 | (ours["trains less often than 100:0 (Fisher p)"] < ALPHA)][
        "update noise"].tolist()
    kept = (f"{lowest['retention']:.2f}" if np.isfinite(lowest["retention"])
            else "n/a (no trained run)")
    key = (f"r(80:20) = {kept} at eta "
           f"{lowest['update noise']:g}; r(80:20) - r(100:0): "
           + ", ".join(_h4_difference_text(r, table) for _, r in ours.iterrows())
           + "; runs that train: "
           + ", ".join(_h4_share_text(r, table) for _, r in ours.iterrows()))
    if lowest["share trained"] < H4_HALF:
        return NOT_SUPPORTED, (f"only {lowest['share trained']:.0%} of the 80:20 runs train at "
                               f"the lowest noise level (eta {lowest['update noise']:g}): it does "
                               "not stay trainable."), key
    if lowest["n"] < H4_MIN_SEEDS:
        return INCONCLUSIVE, (f"only {int(lowest['n'])} 80:20 runs with a retention at the "
                              f"lowest noise level (>= {H4_MIN_SEEDS} needed)."), key
    trainable = lowest["retention"] >= H4_HALF
    head = (f"80:20 keeps a chance-corrected retention of {lowest['retention']:.2f} "
            f"({lowest['retention 95 % low']:.2f} to {lowest['retention 95 % high']:.2f}) at the "
            f"lowest noise level (eta {lowest['update noise']:g})")
    if not trainable:
        return NOT_SUPPORTED, head + f", below {H4_HALF:g}: it does not stay trainable.", key
    if above and not below:
        return SUPPORTED, head + f", and is more robust than 100:0 at eta " \
            f"{', '.join(f'{v:g}' for v in above)} (it retains more, Welch 95 % interval above 0, "\
            "or trains more often, Fisher p < 0.05) and less robust at none.", key
    if below and not above:
        return NOT_SUPPORTED, head + f", but 100:0 is more robust at eta " \
            f"{', '.join(f'{v:g}' for v in below)} (retains more or trains more often) and less " \
            "robust at none.", key
    if above and below:
        return INCONCLUSIVE, head + "; 80:20 retains more than 100:0 at some levels and less at " \
            "others.", key
    return INCONCLUSIVE, head + "; at no level does the difference to 100:0 (in retention or in " \
        "the share of runs that train) exclude 0.", key


def verdict_h4(noise_runs):
    """H4 from the update-noise study's runs.

    Rule: chance-corrected retention ``r = (acc - chance) / (acc0 - chance)`` of each trained
    noisy run against the noise-free run of the same network and seed (:func:`retention`);
    per network and noise level the mean r with a 95 % t-interval over seeds; ``eta50``, the
    level that halves retention (:func:`eta50`; over every run, those that end silent or
    saturated under noise at their accuracy, as in figure 3 (b)). The difference
    r(80:20) - r(100:0) per level by Welch's t (>= 3 seeds a side).

    A run that ends silent or saturated under noise has failed to train: beside retention
    (trained runs), each level compares the share of runs that train, 80:20 against 100:0, by
    Fisher's exact test (one-sided, each direction). 80:20 is *more robust* at a level where
    it retains more (Welch interval above 0) or trains more often (Fisher p < 0.05), *less
    robust* where the reverse holds.

    - **Supported** if at the lowest nonzero level at least half the 80:20 runs train and
      their mean r >= 0.5 (stays trainable), and 80:20 is more robust at some level, less
      robust at none.
    - **Not supported** if at the lowest nonzero level fewer than half the 80:20 runs train or
      their mean r < 0.5, or 100:0 is more robust at some level and less robust at none.
    - **Inconclusive** otherwise.

    50:50 (and the other ratios) against 100:0 are reported beside, not deciding.
    """
    noise_runs = noise_runs.reset_index(drop=True)
    column, note = accuracy_measure(noise_runs)
    rule = (f"r = (acc - chance) / (acc0 - chance), acc0 the noise-free run of the same network "
            f"and seed; mean r per network and level with a 95 % t-interval; eta50 = level where "
            f"mean r falls to {H4_HALF:g} (log-linear interpolation; runs that end silent or "
            "saturated under noise counted at their accuracy, as in figure 3 (b)). 80:20 is "
            "more robust than 100:0 at a level where r(80:20) - r(100:0) has a Welch 95 % "
            "interval above 0 or "
            "where its runs train (neither silent nor saturated) more often (Fisher's exact "
            f"test, one-sided p < {ALPHA}); less robust where the reverse holds. Supported if at "
            f"the lowest nonzero level at least half the 80:20 runs train with mean r >= "
            f"{H4_HALF:g} and 80:20 is more robust at some level, less robust at none; not "
            "supported if 80:20 does not stay trainable at the lowest level or 100:0 is more "
            "robust at some level and less at none; inconclusive otherwise.")
    table, _ = _h4_table(noise_runs, failures=False)
    verdict, reason, key = _h4_decide(table)
    # eta50 reads every run, as figure 3 (b) does: a level where every run ends saturated has
    # no trained run to average, and skipping it would put eta50 beyond the levels where the
    # network no longer trains at all
    table_in, etas = _h4_table(noise_runs, failures=True)
    verdict_in, _, key_in = _h4_decide(table_in)
    finished = _finished(noise_runs)
    silent, saturated = _n_failed(finished[finished["network"].isin(["80:20", "100:0"])])
    counts = outcome_counts(noise_runs, ["network", "update_noise"])
    levels = sorted(noise_runs["update_noise"].astype(float).unique())
    if len(table):
        table["eta50"] = [_eta50_text(etas.get(name, math.nan), levels)
                          for name in table["network"]]
    eta_text = "; ".join(f"{name} {_eta50_text(value, levels)}" for name, value in etas.items())
    beside = table[(table["network"] == "50:50") & (table["update noise"] > 0)]
    beside_text = ("; beside, r(50:50) - r(100:0): " + ", ".join(
        _h4_difference_text(r, table) for _, r in beside.iterrows())
        + "; runs that train: " + ", ".join(_h4_share_text(r, table)
                                            for _, r in beside.iterrows())) \
        if len(beside) else ""
    test = (f"{note}; chance = 1 / n_classes. {key}{beside_text}. eta50 (mean r = "
            f"{H4_HALF:g}): {eta_text}.")
    reading = (f"Weight updates were perturbed by relative noise of increasing size. "
               f"{reason[0].upper() + reason[1:]} The noise level that halves retention (eta50) is "
               f"{eta_text}. ")
    reading += {SUPPORTED: "This agrees with the paper: inhibition helps under noisy updates.",
                NOT_SUPPORTED: "This contradicts the paper's claim that 80:20 is more robust to "
                               "update noise than a network without inhibition.",
                INCONCLUSIVE: "The data do not decide the claim at this scale."}[verdict]
    # every finished 80:20 and 100:0 run: the noise-free ones are the retentions' references,
    # and the share that trains reads the failed ones
    line, flips = _one_out(
        noise_runs, finished.index[finished["network"].isin(["80:20", "100:0"])],
        lambda kept: _h4_decide(_h4_table(kept, failures=False)[0]), verdict,
        lambda row: f"eta {float(row['update_noise']):g}, accuracy {_pct(float(row[column]))}")
    return _with_influence(
        Verdict("H4", verdict, reason, rule, test, table,
                _sensitivity(silent, saturated, verdict_in, key_in, verdict), counts, reading),
        line, flips)


# ---------------------------------------------------------------------------------------------
# H5

def _vr_runs(vanrossum):
    """One row a run (final snapshot, deduplicated on ``command``) with ``I diversity``,
    ``E diversity``, ``I rate``; LIF runs only."""
    final = vanrossum[vanrossum["snapshot"] == "final"].copy()
    key = "command" if "command" in final and final["command"].notna().all() else None
    if key is None:
        final["command"] = (final["study"].astype(str) + "|" + final["label"].astype(str) + "|"
                            + final["seed"].astype(str))
    final = final.drop_duplicates(["command", "population"])
    runs = final.drop_duplicates("command").drop(
        columns=["population", "van_rossum_within_population", "rate_mean_hz"],
        errors="ignore").set_index("command")
    for population in ("I", "E"):
        part = final[final["population"] == population].set_index("command")
        runs[f"{population} diversity"] = part["van_rossum_within_population"]
        runs[f"{population} rate"] = part["rate_mean_hz"] if "rate_mean_hz" in part else math.nan
    runs = runs.reset_index()
    # the paper's LIF networks only: another neuron model (the spike-timing study's adaptive
    # arm) is compared in its own paragraph, not pooled into H5's fits
    runs = runs[neuron_models_column(runs) == "lif"].copy()
    if "update_noise" not in runs:
        runs["update_noise"] = 0.0
    runs["update_noise"] = runs["update_noise"].astype(float).fillna(0.0)
    if "dataset" not in runs:
        runs["dataset"] = H5_DATASET
    return runs


def _h5_model(data, response, predictor, numeric=(), categorical=()):
    data = data[np.isfinite(data[predictor].astype(float)) &
                np.isfinite(data[response].astype(float))].copy()
    values = data[predictor].astype(float)
    sd = values.std(ddof=1) if len(values) > 1 else math.nan
    out = {"n": len(data), "coef": math.nan, "low": math.nan, "high": math.nan, "p": math.nan}
    if not (np.isfinite(sd) and sd > 0):
        return out
    data["_z"] = (values - values.mean()) / sd
    categorical = [c for c in categorical if data[c].astype(str).nunique() > 1]
    result = ols(data, response, ["_z", *numeric], categorical)
    if "_z" in result["coef"]:
        out.update({k: result["coef"]["_z"][k] for k in ("coef", "low", "high", "p")})
    return out


def _h5_fits(vanrossum, noise_runs, failures, dataset, runs=None):
    """The fits of H5 on one data set; ``runs``: :func:`_vr_runs`'s table, where it is made
    already."""
    runs = _vr_runs(vanrossum) if runs is None else runs
    runs = runs[runs["dataset"] == dataset]
    if not failures:
        runs = runs[_outcome(runs) == TRAINED]
    column = "val_test_acc" if "val_test_acc" in runs and runs["val_test_acc"].notna().any() \
        else "peak_test_acc"
    runs = runs.assign(accuracy=runs[column].astype(float),
                       log_rate=np.log10(np.maximum(runs["rate_exc_initial_hz"].astype(float),
                                                    H2_RATE_FLOOR_HZ)))
    with_i = runs[runs["I diversity"].notna()]
    clean = with_i[with_i["update_noise"] == 0]
    fits = {}
    for population in ("I", "E"):
        fits[("accuracy", population)] = _h5_model(
            clean, "accuracy", f"{population} diversity", ["log_rate"], ["network"])
    fits[("accuracy", "I rate")] = _h5_model(clean, "accuracy", "I rate", ["log_rate"], ["network"])
    noisy = with_i[with_i["update_noise"] > 0]
    if noise_runs is not None and len(noise_runs) and len(noisy):
        kept = retention(noise_runs)
        if "command" in kept and kept["command"].notna().any():
            noisy = noisy.merge(kept[["command", "retention"]].drop_duplicates("command"),
                                on="command", how="inner")
        else:
            noisy = noisy.merge(kept[["network", "seed", "update_noise", "retention"]],
                                on=["network", "seed", "update_noise"], how="inner")
    else:
        noisy = noisy.assign(retention=math.nan).iloc[0:0]
    for population in ("I", "E"):
        fits[("retention", population)] = _h5_model(
            noisy, "retention", f"{population} diversity", [], ["network", "update_noise"])
    fits[("retention", "I rate")] = _h5_model(noisy, "retention", "I rate", [],
                                              ["network", "update_noise"])
    return fits, column


def _h5_grounds(fits):
    """What H5's verdict rests on: the sign of each of its two fits that is significant."""
    return tuple(int(np.sign(fit["coef"])) if np.isfinite(fit["p"]) and fit["p"] < ALPHA else 0
                 for fit in (fits[("accuracy", "I")], fits[("retention", "I")]))


def _h5_decide(fits):
    a, b = fits[("accuracy", "I")], fits[("retention", "I")]

    def text(name, fit):
        if not np.isfinite(fit["coef"]):
            return f"{name}: not estimable (n = {fit['n']})" if fit["n"] else \
                f"{name}: no run to fit yet"
        return (f"{name}: {100 * fit['coef']:+.2f} points per sd of I diversity "
                f"({100 * fit['low']:+.2f} to {100 * fit['high']:+.2f}), p = {fit['p']:.3g}, "
                f"n = {fit['n']}")

    key = f"{text('(a) accuracy', a)}; {text('(b) retention', b)}"
    significant = {name: fit for name, fit in (("accuracy", a), ("retention", b))
                   if np.isfinite(fit["p"]) and fit["p"] < ALPHA}
    negative = [name for name, fit in significant.items() if fit["coef"] < 0]
    if negative:
        return NOT_SUPPORTED, (f"inhibitory diversity goes with lower {' and '.join(negative)} "
                               f"(coefficient < 0, p < {ALPHA}): {key}."), key
    if len(significant) == 2:
        return SUPPORTED, ("more diverse inhibitory spiking goes with higher accuracy and higher "
                           f"retention within network and rate (both p < {ALPHA}): {key}."), key
    if not significant and a["n"] >= H5_MIN_N and b["n"] >= H5_MIN_N:
        return NOT_SUPPORTED, (f"neither accuracy nor retention goes with inhibitory diversity "
                               f"(both p >= {ALPHA}, n >= {H5_MIN_N} each): {key}."), key
    if significant:
        other = "retention" if "accuracy" in significant else "accuracy"
        fit = b if other == "retention" else a
        return INCONCLUSIVE, (f"{next(iter(significant))} rises with inhibitory diversity "
                              f"(p < {ALPHA}) but {other} "
                              + ("shows no significant relation" if np.isfinite(fit["coef"])
                                 else "cannot be fitted yet")
                              + f": {key}."), key
    return INCONCLUSIVE, (f"neither relation is significant, with fewer than {H5_MIN_N} runs in "
                          f"at least one model to call it none: {key}."), key


def verdict_h5(vanrossum, noise_runs=None):
    """H5 from the Van Rossum table and the update-noise study's runs.

    Rule: each run once (deduplicated on ``command``), the final snapshot, each data set on its
    own, LIF networks only (the paper's model); Fashion-MNIST decides, the others are reported. I diversity = the Van Rossum distance
    within the I population (``van_rossum_within_population``), standardised (z) over the runs
    of the model.

    (a) accuracy: ordinary least squares ``acc ~ z(I diversity) + C(network) +
    log10(initial E rate)`` over the noise-free trained runs with I neurons.
    (b) robustness: ``retention ~ z(I diversity) + C(network) + C(update_noise)`` over the noisy
    trained runs of the update-noise study (retention as in H4).

    - **Supported** if both I coefficients are > 0 with p < 0.05.
    - **Not supported** if either is < 0 with p < 0.05, or both are non-significant with
      n >= 30 each.
    - **Inconclusive** otherwise.

    The same models with E diversity, and with the I firing rate in place of I diversity (the
    distance grows with the number of spikes), are shown beside.
    """
    import pandas as pd  # pandas (0.3 s) only when a table is read or built
    rule = ("each run once (dedupe on command), final snapshot, LIF networks, Fashion-MNIST "
            "deciding. (a) OLS "
            "acc ~ z(I diversity) + C(network) + log10(initial E rate) over noise-free trained "
            "runs with I neurons; (b) OLS retention ~ z(I diversity) + C(network) + "
            f"C(update_noise) over noisy trained runs. Supported if both I coefficients > 0 "
            f"with p < {ALPHA}; not supported if either < 0 with p < {ALPHA} or both "
            f"non-significant with n >= {H5_MIN_N} each; inconclusive otherwise. E diversity "
            "and I rate beside.")
    runs = _vr_runs(vanrossum)
    datasets = [H5_DATASET] + sorted(set(runs["dataset"]) - {H5_DATASET})
    rows, fits = [], None
    for dataset in datasets:
        result, column = _h5_fits(vanrossum, noise_runs, False, dataset)
        if dataset == H5_DATASET:
            fits = result
        for (response, predictor), fit in result.items():
            rows.append({"dataset": dataset, "response": response,
                         "predictor": predictor if predictor == "I rate" else
                         f"{predictor} diversity", **fit})
    table = pd.DataFrame(rows).rename(columns={"coef": "coefficient per sd",
                                               "low": "95 % low", "high": "95 % high"})
    verdict, reason, key = _h5_decide(fits)
    fits_in, column = _h5_fits(vanrossum, noise_runs, True, H5_DATASET)
    verdict_in, _, key_in = _h5_decide(fits_in)
    decide = runs[runs["dataset"] == H5_DATASET]
    decide = decide[decide["I diversity"].notna()]
    silent, saturated = _n_failed(decide)
    counts = outcome_counts(runs, ["dataset", "network"])
    beside = fits[("accuracy", "E")], fits[("retention", "E")], fits[("accuracy", "I rate")]
    test = (f"accuracy = {column}; coefficients in accuracy points (retention x 100) per sd "
            f"of the predictor; {key}. Beside: E diversity (a) {100 * beside[0]['coef']:+.2f} "
            f"(p = {beside[0]['p']:.3g}), (b) {100 * beside[1]['coef']:+.2f} "
            f"(p = {beside[1]['p']:.3g}); I rate (a) {100 * beside[2]['coef']:+.2f} "
            f"(p = {beside[2]['p']:.3g}).")
    others = [d for d in datasets if d != H5_DATASET]
    reading = (f"Within each network and initial rate (learning rate and schedule, which "
               f"differ between the studies' runs, are not in the models), on {H5_DATASET}, "
               f"{reason[0].lower() + reason[1:]} "
               + (f"Other data sets ({', '.join(others)}) are reported in the table, not "
                  "deciding. " if others else ""))
    reading += {SUPPORTED: "This agrees with the paper.",
                NOT_SUPPORTED: "This contradicts the paper's claim that diverse inhibitory "
                               "spiking goes with accuracy and robustness.",
                INCONCLUSIVE: "The data do not decide the claim at this scale."}[verdict]
    every = set(runs["command"])

    def fits_of(kept):
        noise = noise_runs
        if noise is not None and "command" in noise:  # the run left out of both tables: a
            gone = every - set(kept["command"])       # noise-free one is no reference
            noise = noise[~noise["command"].isin(gone)]
        return _h5_fits(None, noise, False, H5_DATASET, runs=kept)[0]

    line, flips = _one_out(runs, decide.index[_outcome(decide) == TRAINED], _h5_decide, verdict,
                           _accuracy_of(column), state=_h5_grounds, build=fits_of)
    return _with_influence(
        Verdict("H5", verdict, reason, rule, test, table,
                _sensitivity(silent, saturated, verdict_in, key_in, verdict), counts, reading),
        line, flips)


# ---------------------------------------------------------------------------------------------
# all of them

def verdicts(tables, full_scale=False):
    """The five verdicts H1..H5 from the study tables.

    Parameters
    ----------
    tables : dict
        ``"ratio"``, ``"ratio_full"``, ``"initial_rate"``, ``"update_noise"``,
        ``"spike_timing"``, ``"vanrossum"``: each a DataFrame or None. H1 rests on
        ``ratio_full`` (the paper's scale) where it has finished runs, else on ``ratio``. The
        spike-timing study decides no claim (compare it with :func:`compare_to_baseline`). A
        verdict whose study still has runs to train (status ``new`` or ``partial``) says so.
    full_scale : bool
        Whether the ratio study ran at the paper's full scale (all training data, 30 epochs).

    Returns
    -------
    list of Verdict
        H1..H5 in order; a claim whose table is missing is inconclusive with a reason.
    """
    def get(name):  # a table with no finished run is no table yet
        table = tables.get(name)
        if table is None or not len(table):
            return None
        if "status" in table and not (table["status"] == "finished").any():
            return None
        return table

    ratio, initial, noise, vanrossum = (get(name) for name in
                                        ("ratio", "initial_rate", "update_noise", "vanrossum"))
    raw = {name: tables.get(name) for name in ("ratio", "initial_rate", "update_noise")}
    full = get("ratio_full")
    if full is not None and (full["status"] == "finished").any():
        # the paper's scale decides; the subset study, whose tuning chose its cells, is beside
        grids = [name for name, setting in tuned_settings(ratio).items()
                 if setting["cells"] > 1] if ratio is not None else None
        h1 = verdict_h1(full, True, tuned_in=grids)
    elif ratio is not None:  # H1 names the ratio study's own runs still to train
        h1 = verdict_h1(ratio, full_scale)
        waiting = sum(_pending(tables.get("ratio_full")).values())
        if waiting:  # the paper's-scale study, still to run, will decide it
            h1 = _with_note(h1, f"{'; and' if 'provisional:' in h1.reason else '; provisional:'}"
                                f" the paper's-scale study (ratio-full), which decides H1, has "
                                f"{waiting} run{'s' if waiting != 1 else ''} still to train.")
    else:
        h1 = _missing("H1", "ratio", raw["ratio"])
    # H5 rests on the runs of every study in the Van Rossum table (ratio_full's once they train)
    named = set(vanrossum["study"].dropna()) if vanrossum is not None and "study" in vanrossum \
        else set()
    h5_studies = {name: tables.get(name) for name in
                  ("ratio", "ratio_full", "initial_rate", "update_noise", "spike_timing")
                  if name in named | {"ratio_full", "initial_rate", "update_noise"}}
    return [h1,
            _provisional(verdict_h2(initial), initial_rate=initial) if initial is not None
            else _missing("H2", "initial_rate", raw["initial_rate"]),
            _provisional(verdict_h3(initial), initial_rate=initial) if initial is not None
            else _missing("H3", "initial_rate", raw["initial_rate"]),
            _provisional(verdict_h4(noise), update_noise=noise) if noise is not None
            else _missing("H4", "update_noise", raw["update_noise"]),
            _provisional(verdict_h5(vanrossum, noise), **h5_studies) if vanrossum is not None
            else _missing("H5", "Van Rossum (vanrossum)")]


def _with_note(verdict, note):
    """``verdict`` with ``note`` (``"; ..."``) at the end of its reason (whose last full stop it
    replaces) and of the reading that repeats the reason."""
    reason = (verdict.reason[:-1] if verdict.reason.endswith(".") else verdict.reason) + note
    old = verdict.reason[1:]
    assert old in verdict.reading, "a verdict's reading repeats its reason"
    return dataclasses.replace(verdict, reason=reason,
                               reading=verdict.reading.replace(old, reason[1:], 1))


def _provisional(verdict, **studies):
    """``verdict`` with its reason (and the reading that repeats it) ending in how many runs of
    each study (``name=runs`` table) are still to train, where any are: a verdict read from a
    reproduction that is still running in pieces is provisional."""
    waiting = [(name.replace("_", "-"), sum(_pending(runs).values()))
               for name, runs in studies.items()]
    waiting = [(name, n) for name, n in waiting if n]
    if not waiting:
        return verdict
    total = sum(n for _, n in waiting)
    where = ", ".join(f"{n} in the {name} study" for name, n in waiting)
    return _with_note(verdict, f"; provisional: {total} run{'s' if total != 1 else ''} still "
                               f"to train ({where}).")
