"""Presets: named scales of the whole pipeline (training, data, scoring) as plain data.

===========  ===========================================================================================
``tiny``     tests and CI: 32 px, CORnet width 1/8, 16 simulated objects, 320 training images,
             2 epochs; any model trains and scores in well under a minute on 2 CPU cores.
``small``    the book's default on a CPU: 64 px, width 1/8, 32 simulated objects (8 categories × 4),
             2,560 training images, 4 epochs; 15–70 s per model on one core (CORnet-S: ~25 s, val.
             top-1 ≈ .2, chance .03; Brain-Score without OST ≈ .2).
``plateau``  Fig. 4's sweep (shipped, see :mod:`cornet_repro.data.shipped`): the ``small`` world
             trained to a plateau: 1,920 validation images, 17 epochs: lr .02 for 7, .002 for 7,
             .0002 for 3, as the paper's 20/20/3 (CORnet-S ~3 min on one core; every Fig. 4 variant ×
             3 seeds ~1.5 h on 2 cores).
``paper``    the paper's recipe (§2.2): ImageNet from an ImageFolder, 224 px, batch 256, SGD momentum
             .9, weight decay 1e-4, lr .1 divided by 10 every 20 epochs, 43 epochs; real Brain-Score
             data. GPUs (DDP through ``torchrun``); days.
===========  ===========================================================================================

A preset is a frozen dataclass tree (:class:`Preset` → :class:`TrainConfig`, :class:`ScoreConfig`,
:class:`~cornet_repro.data.simulated.SimulatedConfig`), not a branch in the code: the code reads
fields, never preset names. Presets load from / dump to YAML (:func:`load_preset`,
:meth:`Preset.to_yaml`) and take dotted overrides (``train.epochs=3``); unknown keys and bad values
raise errors naming the key and what is allowed.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .data.simulated import SimulatedConfig
from .protocol import BENCHMARK_NAMES, COMPOSITES, CONVENTIONS

__all__ = ["TrainConfig", "ScoreConfig", "Preset", "PRESETS", "get_preset", "load_preset", "preset_help",
           "preset_differences", "from_dict", "to_dict", "PresetError"]


class PresetError(ValueError):
    """A preset (or an override) has an unknown key or an invalid value."""


_MAX_LR = 1e6  # far above any usable rate, far below float32's overflow (which fails opaquely)


@dataclass(frozen=True)
class TrainConfig:
    """Everything :func:`cornet_repro.train.train` needs; stored in every checkpoint.

    Data: ``data='simulated'`` trains on :class:`~cornet_repro.data.simulated.SimulatedObjects`
    of the ``simulated`` world (``n_train`` / ``n_val`` images); ``data='imagenet'`` reads an
    ImageFolder tree at ``data_path`` (``train/`` and ``val/`` with one folder per class).
    ``batch_size`` is the global batch (split over DDP processes). The learning rate is ``lr``
    multiplied by ``lr_gamma`` every ``lr_step_epochs`` epochs.
    """

    model: str = "cornet_s"
    model_config: Mapping[str, Any] = field(default_factory=dict)  # e.g. {"width": 0.25}; see get_model
    data: str = "imagenet"
    data_path: str | None = None
    simulated: SimulatedConfig | None = None
    n_train: int = 0  # simulated only
    n_val: int = 0  # simulated only
    image_size: int = 224  # training crop and validation crop
    val_resize: int = 256  # validation: resize the short side, then center-crop image_size
    crop_scale: tuple[float, float] = (0.08, 1.0)  # RandomResizedCrop area range
    hflip: bool = True
    epochs: int = 43
    batch_size: int = 256
    lr: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 1e-4
    lr_step_epochs: int = 20
    lr_gamma: float = 0.1
    seed: int = 0
    num_workers: int = 8
    deterministic: bool = False  # torch.use_deterministic_algorithms (bit-exact resume on CPU)
    threads: int = 0  # torch intra-op threads per process (0: PyTorch's default)
    device: str = "auto"  # auto | cpu | cuda
    amp: str = "auto"  # auto (bf16 on CUDA) | bf16 | off
    channels_last: str = "auto"  # auto (on CUDA) | on | off
    compile: bool = False  # torch.compile the training model
    checkpoint_every_steps: int = 0  # also checkpoint every N optimizer steps (0: epoch ends only)
    keep_epoch_checkpoints: bool = False  # keep model weights of every epoch (paper: pick by Brain-Score)
    max_steps: int = 0  # stop after this many optimizer steps in total (0: no limit); benchmarks
    log_every_steps: int = 0  # also log a JSONL line every N steps (0: epoch lines only)
    progress: bool = True  # tqdm bar on rank 0
    peak_tflops: float = 0.0  # device peak for MFU (0: look the GPU up; unknown → no MFU)
    out_dir: str = "runs/default"

    def __post_init__(self) -> None:
        for name in ("crop_scale",):
            value = getattr(self, name)
            if isinstance(value, list):
                object.__setattr__(self, name, tuple(value))
        if isinstance(self.simulated, Mapping):
            object.__setattr__(self, "simulated", from_dict(SimulatedConfig, self.simulated, "train.simulated"))
        object.__setattr__(self, "model_config", dict(self.model_config))
        self.validate()

    def validate(self) -> None:
        _choice("train.data", self.data, ("simulated", "imagenet"))
        _choice("train.device", self.device, ("auto", "cpu", "cuda"))
        _choice("train.amp", self.amp, ("auto", "bf16", "off"))
        _choice("train.channels_last", self.channels_last, ("auto", "on", "off"))
        if self.data == "simulated":
            if self.simulated is None:
                raise PresetError("train.data='simulated' needs train.simulated (a SimulatedConfig)")
            if self.n_train < 1 or self.n_val < 1:
                raise PresetError(f"train.data='simulated' needs train.n_train and train.n_val >= 1, "
                                  f"got {self.n_train} and {self.n_val}")
            if self.data_path:
                raise PresetError(f"train.data_path={self.data_path!r} is given, but train.data='simulated' "
                                  "trains on generated images and would ignore it; drop --data-path, or "
                                  "--set data=imagenet to train on that folder")
        for name in ("image_size", "epochs", "batch_size", "lr_step_epochs"):
            if getattr(self, name) < 1:
                raise PresetError(f"train.{name} must be >= 1, got {getattr(self, name)}")
        for name in ("num_workers", "threads", "checkpoint_every_steps", "max_steps", "log_every_steps"):
            if getattr(self, name) < 0:
                raise PresetError(f"train.{name} must be >= 0, got {getattr(self, name)}")
        if self.val_resize < self.image_size:
            raise PresetError(f"train.val_resize ({self.val_resize}) must be >= train.image_size ({self.image_size})")
        for name in ("lr", "momentum", "weight_decay", "lr_gamma", "peak_tflops", "crop_scale"):
            _finite(f"train.{name}", getattr(self, name))
        if self.lr > _MAX_LR:
            raise PresetError(f"train.lr={self.lr}: out of range (at most {_MAX_LR:g}; the paper's recipe uses .1)")
        if self.peak_tflops < 0:
            raise PresetError(f"train.peak_tflops must be >= 0 (0: look the GPU up), got {self.peak_tflops}")
        lo, hi = self.crop_scale
        if not 0 < lo <= hi <= 1:
            raise PresetError(f"train.crop_scale must satisfy 0 < low <= high <= 1, got {self.crop_scale}")
        if self.lr <= 0 or not 0 <= self.momentum < 1 or self.weight_decay < 0 or not 0 < self.lr_gamma <= 1:
            raise PresetError("train: need lr > 0, 0 <= momentum < 1, weight_decay >= 0, 0 < lr_gamma <= 1; got "
                              f"lr={self.lr}, momentum={self.momentum}, weight_decay={self.weight_decay}, "
                              f"lr_gamma={self.lr_gamma}")


@dataclass(frozen=True)
class ScoreConfig:
    """How trained models are scored (see :mod:`cornet_repro.results`).

    ``image_size``: model input in pixels (paper: images resized to 224). ``pca_components``: PCA
    of each layer's features before the neural fits (paper: 1,000, fitted on ImageNet validation
    images; 0 = no PCA). ``benchmarks``: which of V4, IT, behavior, OST to score.
    ``composite``: which Brain-Score the run reports as its own (result field ``composite``;
    ``cornet-repro score`` prints it): ``'paper'`` (mean of V4, IT, behaviour, OST) or ``'fig4'``
    (without OST); each is computed whenever all its parts were scored. ``conventions``: how scores
    are ceiled and their errors reported (:data:`cornet_repro.protocol.CONVENTIONS`): ``'paper-2019'``
    (r / ceiling, the paper's) or ``'brainscore-2.4'`` (Brain-Score 2.4.x's r² / ceiling and
    unceiled errors, to compare with today's leaderboard).
    """

    image_size: int = 224
    batch_size: int = 64
    benchmarks: tuple[str, ...] = BENCHMARK_NAMES
    pca_components: int = 0
    composite: str = "paper"
    conventions: str = "paper-2019"

    def __post_init__(self) -> None:
        if isinstance(self.benchmarks, list):
            object.__setattr__(self, "benchmarks", tuple(self.benchmarks))
        unknown = sorted(set(self.benchmarks) - set(BENCHMARK_NAMES))
        if unknown:
            raise PresetError(f"score.benchmarks: unknown {unknown}; allowed {', '.join(BENCHMARK_NAMES)}")
        if not self.benchmarks:
            raise PresetError(f"score.benchmarks is empty; choose from {', '.join(BENCHMARK_NAMES)}")
        _choice("score.composite", self.composite, tuple(COMPOSITES))
        _choice("score.conventions", self.conventions, tuple(CONVENTIONS))
        if self.image_size < 1 or self.batch_size < 1 or self.pca_components < 0:
            raise PresetError("score: need image_size >= 1, batch_size >= 1, pca_components >= 0")


@dataclass(frozen=True)
class Preset:
    """A named scale of the pipeline: how to train, on which data, and how to score."""

    name: str
    description: str
    train: TrainConfig
    score: ScoreConfig
    brain_data: str = "simulated"  # simulated | real

    def __post_init__(self) -> None:
        _choice("brain_data", self.brain_data, ("simulated", "real"))
        if self.brain_data == "simulated" and self.train.simulated is None:
            raise PresetError("brain_data='simulated' needs train.simulated (the simulated world)")

    @property
    def simulated(self) -> SimulatedConfig | None:
        """The simulated world (training images and brain data), if any."""
        return self.train.simulated

    def replace(self, overrides: Mapping[str, Any] | None = None, **kwargs: Any) -> "Preset":
        """A copy with dotted overrides applied, e.g. ``{"train.epochs": 3, "train.simulated.seed": 1}``."""
        data = to_dict(self)
        for key, value in {**(overrides or {}), **kwargs}.items():
            parts = key.split(".")
            node = data
            for i, part in enumerate(parts[:-1]):
                if not isinstance(node.get(part), dict):
                    where = ".".join(parts[: i + 1])
                    raise PresetError(f"override {key!r}: {where!r} is not a section; sections: "
                                      f"{[k for k, v in node.items() if isinstance(v, dict)]}")
                node = node[part]
            if parts[-1] not in node and parts[-1] != "model_config" and parts[-2:-1] != ["model_config"]:
                raise PresetError(_unknown_message(key, parts[-1], list(node)))
            node[parts[-1]] = value
        return from_dict(Preset, data, "preset")

    def to_yaml(self) -> str:
        import yaml
        return yaml.safe_dump(to_dict(self), sort_keys=False)


# ---------------------------------------------------------------------------------------------
# dict <-> dataclass, with errors that name the key
# ---------------------------------------------------------------------------------------------

def _choice(name: str, value: Any, allowed: tuple) -> None:
    if value not in allowed:
        raise PresetError(f"{name}={value!r}: allowed values are {list(allowed)}")


def _finite(name: str, value: Any) -> None:
    # NaN passes every comparison check (nan <= 0 is False): test it by name, before the ranges
    values = value if isinstance(value, (tuple, list)) else (value,)
    if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in values):
        raise PresetError(f"{name}={value!r}: must be a finite number")


def _unknown_message(where: str, key: str, valid: list[str]) -> str:
    close = difflib.get_close_matches(key, valid, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown key {where!r}{hint}; valid keys: {valid}"


def to_dict(obj: Any) -> Any:
    """A dataclass tree as plain dicts/lists (JSON and YAML ready)."""
    if dataclasses.is_dataclass(obj):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Mapping):
        return {str(k): to_dict(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_dict(v) for v in obj]
    return obj


_NESTED = {"train": TrainConfig, "score": ScoreConfig, "simulated": SimulatedConfig}


def from_dict(cls: type, data: Mapping[str, Any], where: str = "") -> Any:
    """Build dataclass ``cls`` from a mapping; unknown keys and wrong types raise :class:`PresetError`."""
    if not isinstance(data, Mapping):
        raise PresetError(f"{where or cls.__name__}: expected a mapping, got {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for key, value in data.items():
        path = f"{where}.{key}" if where else key
        if key not in fields:
            raise PresetError(_unknown_message(path, key, list(fields)))
        if key in _NESTED and isinstance(value, Mapping):
            value = from_dict(_NESTED[key], value, path)
        kwargs[key] = _coerce(path, value, hints[key])
    try:
        return cls(**kwargs)
    except PresetError:
        raise
    except (TypeError, ValueError) as error:
        raise PresetError(f"{where or cls.__name__}: {error}") from error


def _coerce(path: str, value: Any, hint: Any) -> Any:
    """Check (and gently convert: int → float, list → tuple) a value against a type hint."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(path, value, arg)
            except PresetError as error:
                errors.append(str(error))
        raise PresetError(errors[0] if errors else f"{path}: invalid value {value!r}")
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is float and isinstance(value, float) and not math.isfinite(value):
        raise PresetError(f"{path}={value!r}: expected a finite number")
    if hint in (int, float, str, bool):
        if not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
            raise PresetError(f"{path}={value!r}: expected {hint.__name__}")
        return value
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise PresetError(f"{path}={value!r}: expected a list")
        item = args[0] if args else Any
        return tuple(_coerce(f"{path}[{i}]", v, item) for i, v in enumerate(value))
    return value


# ---------------------------------------------------------------------------------------------
# the presets
# ---------------------------------------------------------------------------------------------

_TINY_WORLD = SimulatedConfig(seed=0, n_categories=4, n_objects_per_category=4, images_per_object=4,
                              image_size=32, n_v4=24, n_it=48, n_repetitions=8,
                              behavior_images_per_object=2, human_trials_per_cell=24)
_SMALL_WORLD = SimulatedConfig(seed=0, n_categories=8, n_objects_per_category=4, images_per_object=6,
                               image_size=64, n_v4=40, n_it=80, n_repetitions=10,
                               behavior_images_per_object=4, behavior_n_objects=24, human_trials_per_cell=24)

PRESETS: dict[str, Preset] = {p.name: p for p in [
    Preset(
        name="tiny",
        description="tests and CI: 32 px, width 1/8, 16 simulated objects, 320 images, 2 epochs (seconds)",
        train=TrainConfig(model_config={"width": 0.125}, data="simulated", simulated=_TINY_WORLD,
                          n_train=320, n_val=64, image_size=32, val_resize=32, crop_scale=(0.6, 1.0),
                          epochs=2, batch_size=32, lr=0.05, lr_step_epochs=20, num_workers=0,
                          out_dir="runs/tiny"),
        score=ScoreConfig(image_size=32, batch_size=64),
        brain_data="simulated"),
    Preset(
        name="small",
        description="the book on a CPU: 64 px, width 1/8, 32 simulated objects, 2,560 images, 4 epochs (CORnet-S ~25 s)",
        # Tuned for the book's budget (15 models x 2 seeds in a clean build under 10 minutes on
        # 2 cores; measured in benchmarks/bench_book.py). Batch 32 / lr .05 and milder crops learn
        # faster than the paper-like batch 64 / lr .1 / crops from 8%: CORnet-S val. top-1 .20-.24
        # after 4 epochs (chance .03), .23-.28 after 5 (where the paper-like recipe had .13-.16).
        train=TrainConfig(model_config={"width": 0.125}, data="simulated", simulated=_SMALL_WORLD,
                          n_train=2560, n_val=640, image_size=64, val_resize=64, crop_scale=(0.8, 1.0),
                          epochs=4, batch_size=32, lr=0.05, lr_step_epochs=3, num_workers=0,
                          out_dir="runs/small"),
        score=ScoreConfig(image_size=64, batch_size=64),
        brain_data="simulated"),
    Preset(
        name="plateau",
        description="Fig. 4's sweep: the small world trained to a plateau, 17 epochs at lr .02, "
                    "÷10 every 7 epochs (CORnet-S ~3 min on one core)",
        # Measured in benchmarks/bench_plateau.py (learning curves of CORnet-S and 10/10/10): the
        # small preset's lr .05 at batch 32 (4x the paper's lr per image) sends the deeper
        # recurrent variants to chance in the first epoch (10/10/10: loss 5.7, then uniform
        # guesses); lr .02 trains all of them. Validation top-1 jumps when the rate drops ten-fold
        # after epoch 7. At 10 epochs (the first shipped sweep) 9 of 45 runs still rose by 1-2.4
        # points in the last epoch: the slow learners (10/10/10, group norm, no skip, 4/8/4) kept
        # climbing ~1 point per epoch at .002. At 15 epochs (7 at .002, then 1 at .0002) 17 of 45
        # rose by 1-3.9 points in the last epoch: the first epoch after a drop jumps, as epoch 8
        # does. So the schedule ends as the paper's does (20/20/3 epochs): 7/7/3, the last two
        # epochs at the final rate. The plateau check recomputes BatchNorm's statistics
        # (sweeps.plateau_check): the logged values carry ~1 point of noise from BatchNorm's
        # running averages (benchmarks/bench_bn_noise.py). 1,920 validation images: ~1 point of binomial s.e.
        # at top-1 .35, so "rose by < 1 point over the last epoch" can be read. One thread per run
        # makes a run's numbers independent of how many run at once (the shipped sweep was made
        # two at a time; the book re-executes some runs and compares them with it).
        train=TrainConfig(model_config={"width": 0.125}, data="simulated", simulated=_SMALL_WORLD,
                          n_train=2560, n_val=1920, image_size=64, val_resize=64, crop_scale=(0.8, 1.0),
                          epochs=17, batch_size=32, lr=0.02, lr_step_epochs=7, num_workers=0, threads=1,
                          keep_epoch_checkpoints=True, progress=False, out_dir="runs/plateau"),
        score=ScoreConfig(image_size=64, batch_size=64),
        brain_data="simulated"),
    Preset(
        name="paper",
        description="the paper's recipe (§2.2): ImageNet, 224 px, batch 256, SGD .9, wd 1e-4, "
                    "lr .1 ÷10 every 20 epochs, 43 epochs; real Brain-Score data; GPUs",
        train=TrainConfig(data="imagenet", image_size=224, val_resize=256, crop_scale=(0.08, 1.0), epochs=43,
                          batch_size=256, lr=0.1, momentum=0.9, weight_decay=1e-4, lr_step_epochs=20,
                          lr_gamma=0.1, num_workers=8, checkpoint_every_steps=1000, keep_epoch_checkpoints=True,
                          log_every_steps=100, out_dir="runs/paper"),
        score=ScoreConfig(image_size=224, batch_size=64, pca_components=1000),
        brain_data="real"),
]}


def get_preset(name: str, overrides: Mapping[str, Any] | None = None) -> Preset:
    """A built-in preset by name, with optional dotted overrides."""
    if name not in PRESETS:
        close = difflib.get_close_matches(name, list(PRESETS), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise PresetError(f"unknown preset {name!r}{hint}; built-in presets: {list(PRESETS)}, "
                          "or give the path of a YAML file")
    preset = PRESETS[name]
    return preset.replace(overrides) if overrides else preset


def load_preset(name_or_path: str | os.PathLike, overrides: Mapping[str, Any] | None = None) -> Preset:
    """A built-in preset (``'tiny'``, ``'small'``, ``'paper'``) or a YAML file of one.

    A YAML file may give a full preset, or ``base: <name>`` plus only the keys it changes; its
    ``name`` defaults to the file's stem (``fast.yaml`` → ``fast``).
    """
    text = str(name_or_path)
    if text in PRESETS:
        return get_preset(text, overrides)
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml") or not path.is_file():
        return get_preset(text, overrides)  # raises the unknown-preset error
    import yaml

    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise PresetError(f"{path}: not valid YAML ({error})") from error
    if not isinstance(data, dict):
        raise PresetError(f"{path}: expected a mapping at the top level")
    base = data.pop("base", None)
    # A changed preset must not pass for its base in result files and figures: unless the file
    # names itself, it is named after the file.
    data.setdefault("name", path.stem)
    try:
        if base is not None:
            flat = _flatten(data)
            preset = get_preset(str(base), flat)
        else:
            preset = from_dict(Preset, data, "preset")
    except PresetError as error:
        raise PresetError(f"{path}: {error}") from error
    return preset.replace(overrides) if overrides else preset


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and key != "model_config":
            out.update(_flatten(value, path + "."))
        else:
            out[path] = value
    return out


def preset_differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, list[Any]]:
    """The fields two presets (as :func:`to_dict` gives them) set differently, in the dotted names
    overrides use: ``{"train.epochs": [10, 17]}``."""
    before, after = _flatten(old), _flatten(new)
    return {key: [before.get(key), after.get(key)] for key in sorted(set(before) | set(after))
            if before.get(key) != after.get(key)}


def preset_help() -> str:
    """One paragraph per built-in preset (for ``--help``)."""
    lines = []
    for p in PRESETS.values():
        t = p.train
        data = (f"simulated world of {t.simulated.n_objects} objects, {t.n_train} training images"
                if t.data == "simulated" else "ImageNet (ImageFolder at --data-path)")
        lines.append(f"{p.name}: {p.description}. [{t.model} {t.model_config or ''} {t.image_size} px; {data}; "
                     f"{t.epochs} epochs, batch {t.batch_size}, lr {t.lr} x{t.lr_gamma} every {t.lr_step_epochs} "
                     f"epochs; brain data: {p.brain_data}]")
    return "\n".join(lines)
