"""A labelled training set from the simulated world: :class:`SimulatedObjects`, a torch-style ``Dataset``.

New draws of pose, contrast and background of the stimulus set's objects (never the stimulus
images themselves), deterministic per ``(seed, split, index)``, optionally kept in the cache.
"""

from __future__ import annotations

import os
import sys
from typing import Callable

import numpy as np

from .world import _SPLIT_STREAMS, SimulatedConfig, _draw_latents, _rng, make_objects, render

__all__ = ["SimulatedObjects"]

# ---------------------------------------------------------------------------------------------
# A labelled training set from the same generator
# ---------------------------------------------------------------------------------------------

class SimulatedObjects:
    """A torch-style ``Dataset`` of labelled images of the simulated objects.

    ``dataset[i]`` is ``(image, label)`` where ``label`` is the object index
    (``n_categories × n_objects_per_category`` classes) and ``image`` is a grayscale PIL image
    (or ``transform(image)``). Images are new draws of pose, contrast and background for the
    same objects as the stimulus set (never the stimulus images themselves), deterministic per
    ``(seed, split, index)``; pose variation is drawn continuously from none to high. Rendered
    images are cached in memory (uint8).
    """

    def __init__(self, config: SimulatedConfig, n_images: int, split: str = "train",
                 transform: Callable | None = None, cache: bool = True) -> None:
        if split not in _SPLIT_STREAMS:
            raise ValueError(f"split must be one of {sorted(_SPLIT_STREAMS)}, got {split!r}")
        if n_images < 1:
            raise ValueError(f"n_images must be >= 1, got {n_images}")
        self.config, self.n_images, self.split, self.transform = config, n_images, split, transform
        self.objects = make_objects(config)
        self.classes = [o.object_name for o in self.objects]
        self._cache: dict[int, np.ndarray] | None = {} if cache else None

    def __len__(self) -> int:
        return self.n_images

    def label(self, index: int) -> int:
        return index % len(self.objects)  # balanced classes

    def image_array(self, index: int) -> np.ndarray:
        if not 0 <= index < self.n_images:
            raise IndexError(index)
        if self._cache is not None and index in self._cache:
            return self._cache[index]
        rng = _rng(self.config.seed, _SPLIT_STREAMS[self.split], index)
        latents = _draw_latents(rng, amplitude=float(rng.uniform(0, 1)))
        img = render(self.objects[self.label(index)], latents, self.config.image_size)
        if self._cache is not None:
            self._cache[index] = img
        return img

    def preload(self, cache: str | os.PathLike | None = None) -> "SimulatedObjects":
        """Render every image now, or read them from the cache where an earlier run kept them.

        The file (``<cache>/simulated-objects/<digest>/<split>-<n>.npy``) is written atomically; the
        book's sweep trains 30 models on the same images, and rendering them took 3 s per run.
        """
        from ...cache import CACHE_ENV, cache_dir
        from ...files import atomic_path

        # Not inside the experiment's folder: that one appears only complete (see simulated_experiment).
        path = cache_dir(cache) / "simulated-objects" / self.config.digest() / f"{self.split}-{self.n_images}.npy"
        size = self.config.image_size
        images = None
        if path.is_file():
            try:
                images = np.load(path, allow_pickle=False)
            except (OSError, ValueError):
                images = None  # damaged: render again and replace it
            if images is not None and images.shape != (self.n_images, size, size):
                images = None
        if images is None:
            images = np.stack([self.image_array(i) for i in range(self.n_images)])
            try:
                with atomic_path(path) as tmp:
                    with open(tmp, "wb") as f:
                        np.save(f, images, allow_pickle=False)
            except OSError as error:  # a cache only saves time: train on, from memory
                print(f"warning: {path.parent}: cannot cache the rendered images there ({error.strerror or error}); "
                      f"they are kept in memory (set ${CACHE_ENV} to a writable folder to reuse them)",
                      file=sys.stderr)
        self._cache = dict(enumerate(images))
        return self

    def __getitem__(self, index: int):
        from PIL import Image

        image = Image.fromarray(self.image_array(index), mode="L")
        if self.transform is not None:
            image = self.transform(image)
        return image, self.label(index)
