"""Faults a careless user (or a kill, or a bad server) causes: nothing lost, nothing stale, no traceback.

Each probe checks the message (one line: the file or parameter, what is wrong, the fix), the exit
code, and that nothing was lost or left behind. Tests run as root here, where chmod does not stop
writes: an unwritable folder is provoked as a path below a regular file.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
import xarray as xr

from cornet_repro import cli
from cornet_repro.cache import DownloadError, download
from cornet_repro.data.brainio import load_assembly, load_stimulus_set
from cornet_repro.files import LOCK_FILE, LockedError, atomic_path, remove_stale_temps, writer_lock
from cornet_repro.results import read_results, write_result
from cornet_repro.runs import CHECKPOINT, FINAL_MODEL, LOG, load_training_file, prepare_run_folder

ROOT = Path(__file__).resolve().parents[1]
SMALLER = ["--set", "epochs=1", "--set", "n_train=64", "--set", "n_val=32", "--set", "progress=false",
           "--set", "threads=1"]
pytestmark = pytest.mark.usefixtures("single_threaded")


@pytest.fixture(autouse=True)
def restore_torch_globals():
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    yield
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(deterministic)


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(autouse=True)
def use_cache(cache, monkeypatch):
    monkeypatch.setenv("CORNET_REPRO_CACHE", str(cache))


@pytest.fixture(scope="module")
def finished(tmp_path_factory, cache) -> Path:
    """One finished tiny run (64 images, one epoch), trained once for the module."""
    run = tmp_path_factory.mktemp("finished") / "run"
    old = os.environ.get("CORNET_REPRO_CACHE")
    os.environ["CORNET_REPRO_CACHE"] = str(cache)
    try:
        assert cli.main(["train", *SMALLER, "--out-dir", str(run)]) == 0
    finally:
        os.environ.pop("CORNET_REPRO_CACHE") if old is None else os.environ.__setitem__("CORNET_REPRO_CACHE", old)
    return run


@pytest.fixture
def run(finished, tmp_path) -> Path:
    """A private copy of the finished run."""
    copy = tmp_path / "run"
    shutil.copytree(finished, copy)
    return copy


def error_line(capsys, *expected: str) -> str:
    """The one stderr line of a failed command; it names what is expected and shows no traceback."""
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("warning:")]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


# ---------------------------------------------------------------------------------------------
# one writer per run folder; refused overwrites
# ---------------------------------------------------------------------------------------------

def test_a_second_writer_is_refused_naming_the_holder(run, capsys):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom cornet_repro.files import writer_lock\n"
         f"with writer_lock({str(run)!r}):\n    print('locked', flush=True)\n    time.sleep(60)\n"],
        stdout=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    try:
        assert holder.stdout.readline().strip() == "locked"
        before = snapshot(run)
        assert cli.main(["train", *SMALLER, "--out-dir", str(run), "--resume"]) == 1
        error_line(capsys, str(run), f"PID {holder.pid}", "another process")
        assert snapshot(run) == before  # nothing written, nothing lost
    finally:
        holder.send_signal(signal.SIGKILL)  # a crash: the kernel releases the lock
        holder.wait()
    assert (run / LOCK_FILE).exists()  # the killed holder's file: no longer a lock
    with writer_lock(run):  # free again
        with pytest.raises(LockedError, match=f"PID {os.getpid()}"):  # a second descriptor, same process
            with writer_lock(run):
                pass
    assert not (run / LOCK_FILE).exists()  # released and removed


def test_train_refuses_a_finished_run_unless_told(run, capsys):
    before = snapshot(run)
    assert cli.main(["train", *SMALLER, "--out-dir", str(run)]) == 1
    error_line(capsys, str(run), "finished run", "--resume", "--overwrite")
    assert cli.main(["train", *SMALLER, "--out-dir", str(run), "--resume", "--overwrite"]) == 1
    error_line(capsys, "--resume and --overwrite")
    assert snapshot(run) == before
    # --overwrite deletes the old run's files (not the lock) before training afresh
    (run / "epoch_001.pt").write_bytes(b"old")
    prepare_run_folder(run, resume=False, overwrite=True)
    assert sorted(p.name for p in run.iterdir()) == []


def test_overwrite_trains_afresh_even_with_an_unwritable_cache(run, tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("CORNET_REPRO_CACHE", str(blocker / "cache"))
    old_model = (run / FINAL_MODEL).read_bytes()
    assert cli.main(["train", *SMALLER, "--out-dir", str(run), "--overwrite"]) == 0
    err = capsys.readouterr().err
    assert "cannot cache the rendered images" in err and "Traceback" not in err
    assert (run / FINAL_MODEL).read_bytes() != old_model
    assert len((run / LOG).read_text().splitlines()) == 1  # a fresh log, not appended to


# ---------------------------------------------------------------------------------------------
# check before working: parameters, folders
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [(".nan", "train.lr=nan"), (".inf", "train.lr=inf"),
                                             ("1.0e+300", "out of range")])
def test_non_finite_or_huge_lr_is_refused_before_training(tmp_path, capsys, value, expected):
    assert cli.main(["train", *SMALLER, "--set", f"lr={value}", "--out-dir", str(tmp_path / "run")]) == 2
    error_line(capsys, expected)
    assert not (tmp_path / "run").exists()


def test_bad_parameters_are_one_line(tmp_path, capsys):
    assert cli.main(["train", "--set", "epochs=[1", "--out-dir", str(tmp_path / "run")]) == 2
    error_line(capsys, "epochs=[1", "not valid YAML")
    assert cli.main(["train", *SMALLER, "--data-path", str(tmp_path), "--out-dir", str(tmp_path / "run")]) == 2
    error_line(capsys, "train.data_path", "simulated", "drop --data-path")
    assert not (tmp_path / "run").exists()


def test_training_stops_at_the_first_non_finite_loss_keeping_the_last_good_checkpoint(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", *SMALLER, "--set", "lr=1.0e+6", "--set", "batch_size=8",
                     "--set", "checkpoint_every_steps=1", "--out-dir", str(out)]) == 1
    error_line(capsys, "train.lr=1e+06", "non-finite", "step", "Lower train.lr", str(out / CHECKPOINT))
    assert not (out / FINAL_MODEL).exists()
    state = load_training_file(out / CHECKPOINT)
    assert all(torch.isfinite(t).all() for t in state["model"].values() if t.is_floating_point())


def test_unusable_output_paths_fail_before_any_work(run, tmp_path, capsys, monkeypatch):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    for out in (blocker, blocker / "below"):  # a file; a folder that cannot be created (also as root)
        assert cli.main(["train", *SMALLER, "--out-dir", str(out)]) == 1
        error_line(capsys, str(out))
    # scoring: the results folder is checked before the model is even loaded
    import cornet_repro.pipeline as pipeline

    monkeypatch.setattr(pipeline, "load_run", lambda *a: pytest.fail("scored before checking --results-dir"))
    assert cli.main(["score", str(run), "--results-dir", str(blocker)]) == 1
    error_line(capsys, str(blocker), "results folder", "is a file")
    assert cli.main(["simulate", "--preset", "tiny", "--cache", str(blocker)]) == 1
    error_line(capsys, str(blocker), "cache folder")
    assert cli.main(["figure", "fig2", "--out", str(blocker), "--root", str(ROOT)]) == 1
    error_line(capsys, str(blocker), "figure folder")
    assert blocker.read_text() == "x"


def test_debug_shows_the_traceback(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(OSError, match="is a file"):
        cli.main(["--debug", "simulate", "--preset", "tiny", "--cache", str(blocker)])


# ---------------------------------------------------------------------------------------------
# damaged run files
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("damage", ["truncated", "text"])
def test_scoring_a_damaged_model_names_it(run, tmp_path, capsys, damage):
    data = (run / FINAL_MODEL).read_bytes()
    (run / FINAL_MODEL).write_bytes(data[: len(data) // 2] if damage == "truncated" else b"hello\n")
    assert cli.main(["score", str(run / FINAL_MODEL), "--results-dir", str(tmp_path / "results")]) == 1
    line = error_line(capsys, str(run / FINAL_MODEL), "not a readable training file")
    assert "weights_only=False" not in line
    assert not list((tmp_path / "results").glob("*.json"))


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_resuming_from_a_damaged_checkpoint_names_it(run, capsys, damage):
    data = (run / CHECKPOINT).read_bytes()
    (run / CHECKPOINT).write_bytes(data[: len(data) // 2] if damage == "truncated" else os.urandom(700))
    before = snapshot(run)
    assert cli.main(["train", *SMALLER, "--out-dir", str(run), "--resume"]) == 1
    line = error_line(capsys, str(run / CHECKPOINT), "--overwrite")
    assert "weights_only=False" not in line
    assert snapshot(run) == before


def test_resume_drops_a_torn_log_line_and_a_killed_writers_temp_file(run, capsys):
    with open(run / LOG, "a") as f:
        f.write('{"kind": "epoch", "glo')  # killed while appending
    orphan = run / ".checkpoint.k1ll3d.tmp.pt"  # killed while saving a checkpoint
    orphan.write_bytes(b"half a checkpoint")
    os.utime(orphan, (time.time() - 60,) * 2)
    assert cli.main(["train", *SMALLER, "--out-dir", str(run), "--resume"]) == 0
    err = capsys.readouterr().err
    assert f"{run / LOG}: line 2 is torn" in err and "Traceback" not in err
    assert [json.loads(line)["kind"] for line in (run / LOG).read_text().splitlines()] == ["epoch"]
    assert not orphan.exists() and not list(run.glob(".*.tmp*"))


def test_a_live_writers_temp_file_is_kept(tmp_path):
    with atomic_path(tmp_path / "model.pt") as tmp:
        tmp.write_bytes(b"being written")
        os.utime(tmp, (time.time() - 60,) * 2)
        assert remove_stale_temps(tmp_path) == [] and tmp.exists()  # its writer still holds it
    assert (tmp_path / "model.pt").read_bytes() == b"being written"


def test_atomic_files_get_the_umask_mode(tmp_path):
    old = os.umask(0o022)
    try:
        with atomic_path(tmp_path / "result.json") as tmp:
            tmp.write_text("{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "result.json").stat().st_mode) == 0o644


# ---------------------------------------------------------------------------------------------
# figures: never stale, never half
# ---------------------------------------------------------------------------------------------

def test_a_refused_parameter_leaves_the_figure_folder_alone(tmp_path, capsys):
    out = tmp_path / "figures"
    out.mkdir()
    (out / "fig1.png").write_text("from an earlier run")
    assert cli.main(["figure", "fig1", "-p", "threshold", "abc", "--out", str(out), "--root", str(ROOT)]) == 2
    error_line(capsys, "threshold", "'abc'", "-p threshold 0.7")
    assert [p.name for p in out.iterdir()] == ["fig1.png"]  # refused before the kernel starts: nothing touched


def _failing_root(tmp_path: Path) -> Path:
    """A repository whose one notebook writes half a figure, then fails."""
    import nbformat

    root = tmp_path / "repo"
    (root / "notebooks").mkdir(parents=True)
    (root / "_toc.yml").write_text("format: jb-book\nroot: intro\n")
    parameters = nbformat.v4.new_code_cell("figure_dir = '.'")
    parameters.metadata["tags"] = ["parameters"]
    fails = nbformat.v4.new_code_cell(
        "from pathlib import Path\n(Path(figure_dir) / 'figx.png').write_bytes(b'half')\n"
        "raise RuntimeError('the data ran out')")
    notebook = nbformat.v4.new_notebook(cells=[parameters, fails])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, root / "notebooks" / "figx_broken.ipynb")
    return root


def test_a_failed_figure_leaves_no_stale_files(tmp_path, capsys):
    out = tmp_path / "figures"
    out.mkdir()
    for name in ("figx.png", "figx.pdf", "fig2.png"):
        (out / name).write_text("from an earlier run")
    assert cli.main(["figure", "figx", "--out", str(out), "--root", str(_failing_root(tmp_path))]) == 1
    error_line(capsys, "figx_broken", "the data ran out")
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == ["fig2.png"]  # not another figure's
    assert not list(out.glob(".*.tmp*"))


# ---------------------------------------------------------------------------------------------
# results that cannot be double-counted
# ---------------------------------------------------------------------------------------------

def _record(**changes) -> dict:
    score = {"value": 0.5, "error": 0.01, "raw": 0.4, "raw_error": 0.01, "ceiling": 0.8}
    record = {"schema": "cornet-repro/result", "schema_version": 1, "model": "CORnet-S", "model_name": "cornet_s",
              "model_config": {"width": 0.125}, "preset": "tiny", "source": "simulated", "seed": 0,
              "scores": {"V4": dict(score), "IT": dict(score)}, "brain_score": None, "brain_score_fig4": None,
              "checkpoint": "runs/a/model.pt", "checkpoint_sha256": "ab" * 32, "created": "2024-01-01T00:00:00+00:00"}
    record.update(changes)
    return record


def test_two_records_of_one_model_preset_and_seed_are_refused(tmp_path):
    first = write_result(_record(), tmp_path)
    second = write_result(_record(checkpoint="runs/b/model.pt", checkpoint_sha256="cd" * 32), tmp_path)
    with pytest.raises(ValueError) as error:
        read_results(tmp_path)
    message = str(error.value)
    assert str(first) in message and str(second) in message and "twice" in message
    # the same run, retrained (train --overwrite) and rescored, replaces its own record
    third = write_result(_record(checkpoint="runs/b/model.pt", checkpoint_sha256="ef" * 32), tmp_path)
    assert sorted(tmp_path.glob("*.result.json")) == sorted([first, third])


@pytest.mark.parametrize("content, field", [
    ("null", "not a cornet-repro result"),
    (json.dumps(_record(scores={})), "'scores' holds no benchmark scores"),
    (json.dumps(_record(scores={"V4": {"value": "abc"}})), "scores.V4.value is 'abc'"),
    (json.dumps(_record(scores={"V4": {"error": 0.1}})), "scores.V4 has no 'value'"),
    ('{"schema_version": 1, "mod', "not valid JSON"),
])
def test_malformed_result_files_are_named(tmp_path, content, field):
    path = tmp_path / "x.result.json"
    path.write_text(content)
    with pytest.raises(ValueError) as error:
        read_results(tmp_path)
    assert str(path) in str(error.value) and field in str(error.value)


# ---------------------------------------------------------------------------------------------
# malformed BrainIO files
# ---------------------------------------------------------------------------------------------

def test_malformed_brainio_files_are_named(tmp_path):
    from cornet_repro.assemblies import AssemblyError

    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "binary.csv").write_bytes(bytes(range(256)) * 8)
    for name in ("empty.csv", "binary.csv"):
        with pytest.raises(AssemblyError, match=f"{tmp_path / name}: not a readable stimulus-set CSV"):
            load_stimulus_set(tmp_path / name)
    (tmp_path / "ok.csv").write_text("stimulus_id,filename\na,a.png\n")
    with zipfile.ZipFile(tmp_path / "images.zip", "w") as zf:
        zf.writestr("a.png", b"<html>not an image</html>")
    stimuli = load_stimulus_set(tmp_path / "ok.csv", tmp_path / "images.zip")
    with pytest.raises(AssemblyError, match="images.zip: member a.png is not a readable image"):
        list(stimuli.iter_images())
    (tmp_path / "bad.nc").write_bytes(b"CDF\x01garbage")
    with pytest.raises(AssemblyError, match="bad.nc"):
        load_assembly(tmp_path / "bad.nc")


def test_a_nan_neuroid_is_named_not_an_svd_failure():
    from cornet_repro.assemblies import AssemblyError
    from cornet_repro.metrics.neural import neural_predictivity

    rng = np.random.default_rng(0)
    n = 40
    presentation = {"stimulus_id": ("presentation", [f"s{i}" for i in range(n)]),
                    "object_name": ("presentation", [f"o{i % 4}" for i in range(n)])}
    target = xr.DataArray(rng.normal(size=(n, 5)), dims=("presentation", "neuroid"),
                          coords={**presentation, "neuroid_id": ("neuroid", [f"n{j}" for j in range(5)])},
                          attrs={"source_file": "assy_test.nc"})
    target[:, 2] = np.nan
    source = xr.DataArray(rng.normal(size=(n, 8)), dims=("presentation", "neuroid"),
                          coords={**presentation, "neuroid_id": ("neuroid", [f"f{j}" for j in range(8)])})
    with pytest.raises(AssemblyError, match=r"assy_test.nc: 1 neuroid\(s\) hold NaN .*'n2'"):
        neural_predictivity(source, target, n_components=3, n_splits=2)


# ---------------------------------------------------------------------------------------------
# downloads from a bad server (127.0.0.1)
# ---------------------------------------------------------------------------------------------

PAYLOAD = b"payload " * 100


class _BadServer(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.send_response(200)
        if self.path == "/chunked-cut":  # a chunked response that stops in the middle of a chunk
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"10\r\n" + b"x" * 16 + b"\r\n10\r\nxx")
            self.wfile.flush()
            self.close_connection = True
            return
        if self.path == "/trickle":  # one byte every 0.5 s: every read is on time, the whole never is
            self.send_header("Content-Length", "1000")
            self.end_headers()
            for _ in range(12):
                try:
                    self.wfile.write(b"x")
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(0.5)
            return
        if self.path == "/not-weights.pth":
            body = b"<html>a login page</html>"
        else:
            body = PAYLOAD
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _BadServer)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_a_download_cut_mid_stream_is_one_error_and_leaves_nothing(server, tmp_path):
    with pytest.raises(DownloadError, match=r"connection lost after \d+ bytes: IncompleteRead"):
        download(f"{server}/chunked-cut", tmp_path / "payload.nc")
    assert list(tmp_path.iterdir()) == []


def test_a_trickling_server_cannot_outlive_the_deadline(server, tmp_path):
    with pytest.raises(DownloadError, match="took longer than 1.5 s"):
        download(f"{server}/trickle", tmp_path / "payload.nc", timeout=1.0, deadline=1.5)
    assert list(tmp_path.iterdir()) == []


def test_the_next_download_removes_a_killed_downloads_temp_file(server, tmp_path):
    orphan = tmp_path / ".payload.k1ll3d.tmp.nc"
    orphan.write_bytes(b"half a download")
    os.utime(orphan, (time.time() - 60,) * 2)
    download(f"{server}/payload.nc", tmp_path / "payload.nc", expected=hashlib.sha256(PAYLOAD).hexdigest())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["payload.nc"]


def test_weights_are_cached_only_once_they_load(server, tmp_path):
    from cornet_repro.models.weights import WeightsError, load_state_dict

    with pytest.raises(WeightsError, match="nothing was written"):
        load_state_dict(f"{server}/not-weights.pth", cache=tmp_path)
    assert list(tmp_path.iterdir()) == []
