"""BrainIO-style assemblies: labelled xarray DataArrays, their constructors and validators.

Conventions (those of BrainIO / Brain-Score, so that real files load unchanged):

* neural and model assemblies have dims ``presentation × neuroid [× time_bin]``;
  presentation coords: ``stimulus_id`` (required), ``object_name``, ``repetition``;
  neuroid coords: ``neuroid_id`` (required), ``region`` (or ``layer`` for models);
  time-bin coords: ``time_bin_start``, ``time_bin_end`` (ms).
* behavioural trial assemblies have the single dim ``presentation`` (one entry per trial);
  their values are the reported ``choice``; coords ``stimulus_id``, ``truth`` (the object shown,
  BrainIO's ``sample_obj``) and ``distractor`` (BrainIO's ``dist_obj``).
* probability assemblies (a model's choice probabilities) have dims ``presentation × choice``;
  the ``choice`` dim is labelled with object names.

Coordinates are plain (non-index) coordinates along their dim rather than pandas MultiIndexes:
they round-trip through netCDF unchanged and select with boolean masks.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import xarray as xr

__all__ = [
    "AssemblyError",
    "neural_assembly",
    "model_assembly",
    "behavioral_assembly",
    "probabilities_assembly",
    "validate_neural",
    "validate_model",
    "validate_behavioral",
    "validate_probabilities",
    "average_repetitions",
    "select",
    "presentation_coords",
    "describe",
]

#: legacy BrainIO names → the names used here
COORD_ALIASES = {"image_id": "stimulus_id", "sample_obj": "truth", "dist_obj": "distractor"}


class AssemblyError(ValueError):
    """An assembly lacks a dim or coord a computation needs, or has inconsistent values."""


def describe(assembly: xr.DataArray) -> str:
    """One line saying what an assembly has: dims with sizes and coords per dim."""
    dims = ", ".join(f"{d}={n}" for d, n in assembly.sizes.items())
    coords = ", ".join(f"{name}{tuple(assembly[name].dims)}" for name in assembly.coords)
    return f"dims ({dims}); coords [{coords or 'none'}]"


def _coord_on(assembly: xr.DataArray, name: str, dim: str) -> None:
    if name not in assembly.coords:
        raise AssemblyError(
            f"assembly has no coord {name!r} (along {dim!r}); it has {describe(assembly)}")
    if assembly[name].dims != (dim,):
        raise AssemblyError(
            f"coord {name!r} must lie along {dim!r} alone, but lies along {assembly[name].dims}; "
            f"assembly has {describe(assembly)}")


def _require_dims(assembly: Any, dims: Sequence[str], what: str, optional: Sequence[str] = ()) -> None:
    if not isinstance(assembly, xr.DataArray):
        raise AssemblyError(f"{what} must be an xarray.DataArray, got {type(assembly).__name__}")
    missing = [d for d in dims if d not in assembly.dims]
    extra = [d for d in assembly.dims if d not in dims and d not in optional]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing dim(s) {missing}")
        if extra:
            parts.append(f"unexpected dim(s) {extra}")
        allowed = list(dims) + [f"[{d}]" for d in optional]
        raise AssemblyError(
            f"{what} needs dims {allowed}: {'; '.join(parts)}; found {describe(assembly)}")


def _as_1d(values: Any, n: int, name: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim == 0:
        arr = np.repeat(arr, n)
    if arr.shape != (n,):
        raise AssemblyError(f"coord {name!r} has shape {arr.shape}; expected ({n},)")
    return arr


def _check_finite(data: np.ndarray, what: str) -> None:
    if np.issubdtype(data.dtype, np.floating) and not np.all(np.isfinite(data)):
        bad = int(np.size(data) - np.count_nonzero(np.isfinite(data)))
        raise AssemblyError(f"{what} has {bad} non-finite value(s) (NaN or inf); remove or impute them first")


def neural_assembly(
    data: np.ndarray,
    *,
    stimulus_id: Sequence,
    neuroid_id: Sequence,
    region: str | Sequence[str] | None = None,
    object_name: Sequence | None = None,
    repetition: Sequence[int] | None = None,
    time_bin_start: Sequence[float] | None = None,
    time_bin_end: Sequence[float] | None = None,
    presentation_coords: Mapping[str, Sequence] | None = None,
    neuroid_coords: Mapping[str, Sequence] | None = None,
    name: str | None = None,
) -> xr.DataArray:
    """Build a ``presentation × neuroid [× time_bin]`` assembly.

    ``data`` is 2-D, or 3-D when ``time_bin_start``/``time_bin_end`` are given.
    Scalars for ``region`` broadcast over neuroids.
    """
    data = np.asarray(data)
    timed = time_bin_start is not None or time_bin_end is not None
    if timed and (time_bin_start is None or time_bin_end is None):
        raise AssemblyError("give both time_bin_start and time_bin_end, or neither")
    want = 3 if timed else 2
    if data.ndim != want:
        raise AssemblyError(
            f"data has {data.ndim} dims {data.shape}; expected {want} "
            f"(presentation × neuroid{' × time_bin' if timed else ''})")
    n_pres, n_neur = data.shape[:2]
    coords: dict[str, tuple[str, np.ndarray]] = {
        "stimulus_id": ("presentation", _as_1d(stimulus_id, n_pres, "stimulus_id")),
        "neuroid_id": ("neuroid", _as_1d(neuroid_id, n_neur, "neuroid_id")),
    }
    if object_name is not None:
        coords["object_name"] = ("presentation", _as_1d(object_name, n_pres, "object_name"))
    if repetition is not None:
        coords["repetition"] = ("presentation", _as_1d(repetition, n_pres, "repetition"))
    if region is not None:
        coords["region"] = ("neuroid", _as_1d(region, n_neur, "region"))
    for key, values in (presentation_coords or {}).items():
        coords[key] = ("presentation", _as_1d(values, n_pres, key))
    for key, values in (neuroid_coords or {}).items():
        coords[key] = ("neuroid", _as_1d(values, n_neur, key))
    dims = ["presentation", "neuroid"]
    if timed:
        n_time = data.shape[2]
        coords["time_bin_start"] = ("time_bin", _as_1d(time_bin_start, n_time, "time_bin_start"))
        coords["time_bin_end"] = ("time_bin", _as_1d(time_bin_end, n_time, "time_bin_end"))
        dims.append("time_bin")
    return xr.DataArray(data, dims=dims, coords=coords, name=name)


def model_assembly(
    features: np.ndarray,
    *,
    stimulus_id: Sequence,
    layer: str | Sequence[str],
    neuroid_id: Sequence | None = None,
    time_bin_start: Sequence[float] | None = None,
    time_bin_end: Sequence[float] | None = None,
    presentation_coords: Mapping[str, Sequence] | None = None,
    region: str | Sequence[str] | None = None,
) -> xr.DataArray:
    """Model activations as a ``presentation × neuroid [× time_bin]`` assembly.

    Neuroids are labelled ``layer`` and ``neuroid_id`` (default ``"<layer>.<index>"``).
    """
    features = np.asarray(features)
    if features.ndim not in (2, 3):
        raise AssemblyError(f"features must be 2-D or 3-D, got shape {features.shape}")
    n_neur = features.shape[1]
    layers = _as_1d(layer, n_neur, "layer")
    if neuroid_id is None:
        neuroid_id = np.array([f"{l}.{i}" for i, l in enumerate(layers)])
    extra = {"layer": layers}
    return neural_assembly(
        features, stimulus_id=stimulus_id, neuroid_id=neuroid_id, region=region,
        time_bin_start=time_bin_start, time_bin_end=time_bin_end,
        presentation_coords=presentation_coords, neuroid_coords=extra)


def behavioral_assembly(
    choice: Sequence,
    *,
    stimulus_id: Sequence,
    truth: Sequence,
    distractor: Sequence,
    presentation_coords: Mapping[str, Sequence] | None = None,
    name: str | None = None,
) -> xr.DataArray:
    """Two-alternative forced-choice trials: one presentation per trial, values = the choice."""
    choice = np.asarray(choice)
    if choice.ndim != 1:
        raise AssemblyError(f"choice must be 1-D (one entry per trial), got shape {choice.shape}")
    n = len(choice)
    coords = {
        "stimulus_id": ("presentation", _as_1d(stimulus_id, n, "stimulus_id")),
        "truth": ("presentation", _as_1d(truth, n, "truth")),
        "distractor": ("presentation", _as_1d(distractor, n, "distractor")),
        "choice": ("presentation", choice),
    }
    for key, values in (presentation_coords or {}).items():
        coords[key] = ("presentation", _as_1d(values, n, key))
    result = xr.DataArray(choice, dims=["presentation"], coords=coords, name=name)
    validate_behavioral(result)
    return result


def probabilities_assembly(
    probabilities: np.ndarray,
    *,
    stimulus_id: Sequence,
    choices: Sequence,
    truth: Sequence | None = None,
    presentation_coords: Mapping[str, Sequence] | None = None,
) -> xr.DataArray:
    """Per-image choice probabilities, ``presentation × choice``."""
    p = np.asarray(probabilities, dtype=float)
    if p.ndim != 2:
        raise AssemblyError(f"probabilities must be 2-D (presentation × choice), got shape {p.shape}")
    n, k = p.shape
    coords: dict[str, Any] = {
        "stimulus_id": ("presentation", _as_1d(stimulus_id, n, "stimulus_id")),
        "choice": ("choice", _as_1d(choices, k, "choice")),
    }
    if truth is not None:
        coords["truth"] = ("presentation", _as_1d(truth, n, "truth"))
    for key, values in (presentation_coords or {}).items():
        coords[key] = ("presentation", _as_1d(values, n, key))
    result = xr.DataArray(p, dims=["presentation", "choice"], coords=coords)
    validate_probabilities(result)
    return result


def _apply_aliases(assembly: xr.DataArray) -> xr.DataArray:
    """Rename legacy BrainIO coords (``image_id``, ``sample_obj``, ``dist_obj``) when the new name is absent."""
    rename = {old: new for old, new in COORD_ALIASES.items()
              if old in assembly.coords and new not in assembly.coords}
    if not rename:
        return assembly
    return assembly.assign_coords({new: (assembly[old].dims, assembly[old].values) for old, new in rename.items()})


def validate_neural(
    assembly: xr.DataArray,
    *,
    time: bool | None = None,
    repetition: bool = False,
    object_name: bool = False,
    region: bool = False,
    what: str = "neural assembly",
) -> xr.DataArray:
    """Check a ``presentation × neuroid [× time_bin]`` assembly and return it (aliases applied).

    ``time``: True requires a ``time_bin`` dim, False forbids it, None allows either.
    """
    optional = ("time_bin",) if time is None else ()
    dims = ("presentation", "neuroid") + (("time_bin",) if time else ())
    _require_dims(assembly, dims, what, optional=optional)
    assembly = _apply_aliases(assembly).transpose("presentation", "neuroid", ...)
    _coord_on(assembly, "stimulus_id", "presentation")
    _coord_on(assembly, "neuroid_id", "neuroid")
    if repetition:
        _coord_on(assembly, "repetition", "presentation")
    if object_name:
        _coord_on(assembly, "object_name", "presentation")
    if region:
        _coord_on(assembly, "region", "neuroid")
    if "time_bin" in assembly.dims:
        _coord_on(assembly, "time_bin_start", "time_bin")
        _coord_on(assembly, "time_bin_end", "time_bin")
    return assembly


def validate_model(assembly: xr.DataArray, *, time: bool | None = None,
                   what: str = "model assembly") -> xr.DataArray:
    """Check a model activations assembly (as :func:`validate_neural`, finite values required)."""
    assembly = validate_neural(assembly, time=time, what=what)
    _check_finite(np.asarray(assembly.values), what)
    return assembly


def validate_behavioral(assembly: xr.DataArray, what: str = "behavioral assembly") -> xr.DataArray:
    """Check a trials assembly (dim ``presentation``; coords ``stimulus_id``, ``truth``, ``distractor``)."""
    _require_dims(assembly, ("presentation",), what)
    assembly = _apply_aliases(assembly)
    for name in ("stimulus_id", "truth", "distractor"):
        _coord_on(assembly, name, "presentation")
    if "choice" not in assembly.coords:
        assembly = assembly.assign_coords(choice=("presentation", np.asarray(assembly.values)))
    choice = np.asarray(assembly["choice"].values)
    truth = np.asarray(assembly["truth"].values)
    distractor = np.asarray(assembly["distractor"].values)
    invalid = (choice != truth) & (choice != distractor)
    if invalid.any():
        i = int(np.flatnonzero(invalid)[0])
        raise AssemblyError(
            f"{what}: {int(invalid.sum())} trial(s) report a choice that is neither the truth nor the "
            f"distractor (first: trial {i}, choice={choice[i]!r}, truth={truth[i]!r}, "
            f"distractor={distractor[i]!r})")
    return assembly


def validate_probabilities(assembly: xr.DataArray, what: str = "probabilities") -> xr.DataArray:
    """Check a ``presentation × choice`` probabilities assembly."""
    _require_dims(assembly, ("presentation", "choice"), what)
    assembly = _apply_aliases(assembly)
    _coord_on(assembly, "stimulus_id", "presentation")
    if "choice" not in assembly.coords:
        raise AssemblyError(f"{what} needs labels on its 'choice' dim (object names); found {describe(assembly)}")
    values = np.asarray(assembly.values, dtype=float)
    if not np.all(np.isfinite(values)) or values.min() < 0 or values.max() > 1:
        raise AssemblyError(f"{what} must hold finite probabilities in [0, 1]")
    return assembly


def presentation_coords(assembly: xr.DataArray, dim: str = "presentation") -> list[str]:
    """Names of the coords that lie along ``dim`` alone."""
    return [name for name in assembly.coords if assembly[name].dims == (dim,)]


def average_repetitions(assembly: xr.DataArray) -> xr.DataArray:
    """Mean over presentations of the same ``stimulus_id`` (e.g. over repetitions), NaN-skipping.

    Presentation coords that are constant within every stimulus are kept; others (``repetition``,
    trial-level metadata) are dropped. Stimuli come out in Brain-Score's order
    (``average_repetition``: a groupby over all non-repetition presentation coords, whose groups
    xarray sorts): sorted by the tuple of the kept coords' values, in coord order. The
    cross-validation splits index into this order, so it decides which images each split tests.
    """
    assembly = validate_neural(assembly)
    ids = np.asarray(assembly["stimulus_id"].values)
    uniq, first, group = np.unique(ids, return_index=True, return_inverse=True)
    n_groups = len(uniq)
    values = np.asarray(assembly.values, dtype=float)
    # sort presentations by group and sum contiguous runs: O(n) memory, unlike a one-hot matmul
    by_group = np.argsort(group, kind="stable")
    counts = np.bincount(group, minlength=n_groups)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    finite = np.isfinite(values)
    sums = np.add.reduceat(np.where(finite, values, 0.0)[by_group], starts, axis=0)
    n_finite = np.add.reduceat(finite[by_group].astype(np.int64), starts, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sums / n_finite  # NaN-skipping mean, as Brain-Score's (NaN where no finite value)
    kept: dict[str, np.ndarray] = {}
    other: dict[str, Any] = {}
    for name in assembly.coords:
        dims = assembly[name].dims
        if dims == ("presentation",):
            vals = np.asarray(assembly[name].values)
            reps = vals[first]
            if name != "repetition" and np.array_equal(vals, reps[group]):
                kept[name] = reps
        elif "presentation" not in dims:
            other[name] = (dims, assembly[name].values)
    order = brainscore_group_order(kept)
    coords: dict[str, Any] = {name: ("presentation", vals[order]) for name, vals in kept.items()}
    coords.update(other)
    return xr.DataArray(mean[order], dims=assembly.dims, coords=coords, name=assembly.name,
                        attrs=dict(assembly.attrs))


def brainscore_group_order(keys: dict[str, np.ndarray]) -> np.ndarray:
    """The order in which Brain-Score's ``multi_groupby(keys).mean()`` returns groups: sorted by the
    tuple of key values, compared as Python compares tuples (its ``MultiCoord.__lt__``)."""
    columns = [np.asarray(v).tolist() for v in keys.values()]
    rows = list(zip(*columns))
    return np.array(sorted(range(len(rows)), key=rows.__getitem__), dtype=int)


def select(assembly: xr.DataArray, **conditions: Any) -> xr.DataArray:
    """Subset along whichever dim each coord lies on: ``select(a, region="IT")``.

    A condition value may be a scalar or a list of accepted values.
    """
    for name, wanted in conditions.items():
        if name not in assembly.coords:
            raise AssemblyError(f"cannot select on {name!r}: no such coord; assembly has {describe(assembly)}")
        dims = assembly[name].dims
        if len(dims) != 1:
            raise AssemblyError(f"cannot select on {name!r}: it lies along {dims}, not a single dim")
        values = np.asarray(assembly[name].values)
        accepted = list(wanted) if isinstance(wanted, (list, tuple, set, np.ndarray)) else [wanted]
        mask = np.isin(values, accepted)
        if not mask.any():
            raise AssemblyError(
                f"no {dims[0]} has {name} in {accepted}; available: {sorted(set(values.tolist()))[:20]}")
        assembly = assembly.isel({dims[0]: np.flatnonzero(mask)})
    return assembly


def unique_in_order(values: Iterable) -> np.ndarray:
    """Unique values in order of first appearance."""
    values = np.asarray(list(values) if not isinstance(values, np.ndarray) else values)
    _, idx = np.unique(values, return_index=True)
    return values[np.sort(idx)]
