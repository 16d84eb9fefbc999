"""The ``cornet-repro`` command line: every subcommand, registered here.

    cornet-repro figure fig1 -p threshold 0.6 --out figures_out   # one figure notebook → PNG, PDF
    cornet-repro train --preset tiny --set epochs=3                 # train (torchrun: -m cornet_repro train)
    cornet-repro score runs/tiny                                    # score a run with its own preset
    cornet-repro score-model torchvision:resnet18 --results-dir results/mine   # score any model
    cornet-repro simulate --preset small                            # build the simulated experiment

Each ``cmd_*`` function parses nothing and computes nothing itself beyond calling the package:
options → a call → a one-line error or a printed summary.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, Sequence

import yaml

from .files import check_writable, writer_lock
from .notebook_parameters import ParameterError, check_values, cli_spelling, notebook_parameters
from .notebook_runner import (NOTEBOOK_DIR, NotebookError, _record_outputs, _stored_outputs, execute_notebook,
                              notebook_names, notebook_parameter_names)

#: Where ``figure`` says its parameters were set (errors, and the executed copy's parameters cell).
FIGURE_PARAMETERS = "cornet-repro figure -p"


def find_root(start: Path | None = None) -> Path:
    """The repository root: the nearest parent with ``_toc.yml`` and ``notebooks/``."""
    candidates = [Path(start or Path.cwd()).resolve(), Path(__file__).resolve().parent]
    for base in candidates:
        for folder in (base, *base.parents):
            if (folder / "_toc.yml").exists() and (folder / NOTEBOOK_DIR).is_dir():
                return folder
    raise SystemExit("cornet-repro: cannot find the repository (a folder with _toc.yml and notebooks/); "
                     "run from inside the clone or pass --root")


def resolve_notebook(root: Path, name: str) -> str:
    """``fig1`` → ``fig1_brainscore_vs_imagenet``: exact name or unique prefix."""
    names = notebook_names(root)
    if name in names:
        return name
    matches = [n for n in names if n.startswith(name + "_") or n.startswith(name)]
    if len(matches) == 1:
        return matches[0]
    hint = f"ambiguous: {matches}" if matches else f"available: {', '.join(names)}"
    raise SystemExit(f"cornet-repro: no single notebook called {name!r} ({hint})")


def parse_parameters(pairs: Sequence[Sequence[str]]) -> dict[str, Any]:
    """``-p name value`` pairs; values are read as YAML (0.6 → float, false → bool, [a, b] → list)."""
    out = {}
    for name, value in pairs:
        try:
            out[name] = yaml.safe_load(value)
        except yaml.YAMLError as exc:
            first = str(exc).splitlines()[0]
            raise ParameterError(f"{FIGURE_PARAMETERS}: parameter {name} = {value!r}: not valid YAML ({first}); "
                                 f"quote the value, e.g. -p {name} '\"{value}\"'") from None
    return out


def cmd_figure(args: argparse.Namespace) -> int:
    root = Path(args.root).resolve() if args.root else find_root()
    if args.list:
        for name in notebook_names(root):
            params = notebook_parameter_names(root / NOTEBOOK_DIR / f"{name}.ipynb")
            print(f"{name}: {', '.join(params)}")
        return 0
    if not args.name:
        raise SystemExit("cornet-repro figure: name a figure (e.g. fig1) or use --list")
    name = resolve_notebook(root, args.name)
    source = root / NOTEBOOK_DIR / f"{name}.ipynb"
    params = parse_parameters(args.parameter or [])
    # Before the output folder is touched and before the kernel starts.
    errors = check_values(name, notebook_parameters(source), params, where=FIGURE_PARAMETERS, spell=cli_spelling)
    if errors:
        raise ParameterError("\n".join(errors))
    out = Path(args.out).resolve()
    if "figure_dir" in notebook_parameter_names(source):
        params.setdefault("figure_dir", str(out))
    with writer_lock(out, "figure folder (--out)"):  # checks it is writable, before the notebook runs
        executed = out / f"{name}.ipynb"
        previous = _figure_files(out, name, executed)
        before = _modification_times(out)
        try:
            execute_notebook(source, executed, params, cwd=root, set_by="the command line (cornet-repro figure)")
        except NotebookError:
            # no stale figure shown as if current, no half-written one: remove this figure's files
            changed = [f for f, t in _modification_times(out).items() if before.get(f) != t]
            for path in {*previous, *changed}:
                path.unlink(missing_ok=True)
            raise
        written = sorted(f.name for f, t in _modification_times(out).items()
                         if before.get(f) != t and f.suffix in (".png", ".pdf", ".csv"))
        _record_outputs(executed, written)
    print(f"executed {executed}\nfigure files in {out}: {', '.join(written) or 'none (this notebook has no figure)'}")
    return 0


def _modification_times(folder: Path) -> dict[Path, int]:
    return {f: f.stat().st_mtime_ns for f in folder.iterdir() if f.is_file() and not f.name.startswith(".")}


def _figure_files(out: Path, name: str, executed: Path) -> list[Path]:
    """The files of figure ``name`` in ``out``: those its last run recorded, and ``fig1.png``-style
    names (``<name up to the first _>.png/.pdf``) for runs that recorded none."""
    short = name.split("_")[0]
    recorded = [out / f for f in _stored_outputs(executed) if "/" not in f]
    return recorded + [out / f"{short}.{ext}" for ext in ("png", "pdf", "csv")]


# ---------------------------------------------------------------------------------------------
# train
# ---------------------------------------------------------------------------------------------

def add_train_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The training options of ``cornet-repro train``."""
    from .presets import PRESETS

    parser.add_argument("--preset", default="tiny",
                        help=f"built-in preset ({', '.join(PRESETS)}) or a YAML file (default: tiny)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a preset field, e.g. --set epochs=3 --set model_config.width=0.5 "
                             "--set score.benchmarks=[V4] (keys under train. unless they name another section; "
                             "values read as YAML); the run keeps the whole preset, so scoring honours it too")
    parser.add_argument("--model", help="model name, e.g. cornet_s or a Fig. 4 variant such as cornet_s_skip_absent")
    parser.add_argument("--data-path", help="ImageNet ImageFolder root (train/ and val/ class folders)")
    parser.add_argument("--out-dir", help="the run directory: checkpoints, logs, preset (default: the preset's)")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--compile", action="store_true", help="torch.compile the model")
    parser.add_argument("--resume", action="store_true", help="continue from <out-dir>/checkpoint.pt if present")
    parser.add_argument("--overwrite", action="store_true",
                        help="delete the run already in <out-dir> and start afresh (without it, or --resume, "
                             "a folder holding a run is refused)")
    parser.add_argument("--print-config", action="store_true", help="print the resolved preset as YAML and exit")
    return parser


