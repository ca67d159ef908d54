"""What became of a training run: trained, silent or saturated.

A study counts runs that never learned apart from those that did, so that a few failures do not
decide a comparison of accuracies (the report puts them back in, in a sensitivity line). The rule
is fixed here, before any study's runs, and applied to every run's per-epoch rows (epoch 0 is
the network before training; rates are the test set's mean E rate):

- **saturated**: the E rate is above half the highest rate a neuron can fire, one spike per time
  step (:data:`SATURATED_SHARE` of ``1 / dt``: :data:`SATURATED_HZ` = 500 Hz at the images'
  ``dt = 1 ms``, 250 Hz at the spike data's 2 ms) at :data:`SATURATED_EVALUATIONS` evaluations in
  a row (epoch 0 counts); a run with ``stop_saturated`` stops there;
- **silent**: otherwise, the initial or the final E rate is below :data:`SILENT_HZ`, or the test
  accuracy is never more than :data:`TRAINED_MARGIN` above chance (1 / classes) at any epoch
  after the first update;
- **trained**: every other run.

Besides its outcome a run may carry *warnings* (:func:`run_warnings`), which say what went wrong
and what to try; they leave the outcome as it is. Each kind is raised at most once, at the
epoch where its rule is first met:

- **silent-start**: the initial E rate (epoch 0) is below :data:`SILENT_HZ`;
- **runaway**: the rule of *saturated*, at the evaluation that completes the streak;
- **non-finite-loss**: a training loss is NaN or infinite (the training loop stops there);
- **rising-loss**: the training loss rose at :data:`RISING_EPOCHS` epochs in a row (each epoch's
  above the one before, epoch 1 compared with epoch 0), at the last of them.

This module imports nothing of the package: the training loop, the sweep tables and the report
all read it.
"""
import math

__all__ = ["TRAINED", "SILENT", "SATURATED", "OUTCOMES", "SILENT_HZ", "SATURATED_HZ",
           "SATURATED_SHARE", "saturation_hz",
           "SATURATED_EVALUATIONS", "TRAINED_MARGIN", "RISING_EPOCHS", "SILENT_START", "RUNAWAY",
           "NON_FINITE_LOSS", "RISING_LOSS", "WARNINGS", "saturated", "classify", "run_warnings"]

TRAINED, SILENT, SATURATED = "trained", "silent", "saturated"
OUTCOMES = (TRAINED, SILENT, SATURATED)
#: below this mean E rate (Hz) a network counts as silent
SILENT_HZ = 0.1
#: above this share of the highest rate (one spike per step, 1 / dt), at SATURATED_EVALUATIONS
#: evaluations in a row, a network is saturated
SATURATED_SHARE = 0.5
#: the images' time step (s), the default of the functions below, and its saturation rate (Hz)
DEFAULT_DT = 1e-3
SATURATED_HZ = SATURATED_SHARE / DEFAULT_DT
SATURATED_EVALUATIONS = 2
#: a run that never beats chance by this much (accuracy, 0-1) did not train
TRAINED_MARGIN = 0.05
#: a training loss that rises at this many epochs in a row is warned of
RISING_EPOCHS = 3
#: the kinds of warning of :func:`run_warnings`
SILENT_START, RUNAWAY, NON_FINITE_LOSS, RISING_LOSS = ("silent-start", "runaway",
                                                        "non-finite-loss", "rising-loss")
WARNINGS = (SILENT_START, RUNAWAY, NON_FINITE_LOSS, RISING_LOSS)


def _finite(value):
    try:
        value = float(value)
    except (TypeError, ValueError):
        return math.nan
    return value


def saturation_hz(dt=DEFAULT_DT):
    """The E rate (Hz) above which a network of time step ``dt`` (seconds) counts as saturated:
    :data:`SATURATED_SHARE` of one spike per step (500 Hz at 1 ms, 250 Hz at 2 ms)."""
    dt = _finite(dt)
    if not dt > 0:
        raise ValueError(f"the time step must be a positive number of seconds, not {dt!r}")
    return SATURATED_SHARE / dt


def _saturated_at(rates_exc_hz, dt=DEFAULT_DT):
    """Position of the evaluation that completes the first streak of :data:`SATURATED_EVALUATIONS`
    E rates above :func:`saturation_hz`; None without one."""
    run, limit = 0, saturation_hz(dt)
    for position, rate in enumerate(rates_exc_hz):
        run = run + 1 if _finite(rate) > limit else 0
        if run >= SATURATED_EVALUATIONS:
            return position
    return None


def saturated(rates_exc_hz, dt=DEFAULT_DT):
    """Whether the E rates of successive evaluations exceed :func:`saturation_hz` (of the time
    step ``dt``, seconds) at :data:`SATURATED_EVALUATIONS` of them in a row."""
    return _saturated_at(rates_exc_hz, dt) is not None


