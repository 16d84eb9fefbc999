"""Read and write BrainIO files: assemblies (netCDF-4) and stimulus sets (CSV + ZIP of images).

Assembly file: one data variable, named ``data``, after the assembly (e.g. ``dicarlo.MajajHong2015``),
or xarray's default; dims ``presentation × neuroid [× time_bin]`` (or ``presentation`` for trials);
coordinates stored as plain variables along those dims (BrainIO resets its MultiIndexes on write).
Legacy names are accepted: ``image_id`` for ``stimulus_id`` (and ``sample_obj``/``dist_obj`` for
``truth``/``distractor`` in behavioural data: both names are kept).

Stimulus set: a CSV with ``stimulus_id`` (or legacy ``image_id``) and ``filename`` (or legacy
``image_file_name``) columns plus metadata, and a ZIP whose members are those filenames.
"""

from __future__ import annotations

import io
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd
import xarray as xr

from ..assemblies import AssemblyError, _apply_aliases
from ..files import atomic_path

__all__ = ["StimulusSet", "load_assembly", "write_assembly", "load_stimulus_set", "write_stimulus_set"]


# ---------------------------------------------------------------------------------------------
# assemblies

def _pick_variable(ds: xr.Dataset, path: Path, name: str | None) -> xr.DataArray:
    variables = list(ds.data_vars)
    for candidate in ([name] if name else []) + ["data", path.stem, "__xarray_dataarray_variable__"]:
        if candidate in ds.data_vars:
            return ds[candidate]
    stem = path.stem.removeprefix("assy_")
    for var in variables:  # the assembly identifier, e.g. dicarlo.MajajHong2015.public ↔ assy_dicarlo_MajajHong2015_public
        if var.replace(".", "_") == stem:
            return ds[var]
    if len(variables) == 1:
        return ds[variables[0]]
    raise AssemblyError(
        f"{path}: cannot tell which data variable is the assembly; found {variables}. "
        f"Name it 'data' or pass name=...")


def load_assembly(path: str | os.PathLike, *, name: str | None = None,
                  stimulus_set: "StimulusSet | None" = None) -> xr.DataArray:
    """Load a BrainIO netCDF assembly into memory, legacy names mapped.

    With ``stimulus_set``, its metadata columns are merged into the presentation coords by
    ``stimulus_id`` (as Brain-Score's ``StimulusMergeAssemblyLoader`` does).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no assembly file at {path}")
    try:
        with xr.open_dataset(path) as ds:
            assembly = _pick_variable(ds, path, name).load()
    except (OSError, ValueError) as error:
        raise AssemblyError(f"{path} is not a readable netCDF assembly: {error}") from error
    assembly = _apply_aliases(assembly)
    if "presentation" not in assembly.dims:
        raise AssemblyError(f"{path}: the assembly has no 'presentation' dim; dims are {assembly.dims}")
    if "stimulus_id" not in assembly.coords:
        raise AssemblyError(f"{path}: no 'stimulus_id' (or legacy 'image_id') coord; coords are {list(assembly.coords)}")
    if stimulus_set is not None:
        assembly = merge_stimulus_metadata(assembly, stimulus_set)
    assembly.attrs["source_file"] = str(path)
    return assembly


def merge_stimulus_metadata(assembly: xr.DataArray, stimulus_set: "StimulusSet") -> xr.DataArray:
    """Add the stimulus set's columns as presentation coords (existing coords win)."""
    table = stimulus_set.table.set_index("stimulus_id")
    ids = np.asarray(assembly["stimulus_id"].values)
    missing = ~np.isin(ids, table.index.values)
    if missing.any():
        raise AssemblyError(f"{int(missing.sum())} presentations have stimulus_ids absent from stimulus set "
                            f"{stimulus_set.identifier!r} (first {ids[missing][0]!r})")
    rows = table.loc[ids]
    new = {col: ("presentation", rows[col].to_numpy()) for col in table.columns
           if col not in assembly.coords and col not in assembly.dims}
    return assembly.assign_coords(new)


def _serializable_attrs(attrs: Mapping[str, Any]) -> dict[str, Any]:
    ok = {}
    for key, value in attrs.items():
        if isinstance(value, (str, int, float, np.integer, np.floating)):
            ok[key] = value
        elif isinstance(value, (list, tuple, np.ndarray)) and np.asarray(value).dtype.kind in "iuf":
            ok[key] = np.asarray(value)
    return ok