def preset_from_args(args: argparse.Namespace):
    """The preset named by ``--preset`` with the command line's overrides applied."""
    from .presets import PresetError, load_preset

    overrides: dict[str, Any] = {}
    for item in args.overrides:
        if "=" not in item:
            raise PresetError(f"--set {item!r}: expected KEY=VALUE")
        key, value = item.split("=", 1)
        if key.split(".")[0] not in ("train", "score", "brain_data", "name", "description"):
            key = "train." + key
        try:
            overrides[key] = yaml.safe_load(value)
        except yaml.YAMLError as error:
            first = str(error).splitlines()[0]
            raise PresetError(f"--set {item!r}: the value is not valid YAML ({first}); quote it or fix it") from None
    for option, key in (("model", "train.model"), ("data_path", "train.data_path"), ("out_dir", "train.out_dir"),
                        ("epochs", "train.epochs"), ("seed", "train.seed"), ("device", "train.device")):
        if getattr(args, option, None) is not None:
            overrides[key] = getattr(args, option)
    if getattr(args, "compile", False):
        overrides["train.compile"] = True
    return load_preset(args.preset, overrides)


def cmd_train(args: argparse.Namespace) -> int:
    from .presets import PresetError

    try:
        preset = preset_from_args(args)
    except PresetError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.print_config:
        print(preset.to_yaml())
        return 0
    from .train import train

    summary = train(preset, resume=args.resume, overwrite=args.overwrite)
    if int(os.environ.get("RANK", "0")) == 0:
        print(json.dumps({k: summary[k] for k in ("out_dir", "epochs_completed", "global_step", "val_top1",
                                                  "images_per_s", "model_path")}, indent=1))
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()
    return 0


# ---------------------------------------------------------------------------------------------
# score
# ---------------------------------------------------------------------------------------------

