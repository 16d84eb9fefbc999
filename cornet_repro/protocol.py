"""The paper's measurement protocol, written once: benchmark names, time windows, input normalisation.

Every module that needs one of these imports it from here (the simulated experiment that
generates data on these windows, the models' time mapping, the benchmarks that score on them,
the result files and the published table that name the benchmarks). This module imports nothing
from the package, so anything may depend on it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = ["CONVENTIONS", "Conventions", "conventions", "BENCHMARK_NAMES", "COMPOSITES", "NEURAL_REGIONS", "NEURAL_WINDOW_MS", "OST_BIN_WIDTH_MS", "OST_WINDOW_MS",
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


@dataclass(frozen=True)
class Conventions:
    """How a ceiled score is formed and reported, so that a number names what it is.

    ``ceiling``: ``"r"`` divides the raw r by the ceiling (the paper, 2019); ``"r2"`` divides r²
    by it (Brain-Score 2.4.x's ``explained_variance``: the split-half ceiling bounds explained
    variance). ``ceiled_error``: ``"scaled"`` divides the raw error by the ceiling as the value is
    (r²: first-order propagation, 2|r|·err/c); ``"unceiled"`` keeps the raw error unchanged on the
    ceiled score, as Brain-Score does. Neither choice changes what is averaged, or in which order:
    presentations are averaged and split in Brain-Score's order, and NaN splits are skipped with
    its s.e.m. (√ of all splits), under both.
    """

    name: str
    ceiling: str
    ceiled_error: str
    brainscore_version: str
    description: str

    def __post_init__(self) -> None:
        if self.ceiling not in ("r", "r2"):
            raise ValueError(f"conventions {self.name!r}: ceiling must be 'r' or 'r2', got {self.ceiling!r}")
        if self.ceiled_error not in ("scaled", "unceiled"):
            raise ValueError(f"conventions {self.name!r}: ceiled_error must be 'scaled' or 'unceiled', "
                             f"got {self.ceiled_error!r}")

    @property
    def label(self) -> str:
        """One line for captions and printed scores: 'V4/IT ceiled as r/c, errors ÷ c (2019 paper)'.
        (Behaviour is ceiled per split as r/√c, and OST as r/.79, under both conventions.)"""
        formula = "r/c" if self.ceiling == "r" else "r²/c"
        error = "errors ÷ c" if self.ceiled_error == "scaled" else "errors unceiled"
        return f"V4/IT ceiled as {formula}, {error} ({self.brainscore_version})"

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


#: The two conventions a score can follow. ``paper-2019`` is the default: the paper's r / ceiling
#: (its Figs. 1-5 and Table A1). ``brainscore-2.4`` reproduces brainscore-vision 2.4.x exactly
#: (r² / ceiling on V4 and IT, errors left unceiled), for comparing with today's leaderboard.
CONVENTIONS: dict[str, Conventions] = {
    "paper-2019": Conventions("paper-2019", "r", "scaled", "2019 paper",
                              "r / ceiling, as the paper and the 2019 leaderboard; the error is divided by the "
                              "ceiling too"),
    "brainscore-2.4": Conventions("brainscore-2.4", "r2", "unceiled", "Brain-Score 2.4.x",
                                  "r² / ceiling on V4 and IT (explained variance), as brainscore-vision 2.4.x; "
                                  "the error is the unceiled one, as Brain-Score reports it"),
}


def conventions(name: "str | Conventions") -> Conventions:
    """The :class:`Conventions` called ``name`` (``paper-2019`` or ``brainscore-2.4``)."""
    if isinstance(name, Conventions):
        return name
    try:
        return CONVENTIONS[name]
    except KeyError:
        raise ValueError(f"conventions must be one of {', '.join(CONVENTIONS)}, got {name!r}") from None
