"""ImageNet (or any class-per-folder image tree) for training, with errors that say what is wrong.

Expected layout (the standard torchvision ImageFolder layout)::

    <root>/train/<class>/<image>.JPEG     e.g. <root>/train/n01440764/n01440764_10026.JPEG
    <root>/val/<class>/<image>.JPEG       validation images sorted into the same class folders

ImageNet's validation images come in one flat folder; sort them into class folders first (for
example with the ``valprep.sh`` script distributed with many ImageNet training recipes).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

__all__ = ["IMAGE_EXTENSIONS", "check_imagefolder", "imagefolder_datasets"]

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")

_LAYOUT = ("expected <root>/train/<class>/<images> and <root>/val/<class>/<images> "
           "(the torchvision ImageFolder layout; ImageNet's flat val/ folder must be sorted into class folders)")


def _classes(split_dir: Path) -> list[str]:
    return sorted(p.name for p in split_dir.iterdir() if p.is_dir() and not p.name.startswith("."))


def check_imagefolder(root: str | os.PathLike | None) -> tuple[Path, list[str]]:
    """Check the layout cheaply (folders, not every file) and return ``(root, classes)``."""
    if root is None or str(root) == "":
        raise FileNotFoundError(f"no ImageNet path given: pass --data-path (train.data_path); {_LAYOUT}")
    root = Path(root).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"ImageNet path {root} does not exist or is not a folder; {_LAYOUT}")
    for split in ("train", "val"):
        if not (root / split).is_dir():
            raise FileNotFoundError(f"{root / split} is missing; {_LAYOUT}")
    classes = {}
    for split in ("train", "val"):
        split_dir = root / split
        classes[split] = _classes(split_dir)
        if not classes[split]:
            loose = [p.name for p in split_dir.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS][:3]
            hint = f" (it holds loose images such as {loose}: sort them into class folders)" if loose else ""
            raise FileNotFoundError(f"{split_dir} has no class folders{hint}; {_LAYOUT}")
        first = split_dir / classes[split][0]
        if not any(p.suffix.lower() in IMAGE_EXTENSIONS for p in first.iterdir()):
            raise FileNotFoundError(f"{first} holds no images (extensions {IMAGE_EXTENSIONS}); {_LAYOUT}")
    if classes["train"] != classes["val"]:
        only_train = sorted(set(classes["train"]) - set(classes["val"]))[:3]
        only_val = sorted(set(classes["val"]) - set(classes["train"]))[:3]
        raise ValueError(f"{root}: train/ and val/ have different class folders "
                         f"({len(classes['train'])} vs {len(classes['val'])}; only in train: {only_train}, "
                         f"only in val: {only_val}); both need the same classes")
    return root, classes["train"]


def imagefolder_datasets(root: str | os.PathLike | None, train_transform: Callable | None,
                         val_transform: Callable | None):
    """``(train, val)`` torchvision ``ImageFolder`` datasets under ``root`` (checked first)."""
    from torchvision.datasets import ImageFolder

    root, classes = check_imagefolder(root)
    train = ImageFolder(str(root / "train"), transform=train_transform)
    val = ImageFolder(str(root / "val"), transform=val_transform)
    return train, val
