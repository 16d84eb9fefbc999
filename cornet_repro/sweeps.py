"""Sweeps: one preset × models × seeds, each (model, seed) trained and scored as its own run.

:func:`run_sweep` executes the runs with :func:`cornet_repro.pipeline.train_and_score`, either
here (``jobs`` processes at once, each with ``cores // jobs`` threads) or through submitit
(``cluster='slurm'``: one SLURM job per run, its processes set up as ``torchrun`` would, requeued
on preemption and resumed from the run's last checkpoint; ``cluster='local'``: submitit's local
executor, which the tests use). Runs already finished with the same preset are not retrained, and
not rescored when their result is there.

:func:`ship` copies a finished sweep's result files and learning curves, with a manifest of how
they were made, into a folder that :mod:`cornet_repro.data.shipped` reads: the book's Fig. 4 uses
the shipped sweep, because training every variant with enough seeds does not fit in a build.
"""

from __future__ import annotations

import concurrent.futures
import json
import multiprocessing
import os
import platform
import shutil
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Sequence

import pandas as pd

from .data.shipped import CURVES, DYNAMICS, MANIFEST, PLATEAU, RESULTS
from .files import atomic_write_text, check_writable
from .presets import Preset, load_preset, preset_differences, to_dict
from .results import git_commit, read_result, read_results, result_path

__all__ = ["FIG4_SWEEP_MODELS", "SweepRun", "SweepJob", "scoring_overrides", "run_sweep", "learning_curves",
           "over_training", "plateau_check", "ship", "estimate_cost", "SweepError"]

#: Every distinct Fig. 4 model, slowest first (which packs parallel runs best).
FIG4_SWEEP_MODELS = ("cornet_s_steps_10_10_10", "cornet_s_steps_4_8_4", "cornet_s_bottleneck_6x",
                     "cornet_s_steps_4_4_4", "cornet_s", "cornet_s_gate_soft", "cornet_s_areas_5",
                     "cornet_s_steps_2_2_2", "cornet_s_skip_absent", "cornet_s_norm_group", "cornet_s_steps_1_1_1",
                     "cornet_s_bottleneck_2x", "cornet_s_loop_3_to_2", "cornet_s_convs_2_3", "cornet_s_bottleneck_1x")
#: Models scored on OST too (Fig. 5 needs CORnet-S's; OST is most of the scoring time).
OST_MODELS = ("cornet_s",)


class SweepError(RuntimeError):
    """One or more runs of a sweep failed; the message lists each."""


def scoring_overrides(model: str, ost_models: Sequence[str] = OST_MODELS) -> dict[str, Any]:
    """Preset overrides for ``model`` in a sweep: models outside ``ost_models`` skip OST and report
    the Fig. 4 Brain-Score (V4, IT, behaviour)."""
    if model in ost_models:
        return {}
    return {"score.benchmarks": ["V4", "IT", "behavior"], "score.composite": "fig4"}


@dataclass(frozen=True)
class SweepRun:
    """One (model, seed) of a sweep, and how it ended."""

    model: str
    seed: int
    seconds: float = 0.0
    result: str | None = None  # the result file
    error: str | None = None
    reused: bool = False  # finished and scored before this sweep: nothing was done


@dataclass(frozen=True)
class SweepJob:
    """Train and score one (model, seed): a picklable callable for a process pool or submitit.

    On SLURM, submitit calls :meth:`checkpoint` before a preemption or timeout; the job is then
    requeued as it is, and training resumes from the run's ``checkpoint.pt``.
    """

    preset: dict[str, Any]  # the whole preset, as data (a job must not depend on the submitter's files)
    model: str
    seed: int
    results_dir: str
    runs_dir: str
    ost_models: tuple[str, ...] = OST_MODELS
    threads: int = 0  # torch threads of this process (0: leave as is)

    def __call__(self) -> SweepRun:
        from .pipeline import scored_result, train_and_score
        from .presets import from_dict

        if self.threads:
            import torch
            torch.set_num_threads(self.threads)
        if "SLURM_JOB_ID" in os.environ and int(os.environ.get("SLURM_NTASKS", "1")) > 1:
            import submitit  # the environment variables torchrun would set, from SLURM's
            submitit.helpers.TorchDistributedEnvironment().export()
        start = time.perf_counter()
        preset = from_dict(Preset, self.preset, "preset")
        overrides = scoring_overrides(self.model, self.ost_models)
        earlier = scored_result(preset.replace({**overrides, "train.model": self.model, "train.seed": self.seed}),
                                self.results_dir, self.runs_dir)
        result = earlier or train_and_score(preset, self.results_dir, model=self.model, seed=self.seed,
                                            runs_dir=self.runs_dir, overrides=overrides or None)
        path = str(result_path(result, self.results_dir)) if result else None  # {} on DDP ranks > 0
        return SweepRun(self.model, self.seed, time.perf_counter() - start, path, reused=earlier is not None)

    def checkpoint(self, *args: Any, **kwargs: Any) -> Any:
        import submitit
        return submitit.helpers.DelayedSubmission(self)


