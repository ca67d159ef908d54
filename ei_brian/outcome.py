"""What became of a training run: trained, silent or saturated.

A study counts runs that never learned apart from those that did, so that a few failures do not
decide a comparison of accuracies (the report puts them back in, in a sensitivity line). The rule
is fixed here, before any study's runs, and applied to every run's per-epoch rows (epoch 0 is
the network before training; rates are the test set's mean E rate):

- **saturated**: the E rate is above :data:`SATURATED_HZ` at :data:`SATURATED_EVALUATIONS`
  evaluations in a row (epoch 0 counts); a run with ``stop_saturated`` stops there;
- **silent**: otherwise, the initial or the final E rate is below :data:`SILENT_HZ`, or the test
  accuracy is never more than :data:`TRAINED_MARGIN` above chance (1 / classes) at any epoch
  after the first update;
- **trained**: every other run.

This module imports nothing of the package: the training loop, the sweep tables and the report
all read it.
"""
import math

__all__ = ["TRAINED", "SILENT", "SATURATED", "OUTCOMES", "SILENT_HZ", "SATURATED_HZ",
           "SATURATED_EVALUATIONS", "TRAINED_MARGIN", "saturated", "classify"]

TRAINED, SILENT, SATURATED = "trained", "silent", "saturated"
OUTCOMES = (TRAINED, SILENT, SATURATED)
#: below this mean E rate (Hz) a network counts as silent
SILENT_HZ = 0.1
#: above this mean E rate (Hz), at SATURATED_EVALUATIONS evaluations in a row, it is saturated
SATURATED_HZ = 500.0
SATURATED_EVALUATIONS = 2
#: a run that never beats chance by this much (accuracy, 0-1) did not train
TRAINED_MARGIN = 0.05


def _finite(value):
    try:
        value = float(value)
    except (TypeError, ValueError):
        return math.nan
    return value


def saturated(rates_exc_hz):
    """Whether the E rates of successive evaluations exceed :data:`SATURATED_HZ` at
    :data:`SATURATED_EVALUATIONS` of them in a row."""
    run = 0
    for rate in rates_exc_hz:
        run = run + 1 if _finite(rate) > SATURATED_HZ else 0
        if run >= SATURATED_EVALUATIONS:
            return True
    return False


def classify(rates_exc_hz, test_accuracies, n_classes):
    """The outcome of a run from its evaluations.

    Parameters
    ----------
    rates_exc_hz : sequence of float
        Mean E rate at each evaluation, epoch 0 (before training) first.
    test_accuracies : sequence of float
        Test accuracy at each epoch after the first update (epoch 1 on).
    n_classes : int
        Classes of the data set (chance = 1 / n_classes).

    Returns
    -------
    str
        :data:`TRAINED`, :data:`SILENT` or :data:`SATURATED`; ``""`` for a run without an
        evaluation.
    """
    rates = [_finite(rate) for rate in rates_exc_hz]
    if not rates:
        return ""
    if saturated(rates):
        return SATURATED
    accuracies = [value for value in map(_finite, test_accuracies) if value == value]
    chance = 1.0 / n_classes
    if (rates[0] < SILENT_HZ or rates[-1] < SILENT_HZ or not accuracies
            or max(accuracies) <= chance + TRAINED_MARGIN):
        return SILENT
    return TRAINED
