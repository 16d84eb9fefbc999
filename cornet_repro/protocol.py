"""The paper's measurement protocol, written once: benchmark names, time windows, input normalisation.

Every module that needs one of these imports it from here (the simulated experiment that
generates data on these windows, the models' time mapping, the benchmarks that score on them,
the result files and the published table that name the benchmarks). This module imports nothing
from the package, so anything may depend on it.
"""

from __future__ import annotations

__all__ = ["BENCHMARK_NAMES", "COMPOSITES", "NEURAL_REGIONS", "NEURAL_WINDOW_MS", "OST_BIN_WIDTH_MS", "OST_WINDOW_MS",
           "OST_TIME_BINS", "IMAGENET_MEAN", "IMAGENET_STD", "time_bins"]

#: The four benchmarks of the paper's Brain-Score, spelled as in result files and figures:
#: V4 and IT neural predictivity (MajajHong2015), behaviour (Rajalingham2018 I2n), and object
#: solution times (Kar2019).
BENCHMARK_NAMES: tuple[str, ...] = ("V4", "IT", "behavior", "OST")
NEURAL_REGIONS: tuple[str, ...] = ("V4", "IT")
#: The composites and the benchmarks each averages: "paper" is the paper's Brain-Score (Figs. 1-3,
#: Table A1); "fig4" leaves OST out, as the circuitry analysis of Fig. 4 does.
COMPOSITES: dict[str, tuple[str, ...]] = {"paper": ("V4", "IT", "behavior", "OST"),
                                          "fig4": ("V4", "IT", "behavior")}

#: MajajHong2015's mean-rate window (ms after image onset) that V4 and IT predictivity are scored on.
NEURAL_WINDOW_MS: tuple[int, int] = (70, 170)
#: Kar2019's object solution times: 10 ms bins from 70 to 250 ms.
OST_WINDOW_MS: tuple[int, int] = (70, 250)
OST_BIN_WIDTH_MS: int = 10

#: torchvision's ImageNet normalisation, used by the official CORnet training and Brain-Score.
IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)


def time_bins(start: int = OST_WINDOW_MS[0], stop: int = OST_WINDOW_MS[1],
              width: int = OST_BIN_WIDTH_MS) -> list[tuple[int, int]]:
    """Consecutive ``[start, end)`` bins of ``width`` ms covering ``[start, stop)``:
    ``time_bins(70, 250, 10)`` → [(70, 80), …, (240, 250)]."""
    if width <= 0 or stop <= start or (stop - start) % width:
        raise ValueError(
            f"time_bins(start={start}, stop={stop}, width={width}): need width > 0 and stop - start "
            "a positive multiple of width")
    return [(s, s + width) for s in range(start, stop, width)]


#: The OST benchmark's bins: [(70, 80), (80, 90), …, (240, 250)].
OST_TIME_BINS: list[tuple[int, int]] = time_bins()