def _init_worker(threads: int) -> None:
    # before torch or numpy load in this process: their thread pools size themselves once
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[name] = str(threads)
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"


def run_sweep(preset: Preset | str | os.PathLike, models: Sequence[str], seeds: Sequence[int],
              results_dir: str | os.PathLike, runs_dir: str | os.PathLike, *, jobs: int = 1,
              cluster: str | None = None, cluster_options: dict[str, Any] | None = None,
              ost_models: Sequence[str] = OST_MODELS, log: Callable[[str], None] = print) -> list[SweepRun]:
    """Train and score every (model, seed) with ``preset``; return one :class:`SweepRun` each.

    ``cluster=None`` runs here, ``jobs`` at a time; ``'slurm'`` or ``'local'`` submits one submitit
    job per run (``cluster_options`` go to ``executor.update_parameters``, e.g. ``gpus_per_node``,
    ``timeout_min``, ``slurm_partition``; logs go to ``<runs_dir>/submitit``). Every run is
    attempted; if any fail, :class:`SweepError` lists them after the others finished.
    """
    preset = load_preset(preset) if isinstance(preset, (str, os.PathLike)) else preset
    if not models or not seeds:
        raise ValueError("run_sweep: give at least one model and one seed")
    if not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"run_sweep: jobs must be a positive integer, got {jobs!r}")
    from .models.registry import check_model_name

    for model in models:
        check_model_name(model)
    check_writable(results_dir, "results folder")
    check_writable(runs_dir, "runs folder")
    pairs = [(m, int(s)) for m in models for s in seeds]
    threads = max(1, (os.cpu_count() or 1) // jobs) if cluster is None else 0
    make = [SweepJob(to_dict(preset), m, s, str(results_dir), str(runs_dir), tuple(ost_models),
                     threads if cluster is None else 0) for m, s in pairs]
    if cluster is None:
        outcomes = _run_here(make, jobs, threads, log)
    else:
        outcomes = _run_submitit(make, cluster, cluster_options or {}, Path(runs_dir) / "submitit", log)
    failed = [o for o in outcomes if o.error]
    if failed:
        raise SweepError("; ".join(f"{o.model} seed {o.seed}: {o.error}" for o in failed))
    return outcomes


def _describe(error: BaseException) -> str:
    return " ".join(f"{type(error).__name__}: {error}".split())


def _run_here(make: list[SweepJob], jobs: int, threads: int, log: Callable[[str], None]) -> list[SweepRun]:
    outcomes: list[SweepRun] = []

    def report(job: SweepJob, outcome: SweepRun) -> None:
        outcomes.append(outcome)
        state = f"failed: {outcome.error}" if outcome.error else f"{outcome.seconds:.0f} s"
        log(f"cornet-repro sweep: [{len(outcomes)}/{len(make)}] {job.model} seed {job.seed}: {state}")

    if jobs == 1:
        for job in make:
            try:
                report(job, job())
            except Exception as error:  # noqa: BLE001 - one failed run must not lose the others
                report(job, SweepRun(job.model, job.seed, error=_describe(error)))
        return outcomes
    # spawn, not fork: a forked child would inherit this process's torch thread pools
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(jobs, mp_context=context, initializer=_init_worker,
                                                initargs=(threads,)) as pool:
        futures = {pool.submit(job): job for job in make}
        for future in concurrent.futures.as_completed(futures):
            job = futures[future]
            try:
                report(job, future.result())
            except Exception as error:  # noqa: BLE001
                report(job, SweepRun(job.model, job.seed, error=_describe(error)))
    return outcomes


def _run_submitit(make: list[SweepJob], cluster: str, options: dict[str, Any], folder: Path,
                  log: Callable[[str], None]) -> list[SweepRun]:
    try:
        import submitit
    except ImportError:
        raise ValueError("cluster runs need submitit: pip install 'cornet-repro[cluster]' (or pip install "
                         "submitit)") from None
    if cluster not in ("slurm", "local"):
        raise ValueError(f"cluster={cluster!r}: choose 'slurm' (a SLURM cluster) or 'local' (submitit's local "
                         "executor, for trying a sweep out)")
    executor = submitit.AutoExecutor(folder=folder, cluster=cluster)
    executor.update_parameters(**options)
    submitted = executor.submit_array(make) if len(make) > 1 else [executor.submit(make[0])]
    log(f"cornet-repro sweep: submitted {len(submitted)} {cluster} job(s); logs in {folder}")
    outcomes = []
    for job, handle in zip(make, submitted):
        try:
            outcome = handle.result()
        except Exception as error:  # noqa: BLE001 - submitit re-raises the job's error here
            outcome = SweepRun(job.model, job.seed, error=_describe(error).splitlines()[0])
        outcomes.append(outcome)
        state = f"failed: {outcome.error}" if outcome.error else f"{outcome.seconds:.0f} s"
        log(f"cornet-repro sweep: [{len(outcomes)}/{len(make)}] {job.model} seed {job.seed}: {state}")
    return outcomes


#: ImageNet-1k's training images (the paper trains on all of them each epoch).
IMAGENET_TRAIN_IMAGES = 1_281_167


def estimate_cost(preset: Preset, models: Sequence[str], n_seeds: int, *, mfu: float = 0.4,
                  gpu: str = "A100") -> pd.DataFrame:
    """What training a sweep costs on GPUs, from FLOPs (scoring and evaluation left out).

    Per model: training FLOPs per image (3 × the forward pass at the preset's image size, counted
    by :func:`cornet_repro.train.forward_flops`), times images per epoch (ImageNet's 1,281,167 or
    the simulated ``n_train``), epochs and seeds, over ``mfu`` × the GPU's dense bf16 peak.
    ``mfu`` is an assumption (0.4 is typical of well-fed convolutional training), not a measurement.
    """
    from .models.registry import build_model
    from .train import GPU_PEAK_BF16_TFLOPS, forward_flops

    if not 0 < mfu <= 1:
        raise ValueError(f"mfu={mfu}: a fraction of the GPU's peak, in (0, 1]")
    if gpu not in GPU_PEAK_BF16_TFLOPS:
        raise ValueError(f"gpu={gpu!r}: one of {sorted(GPU_PEAK_BF16_TFLOPS)}")
    train = preset.train
    images = IMAGENET_TRAIN_IMAGES if train.data == "imagenet" else train.n_train
    peak = GPU_PEAK_BF16_TFLOPS[gpu] * 1e12
    rows = []
    for model in models:
        net = build_model(model, train.model_config, num_classes=1000,  # the classifier is a rounding error
                          image_size=train.image_size)
        per_image = 3.0 * forward_flops(net, train.image_size)
        total = per_image * images * train.epochs * n_seeds
        rows.append({"model_name": model, "train_gflops_per_image": per_image / 1e9, "seeds": n_seeds,
                     "epochs": train.epochs, "images_per_epoch": images, "pflops": total / 1e15,
                     "gpu_hours": total / (mfu * peak) / 3600})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# shipping a finished sweep
# ---------------------------------------------------------------------------------------------

def learning_curves(runs: Sequence[Path]) -> pd.DataFrame:
    """One row per run and epoch, from each run's ``log.jsonl`` (model and seed from its preset)."""
    from .runs import LOG, PRESET_FILE
    import yaml

    rows = []
    for run in runs:
        preset = yaml.safe_load((Path(run) / PRESET_FILE).read_text())
        for line in (Path(run) / LOG).read_text().splitlines():
            entry = json.loads(line)
            if entry.get("kind", "epoch") == "epoch" and entry.get("complete", True):
                rows.append({"model_name": preset["train"]["model"], "seed": preset["train"]["seed"],
                             **{k: entry.get(k) for k in ("epoch", "train_top1", "val_top1", "train_loss", "val_loss",
                                                          "lr", "epoch_seconds")}})
    columns = ["model_name", "seed", "epoch", "train_top1", "val_top1", "train_loss", "val_loss", "lr", "epoch_seconds"]
    return pd.DataFrame(rows, columns=columns).sort_values(["model_name", "seed", "epoch"]).reset_index(drop=True)


def _sweep_runs(runs_dir: str | os.PathLike, preset: Preset, models: Sequence[str],
                seeds: Sequence[int]) -> list[Path]:
    from .pipeline import run_directory

    return [run_directory(preset.replace({"train.model": m, "train.seed": int(s)}), runs_dir)
            for m in models for s in seeds]


def _map_runs(work: Callable[..., pd.DataFrame], runs: Sequence[Path], jobs: int, *args: Any) -> pd.DataFrame:
    """``work(run, *args, threads)`` for every run, ``jobs`` processes at a time (each with its share
    of the cores), concatenated in the order of ``runs``."""
    if jobs == 1:
        return pd.concat([work(run, *args, 0) for run in runs], ignore_index=True)
    threads = max(1, (os.cpu_count() or 1) // jobs)
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(jobs, mp_context=context, initializer=_init_worker,
                                                initargs=(threads,)) as pool:
        columns = [[arg] * len(runs) for arg in (*args, threads)]
        return pd.concat(list(pool.map(work, runs, *columns)), ignore_index=True)


def over_training(runs_dir: str | os.PathLike, preset: Preset, models: Sequence[str], seeds: Sequence[int], *,
                  jobs: int = 1, log: Callable[[str], None] = print) -> pd.DataFrame:
    """Brain-Score over training of ``models`` × ``seeds`` of a finished sweep: every epoch's
    weights scored (:func:`cornet_repro.pipeline.score_epochs`), ``jobs`` runs at a time; one row
    per run and epoch."""
    runs = _sweep_runs(runs_dir, preset, models, seeds)
    frame = _map_runs(_score_epochs, runs, jobs)
    for run in runs:
        log(f"cornet-repro sweep: {run} scored over training")
    return frame


def plateau_check(runs_dir: str | os.PathLike, preset: Preset, models: Sequence[str], seeds: Sequence[int], *,
                  last: int = 2, max_images: int = 10_000, jobs: int = 1) -> pd.DataFrame:
    """Is each run of a finished sweep at its plateau? Its last ``last`` epochs' weights evaluated on
    the validation images as training logged them (``val_top1``, BatchNorm's running averages) and
    with BatchNorm's statistics recomputed exactly over up to ``max_images`` of the run's training
    images (``val_top1_exact_bn``, :func:`cornet_repro.train.recompute_batchnorm`): the second is
    free of the running averages' epoch-to-epoch noise. One row per run and epoch."""
    return _map_runs(_plateau_check_run, _sweep_runs(runs_dir, preset, models, seeds), jobs, last, max_images)


def _plateau_check_run(run: Path, last: int, max_images: int, threads: int = 0) -> pd.DataFrame:
    import torch

    from .runs import build_model, epoch_file, load_run, load_training_file
    from .train import Dist, evaluate, recompute_batchnorm
    from .training_data import SeededAugmentation, build_datasets

    if threads:
        torch.set_num_threads(threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")  # a GPU, where the sweep ran on GPUs
    config = load_run(run).config
    train_set, val_set, classes = build_datasets(config)
    augmented = SeededAugmentation(train_set, config.seed)
    augmented.set_epoch(config.epochs)  # one fixed draw, of an epoch the run never trained
    train_loader = torch.utils.data.DataLoader(augmented, batch_size=config.batch_size)
    val_loader = torch.utils.data.DataLoader(val_set, batch_size=config.batch_size)
    rows = []
    for epoch in range(max(1, config.epochs - last + 1), config.epochs + 1):
        path = Path(run) / epoch_file(epoch)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no weights of epoch {epoch}; the plateau check needs the last epochs' "
                                    "weights (train with --set keep_epoch_checkpoints=true)")
        model = build_model(config, len(classes))
        model.load_state_dict(load_training_file(path)["model"])
        model.to(device)
        _, logged = evaluate(model, val_loader, Dist(device=device))
        recompute_batchnorm(model, train_loader, max_images)
        _, exact = evaluate(model, val_loader, Dist(device=device))
        rows.append({"model_name": config.model, "seed": config.seed, "epoch": epoch, "val_top1": logged,
                     "val_top1_exact_bn": exact})
    return pd.DataFrame(rows)


def _score_epochs(run: Path, threads: int = 0) -> pd.DataFrame:
    from .pipeline import score_epochs

    if threads:
        import torch
        torch.set_num_threads(threads)
    return score_epochs(run)


def ship(results_dir: str | os.PathLike, target: str | os.PathLike, *, preset: Preset, command: str,
         started: str, outcomes: Sequence[SweepRun], dynamics: pd.DataFrame | None = None,
         plateau: pd.DataFrame | None = None) -> Path:
    """Copy the sweep's result files (of ``preset``) and learning curves (and Brain-Score over
    training and the plateau check, when given) into ``target`` with a manifest; a folder already
    there is replaced only once the new one is complete. Shipped again with the same preset, or
    with one that only trains longer (more ``train.epochs``: the runs were resumed, not
    retrained), the manifest keeps the earlier steps in ``history`` (an extension's step records
    ``preset_changes``). Each run's ``train_seconds`` sums its epochs' times from its log, however
    many steps made them."""
    target = Path(target)
    table = read_results(results_dir)
    table = table[table["preset"] == preset.name]
    if table.empty:
        raise ValueError(f"{results_dir}: no result of preset {preset.name!r} to ship")
    staging = target.with_name(f".{target.name}.staging")
    shutil.rmtree(staging, ignore_errors=True)
    (staging / RESULTS).mkdir(parents=True)
    run_dirs = []
    for path in table["path"]:
        shutil.copy2(path, staging / RESULTS / Path(path).name)
        run_dirs.append(Path(read_result(path)["checkpoint"]).parent)
    curves = learning_curves(run_dirs)
    curves.to_csv(staging / CURVES, index=False, float_format="%.6g")
    if dynamics is not None:
        dynamics.to_csv(staging / DYNAMICS, index=False, float_format="%.6g")
    if plateau is not None:
        plateau.to_csv(staging / PLATEAU, index=False, float_format="%.6g")
    import torch

    step = {"command": command, "commit": git_commit(), "started": started,
            "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "machine": {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
                        "cores": os.cpu_count(), "python": sys.version.split()[0], "torch": torch.__version__}}
    runs, history = {}, []
    old_manifest = target / MANIFEST
    if old_manifest.is_file():  # shipped again (e.g. to add Brain-Score over training): keep what made the runs
        old = json.loads(old_manifest.read_text())
        changes = preset_differences(old.get("preset") or {}, to_dict(preset))
        changes.pop("description", None)  # words about the preset, not what it computes
        extended = set(changes) == {"train.epochs"} and changes["train.epochs"][1] > changes["train.epochs"][0]
        if not changes or extended:
            history = old.get("history", []) + [{k: old[k] for k in ("command", "commit", "started", "finished",
                                                                      "machine", "preset_changes") if k in old}]
            runs = {(entry["model_name"], entry["seed"]): entry for entry in old.get("runs", [])}
        if extended:
            step["preset_changes"] = changes
    for o in outcomes:  # a run reused by this sweep keeps the seconds it took when it was made
        if not (o.reused and (o.model, o.seed) in runs):
            earlier = runs.get((o.model, o.seed), {}).get("seconds", 0.0)  # an extended run: add its earlier time
            runs[(o.model, o.seed)] = {"model_name": o.model, "seed": o.seed, "seconds": round(earlier + o.seconds, 1)}
    train_seconds = curves.groupby(["model_name", "seed"])["epoch_seconds"].sum()
    for (model, seed), entry in runs.items():
        entry["train_seconds"] = round(float(train_seconds.get((model, seed), float("nan"))), 1)
    manifest = {"preset": to_dict(preset), **step, "history": history, "runs": list(runs.values()),
                "n_results": len(table),
                "over_training": sorted(set(dynamics["model_name"])) if dynamics is not None else []}
    atomic_write_text(staging / MANIFEST, json.dumps(manifest, indent=1) + "\n")
    if target.exists():
        old = target.with_name(f".{target.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        target.rename(old)
        staging.rename(target)
        shutil.rmtree(old)
    else:
        staging.rename(target)
    return target
