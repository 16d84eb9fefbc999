"""The brain data a model is scored against, from one source: simulated, or Brain-Score's real files.

:class:`BrainData` holds the assemblies and stimulus sets of the paper's four benchmarks and says
where they came from (``source``: ``'simulated'`` or ``'real'``). Build it by keyword
(:meth:`BrainData.simulated`, :meth:`BrainData.real`, or :meth:`BrainData.build` from a preset's
``brain_data``); :func:`cornet_repro.scoring.benchmarks_for` turns it into benchmark objects.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..assemblies import AssemblyError

__all__ = ["BrainData", "SOURCES"]

#: Where brain data can come from; every result record and figure names one.
SOURCES = ("simulated", "real")


@dataclass
class BrainData:
    """The assemblies and stimuli of the four benchmarks, whatever their source.

    ``neural``: V4 + IT trials (``presentation × neuroid [× time_bin]``, ``region`` coord) on
    ``neural_stimuli``; ``human``: 2AFC trials on ``behavior_test_ids`` (in
    ``behavior_test_stimuli``) with the decoder fit on ``behavior_fitting_ids`` (in
    ``behavior_fitting_stimuli``; images need an ``object_name``); ``ost``: the monkey's OSTs
    (Kar2019 as published, or one per image; the OST benchmark prepares it) on ``ost_stimuli``.
    """

    source: str  # "simulated" | "real"
    neural: Any
    neural_stimuli: Any
    human: Any
    behavior_fitting_stimuli: Any
    behavior_fitting_ids: np.ndarray
    behavior_test_stimuli: Any
    behavior_test_ids: np.ndarray
    ost: Any
    ost_stimuli: Any
    description: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f"BrainData.source must be one of {list(SOURCES)}, got {self.source!r}")

    @classmethod
    def build(cls, source: str, *, simulated: Any = None,
              cache: str | os.PathLike | None = None) -> "BrainData":
        """The brain data of ``source`` (a preset's ``brain_data``): ``'simulated'`` needs the
        simulated world's config (``simulated=``), ``'real'`` reads Brain-Score's files."""
        if source == "simulated":
            if simulated is None:
                raise ValueError("brain data 'simulated' needs the simulated world (simulated=SimulatedConfig)")
            return cls.simulated(simulated, cache=cache)
        if source == "real":
            return cls.real(cache=cache)
        raise ValueError(f"brain data must be one of {list(SOURCES)}, got {source!r}")

    @classmethod
    def simulated(cls, config, *, cache: str | os.PathLike | None = None) -> "BrainData":
        """The simulated experiment of ``config`` (a SimulatedConfig), through its BrainIO files."""
        from .simulated import GENERATOR_VERSION, simulated_experiment

        experiment = simulated_experiment(config, cache=cache)
        stimuli = experiment.stimulus_set
        return cls("simulated", experiment.neural, stimuli, experiment.human, stimuli,
                   experiment.behavior_fitting_ids, stimuli, experiment.behavior_test_ids, experiment.ost, stimuli,
                   {"simulated_config": dataclasses.asdict(config), "config_digest": config.digest(),
                    "generator_version": GENERATOR_VERSION, "directory": str(experiment.directory)})

    @classmethod
    def real(cls, *, cache: str | os.PathLike | None = None, neural: str = "MajajHong2015.private",
             behavior: str = "Rajalingham2018.private", behavior_fitting: str = "objectome.public",
             ost: str = "Kar2019") -> "BrainData":
        """The paper's Brain-Score data (see :mod:`cornet_repro.data.catalog`); fetched or user-supplied.

        ``neural``: ``MajajHong2015.private``, the 2,560 high-variation images (88 V4 + 168 IT
        sites) that Brain-Score's MajajHong2015 benchmarks score; the full ``MajajHong2015`` also
        holds the low-variation images. Public files are downloaded into ``cache``; restricted ones
        must be saved there by the user (``<cache>/brainio/<filename>``): a missing file raises the
        fetcher's error naming it and where to put it. Tested end to end on miniature files in the
        published formats (tests/test_real_data.py).
        """
        from .fetch import load_stimuli

        neural_trials, neural_stimuli = _assembly_and_stimuli(neural, cache)
        human, test_stimuli = _assembly_and_stimuli(behavior, cache)
        fit_stimuli = load_stimuli(behavior_fitting, cache=cache)
        ost_raw, ost_stimuli = _assembly_and_stimuli(ost, cache)
        test_stimuli, fit_stimuli = _with_object_name(test_stimuli), _with_object_name(fit_stimuli)
        test_ids = pd.unique(np.asarray(human["stimulus_id"].values))
        return cls("real", neural_trials, neural_stimuli, human, fit_stimuli, fit_stimuli.stimulus_ids,
                   test_stimuli, test_ids, ost_raw, ost_stimuli,
                   {"neural": neural, "behavior": behavior, "behavior_fitting": behavior_fitting, "ost": ost})

    @classmethod
    def real_public(cls, *, cache: str | os.PathLike | None = None,
                    neural: str = "MajajHong2015.public") -> "BrainData":
        """V4 and IT recordings that anyone can download (``MajajHong2015.public``: the low- and
        medium-variation HvM images). Not what the paper scored (its V4/IT benchmarks use the
        high-variation ``.private`` images); no behaviour or OST data: score V4 and IT only."""
        trials, stimuli = _assembly_and_stimuli(neural, cache)
        return cls("real", trials, stimuli, None, None, np.asarray([]), None, np.asarray([]), None, None,
                   {"neural": neural, "public": True})


def _assembly_and_stimuli(name: str, cache: str | os.PathLike | None):
    """A catalog dataset's assembly with its stimulus set merged in, and that stimulus set: each set
    is read once, merged into its assembly's presentations and kept."""
    from .brainio import load_assembly
    from .catalog import dataset
    from .fetch import fetch_assembly, load_stimuli

    stimuli = load_stimuli(dataset(name).stimulus_set, cache=cache)
    return load_assembly(fetch_assembly(name, cache=cache), stimulus_set=stimuli), stimuli


def _with_object_name(stimuli):
    """The stimulus set with an ``object_name`` column (the behavioural readout's labels):
    Brain-Score's objectome sets name the object of an image ``image_label``."""
    table = stimuli.table
    if "object_name" in table.columns:
        return stimuli
    for column in ("image_label", "image_sample_obj"):
        if column in table.columns:
            return dataclasses.replace(stimuli, table=table.assign(object_name=table[column]))
    raise AssemblyError(f"stimulus set {stimuli.identifier!r} names no object per image (no 'object_name', "
                        f"'image_label' or 'image_sample_obj' column; columns are {list(table.columns)})")