def write_assembly(assembly: xr.DataArray, path: str | os.PathLike, *, name: str | None = None) -> Path:
    """Write an assembly as a BrainIO netCDF-4 file, atomically. Returns the path.

    The data variable is named ``name``, else the assembly's name, else ``data``. Attributes that
    netCDF cannot hold (e.g. objects) are dropped; MultiIndexes are reset to plain coords.
    """
    path = Path(path)
    da = assembly.copy()
    for dim in list(da.dims):
        if isinstance(da.indexes.get(dim), pd.MultiIndex):
            da = da.reset_index(dim)
    da.name = name or da.name or "data"
    da.attrs = _serializable_attrs(da.attrs)
    for coord in list(da.coords):
        da[coord].attrs = _serializable_attrs(da[coord].attrs)
        if da[coord].dtype == object:  # netCDF needs one type per variable
            da = da.assign_coords({coord: (da[coord].dims, da[coord].values.astype(str))})
    if da.dtype == object:
        da = da.copy(data=np.asarray(da.values).astype(str))
    with atomic_path(path, lock=False) as tmp:  # HDF5 locks the file itself
        da.to_netcdf(tmp, engine="netcdf4", format="NETCDF4")
    return path


# ---------------------------------------------------------------------------------------------
# stimulus sets

@dataclass
class StimulusSet:
    """Stimulus metadata (``table``: one row per stimulus) and where the image files are."""

    table: pd.DataFrame
    identifier: str = ""
    zip_path: Path | None = None
    directory: Path | None = None
    _members: dict[str, str] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.table)

    @property
    def stimulus_ids(self) -> np.ndarray:
        return self.table["stimulus_id"].to_numpy()

    def read_bytes(self, stimulus_id: Any) -> bytes:
        """Raw bytes of one stimulus file."""
        filename = self._filename(stimulus_id)
        if self.directory is not None:
            return (self.directory / filename).read_bytes()
        if self.zip_path is None:
            raise FileNotFoundError(f"stimulus set {self.identifier!r} has no image files attached")
        with zipfile.ZipFile(self.zip_path) as zf:
            return zf.read(self._members.get(filename, filename))

    def open_image(self, stimulus_id: Any):
        """One stimulus as an RGB PIL image."""
        return self._decode(self.read_bytes(stimulus_id), self._filename(stimulus_id))

    def _decode(self, data: bytes, filename: str):
        from PIL import Image, UnidentifiedImageError

        try:
            return Image.open(io.BytesIO(data)).convert("RGB")
        except (UnidentifiedImageError, OSError, ValueError) as error:
            where = f"{self.zip_path}: member {filename}" if self.zip_path is not None else str(
                (self.directory or Path(".")) / filename)
            raise AssemblyError(f"{where} is not a readable image ({type(error).__name__}); the stimulus set "
                                "is damaged or not the published one: fetch it again") from None

    def iter_images(self, stimulus_ids: Any = None):
        """Yield (stimulus_id, RGB PIL image), reading the ZIP once."""
        ids = self.stimulus_ids if stimulus_ids is None else stimulus_ids
        if self.directory is not None or self.zip_path is None:
            for sid in ids:
                yield sid, self.open_image(sid)
            return
        with zipfile.ZipFile(self.zip_path) as zf:
            for sid in ids:
                filename = self._filename(sid)
                data = zf.read(self._members.get(filename, filename))
                yield sid, self._decode(data, filename)

    def _filename(self, stimulus_id: Any) -> str:
        rows = self.table.index[self.table["stimulus_id"] == stimulus_id]
        if len(rows) == 0:
            raise KeyError(f"stimulus_id {stimulus_id!r} not in stimulus set {self.identifier!r}")
        return str(self.table.loc[rows[0], "filename"])

    def subset(self, stimulus_ids: Any) -> "StimulusSet":
        """The rows for ``stimulus_ids``, in that order."""
        table = self.table.set_index("stimulus_id", drop=False).loc[list(stimulus_ids)].reset_index(drop=True)
        return StimulusSet(table, self.identifier, self.zip_path, self.directory, self._members)


def _normalize_table(table: pd.DataFrame, source: str) -> pd.DataFrame:
    table = table.copy()
    if "stimulus_id" not in table.columns:
        if "image_id" not in table.columns:
            raise AssemblyError(f"{source}: no 'stimulus_id' (or legacy 'image_id') column; columns are {list(table.columns)}")
        table["stimulus_id"] = table["image_id"]
    if "filename" not in table.columns:
        if "image_file_name" not in table.columns:
            raise AssemblyError(f"{source}: no 'filename' (or legacy 'image_file_name') column; columns are {list(table.columns)}")
        table["filename"] = table["image_file_name"]
    dup = table["stimulus_id"].duplicated()
    if dup.any():
        raise AssemblyError(f"{source}: stimulus_id {table['stimulus_id'][dup].iloc[0]!r} appears more than once")
    return table


