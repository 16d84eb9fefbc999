"""Correlations and their bootstrap CIs."""

import numpy as np
import pytest
from scipy import stats as st

from cornet_repro.stats import correlate, fmt_p, fmt_r


def test_pearson_matches_numpy_and_ci_brackets_it():
    rng = np.random.default_rng(1)
    x = rng.normal(size=60)
    y = 0.6 * x + rng.normal(size=60)
    c = correlate(x, y, n_resamples=2000)
    assert c.r == pytest.approx(np.corrcoef(x, y)[0, 1], abs=1e-12)
    assert c.p == pytest.approx(st.pearsonr(x, y).pvalue)
    assert c.n == 60
    assert c.ci_low < c.r < c.ci_high


def test_ci_narrows_with_more_models_and_covers_the_truth():
    rng = np.random.default_rng(2)
    widths = []
    for n in (30, 600):
        x = rng.normal(size=n)
        y = x + rng.normal(size=n)  # true r = 1/sqrt(2)
        c = correlate(x, y, n_resamples=2000)
        widths.append(c.ci_high - c.ci_low)
    assert widths[1] < widths[0] / 2
    assert c.ci_low < 1 / np.sqrt(2) < c.ci_high


def test_nans_are_dropped_pairwise_and_spearman_is_rank_based():
    x = np.array([1, 2, 3, 4, 5, np.nan, 7.0])
    y = np.array([1, 9, 4, 16, 25, 36, np.nan])  # ranks 1 3 2 4 5
    c = correlate(x, y, method="spearman", n_resamples=500)
    assert c.n == 5 and c.r == pytest.approx(0.9)


@pytest.mark.parametrize("kwargs, message", [
    (dict(x=[1, 2, 3], y=[1, 2, 3]), "at least 4"),
    (dict(x=[1, 2, 3, 4], y=[1, 2, 3]), "equal length"),
    (dict(x=[1, 2, 3, 4], y=[1, 2, 3, 4], method="kendall"), "method"),
])
def test_bad_input_is_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        correlate(**kwargs)


def test_paper_style_formatting():
    assert fmt_r(0.899) == ".90" and fmt_r(-0.071) == "-.07" and fmt_r(1.0) == "1.00"
    assert fmt_p(0.1049) == "p = .105" and fmt_p(1e-7) == "p < .001"


def test_a_ci_and_p_that_disagree_get_a_sentence_and_agreeing_ones_none():
    from cornet_repro.stats import Correlation

    disagree = Correlation(r=0.35, p=0.105, n=23, ci_low=0.01, ci_high=0.60, confidence=0.95, method="pearson")
    assert disagree.ci_and_p_disagree()
    text = disagree.ci_vs_p()
    assert "excludes 0 while p = .105" in text and "n = 23" in text
    reverse = Correlation(r=0.4, p=0.03, n=20, ci_low=-0.02, ci_high=0.7, confidence=0.95, method="pearson")
    assert "p = .030 while its 95% bootstrap CI includes 0" in reverse.ci_vs_p()
    agree = Correlation(r=0.9, p=1e-6, n=50, ci_low=0.8, ci_high=0.95, confidence=0.95, method="pearson")
    assert agree.ci_vs_p() == "" and not agree.ci_and_p_disagree()
