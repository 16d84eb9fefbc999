"""The simulated experiment: generated in memory, written as BrainIO files, and cached.

Holds :class:`SimulatedExperiment` (stimuli, neural assemblies, OST target, human trials),
:func:`generate` (the world rendered and shown to the simulated subjects), :func:`write_experiment`
and :func:`load_experiment` (BrainIO stimulus CSV + ZIP and netCDF assemblies, :data:`FILES`),
and :func:`simulated_experiment`, the cache (``<cache>/simulated/<digest>/``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ...files import atomic_write_text
from .subjects import BIN_STARTS_MS, NEURAL_WINDOW_MS, _human_trials, _mean_rates, _monkey_ost, _trials
from .world import GENERATOR_VERSION, SimulatedConfig, make_objects, render_stimuli, stimulus_table

__all__ = ["FILES", "SimulatedExperiment", "generate", "write_experiment", "load_experiment",
           "simulated_experiment"]

# ---------------------------------------------------------------------------------------------
# Assemblies and the experiment
# ---------------------------------------------------------------------------------------------

#: File names of an experiment written to a directory (BrainIO formats).
FILES = {"stimuli_csv": "stimulus_simulated.csv", "stimuli_zip": "stimulus_simulated.zip",
         "neural": "assy_simulated_neural.nc", "neural_temporal": "assy_simulated_neural_temporal.nc",
         "ost": "assy_simulated_ost.nc", "human": "assy_simulated_human.nc", "config": "config.json"}


@dataclass
class SimulatedExperiment:
    """The simulated experiment.

    Attributes:
        config: the configuration it was generated from.
        stimuli: stimulus set metadata (see :func:`stimulus_table`), one row per image.
        images: ``(n, size, size)`` uint8 grayscale images in ``stimuli`` order (None when loaded
            from files: use ``stimulus_set``).
        neural: V4 + IT trials averaged over 70–170 ms, ``presentation × neuroid × time_bin`` (one
            bin), as MajajHong2015 (for neural predictivity).
        neural_temporal: IT trials in 10 ms bins 70–250 ms, ``presentation × neuroid × time_bin``,
            as Kar 2019's recordings.
        ost: the OST target, one value per image (the monkey's IT OST in ms, NaN if none) with
            coords ``stimulus_id``, ``truth`` (the category, decoded as in §3.3), ``object_name``
            and ``i1`` (the monkey's behavioural I1, the threshold), as ``metrics.ost`` takes it.
        human: trial-level human 2AFC choices (I2n), dim ``presentation``, values = ``choice``,
            coords ``stimulus_id``, ``truth``, ``distractor``, ``choice``.
        stimulus_set: the BrainIO stimulus set (CSV + ZIP) when written to or loaded from files.
        directory: where the files are, if any.
    """

    config: SimulatedConfig
    stimuli: pd.DataFrame
    images: np.ndarray | None
    neural: xr.DataArray
    neural_temporal: xr.DataArray
    ost: xr.DataArray
    human: xr.DataArray
    stimulus_set: Any = None
    directory: Path | None = None

    @property
    def behavior_test_ids(self) -> np.ndarray:
        """Stimulus ids of the I2n test images (those with human trials)."""
        return pd.unique(np.asarray(self.human["stimulus_id"].values))

    @property
    def behavior_fitting_ids(self) -> np.ndarray:
        """Stimulus ids for fitting the model-to-behaviour decoder: the task's objects' other images."""
        ids = self.stimuli["stimulus_id"].to_numpy()
        in_task = self.stimuli["object_name"].isin(self.config.behavior_objects).to_numpy()
        return ids[in_task & ~np.isin(ids, self.behavior_test_ids)]


def generate(config: SimulatedConfig | None = None) -> SimulatedExperiment:
    """Generate the whole simulated experiment in memory (seconds for the tiny/small sizes)."""
    from ...assemblies import behavioral_assembly, neural_assembly

    config = config or SimulatedConfig()
    objects = make_objects(config)
    table = stimulus_table(config, objects)
    images = render_stimuli(config, table, objects)
    v4_rates, it_rates = _mean_rates(config, images, table, objects)
    v4, it = _trials(config, v4_rates, 0), _trials(config, it_rates, 1)  # (reps, n, sites, bins)
    reps, n = config.n_repetitions, len(table)
    starts = np.asarray(BIN_STARTS_MS)
    window = (starts >= NEURAL_WINDOW_MS[0]) & (starts < NEURAL_WINDOW_MS[1])
    attrs = {"source": "simulated", "generator_version": GENERATOR_VERSION, "config_digest": config.digest()}

    # Presentations are trials: each image once per repetition (repetition-major order).
    presentation = {name: np.tile(table[name].to_numpy(), reps) for name in ("category_name", "variation")}
    trial_ids = dict(stimulus_id=np.tile(table["stimulus_id"].to_numpy(), reps),
                     object_name=np.tile(table["object_name"].to_numpy(), reps),
                     repetition=np.repeat(np.arange(reps), n))

    def neuroids(regions):
        counts = {"V4": config.n_v4, "IT": config.n_it}
        ids = [f"sim{config.seed}_{r}_{i:03d}" for r in regions for i in range(counts[r])]
        return ids, [r for r in regions for _ in range(counts[r])]

    ids, regions = neuroids(("V4", "IT"))
    both = np.concatenate([v4[..., window].mean(-1), it[..., window].mean(-1)], axis=2)
    neural = neural_assembly(both.reshape(reps * n, -1)[..., None], neuroid_id=ids, region=regions,
                             time_bin_start=[NEURAL_WINDOW_MS[0]], time_bin_end=[NEURAL_WINDOW_MS[1]],
                             presentation_coords=presentation, name="simulated_neural", **trial_ids)
    ids, regions = neuroids(("IT",))
    neural_temporal = neural_assembly(
        it.reshape(reps * n, config.n_it, len(starts)), neuroid_id=ids, region=regions,
        time_bin_start=starts, time_bin_end=starts + 10, presentation_coords=presentation,
        name="simulated_neural_temporal", **trial_ids)
    i1, monkey_ost = _monkey_ost(config, table)
    ost = xr.DataArray(monkey_ost, dims=("presentation",), name="simulated_ost", coords={
        "stimulus_id": ("presentation", table["stimulus_id"].to_numpy()),
        "truth": ("presentation", table["category_name"].to_numpy()),
        "object_name": ("presentation", table["object_name"].to_numpy()),
        "i1": ("presentation", i1)})
    trials = _human_trials(config, table, objects)
    human = behavioral_assembly(trials["choice"].to_numpy(), stimulus_id=trials["stimulus_id"].to_numpy(),
                                truth=trials["truth"].to_numpy(), distractor=trials["distractor"].to_numpy(),
                                name="simulated_human")
    for assembly in (neural, neural_temporal, ost, human):
        assembly.attrs.update(attrs)
    return SimulatedExperiment(config, table, images, neural, neural_temporal, ost, human)


def write_experiment(experiment: SimulatedExperiment, directory: str | os.PathLike) -> SimulatedExperiment:
    """Write the experiment as BrainIO files (stimulus CSV + ZIP, netCDF assemblies) and load it back.

    The returned experiment is read from the files, so everything downstream exercises the same
    code path as real Brain-Score data.
    """
    from ..brainio import write_assembly, write_stimulus_set

    if experiment.images is None:
        raise ValueError("this experiment has no images in memory (it was loaded from files)")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    images = dict(zip(experiment.stimuli["stimulus_id"], experiment.images))
    write_stimulus_set(experiment.stimuli, images, directory / FILES["stimuli_csv"], directory / FILES["stimuli_zip"])
    for name in ("neural", "neural_temporal", "ost", "human"):
        write_assembly(getattr(experiment, name), directory / FILES[name])
    # config last: its presence marks a complete experiment
    atomic_write_text(directory / FILES["config"], json.dumps(
        {"generator_version": GENERATOR_VERSION, "config": experiment.config.to_dict()}, indent=1))
    return load_experiment(directory)


def load_experiment(directory: str | os.PathLike) -> SimulatedExperiment:
    """Load an experiment written by :func:`write_experiment` (through the BrainIO readers)."""
    from ..brainio import load_assembly, load_stimulus_set

    directory = Path(directory)
    config_path = directory / FILES["config"]
    if not config_path.is_file():
        raise FileNotFoundError(f"{directory} holds no complete simulated experiment (no {FILES['config']}); "
                                "generate one with cornet_repro.data.simulated.simulated_experiment(...) "
                                "or `cornet-repro simulate --preset NAME --cache DIR`")
    meta = json.loads(config_path.read_text())
    config = SimulatedConfig(**meta["config"])
    stimulus_set = load_stimulus_set(directory / FILES["stimuli_csv"], directory / FILES["stimuli_zip"],
                                     identifier=f"simulated.{config.digest()}")
    loaded = {name: load_assembly(directory / FILES[name]) for name in ("neural", "neural_temporal", "ost", "human")}
    return SimulatedExperiment(config, stimulus_set.table, None, stimulus_set=stimulus_set, directory=directory,
                               **loaded)


def simulated_experiment(config: SimulatedConfig | None = None, *, cache: str | os.PathLike | None = None,
                         rebuild: bool = False) -> SimulatedExperiment:
    """The experiment for ``config``, from the cache (``<cache>/simulated/<digest>/``) or generated.

    Generation writes to a temporary folder renamed into place when complete, so concurrent or
    interrupted builds never leave a half-written experiment behind.
    """
    import shutil
    import tempfile

    from ...cache import cache_dir

    config = config or SimulatedConfig()
    target = cache_dir(cache) / "simulated" / config.digest()
    if rebuild and target.exists():
        shutil.rmtree(target)
    if (target / FILES["config"]).is_file():
        return load_experiment(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        write_experiment(generate(config), tmp)
        try:
            os.replace(tmp, target)
        except OSError:  # another process finished first: use theirs
            if not (target / FILES["config"]).is_file():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return load_experiment(target)