def load_stimulus_set(csv_path: str | os.PathLike, images: str | os.PathLike | None = None, *,
                      identifier: str | None = None, check_files: bool = True) -> StimulusSet:
    """Load a stimulus set: the CSV and (optionally) a ZIP file or directory of the images."""
    csv_path = Path(csv_path)
    if not csv_path.is_file():
        raise FileNotFoundError(f"no stimulus-set CSV at {csv_path}")
    ids_as_text = {"stimulus_id": str, "image_id": str, "filename": str, "image_file_name": str}
    try:
        raw = pd.read_csv(csv_path, dtype=ids_as_text)
    except (ValueError, pd.errors.ParserError) as error:  # empty, binary, ragged: EmptyDataError, UnicodeDecodeError, ...
        raise AssemblyError(f"{csv_path}: not a readable stimulus-set CSV ({type(error).__name__}: "
                            f"{str(error).splitlines()[0][:120]}); fetch it again (or fix it)") from None
    table = _normalize_table(raw, str(csv_path))
    zip_path = directory = None
    members: dict[str, str] = {}
    if images is not None:
        images = Path(images)
        if images.is_dir():
            directory = images
            present = {str(p.relative_to(images)) for p in images.rglob("*") if p.is_file()}
        elif zipfile.is_zipfile(images):
            zip_path = images
            try:
                with zipfile.ZipFile(images) as zf:
                    names = [n for n in zf.namelist() if not n.endswith("/")]
            except (zipfile.BadZipFile, OSError) as error:
                raise AssemblyError(f"{images}: a damaged ZIP file ({error}); fetch it again") from None
            # members may sit in a top-level folder: also index them by their path below it
            for n in names:
                members[n] = n
                if "/" in n:
                    members.setdefault(n.split("/", 1)[1], n)
                    members.setdefault(n.rsplit("/", 1)[1], n)
            present = set(members)
        else:
            raise FileNotFoundError(f"{images} is neither a directory nor a ZIP file of stimuli")
        if check_files:
            missing = [f for f in table["filename"].astype(str) if f not in present]
            if missing:
                raise AssemblyError(f"{len(missing)} file(s) listed in {csv_path} are missing from {images} "
                                    f"(first: {missing[0]!r})")
    return StimulusSet(table, identifier or csv_path.stem.removeprefix("stimulus_"), zip_path, directory, members)


def _image_bytes(image: Any, fmt: str) -> bytes:
    if isinstance(image, (bytes, bytearray)):
        return bytes(image)
    if isinstance(image, (str, os.PathLike)):
        return Path(image).read_bytes()
    from PIL import Image
    if isinstance(image, np.ndarray):
        array = image
        if array.dtype != np.uint8:
            array = np.clip(np.round(array * 255 if array.max() <= 1.0 else array), 0, 255).astype(np.uint8)
        image = Image.fromarray(array)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def write_stimulus_set(table: pd.DataFrame, images: Mapping[Any, Any], csv_path: str | os.PathLike,
                       zip_path: str | os.PathLike, *, image_format: str = "PNG") -> StimulusSet:
    """Write a BrainIO stimulus set atomically: ``table`` (with ``stimulus_id``; ``filename`` is
    added as ``<stimulus_id>.png`` if absent) and ``images`` (stimulus_id → bytes, path, PIL image
    or array). Returns the loaded stimulus set."""
    table = table.copy()
    if "stimulus_id" not in table.columns:
        raise AssemblyError(f"table needs a 'stimulus_id' column; columns are {list(table.columns)}")
    if "filename" not in table.columns:
        table["filename"] = [f"{sid}.{image_format.lower()}" for sid in table["stimulus_id"]]
    table = _normalize_table(table, "table")
    missing = [sid for sid in table["stimulus_id"] if sid not in images]
    if missing:
        raise AssemblyError(f"no image given for {len(missing)} stimulus_id(s) (first {missing[0]!r})")
    with atomic_path(zip_path) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as zf:
            for sid, filename in zip(table["stimulus_id"], table["filename"]):
                zf.writestr(str(filename), _image_bytes(images[sid], image_format))
    with atomic_path(csv_path) as tmp:
        table.to_csv(tmp, index=False)
    return load_stimulus_set(csv_path, zip_path)
