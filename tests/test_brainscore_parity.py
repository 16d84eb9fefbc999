"""Side by side with brainscore-vision 2.4.2 (issue 14): ours under Brain-Score's conventions equals
theirs to 1e-6 on every quantity of ``benchmarks/crosscheck_brainscore.py`` — shuffled
presentations, a NaN split, a Kar2019-like OST file in unsorted order with duplicates, the error of
ceiled scores. Runs where the peer's venv exists (``make benchmarks`` creates it; it needs PyPI),
and is skipped on a clean clone.
"""

import importlib.util
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".cache" / "brainscore-venv"


def _peer_ready() -> bool:
    python = VENV / "bin" / "python"
    probe = "import os; os.environ['BS_INSTALL_DEPENDENCIES']='no'; import brainscore_vision.metrics.i1i2.metric"
    return python.exists() and subprocess.run([str(python), "-c", probe], capture_output=True).returncode == 0


@pytest.mark.skipif(not _peer_ready(), reason=f"brainscore-vision 2.4.2 venv not found at {VENV}")
def test_ours_equals_brainscore_on_shuffled_files_nan_splits_and_ceiled_errors(capsys):
    spec = importlib.util.spec_from_file_location("crosscheck", ROOT / "benchmarks" / "crosscheck_brainscore.py")
    crosscheck = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(crosscheck)
    code = crosscheck.main(["--small", "--venv", str(VENV)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "same order" in out and "PASS (tolerance 1e-06)" in out