def cmd_score(args: argparse.Namespace) -> int:
    from .pipeline import score_run
    from .presets import PresetError
    from .results import read_result

    from .cache import cache_dir

    check_writable(cache_dir(args.cache), "cache folder (--cache)", write=False)  # read-only may hold it all
    try:
        path = score_run(args.run, args.results_dir, preset=args.preset, cache=args.cache, progress=args.progress,
                         conventions=args.conventions)
    except PresetError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    result = read_result(path)
    composite = result.get("composite", "paper")
    headline = result["brain_score"] if composite == "paper" else result.get("brain_score_fig4")
    print(json.dumps({"result": str(path), "source": result["source"], "preset": result["preset"],
                      "scores": {k: (v or {}).get("value") for k, v in result["scores"].items()},
                      "brain_score": (headline or {}).get("value"), "composite": composite,
                      "conventions": _conventions_label(result)}, indent=1))
    return 0


# ---------------------------------------------------------------------------------------------
# score-model
# ---------------------------------------------------------------------------------------------

def cmd_score_model(args: argparse.Namespace) -> int:
    from .models.user import ModelSpecError
    from .models.weights import WeightsError
    from .own_model import MemoryError_, score_own_model
    from .presets import PresetError

    layers = [n.strip() for n in args.layers.split(",") if n.strip()] if args.layers else None
    benchmarks = [n.strip() for n in args.benchmarks.split(",") if n.strip()] if args.benchmarks else None
    pca_stimuli = None
    if args.pca and not args.pca_images:
        print("error: --pca needs --pca-images DIR, the images to fit the PCA on (Brain-Score: 1,000 ImageNet "
              "validation images; give the val/ folder of an ImageFolder tree)", file=sys.stderr)
        return 1
    check_writable(args.results_dir, "results folder (--results-dir)")  # before the scoring work, not after it
    try:
        if args.pca_images:
            from .activations import imagenet_pca_images

            pca_stimuli = imagenet_pca_images(args.pca_images)
        result = score_own_model(args.model, weights=args.weights, name=args.name, layers=layers,
                                 behavior_layer=args.behavior_layer, data=args.data, preset=args.preset,
                                 image_size=args.image_size, batch_size=args.batch_size, pca_components=args.pca,
                                 pca_stimuli=pca_stimuli, benchmarks=benchmarks, results_dir=args.results_dir, cache=args.cache,
                                 check_memory=not args.no_memory_check, progress=not args.quiet,
                                 log=lambda line: print(line, file=sys.stderr), conventions=args.conventions)
    except (ModelSpecError, WeightsError, MemoryError_, PresetError, FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    scores = result["scores"]
    print(json.dumps({"result": result.get("path"), "model": result["model"], "source": result["source"],
                      "scores": {k: (v or {}).get("value") for k, v in scores.items()},
                      "layers": {k: v.get("layer") for k, v in scores.items() if v.get("layer")},
                      "brain_score": (result.get("brain_score") or {}).get("value"),
                      "conventions": _conventions_label(result)}, indent=1))
    return 0


def _conventions_label(result: dict) -> str:
    """How a result's scores were ceiled, in words (records made before conventions: the paper's)."""
    from .protocol import conventions

    return conventions((result.get("conventions") or {}).get("name", "paper-2019")).label


# ---------------------------------------------------------------------------------------------
# sweep
# ---------------------------------------------------------------------------------------------

def cmd_sweep(args: argparse.Namespace) -> int:
    from datetime import datetime, timezone

    from .data.shipped import SHIPPED_DIR
    from .sweeps import FIG4_SWEEP_MODELS, over_training, plateau_check, run_sweep, ship

    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    preset = preset_from_args(args)
    models = FIG4_SWEEP_MODELS if args.models == "fig4" else [m.strip() for m in args.models.split(",") if m.strip()]
    if args.jobs < 1:
        raise ValueError(f"--jobs {args.jobs}: the number of runs at once is at least 1, e.g. --jobs 2")
    if any(s < 0 for s in args.seeds):
        raise ValueError(f"--seeds {' '.join(map(str, args.seeds))}: seeds are integers >= 0, e.g. --seeds 0 1 2")
    options = {}
    for item in args.cluster_option:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--cluster-option {item!r}: write KEY=VALUE, e.g. --cluster-option gpus_per_node=4")
        options[key] = yaml.safe_load(value)
    if options and not args.cluster:
        raise ValueError("--cluster-option is given without --cluster; add --cluster slurm (or local)")
    if args.ship and ("/" in args.ship or args.ship.startswith(".")):
        raise ValueError(f"--ship {args.ship!r}: a plain name such as plateau (it becomes {SHIPPED_DIR}/NAME)")
    tracked = [m.strip() for m in args.over_training.split(",") if m.strip()] if args.over_training else []
    if set(tracked) - set(models):
        raise ValueError(f"--over-training {args.over_training}: {sorted(set(tracked) - set(models))} not in --models; "
                         "score over training only models the sweep trains")
    if tracked and not preset.train.keep_epoch_checkpoints:
        raise ValueError("--over-training needs the weights of every epoch: add --set keep_epoch_checkpoints=true")
    log = lambda line: print(line, file=sys.stderr)  # noqa: E731
    if args.estimate:
        from .sweeps import estimate_cost

        cost = estimate_cost(preset, models, len(args.seeds), mfu=args.mfu, gpu=args.gpu)
        print(cost.to_string(index=False, float_format=lambda v: f"{v:,.1f}"))
        print(f"total: {cost.gpu_hours.sum():,.0f} {args.gpu} GPU-hours for {len(models)} models x {len(args.seeds)} "
              f"seeds at preset {preset.name}, assuming {args.mfu:.0%} of the GPU's bf16 peak (training only; "
              "scoring and evaluation not counted)")
        return 0
    outcomes = run_sweep(preset, models, args.seeds, args.results_dir, args.runs_dir, jobs=args.jobs,
                         cluster=args.cluster, cluster_options=options, log=log)
    print(f"{len(outcomes)} runs of preset {preset.name} in {args.results_dir}")
    dynamics = over_training(args.runs_dir, preset, tracked, args.seeds, jobs=args.jobs, log=log) if tracked else None
    if args.ship:
        # the shipped learning curves come with a plateau check that BatchNorm's noise cannot fool
        checked = preset.train.keep_epoch_checkpoints and preset.train.epochs >= 2
        plateau = plateau_check(args.runs_dir, preset, models, args.seeds, jobs=args.jobs) if checked else None
        folders = [*(["--results-dir", args.results_dir] if args.results_dir != "results/sweep" else []),
                   *(["--runs-dir", args.runs_dir] if args.runs_dir != "runs/sweep" else [])]
        command = " ".join(["cornet-repro", "sweep", "--preset", str(args.preset),
                            *[f"--set {item}" for item in args.overrides], "--models", args.models,
                            "--seeds", *map(str, args.seeds), "--jobs", str(args.jobs), *folders,
                            *(["--over-training", args.over_training] if args.over_training else []),
                            "--ship", args.ship])
        target = ship(args.results_dir, SHIPPED_DIR / args.ship, preset=preset, command=command, started=started,
                      outcomes=outcomes, dynamics=dynamics, plateau=plateau)
        print(f"shipped to {target}")
    return 0


# ---------------------------------------------------------------------------------------------
# simulate
# ---------------------------------------------------------------------------------------------

def cmd_simulate(args: argparse.Namespace) -> int:
    from .data.simulated import simulated_experiment
    from .presets import PresetError, load_preset

    try:
        preset = load_preset(args.preset)
    except PresetError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if preset.simulated is None:
        print(f"error: preset {preset.name!r} has no simulated world (it uses real data)", file=sys.stderr)
        return 2
    from .cache import cache_dir

    check_writable(cache_dir(args.cache), "cache folder (--cache)", write=False)  # read-only may hold it all
    experiment = simulated_experiment(preset.simulated, cache=args.cache, rebuild=args.rebuild)
    print(json.dumps({"directory": str(experiment.directory), "stimuli": len(experiment.stimuli),
                      "neural": dict(experiment.neural.sizes), "neural_temporal": dict(experiment.neural_temporal.sizes),
                      "human_trials": int(experiment.human.sizes["presentation"])}, indent=1))
    return 0


# ---------------------------------------------------------------------------------------------
# the parser
# ---------------------------------------------------------------------------------------------

_CONVENTION_CHOICES = ("paper-2019", "brainscore-2.4")  # protocol.CONVENTIONS, without importing it at start-up
_CACHE_HELP = "data cache (default: $CORNET_REPRO_CACHE or ~/.cache/cornet_repro)"


def build_parser() -> argparse.ArgumentParser:
    from .presets import preset_help

    parser = argparse.ArgumentParser(prog="cornet-repro", description=__doc__.split("\n\n")[0])
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error (default: one line)")
    sub = parser.add_subparsers(dest="command", required=True)

    fig = sub.add_parser("figure", help="run one figure notebook with parameters; write PNG and PDF",
                         description="Run notebooks/<name>.ipynb through papermill with parameters.")
    fig.add_argument("name", nargs="?", help="figure notebook: fig1 … fig5, table_a1, claims_check")
    fig.add_argument("-p", "--parameter", nargs=2, action="append", metavar=("NAME", "VALUE"),
                     help="set a parameter of the notebook's parameters cell (value read as YAML)")
    fig.add_argument("--out", default="figures_out", help="output folder (default: figures_out)")
    fig.add_argument("--root", help="repository root (default: found from the current folder)")
    fig.add_argument("--list", action="store_true", help="list the notebooks and their parameters")
    fig.set_defaults(func=cmd_figure)

    train = sub.add_parser("train", help="train a model (presets tiny / small / paper)",
                           description="Train a model with the paper's recipe (§2.2), on one CPU or many GPUs "
                                       "(torchrun --nproc_per_node N -m cornet_repro train ...).",
                           epilog="presets:\n" + preset_help(), formatter_class=argparse.RawDescriptionHelpFormatter)
    add_train_arguments(train)
    train.set_defaults(func=cmd_train)

    score = sub.add_parser("score", help="score a trained run with its own preset; write a result file",
                           description="Score a training run on the brain data and benchmarks of the preset it "
                                       "was trained with (every --set of training included).")
    score.add_argument("run", help="a training run directory (or one of its .pt files)")
    score.add_argument("--results-dir", default="results", help="where result files go (default: results)")
    score.add_argument("--preset", help="score with this preset instead of the run's own (needed only for runs "
                                        "that record none)")
    score.add_argument("--cache", help=_CACHE_HELP)
    score.add_argument("--progress", action="store_true", help="show progress bars")
    score.add_argument("--conventions", choices=_CONVENTION_CHOICES,
                       help="paper-2019: r / ceiling, as the paper (default: the preset's); brainscore-2.4: "
                            "r² / ceiling and unceiled errors, as brainscore-vision 2.4.x")
    score.set_defaults(func=cmd_score)

    own = sub.add_parser("score-model", help="score any PyTorch model on the paper's benchmarks (simulated by default)",
                         description="Score any PyTorch model on the paper's benchmarks: V4 and IT choose their "
                                     "layer among candidates on training splits only (the layer map of every "
                                     "candidate is kept), behaviour reads the layer before the classifier. The "
                                     "memory needed is estimated first; above what is free, nothing runs.")
    own.add_argument("model", help="torchvision:NAME, package.module:factory (your code), or a registry name "
                                   "such as cornet_s")
    own.add_argument("--weights", help="a state-dict file for the model (read with torch.load(weights_only=True))")
    own.add_argument("--layers", help="candidate layers for V4 and IT, comma-separated module names "
                                      "(default: proposed from the architecture)")
    own.add_argument("--behavior-layer", help="the behavioural readout layer (default: the one before the classifier)")
    own.add_argument("--data", default="simulated", choices=("simulated", "real", "real-public"),
                     help="simulated (offline, default), real (the paper's Brain-Score files) or real-public "
                          "(V4 and IT on MajajHong2015.public)")
    own.add_argument("--preset", default="small", help="whose simulated world and image size (default: small)")
    own.add_argument("--image-size", type=int, help="input size in pixels (default: the preset's; real data: 224)")
    own.add_argument("--batch-size", type=int, default=64)
    own.add_argument("--pca", type=int, default=0, metavar="N",
                     help="reduce each layer to N principal components (Brain-Score: 1000; default: off)")
    own.add_argument("--pca-images", metavar="DIR", help="the images the PCA is fit on: one folder per class, "
                                                         "as ImageNet's val/ (Brain-Score: 1,000 of them)")
    own.add_argument("--benchmarks", help="comma-separated subset of V4, IT, behavior, OST")
    own.add_argument("--name", help="the name to show in figures (default: the model spec)")
    own.add_argument("--results-dir", default="results", help="where the result file goes (default: results)")
    own.add_argument("--cache", help=_CACHE_HELP)
    own.add_argument("--no-memory-check", action="store_true", help="score even above the memory estimate")
    own.add_argument("--quiet", action="store_true", help="no progress bars")
    own.add_argument("--conventions", choices=_CONVENTION_CHOICES, default="paper-2019",
                     help="paper-2019 (default): r / ceiling, as the paper; brainscore-2.4: r² / ceiling and "
                          "unceiled errors, as brainscore-vision 2.4.x")
    own.set_defaults(func=cmd_score_model)

    sweep = sub.add_parser("sweep", help="train and score models x seeds with one preset, here or on a cluster",
                           description="Train and score every (model, seed) with one preset: here, --jobs at a "
                                       "time, or on a SLURM cluster through submitit (one job per run, resumed "
                                       "from its last checkpoint when preempted). Finished runs are not retrained.")
    sweep.add_argument("--preset", default="plateau", help="built-in preset or a YAML file (default: plateau)")
    sweep.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                       help="override a preset field (as for train), e.g. --set epochs=3")
    sweep.add_argument("--models", default="fig4",
                       help="comma-separated model names, or fig4 (CORnet-S and every Fig. 4 variant; default)")
    sweep.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds (default: 0 1 2)")
    sweep.add_argument("--jobs", type=int, default=1, help="runs at once on this machine (default: 1)")
    sweep.add_argument("--results-dir", default="results/sweep", help="where result files go (default: results/sweep)")
    sweep.add_argument("--runs-dir", default="runs/sweep", help="where training runs go (default: runs/sweep)")
    sweep.add_argument("--cluster", choices=("slurm", "local"),
                       help="submit through submitit: slurm, or local (submitit's local executor)")
    sweep.add_argument("--cluster-option", action="append", default=[], metavar="KEY=VALUE",
                       help="a submitit executor parameter, e.g. gpus_per_node=4, tasks_per_node=4, "
                            "timeout_min=2880, slurm_partition=gpu")
    sweep.add_argument("--over-training", metavar="MODELS",
                       help="also score these models (comma-separated) after every epoch: Brain-Score over "
                            "training (needs keep_epoch_checkpoints, as the plateau preset has)")
    sweep.add_argument("--estimate", action="store_true",
                       help="print what the sweep's training costs in GPU-hours (from FLOPs) and exit")
    sweep.add_argument("--mfu", type=float, default=0.4,
                       help="for --estimate: the assumed fraction of the GPU's bf16 peak (default: 0.4)")
    sweep.add_argument("--gpu", default="A100", help="for --estimate: the GPU (default: A100)")
    sweep.add_argument("--ship", metavar="NAME",
                       help="then copy the results, learning curves (with a plateau check, when every "
                            "epoch's weights are kept) and a manifest into the package's shipped sweeps "
                            "(cornet_repro/data/shipped/NAME), which the book reads")
    sweep.set_defaults(func=cmd_sweep)

    simulate = sub.add_parser("simulate", help="generate the simulated experiment of a preset (cached)",
                              description="Generate the simulated stimuli, monkey and human data of a preset as "
                                          "BrainIO files (a stand-in, never a reproduction).")
    simulate.add_argument("--preset", default="small", help="tiny, small, or a YAML preset (default: small)")
    simulate.add_argument("--cache", help=_CACHE_HELP)
    simulate.add_argument("--rebuild", action="store_true", help="regenerate even if cached")
    simulate.set_defaults(func=cmd_simulate)
    for command in sub.choices.values():  # --debug after the subcommand too; SUPPRESS keeps the global value
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run a subcommand; any error is one line on stderr (``error: <where>: <what>; <fix>``) and
    exit code 1 (2 for a bad preset or parameter), unless ``--debug`` asks for the traceback."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        if args.debug:
            raise
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001 - every failure becomes one line; --debug shows the rest
        if args.debug:
            raise
        from .presets import PresetError

        if isinstance(error, ParameterError):  # one line per mistake
            for line in str(error).splitlines():
                print(f"error: {' '.join(line.split())}", file=sys.stderr)
            return 2
        print(f"error: {describe_error(error)}", file=sys.stderr)
        return 2 if isinstance(error, PresetError) else 1


# errors whose message already names the file or parameter and the fix
def _known_errors() -> tuple[type, ...]:
    from .models.weights import WeightsError
    from .presets import PresetError
    from .sweeps import SweepError  # names each failed run and its error (which names the fix)

    return (PresetError, WeightsError, NotebookError, SweepError, ValueError, OSError, FloatingPointError)


def describe_error(error: BaseException) -> str:
    """One line for an error: the package's own messages as they are, OSErrors as '<file>: <what>'."""
    if isinstance(error, yaml.YAMLError):
        text = f"not valid YAML ({str(error).splitlines()[0]}); fix the file or value"
    elif isinstance(error, OSError) and error.filename and error.strerror:
        text = f"{error.filename}: {error.strerror.lower()}; check the path and its permissions"
    elif isinstance(error, _known_errors()) and str(error):
        text = str(error)
    else:
        text = (f"unexpected {type(error).__name__}: {error} (rerun with --debug for the traceback, and please "
                "report it)")
    return " ".join(text.split())


if __name__ == "__main__":
    sys.exit(main())
