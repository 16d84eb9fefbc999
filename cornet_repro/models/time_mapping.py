"""Model time steps -> milliseconds after stimulus onset, as Brain-Score maps CORnet.

A mapping gives each area ``(start, step, steps)`` in ms: time step ``t`` of that area stands for
the window ``[start + t * step, start + (t + 1) * step)``. For CORnet-S (Brain-Score's
``CORNET_S_TIMEMAPPING``)::

    V1  (50, 100, 1): t0 = [50, 150)
    V2  (70, 100, 2): t0 = [70, 170),  t1 = [170, 270)
    V4  (90,  50, 4): t0 = [90, 140),  t1 = [140, 190), t2 = [190, 240), t3 = [240, 290)
    IT (100, 100, 2): t0 = [100, 200), t1 = [200, 300)

When a benchmark asks for a time bin, Brain-Score's CORnet commitment answers with the single step
whose window *start* is nearest to the bin's start (``rule='nearest_start'``; a tie goes to the
earlier step). So "IT at 70-170 ms" (the MajajHong2015 window) is IT t0, and on the OST bins
(10 ms, starts 70..240) IT t0 serves the bins starting 70..150 and t1 those starting 160..240 --
the paper's "t0 = 0-150 ms, t1 = 150+ ms". ``rule='contains'`` instead takes the step whose window
contains the bin's start, clamping bins before the first window to t0 and after the last to the
last step (IT: t0 for 70..190, t1 for 200..240). ``rule='nearest_start'`` is the default because
it is what produced the published scores.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeVar

from ..protocol import OST_TIME_BINS, time_bins

__all__ = [
    "CORNET_S_TIME_MAPPING", "CORNET_Z_TIME_MAPPING", "OST_TIME_BINS", "RULES", "outputs_on_bins",
    "overlapping_steps", "scaled_time_mapping", "select_step", "step_windows", "steps_for_bins",
    "time_bins",
]

TimeMapping = Mapping[str, tuple[float, float, int]]
T = TypeVar("T")

#: Brain-Score's CORnet-S mapping, region -> (start ms, step ms, number of steps).
CORNET_S_TIME_MAPPING: dict[str, tuple[float, float, int]] = {
    "V1": (50, 100, 1),
    "V2": (70, 100, 2),
    "V4": (90, 50, 4),
    "IT": (100, 100, 2),
}

#: Brain-Score's CORnet-Z mapping: one step per area, 100 ms windows.
CORNET_Z_TIME_MAPPING: dict[str, tuple[float, float, int]] = {
    "V1": (50, 100, 1),
    "V2": (70, 100, 1),
    "V4": (90, 100, 1),
    "IT": (100, 100, 1),
}

RULES = ("nearest_start", "contains")


def _area(area: str, mapping: TimeMapping) -> tuple[float, float, int]:
    if area not in mapping:
        raise KeyError(f"area {area!r} has no time mapping; mapped areas: {sorted(mapping)}")
    start, step, steps = mapping[area]
    if step <= 0 or steps < 1:
        raise ValueError(f"invalid time mapping for {area!r}: {mapping[area]} (need step > 0, steps >= 1)")
    return start, step, steps


def step_windows(area: str, mapping: TimeMapping = CORNET_S_TIME_MAPPING) -> list[tuple[float, float]]:
    """The ``[start, end)`` window in ms of each time step of ``area``, t0 first."""
    start, step, steps = _area(area, mapping)
    return [(start + t * step, start + (t + 1) * step) for t in range(steps)]


def select_step(area: str, start: float, end: float | None = None,
                mapping: TimeMapping = CORNET_S_TIME_MAPPING, rule: str = "nearest_start") -> int:
    """The single time step of ``area`` that answers a request for the bin ``[start, end)`` ms.

    ``rule='nearest_start'`` (Brain-Score): the step whose window start is nearest ``start``,
    ties to the earlier step. ``rule='contains'``: the step whose window contains ``start``,
    clamped to the first/last step outside the mapped range. ``end`` is only checked
    (``end > start``); both rules key on the bin's start, as Brain-Score does.
    """
    if rule not in RULES:
        raise ValueError(f"rule={rule!r}: allowed values are {list(RULES)}")
    if end is not None and end <= start:
        raise ValueError(f"time bin [{start}, {end}) is empty: end must be greater than start")
    windows = step_windows(area, mapping)
    if rule == "nearest_start":
        distances = [abs(w_start - start) for w_start, _ in windows]
        return distances.index(min(distances))  # index() returns the first minimum: earlier step
    for t, (w_start, w_end) in enumerate(windows):
        if w_start <= start < w_end:
            return t
    return 0 if start < windows[0][0] else len(windows) - 1


def overlapping_steps(area: str, start: float, end: float,
                      mapping: TimeMapping = CORNET_S_TIME_MAPPING) -> list[int]:
    """All time steps of ``area`` whose windows overlap ``[start, end)`` (e.g. to average them).

    Example: V4 at 70-170 ms -> [0, 1] (windows [90, 140) and [140, 190)).
    """
    if end <= start:
        raise ValueError(f"time window [{start}, {end}) is empty: end must be greater than start")
    return [t for t, (w_start, w_end) in enumerate(step_windows(area, mapping))
            if w_start < end and start < w_end]


def steps_for_bins(area: str, bins: Sequence[tuple[float, float]] = OST_TIME_BINS,
                   mapping: TimeMapping = CORNET_S_TIME_MAPPING, rule: str = "nearest_start") -> list[int]:
    """The time step of ``area`` that answers each bin (see :func:`select_step`)."""
    return [select_step(area, start, end, mapping, rule) for start, end in bins]


def outputs_on_bins(outputs: Sequence[T], area: str, bins: Sequence[tuple[float, float]] = OST_TIME_BINS,
                    mapping: TimeMapping = CORNET_S_TIME_MAPPING, rule: str = "nearest_start") -> list[T]:
    """Re-index one area's per-step outputs (e.g. from ``forward_time_steps``) onto time bins.

    Returns one element of ``outputs`` per bin (the same object is repeated when a step serves
    several bins).
    """
    steps = mapping[area][2] if area in mapping else None
    if steps is not None and len(outputs) != steps:
        raise ValueError(
            f"{area} has {len(outputs)} outputs but the time mapping has {steps} steps for it")
    return [outputs[t] for t in steps_for_bins(area, bins, mapping, rule)]


def scaled_time_mapping(steps: Mapping[str, int],
                        base: TimeMapping = CORNET_S_TIME_MAPPING) -> dict[str, tuple[float, float, int]]:
    """A mapping for a model with other step counts (e.g. the Fig. 4 variants).

    Keeps each area's start and total span from ``base`` and divides the span evenly among the
    area's steps (IT with 10 steps: (100, 20, 10)). This is this project's convention, not
    Brain-Score's; areas absent from ``base`` (e.g. ``pIT``) are left unmapped.
    """
    mapping = {}
    for area, n in steps.items():
        if area not in base:
            continue
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"steps[{area!r}]={n!r}: expected an integer >= 1")
        start, step, base_steps = base[area]
        span = step * base_steps
        mapping[area] = (start, span / n if span % n else span // n, n)
    return mapping
