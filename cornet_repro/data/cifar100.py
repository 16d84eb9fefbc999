"""CIFAR-100 for the transfer benchmark (Fig. 2d): read from a user's folder or the cache, or downloaded."""

from __future__ import annotations

import os
from pathlib import Path

from ..cache import cache_dir

__all__ = ["load_cifar100"]


def load_cifar100(root: str | os.PathLike | None = None, *, download: bool | None = None,
                  transform=None):
    """CIFAR-100 (train, test) as torchvision datasets.

    ``root`` defaults to ``$CORNET_REPRO_CACHE/cifar100`` (``~/.cache/cornet_repro/cifar100``).
    Downloads when ``download`` (default: when the files are absent); offline, raises with where to
    put ``cifar-100-python.tar.gz`` (or its extracted ``cifar-100-python/`` folder).
    """
    from torchvision.datasets import CIFAR100

    root = Path(root) if root is not None else cache_dir() / "cifar100"
    present = (root / "cifar-100-python" / "train").is_file() and (root / "cifar-100-python" / "test").is_file()
    if download is None:
        download = not present
    try:
        train = CIFAR100(str(root), train=True, download=download, transform=transform)
        test = CIFAR100(str(root), train=False, download=download, transform=transform)
    except Exception as error:  # network failure or missing files
        raise FileNotFoundError(
            f"CIFAR-100 is not available under {root} and could not be downloaded ({error}). "
            f"Download https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz and put it (or its "
            f"extracted 'cifar-100-python/' folder) in {root}, or pass root=<folder holding it>.") from error
    return train, test
