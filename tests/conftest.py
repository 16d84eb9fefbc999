"""Shared test setup: headless matplotlib, one torch thread (CI has 2 cores shared by the suite)."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

try:  # torch is optional for the book's tests
    import torch

    torch.set_num_threads(1)
except ImportError:  # pragma: no cover
    pass


import pytest  # noqa: E402


@pytest.fixture
def single_threaded():
    """One torch thread and one BLAS thread for a test (opt in with ``usefixtures``): on a shared
    2-core machine, multi-threaded BLAS and OpenMP spin on small problems and run 10-40x slower."""
    import torch
    from threadpoolctl import threadpool_limits

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(1):
        yield
    torch.set_num_threads(threads)


@pytest.fixture
def restore_torch_globals():
    """train() sets threads and deterministic mode for its process; give them back to pytest."""
    import torch

    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    yield
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(deterministic)
