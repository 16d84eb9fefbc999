"""Shared test setup: headless matplotlib, one torch thread (CI has 2 cores shared by the suite)."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

try:  # torch is optional for the book's tests
    import torch

    torch.set_num_threads(1)
except ImportError:  # pragma: no cover
    pass
