"""Split-half ceiling with a known reliability."""

import numpy as np
import pytest

from cornet_repro.metrics.synthetic import repeated_population
from cornet_repro.assemblies import AssemblyError, average_repetitions
from cornet_repro.metrics import internal_consistency, spearman_brown


def test_spearman_brown():
    assert spearman_brown(0.5) == pytest.approx(2 / 3)
    assert spearman_brown(1.0) == 1.0
    assert spearman_brown(0.0) == 0.0


@pytest.mark.parametrize("noise_sd", [2.0, 4.0, 8.0])
def test_ceiling_recovers_known_reliability(noise_sd):
    # stimulus means with variance 1, trial noise σ², R reps: the reliability of the R-trial mean
    # is 1 / (1 + σ²/R); a split half (R/2 trials) Spearman–Brown corrected estimates exactly that.
    reps = 20
    assembly = repeated_population(noise_sd=noise_sd, n_reps=reps)
    expected = 1 / (1 + noise_sd ** 2 / reps)
    score = internal_consistency(assembly)
    assert score.value == pytest.approx(expected, abs=0.03)
    assert score.raw.shape == (10, 40)


def test_uncorrected_is_half_reliability():
    assembly = repeated_population(noise_sd=4.0, n_reps=20)
    score = internal_consistency(assembly, correction=False)
    assert score.value == pytest.approx(1 / (1 + 16 / 10), abs=0.03)


def test_ceiling_needs_repetitions():
    assembly = repeated_population(n_stimuli=20, n_neuroids=3, n_reps=4)
    with pytest.raises(AssemblyError, match="repetition"):
        internal_consistency(average_repetitions(assembly))