def classify(rates_exc_hz, test_accuracies, n_classes, dt=DEFAULT_DT):
    """The outcome of a run from its evaluations.

    Parameters
    ----------
    rates_exc_hz : sequence of float
        Mean E rate at each evaluation, epoch 0 (before training) first.
    test_accuracies : sequence of float
        Test accuracy at each epoch after the first update (epoch 1 on).
    n_classes : int
        Classes of the data set (chance = 1 / n_classes).
    dt : float
        The network's time step in seconds (sets the saturation rate).

    Returns
    -------
    str
        :data:`TRAINED`, :data:`SILENT` or :data:`SATURATED`; ``""`` for a run without an
        evaluation.
    """
    rates = [_finite(rate) for rate in rates_exc_hz]
    if not rates:
        return ""
    if saturated(rates, dt):
        return SATURATED
    accuracies = [value for value in map(_finite, test_accuracies) if value == value]
    chance = 1.0 / n_classes
    if (rates[0] < SILENT_HZ or rates[-1] < SILENT_HZ or not accuracies
            or max(accuracies) <= chance + TRAINED_MARGIN):
        return SILENT
    return TRAINED


def _recorded(row, key):
    """A row's number under ``key``: a float (NaN for ``"nan"``), or None where the row has no
    value (no key, None or an empty cell)."""
    value = row.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _finite(value)


def run_warnings(rows, dt=DEFAULT_DT):
    """The warnings of a run from its per-epoch metrics rows (the rules of the module docstring).

    Parameters
    ----------
    rows : sequence of mapping
        One row an epoch, epoch 0 (the network before training) first, with ``epoch``,
        ``train_loss`` and ``rate_exc_hz`` (the test set's mean E rate); the values may be
        numbers or the text of a CSV cell. A row without a value (empty cell) counts for no rule.
    dt : float
        The network's time step in seconds (sets the saturation rate of *runaway*).

    Returns
    -------
    list of dict
        ``{"kind": ..., "epoch": int, "message": str}`` in epoch order, each kind of
        :data:`WARNINGS` at most once; empty for a run without a warning.
    """
    rows = list(rows)
    epochs = [position if epoch is None or not math.isfinite(epoch) else int(epoch)
              for position, epoch in enumerate(_recorded(row, "epoch") for row in rows)]
    rates = [_recorded(row, "rate_exc_hz") for row in rows]
    losses = [_recorded(row, "train_loss") for row in rows]
    found = []  # (position, kind, message)
    if rows and epochs[0] == 0 and rates[0] is not None and rates[0] < SILENT_HZ:
        found.append((0, SILENT_START,
                      f"the initial network is silent (E rate {rates[0]:.3g} Hz on the test set, "
                      f"below {SILENT_HZ:g} Hz), so its readout gets no input and it may not "
                      "learn; raise the initial weights (--init-scale), or derive them from the "
                      "input's spike rate (--init fluctuation, the default for the spike data "
                      "sets) or search them for an initial rate (--init target-rate)"))
    position = _saturated_at((rate if rate is not None else math.nan for rate in rates), dt)
    if position is not None:
        found.append((position, RUNAWAY,
                      f"the E rate ran away: {rates[position]:.0f} Hz at epoch "
                      f"{epochs[position]}, above {saturation_hz(dt):g} Hz (half of one "
                      f"spike per {1000 * _finite(dt):g} ms step) at "
                      f"{SATURATED_EVALUATIONS} evaluations in a row (saturated); lower the "
                      "learning rate (--lr) or the initial rate (--init-scale, --init "
                      "target-rate), or stop such runs there (--stop-saturated)"))
    position = next((k for k, loss in enumerate(losses)
                     if loss is not None and not math.isfinite(loss)), None)
    if position is not None:
        found.append((position, NON_FINITE_LOSS,
                      f"the training loss is {losses[position]} at epoch {epochs[position]}, "
                      "not a finite number: the updates have most likely broken the weights, "
                      "and training cannot recover; lower the learning rate (--lr)"))
    rises = 0
    for k in range(1, len(losses)):
        before, loss = losses[k - 1], losses[k]
        rises = rises + 1 if before is not None and loss is not None and loss > before else 0
        if rises >= RISING_EPOCHS:
            first = k - RISING_EPOCHS
            path = " -> ".join(f"{value:.4g}" for value in losses[first:k + 1])
            found.append((k, RISING_LOSS,
                          f"the training loss rose at {RISING_EPOCHS} epochs in a row (epochs "
                          f"{epochs[first]} to {epochs[k]}: {path}); the learning rate may be "
                          "too high: lower it (--lr) or let it fall (--lr-schedule cosine)"))
            break
    found.sort(key=lambda item: item[0])  # stable: kinds of one epoch in the order above
    return [{"kind": kind, "epoch": epochs[position], "message": message}
            for position, kind, message in found]
