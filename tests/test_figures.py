"""Figure functions: they draw what the statistics say, mark data sources, and save atomically."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from cornet_repro import selections
from cornet_repro.data import published
from cornet_repro.figures import save_figure
from cornet_repro.figures.common import plot_overlay
from cornet_repro.figures.fig1_brainscore_vs_imagenet import plot_fig1
from cornet_repro.figures.fig2_generalization import plot_fig2
from cornet_repro.figures.fig3_depth import depth_table, plot_fig3
from cornet_repro.figures.fig4_circuitry import circuitry_table, format_circuitry_table, plot_fig4
from cornet_repro.figures.fig5_ost import bin_osts, plot_fig5
from cornet_repro.figures.table_a1 import table_a1
from cornet_repro.stats import fmt_r


@pytest.fixture(scope="module")
def scores():
    return published.load_scores()


def n_points(ax):
    return sum(len(c.get_offsets()) for c in ax.collections if hasattr(c, "get_offsets"))


def test_fig1_draws_every_scored_model(scores):
    fig, stats = plot_fig1(scores, n_resamples=200)
    main, inset = fig.axes
    assert n_points(main) == scores["brain_score"].notna().sum()
    assert n_points(inset) == stats["above"].n
    texts = " ".join(t.get_text() for t in main.texts)
    assert f"n = {stats['below'].n}" in texts
    plt.close(fig)


def test_fig1_without_basenets_draws_fewer_points(scores):
    fig, stats = plot_fig1(scores, show_basenets=False, n_resamples=200)
    assert n_points(fig.axes[0]) == selections.named_models(scores)["brain_score"].notna().sum()
    plt.close(fig)


def test_overlay_adds_marked_points_and_rejects_unknown_sources(scores):
    overlay = pd.DataFrame(dict(model=["mine"], source=["simulated"], imagenet_top1=[0.5], brain_score=[0.3]))
    fig, _ = plot_fig1(scores, overlay=overlay, n_resamples=200)
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert "mine" in labels
    plt.close(fig)
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="overlay source"):
        plot_overlay(ax, overlay.assign(source="made-up"), "imagenet_top1", "brain_score")
    plt.close(fig)


def test_fig2_has_four_panels_with_the_paper_populations(scores):
    fig, stats = plot_fig2(scores, n_resamples=200)
    assert len(fig.axes) == 4
    for ax, panel in zip(fig.axes, "abcd"):
        assert n_points(ax) == stats[panel].n + 1  # + CORnet-S, drawn but not in r
    plt.close(fig)


def test_fig3_log_depth_and_mobilenet_jitter(scores):
    table = depth_table(scores, jitter=0.05)
    mobile = table.family.str.startswith("MobileNet")
    assert len(table) == 54 and table["brain_score"].notna().sum() == 53  # IamNN has no Brain-Score
    assert (table.loc[~mobile, "depth_plotted"] == table.loc[~mobile, "depth"]).all()
    ratio = np.log10(table.loc[mobile, "depth_plotted"] / table.loc[mobile, "depth"])
    assert (np.abs(ratio) <= 0.05).all() and (ratio != 0).any()
    fig = plot_fig3(scores)
    assert [ax.get_xscale() for ax in fig.axes] == ["log"] * 3
    plt.close(fig)


def test_fig4_table_marks_defaults_and_joins_recomputed():
    recomputed = pd.DataFrame(dict(group=["Skip connection"], variant=["absent"], delta_top1_pct=[-1.5],
                                   delta_brain_score_pct=[-0.5], source=["simulated"]))
    table = circuitry_table(published.load_circuitry_deltas(), recomputed)
    shown = format_circuitry_table(table)
    assert shown["variant"].str.endswith("(CORnet-S)").sum() == 8
    row = shown[shown.variant == "absent"].iloc[0]
    # recomputed top-1 is on the simulated task: never labelled ImageNet
    assert row["Δ ImageNet top-1, % (published)"] == "-2" and row["Δ simulated top-1, % (recomputed)"] == "-1.5"
    assert not any("ImageNet" in c and "recomputed" in c for c in shown.columns)
    fig = plot_fig4(table)
    assert len(fig.axes) == 4 and "recomputed here,\nsimulated data" in fig.axes[2].get_xlabel()
    # one legend for the figure, naming each source once
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        "published (transcribed)", "CORnet-S baseline", "recomputed here (simulated; ± s.d. over seeds)"]
    assert len(plot_fig4(circuitry_table(published.load_circuitry_deltas())).axes) == 2
    plt.close(fig)


def _recomputed_from(variants: pd.DataFrame, top1: pd.Series, brain: pd.Series, resolved_top1: pd.Series,
                     resolved_brain: pd.Series) -> pd.DataFrame:
    """Recomputed deltas as circuitry_deltas makes them: mean, a CI of ±1 around it, resolved flags."""
    frame = pd.DataFrame(dict(group=variants.group, variant=variants.variant, delta_top1_pct=top1,
                              delta_brain_score_pct=brain, source="simulated", top1_measure="validation_top1",
                              preset="small", n_seeds=3, baseline_top1=0.2, baseline_top1_sd=0.01,
                              baseline_brain_score=0.25, baseline_brain_score_sd=np.nan, chance_top1=1 / 32))
    for key, resolved in (("delta_top1_pct", resolved_top1), ("delta_brain_score_pct", resolved_brain)):
        frame[f"{key}_ci_low"], frame[f"{key}_ci_high"] = frame[key] - 1, frame[key] + 1
        frame[f"{key}_resolved"] = resolved.to_numpy(bool)
    return frame


def test_fig4_agreement_counts_signs_over_resolved_variants_only():
    from cornet_repro.figures.fig4_circuitry import agreement, recomputed_summary

    pub = published.load_circuitry_deltas()
    variants = pub[~pub.is_default]
    top1, brain = variants.delta_imagenet_top1_pct, variants.delta_brain_score_pct
    # top-1: published x 3 (same signs, r = 1), resolved wherever the paper prints a change; Brain-Score:
    # negated, and resolved everywhere, so the variants printed as 0 count as moved
    recomputed = _recomputed_from(variants, 3 * top1, -brain + 0.5, top1 != 0, pd.Series(True, index=brain.index))
    table = circuitry_table(pub, recomputed)
    agree = agreement(table).set_index("measure")
    nonzero_top1, nonzero_brain = int((top1 != 0).sum()), int((brain != 0).sum())
    assert agree.loc["top-1", "n"] == nonzero_top1 == agree.loc["top-1", "same_sign"] == agree.loc["top-1", "n_resolved"]
    assert agree.loc["top-1", "spearman_r"] == pytest.approx(1.0)
    assert agree.loc["Brain-Score", "same_sign"] == 0 and agree.loc["Brain-Score", "opposite_sign"] == nonzero_brain
    assert agree.loc["Brain-Score", "zero_moved"] == len(variants) - nonzero_brain
    text = recomputed_summary(recomputed, table)
    assert "0.200 ± 0.010 (chance 0.031)" in text and "Brain-Score without OST 0.250 (mean ± s.d. over 3 seeds)" in text
    assert (f"Δ top-1: {nonzero_top1} of {len(variants)} variants are resolved (95% CI over seeds excludes 0); of the "
            f"{nonzero_top1} resolved ones the paper prints as a change, {nonzero_top1} have its sign and 0 the opposite.") in text
    # nothing resolved: no sign is counted, whatever the means say
    unresolved = _recomputed_from(variants, 3 * top1, brain, top1 != top1, brain != brain)
    agree = agreement(circuitry_table(pub, unresolved)).set_index("measure")
    assert (agree["n_resolved"] == 0).all() and (agree["same_sign"] == 0).all() and (agree["n"] == 0).all()


def test_fig4_claim_verdicts_name_direction_and_reason():
    from cornet_repro.figures.fig4_circuitry import KEY_CLAIMS, claim_verdicts

    pub = published.load_circuitry_deltas()
    variants = pub[~pub.is_default]
    top1, brain = variants.delta_imagenet_top1_pct.copy(), variants.delta_brain_score_pct.copy()
    no_recurrence = variants.variant == "no recurrence (1/1/1)"
    top1[no_recurrence] = 31.6  # the wrong way, resolved
    resolved = pd.Series(True, index=top1.index)
    brain_resolved = brain != 0
    brain_resolved[variants.variant == "absent"] = False  # skip: Brain-Score not resolved
    setting = {"classes": "32", "image_size": "64", "n_train": "2,560", "epochs": "10", "width": "1/8"}
    verdicts = claim_verdicts(circuitry_table(pub, _recomputed_from(variants, top1, brain, resolved, brain_resolved)),
                              setting)
    assert len(verdicts) == len(KEY_CLAIMS)
    by_claim = verdicts.set_index("claim")
    recurrence = by_claim.loc[KEY_CLAIMS[0][0]]
    assert recurrence.verdict == "opposite direction"
    assert "simulated top-1 +31.6% [+30.6, +32.6] (opposite direction; paper -7%)" in recurrence.sentence
    assert "Brain-Score -3.0% [-4.0, -2.0] (same direction; paper -3%)" in recurrence.sentence
    assert "A likely reason: the simulated task (32 shapes at 64 px)" in recurrence.sentence
    skip = by_claim.loc[KEY_CLAIMS[1][0]]
    assert skip.verdict == "not resolved" and "(not resolved; paper -1%)" in skip.sentence
    assert "Why not resolved: the seeds disagree more than the effect is large (95% CI 2 points wide over 3 seeds)" \
        in skip.sentence and "likely reason" not in skip.sentence
    bottleneck = by_claim.loc[KEY_CLAIMS[2][0]]
    assert bottleneck.verdict == "same direction" and "likely reason" not in bottleneck.sentence
    assert "1x:" in bottleneck.sentence and "2x:" in bottleneck.sentence
    areas = by_claim.loc[KEY_CLAIMS[3][0]]  # Brain-Score published 0, not resolved here: consistent
    assert areas.verdict == "same direction" and "no resolved change; paper 0%" in areas.sentence


def test_bin_osts_known_answer():
    model = np.array([80, 81, 100, 101, 120, 121, 140, 141, 160, 161.0])
    monkey = model * 0.5 + 60
    bins = bin_osts(model, monkey, n_bins=5)
    assert list(bins.n_images) == [2, 2, 2, 2, 2]
    np.testing.assert_allclose(bins.model_ost_bin_right_edge_ms, 80 + 16.2 * np.arange(1, 6))  # 5 equal bins of 80-161
    np.testing.assert_allclose(bins.monkey_ost_mean_ms, [100.25, 110.25, 120.25, 130.25, 140.25])
    np.testing.assert_allclose(bins.monkey_ost_sem_ms, 0.25)  # two images 0.5 ms apart per bin
    with pytest.raises(ValueError, match="n_bins"):
        bin_osts(model[:3], monkey[:3], n_bins=5)


def _errorbars(ax):
    """(x, y, yerr) drawn by each ax.errorbar call, read back from the vertical bar segments."""
    from matplotlib.container import ErrorbarContainer

    drawn = []
    for container in ax.containers:
        if isinstance(container, ErrorbarContainer):
            nan = np.full((2, 2), np.nan)  # a bar matplotlib left out (NaN error) reads as NaN
            segments = np.array([s if len(s) == 2 else nan for s in container.lines[2][0].get_segments()])
            low, high = segments[:, 0, 1], segments[:, 1, 1]  # (n bars, 2 ends, xy)
            drawn.append((segments[:, 0, 0], (low + high) / 2, (high - low) / 2))
    return drawn


def _ost_pairs(seeds=(1,)) -> pd.DataFrame:
    """12 images, 10 with both OSTs (monkey = model / 2 + 60, so r = 1), per seed."""
    model = np.array([80, 81, 100, 101, 120, 121, 140, 141, 160, 161.0, np.nan, 90])
    monkey = np.r_[model[:10] * 0.5 + 60, 100, np.nan]
    return pd.concat([pd.DataFrame(dict(stimulus_id=list("abcdefghijkl"), model_ost_ms=model + seed,
                                        monkey_ost_ms=monkey, preset="small", source="simulated", seed=seed))
                      for seed in seeds], ignore_index=True)


def test_fig5_draws_the_published_bins_and_the_computed_ones_on_their_own_axes():
    pub = published.load_ost_bins()
    x, y, sem = (pub[c].to_numpy() for c in ("model_ost_bin_right_edge_ms", "monkey_ost_mean_ms", "monkey_ost_sem_ms"))
    pairs = _ost_pairs(seeds=(1, 2))
    fig = plot_fig5(pub, pairs, n_bins=5)
    ax, right = fig.axes
    ((px, py, perr),) = _errorbars(ax)
    # the published bins, at their digitized coordinates, with their s.e.m.
    np.testing.assert_allclose(ax.containers[0].lines[0].get_xydata(), np.c_[x, y])
    np.testing.assert_allclose(np.c_[px, py, perr], np.c_[x, y, sem], atol=1e-9)
    # the dashed line is the least-squares line through the published bins, over their range
    (dashed,) = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    slope, intercept = np.polyfit(x, y, 1)
    ends = np.array([x.min(), x.max()])
    np.testing.assert_allclose(dashed.get_xydata(), np.c_[ends, intercept + slope * ends])
    # the computed bins: per seed, bin_osts of that seed's images with both OSTs, on the right
    points = [c for c in right.collections if type(c).__name__ == "PathCollection"]
    columns = ["model_ost_bin_right_edge_ms", "monkey_ost_mean_ms"]
    for seed, drawn in zip((1, 2), points):
        both = pairs[(pairs.seed == seed)].dropna(subset=["model_ost_ms", "monkey_ost_ms"])
        np.testing.assert_allclose(drawn.get_offsets(), bin_osts(both.model_ost_ms, both.monkey_ost_ms, 5)[columns])
    assert [t.get_text() for t in right.get_legend().get_texts()] == ["seed 1: r = 1.00, 10 images",
                                                                       "seed 2: r = 1.00, 10 images"]
    assert right.get_ylim() != ax.get_ylim()  # own ranges: neither flattens the other
    plt.close(fig)
    fig = plot_fig5(pub)  # without computed OSTs: the published panel only
    assert len(fig.axes) == 1 and not [c for c in fig.axes[0].collections if type(c).__name__ == "PathCollection"]
    plt.close(fig)


def test_fig5_summary_gives_r_per_seed_its_ci_and_the_images():
    from cornet_repro.figures.fig5_ost import ost_correlations, ost_summary
    from cornet_repro.stats import mean_ci

    pairs = _ost_pairs(seeds=(0, 1, 2))
    pairs.loc[(pairs.seed == 2) & (pairs.stimulus_id == "a"), "monkey_ost_ms"] = 200.0  # seed 2: r < 1
    corr = ost_correlations(pairs)
    assert list(corr.n_both) == [10, 10, 10] and list(corr.n_images) == [12, 12, 12]
    assert corr.r.iloc[0] == pytest.approx(1.0) and corr.r.iloc[2] < 1
    text = ost_summary(pairs)
    mean, low, high = mean_ci(corr.r)
    assert f"per-image Spearman r = {fmt_r(mean)} (95% CI over seeds [{fmt_r(low)}, {fmt_r(high)}])" in text
    assert "3 seeds" in text and "over 10, 10, 10 of 12 images" in text and "not a reproduction" in text


def test_table_a1_ranks_and_validates(scores):
    table = table_a1(scores)
    assert len(table) == 62 and table.iloc[0]["model"] == "CORnet-S"
    assert table["Brain-Score"].dropna().is_monotonic_decreasing and table["Brain-Score"].isna().sum() == 1
    assert len(table_a1(scores, include_basenets=True)) == 243
    with pytest.raises(ValueError, match="sort_by"):
        table_a1(scores, sort_by="nonsense")


def test_save_figure_writes_png_and_pdf_and_leaves_no_temp(tmp_path, scores):
    fig, _ = plot_fig1(scores, n_resamples=100)
    written = save_figure(fig, tmp_path / "out", "fig1")
    assert [p.name for p in written] == ["fig1.png", "fig1.pdf"]
    assert written[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and written[1].read_bytes()[:5] == b"%PDF-"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["fig1.pdf", "fig1.png"]
    assert save_figure(fig, None, "fig1") == []
    plt.close(fig)


def test_simulated_world_summary_and_figures():
    from cornet_repro.data.simulated import generate
    from cornet_repro.figures.simulated_world import experiment_summary, plot_stimuli, plot_time_course
    from cornet_repro.presets import get_preset

    world = get_preset("tiny").simulated
    experiment = generate(world)
    summary = experiment_summary(experiment)
    assert summary["n_images"] == world.n_stimuli and summary["n_it"] == world.n_it
    for key in ("ceiling_v4", "ceiling_it", "ceiling_behavior"):
        assert 0.2 < summary[key] < 1, key  # noisy repetitions: clearly below 1
    assert 0.5 < summary["fraction_with_ost"] <= 1 and 70 <= summary["median_ost_ms"] <= 250
    fig = plot_stimuli(experiment, per_level=1)
    assert len(fig.axes) == world.n_categories * 3
    plt.close(fig)
    fig = plot_time_course(experiment)
    assert len(fig.axes[0].get_lines()) == 3 + 1  # one per variation level, and chance
    plt.close(fig)


def test_write_data_writes_header_rows_and_exactly_the_table(tmp_path):
    from cornet_repro.figures.downloads import download_link, read_data, read_header, write_data

    df = pd.DataFrame({"model": ["AlexNet", "CORnet-S"], "brain_score": [0.42, 0.471]})
    path = write_data(df, "fig_x", source="published (Kubilius et al. 2019)",
                      parameters={"threshold": 0.7, "labels": ["a", "b"], "note": "two\nlines"}, directory=tmp_path)
    assert path == tmp_path / "fig_x.csv"
    pd.testing.assert_frame_equal(read_data(path), df)
    header = read_header(path)
    assert header["source"] == "published (Kubilius et al. 2019)"
    assert header["parameter threshold"] == "0.7" and header["parameter labels"] == '["a", "b"]'
    assert header["parameter note"] == "two lines"
    assert str(download_link("data/fig_x.csv").data) == "{download}`Download the data (CSV) </data/fig_x.csv>`"
    with pytest.raises(ValueError, match="plain file name"):
        write_data(df, "../x", source="s", parameters={}, directory=tmp_path)


# --- Figures on the page: readable, not overprinted, points that name themselves --------------

from cornet_repro.figures.interactive import MIN_FONTSIZE, label_points, overlapping_texts, page_figure

#: Width (in) a figure is shown at, at a 1280 px window: the text column, or the theme's full width.
COLUMN_IN, FULL_WIDTH_IN = 672 / 96, 914 / 96


def _paper_figures(scores):
    from cornet_repro.data.published import load_circuitry_deltas, load_ost_bins

    yield "fig1", plot_fig1(scores, n_resamples=200)[0], FULL_WIDTH_IN
    yield "fig2", plot_fig2(scores, n_resamples=200)[0], COLUMN_IN
    yield "fig3", plot_fig3(scores), FULL_WIDTH_IN
    yield "fig4", plot_fig4(circuitry_table(load_circuitry_deltas())), FULL_WIDTH_IN
    yield "fig5", plot_fig5(load_ost_bins()), COLUMN_IN
    yield "fig5 with computed OSTs", plot_fig5(load_ost_bins(), _ost_pairs(seeds=(0, 1, 2))), FULL_WIDTH_IN
    yield from _training_figures()


def _training_figures():
    """The learning curves of a 15-model sweep and Brain-Score over training, from made-up numbers."""
    from cornet_repro.figures.training import plot_dynamics, plot_learning_curves
    from cornet_repro.sweeps import FIG4_SWEEP_MODELS

    rng = np.random.default_rng(0)
    epochs = np.arange(1, 11)
    curves = pd.DataFrame([{"model_name": m, "seed": s, "epoch": e, "val_top1": 0.3 * (1 - np.exp(-e / 3)) + rng.normal(0, .01)}
                           for m in FIG4_SWEEP_MODELS for s in range(3) for e in epochs])
    yield "learning curves", plot_learning_curves(curves, chance=1 / 32), FULL_WIDTH_IN
    dynamics = pd.DataFrame([{"model_name": m, "seed": s, "epoch": e, "val_top1": 0.03 * e, "V4": .5 + .01 * e,
                              "IT": .3 + .02 * e + rng.normal(0, .01), "behavior": .2, "OST": .1 if m == "cornet_s" else np.nan,
                              "brain_score_fig4": .35} for m in ("cornet_s", "cornet_s_steps_1_1_1")
                             for s in range(3) for e in epochs])
    yield "Brain-Score over training", plot_dynamics(dynamics), FULL_WIDTH_IN


def test_paper_figures_have_no_overprinted_text_and_record_a_readable_font(scores):
    for name, fig, shown_in in _paper_figures(scores):
        assert overlapping_texts(fig) == [], name
        meta = fig.cornet_meta
        sizes = [t.get_fontsize() for t, _ in __import__("cornet_repro.figures.interactive",
                                                         fromlist=["text_boxes"]).text_boxes(fig)]
        assert meta["min_fontsize"] == min(sizes) >= MIN_FONTSIZE, name
        # drawn no wider than it is shown, so its smallest text renders at >= 9 CSS px at 1280 px
        width_in = fig.get_size_inches()[0]
        assert meta["min_fontsize"] / 72 * 96 * min(1.0, shown_in / width_in) >= 9.0, (name, width_in)
        plt.close(fig)


def test_place_labels_keeps_crowded_labels_apart_and_inside_the_axes():
    from cornet_repro.figures.common import place_labels

    rng = np.random.default_rng(0)
    x, y = rng.normal(0.5, 0.05, 15), rng.normal(0.5, 0.05, 15)
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.scatter(x, y)
    ax.set(xlim=(0, 1), ylim=(0, 1))
    notes = place_labels(ax, x, y, [f"model {i}" for i in range(15)])
    assert overlapping_texts(fig) == []
    frame = ax.get_window_extent()
    for note in notes:
        box = note.get_window_extent()
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
    assert any(note.arrow_patch is not None for note in notes)  # some sit away from their point: leader lines
    plt.close(fig)


def test_fig1_svg_points_name_themselves_and_carry_the_font_metadata(scores):
    import re

    fig, stats = plot_fig1(scores, n_resamples=200)
    html = page_figure(fig, full_width=True).data
    n_points = sum(len(c.get_offsets()) for ax in fig.axes for c in ax.collections)
    tips = re.findall(r'data-cornet-tip="([^"]*)"', html)
    assert len(tips) == n_points == len(re.findall(r"<title>", html))
    cornet = scores.set_index("model").loc["CORnet-S"]
    assert f"CORnet-S&#10;ImageNet top-1 {cornet.imagenet_top1:.3f}, Brain-Score {cornet.brain_score:.3f}" in tips
    assert f'data-cornet-min-fontsize="{fig.cornet_meta["min_fontsize"]:g}"' in html and 'data-cornet-dpi="72"' in html
    assert "cornet-wide" in html and "http" not in html.split("<svg", 1)[0]  # nothing fetched from elsewhere
    plt.close(fig)
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="one label per point"):
        label_points(ax.scatter([1, 2], [1, 2]), ["only one"])
    plt.close(fig)


def test_phone_layouts_draw_the_same_points_narrower_and_the_page_carries_both(scores):
    """Figs. 1-3 laid out for a phone: the same points per panel, at most ~4.6 in wide (its
    smallest text >= 7.5 px in a 360 px column), no text on text; the page shows one or the other."""
    import re

    wide, _ = plot_fig1(scores, n_resamples=200)
    phone, _ = plot_fig1(scores, n_resamples=200, stacked=True)
    wide3, phone3 = plot_fig3(scores), plot_fig3(scores, columns=1)
    wide2, phone2 = plot_fig2(scores, n_resamples=200)[0], plot_fig2(scores, n_resamples=200, stacked=True)[0]
    for a, b in ((wide, phone), (wide3, phone3), (wide2, phone2)):
        assert [n_points(ax) for ax in a.axes] == [n_points(ax) for ax in b.axes]
        assert overlapping_texts(b) == []
        width_px = b.get_figwidth() * 96  # SVG at natural size: 96 CSS px per inch
        assert b.cornet_meta["min_fontsize"] * 96 / 72 * min(1.0, 360 / width_px) >= 7.5
        assert b.get_figwidth() < max(a.get_figwidth() / 2 + 0.1, 3.7)
    assert phone3.axes[2].get_position().y1 < phone3.axes[0].get_position().y0  # stacked, top to bottom
    html = page_figure(wide, full_width=True, narrow=phone).data
    for layout in ("cornet-wide-layout", "cornet-narrow-layout"):
        assert len(re.findall(rf"<svg[^>]*{layout}", html)) == 1
    assert "@media (max-width: 767.98px)" in html and "svg.cornet-wide-layout { display: none; }" in html
    assert not re.findall(r"<svg[^>]*cornet-narrow-layout", page_figure(wide).data)
    for fig in (wide, phone, wide3, phone3, wide2, phone2):
        plt.close(fig)


def test_figure_csvs_hold_exactly_the_plotted_points(scores):
    from cornet_repro.figures.fig1_brainscore_vs_imagenet import fig1_data
    from cornet_repro.figures.fig2_generalization import fig2_data
    from cornet_repro.figures.fig3_depth import fig3_data

    fig, _ = plot_fig1(scores, n_resamples=200)
    data = fig1_data(scores)
    drawn = np.concatenate([c.get_offsets() for c in fig.axes[0].collections])
    assert sorted(map(tuple, drawn.round(6))) == sorted(zip(data.imagenet_top1.round(6), data.brain_score.round(6)))
    plt.close(fig)
    fig, _ = plot_fig2(scores, n_resamples=200)
    data = fig2_data(scores)
    for ax, panel in zip(fig.axes, "abcd"):
        assert n_points(ax) == (data.panel == panel).sum()
    plt.close(fig)
    fig = plot_fig3(scores)
    data = fig3_data(scores)
    for ax, measure in zip(fig.axes, data.measure.unique()):
        drawn = np.concatenate([c.get_offsets() for c in ax.collections])
        rows = data[data.measure == measure]
        assert sorted(map(tuple, drawn.round(6))) == sorted(zip(rows.depth_plotted.round(6), rows.value.round(6)))
    plt.close(fig)


def test_saved_png_stays_static_and_carries_the_font_metadata(scores, tmp_path):
    import json

    from PIL import Image

    fig, _ = plot_fig2(scores, n_resamples=200)
    png, pdf = save_figure(fig, tmp_path, "fig2")
    assert json.loads(Image.open(png).text["cornet_meta"]) == fig.cornet_meta
    assert b"<svg" not in png.read_bytes() and pdf.read_bytes().startswith(b"%PDF")
    plt.close(fig)


def test_cli_figure_writes_the_csv_beside_the_png(tmp_path):
    from cornet_repro.cli import main
    from cornet_repro.figures.downloads import read_data, read_header

    assert main(["figure", "fig5", "--out", str(tmp_path)]) == 0
    assert {"fig5.png", "fig5.pdf", "fig5.csv"} <= {p.name for p in tmp_path.iterdir()}
    assert read_header(tmp_path / "fig5.csv")["source"].startswith("published: digitized")
    assert len(read_data(tmp_path / "fig5.csv")) == 5  # the five published bins
    # a failed run leaves none of this figure's files, its data included (never stale)
    assert main(["figure", "fig5", "-p", "results_dir", str(tmp_path / "absent"), "--out", str(tmp_path)]) == 1
    assert not {"fig5.png", "fig5.pdf", "fig5.csv"} & {p.name for p in tmp_path.iterdir()}
