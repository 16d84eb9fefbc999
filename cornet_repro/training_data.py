"""The training data of the recipe: transforms, and datasets whose augmentation resumes exactly.

``data='simulated'`` trains on :class:`cornet_repro.data.simulated.SimulatedObjects`;
``data='imagenet'`` reads an ImageFolder tree (:mod:`cornet_repro.data.imagefolder`). Training:
RandomResizedCrop + horizontal flip; validation: resize + center crop; ImageNet mean/std.
"""

from __future__ import annotations

from typing import Iterator

import torch

from .presets import TrainConfig
from .protocol import IMAGENET_MEAN, IMAGENET_STD

__all__ = ["transforms_for", "SeededAugmentation", "SkipSampler", "build_datasets"]


def _to_rgb(image):
    # Simulated images are grayscale; models take RGB (the paper's OST images were grayscale too).
    return image.convert("RGB")


def transforms_for(config: TrainConfig):
    """(train, val) torchvision transforms of the recipe."""
    from torchvision import transforms as T

    normalize = [T.ToTensor(), T.Normalize(IMAGENET_MEAN, IMAGENET_STD)]
    train_tf = [T.Lambda(_to_rgb), T.RandomResizedCrop(config.image_size, scale=tuple(config.crop_scale))]
    if config.hflip:
        train_tf.append(T.RandomHorizontalFlip())
    val_tf = [T.Lambda(_to_rgb), T.Resize(config.val_resize), T.CenterCrop(config.image_size)]
    return T.Compose(train_tf + normalize), T.Compose(val_tf + normalize)


class SeededAugmentation(torch.utils.data.Dataset):
    """Wrap a dataset so that its random transforms depend only on (seed, epoch, index).

    Then the images of a batch do not depend on worker count, process count or where a resumed
    run restarted, which is what makes resume exact.
    """

    def __init__(self, dataset, seed: int) -> None:
        self.dataset, self.seed, self.epoch = dataset, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int):
        state = torch.get_rng_state()
        try:
            # torchvision's transforms draw from the CPU generator. Seeding it directly, not through
            # torch.manual_seed (which also queues seeds for every GPU backend and records a stack
            # trace each call): 1 us instead of ~100 us per image (benchmarks/bench_overheads.py);
            # with the cached training images, a small-preset run of the lightest Fig. 4 variant
            # went from 28 s to 16 s.
            torch.default_generator.manual_seed((self.seed * 1_000_003 + self.epoch) * 10_000_019 + index)
            return self.dataset[index]
        finally:
            torch.set_rng_state(state)


class SkipSampler(torch.utils.data.Sampler):
    """The first ``skip`` indices of a sampler dropped: where a resumed epoch continues."""

    def __init__(self, sampler, skip: int) -> None:
        self.sampler, self.skip = sampler, skip

    def __iter__(self) -> Iterator[int]:
        it = iter(self.sampler)
        for _ in range(self.skip):
            next(it)
        yield from it

    def __len__(self) -> int:
        return len(self.sampler) - self.skip


def build_datasets(config: TrainConfig):
    """``(train, val, class_names)`` for the config's data source (transforms attached)."""
    train_tf, val_tf = transforms_for(config)
    if config.data == "simulated":
        from .data.simulated import SimulatedObjects

        train_ds = SimulatedObjects(config.simulated, config.n_train, "train", transform=train_tf).preload()
        val_ds = SimulatedObjects(config.simulated, config.n_val, "val", transform=val_tf).preload()
        return train_ds, val_ds, train_ds.classes
    from .data.imagefolder import imagefolder_datasets

    train_ds, val_ds = imagefolder_datasets(config.data_path, train_tf, val_tf)
    return train_ds, val_ds, train_ds.classes
