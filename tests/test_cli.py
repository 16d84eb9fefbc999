"""`cornet-repro figure`: one notebook with parameters → PNG and PDF."""

from pathlib import Path

import pytest

from cornet_repro import cli

REPO = Path(__file__).resolve().parents[1]


def test_figure_with_parameters_writes_png_and_pdf(tmp_path, capsys):
    out = tmp_path / "figs"
    assert cli.main(["figure", "fig2", "-p", "n_resamples", "200", "-p", "show_cornet", "false",
                     "--out", str(out), "--root", str(REPO)]) == 0
    assert (out / "fig2.png").stat().st_size > 10_000 and (out / "fig2.pdf").exists()
    executed = (out / "fig2_generalization.ipynb").read_text()
    assert '"show_cornet": false' in executed


def test_unknown_parameter_fails_with_its_name(tmp_path, capsys):
    out = tmp_path / "figs"
    code = cli.main(["figure", "fig1", "-p", "thresh", "0.6", "--out", str(out), "--root", str(REPO)])
    assert code == 2
    err = capsys.readouterr().err
    assert err == ("error: cornet-repro figure -p: fig1_brainscore_vs_imagenet: unknown parameter 'thresh' (= 0.6); "
                   "did you mean 'threshold'?\n")
    assert not out.exists()  # checked before the output folder was made or a kernel started


def test_names_resolve_by_prefix_and_errors_list_choices():
    assert cli.resolve_notebook(REPO, "fig1") == "fig1_brainscore_vs_imagenet"
    assert cli.resolve_notebook(REPO, "table_a1") == "table_a1"
    with pytest.raises(SystemExit, match="available: .*fig1_brainscore_vs_imagenet"):
        cli.resolve_notebook(REPO, "fig9")
    assert cli.parse_parameters([["t", "0.6"], ["b", "false"], ["l", "[a, b]"]]) == {"t": 0.6, "b": False,
                                                                                    "l": ["a", "b"]}
