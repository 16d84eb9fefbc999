"""A simulated experiment: stimuli, a simulated monkey and a simulated human, offline.

What this is
    A small synthetic world that has the *shape* of the paper's data so that every stage of
    the pipeline (training, activations, metrics, scores, figures) can run on a laptop CPU,
    without downloads. It is not, and is never presented as, a reproduction of the paper's
    data or results: the numbers it produces say that the code runs and behaves sensibly,
    not anything about primate vision.

What is simulated
    *Stimuli* (in the spirit of the HvM set): ``n_categories`` shape families (polygons, stars,
    ellipse clusters, rings, crosses, blobs, gratings, bars) × ``n_objects_per_category``
    objects with their own parameters, rendered in grayscale on 1/f ("pink") noise
    backgrounds at three variation levels (``variation`` = 0 / 3 / 6: no, medium and high
    variation of position, scale and rotation) and with varying contrast.

    *A monkey* with V4 and IT sites. V4 sites pool a fixed Gabor-energy bank over a local
    receptive field (image features only). IT sites pool the same features over the whole
    image (position tolerant) and, mostly, carry an object-identity signal (a fixed tuning
    vector per site against a fixed embedding per object, with categories clustered) whose
    strength grows with the image's *visibility* (contrast, size, pose). Responses are
    Poisson spike counts with trial-to-trial gain fluctuations, in 10 ms bins from 70 to
    250 ms, over several repetitions, so split-half ceilings are clearly below 1. IT's object
    signal rises at an image-specific latency that is later for harder images, so object
    solution times vary per image; the monkey's behavioural I1 (d') per image is the
    threshold for OST.

    *A human* performing two-alternative forced choices (truth vs distractor) for I2n, with a
    per-(image, distractor) sensitivity from the same visibility and the similarity of the two
    objects, plus image-specific idiosyncrasies.

    *A labelled training set* from the same generator (different images of the same objects),
    as a torch ``Dataset``, deterministic per index.

Everything is a deterministic function of ``SimulatedConfig`` (including its ``seed``).
Assemblies follow the BrainIO conventions: dims ``presentation × neuroid [× time_bin]``.

Modules (each imports only those above it; every name below is importable from this package)
    :mod:`~cornet_repro.data.simulated.world`
        :class:`SimulatedConfig`, the objects (:func:`make_objects`), the renderer and the
        stimulus set (:func:`stimulus_table`, :func:`render_stimuli`).
    :mod:`~cornet_repro.data.simulated.subjects`
        The simulated monkey (V4/IT rates, trials, OSTs) and human (2AFC trials).
    :mod:`~cornet_repro.data.simulated.experiment`
        :class:`SimulatedExperiment`, :func:`generate`, the BrainIO files
        (:func:`write_experiment`, :func:`load_experiment`) and the cache
        (:func:`simulated_experiment`).
    :mod:`~cornet_repro.data.simulated.training_set`
        :class:`SimulatedObjects`, the labelled training set (uses only ``world``).
"""

from __future__ import annotations

# ``from cornet_repro.data.simulated import X`` works for every name the single module had.
from .experiment import (
    FILES,
    SimulatedExperiment,
    generate,
    load_experiment,
    simulated_experiment,
    write_experiment,
)
from .subjects import BIN_STARTS_MS, NEURAL_WINDOW_MS, behavior_test_images
from .training_set import SimulatedObjects
from .world import (
    FAMILIES,
    GENERATOR_VERSION,
    VARIATION_AMPLITUDE,
    ObjectSpec,
    SimulatedConfig,
    make_objects,
    render,
    render_stimuli,
    stimulus_table,
)

__all__ = [
    "FAMILIES", "FILES", "GENERATOR_VERSION", "VARIATION_AMPLITUDE", "BIN_STARTS_MS", "NEURAL_WINDOW_MS",
    "ObjectSpec", "SimulatedConfig", "SimulatedExperiment", "SimulatedObjects", "behavior_test_images",
    "make_objects", "render", "stimulus_table", "render_stimuli", "generate", "write_experiment",
    "load_experiment", "simulated_experiment",
]
