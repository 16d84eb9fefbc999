"""Cached, checksum-verified, atomic downloads of the published data (see :mod:`.catalog`).

Cache directory: :func:`cornet_repro.cache.cache_dir` (the ``cache`` argument, else
``$CORNET_REPRO_CACHE``, else ``~/.cache/cornet_repro``). Files land in ``<cache>/brainio/<filename>``.
Downloads go through :func:`cornet_repro.cache.download`: streamed into a temporary file beside the
target, hashed as they arrive; only a complete file whose SHA-1 matches the published one is
renamed into place. Offline, or for data that are not public, the
error says what to get and where to put it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..cache import CACHE_ENV, DownloadError, cache_dir, download, file_hash
from ..files import atomic_write_text
from .catalog import STIMULUS_SETS, CatalogEntry, dataset, entry

__all__ = [
    "cache_dir", "DataUnavailableError", "ChecksumError", "sha1_of", "fetch_file",
    "fetch_assembly", "fetch_stimulus_set", "load_dataset", "load_stimuli",
]



class DataUnavailableError(FileNotFoundError):
    """A file could not be obtained; the message says what to fetch and where to put it."""


class ChecksumError(OSError):
    """A file's SHA-1 differs from the published one."""


def sha1_of(path: str | os.PathLike) -> str:
    """SHA-1 of a file, as BrainIO's catalogs publish it."""
    return file_hash(path, "sha1")


def _target(e: CatalogEntry, cache: str | os.PathLike | None) -> Path:
    return cache_dir(cache) / "brainio" / e.filename


def _marker(path: Path) -> Path:
    return path.with_name(path.name + ".verified.json")


def _is_verified(path: Path, sha1: str) -> bool:
    """True if ``path`` was verified before and is unchanged since (size and mtime), so that large
    files are not re-hashed on every load."""
    try:
        record = json.loads(_marker(path).read_text())
        st = path.stat()
        return record == {"sha1": sha1, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    except (OSError, ValueError):
        return False


def _mark_verified(path: Path, sha1: str) -> None:
    st = path.stat()
    atomic_write_text(_marker(path), json.dumps({"sha1": sha1, "size": st.st_size, "mtime_ns": st.st_mtime_ns}))


def _verify_existing(path: Path, e: CatalogEntry, *, remove_on_mismatch: bool) -> None:
    if e.sha1 is None or _is_verified(path, e.sha1):
        return
    got = sha1_of(path)
    if got != e.sha1:
        if remove_on_mismatch:
            path.unlink(missing_ok=True)
            _marker(path).unlink(missing_ok=True)
            raise ChecksumError(
                f"{path} has SHA-1 {got}, but the published {e.name} has {e.sha1}; the file was removed. "
                f"Fetch it again (or download {e.url} yourself into {path.parent}).")
        raise ChecksumError(
            f"{path} has SHA-1 {got}, but the published {e.name} has {e.sha1}: it is not the published "
            f"file (or it is damaged). Supply the published file.")
    _mark_verified(path, e.sha1)


def _offline_message(e: CatalogEntry, path: Path, reason: str) -> str:
    return (f"could not download {e.name} from {e.url} ({reason}). Download it yourself "
            f"(SHA-1 {e.sha1}) and save it as {path}, or point ${CACHE_ENV} at a folder holding "
            f"brainio/{e.filename}.")


def _restricted_message(e: CatalogEntry, path: Path) -> str:
    checksum = f" (published SHA-1 {e.sha1})" if e.sha1 else ""
    # saving into the cache is what works everywhere (BrainData.real, `cornet-repro score --cache`);
    # path= is only for direct calls to the fetch functions
    return (f"{e.name} is not public: {e.how_to_obtain or 'ask its authors'}. Once you have "
            f"{e.filename}{checksum}, save it as {path} (or pass its location to the fetch functions: path=...).")


def _download(e: CatalogEntry, path: Path, timeout: float, progress: bool) -> None:
    if e.url is None:
        raise DataUnavailableError(_restricted_message(e, path))
    try:
        download(e.url, path, algorithm="sha1", expected=e.sha1, timeout=timeout, progress=progress)
    except DownloadError as error:
        if str(error).startswith("wrong sha1"):
            raise ChecksumError(
                f"downloaded {e.name} from {e.url} has the {error}; the download was removed (nothing was "
                f"written to {path}). Retry, or download it yourself into {path}.") from error
        raise DataUnavailableError(_offline_message(e, path, f"{error}; nothing was kept")) from error
    if e.sha1 is not None:
        _mark_verified(path, e.sha1)


def fetch_file(e: CatalogEntry | str, *, cache: str | os.PathLike | None = None,
               path: str | os.PathLike | None = None, timeout: float = 60.0,
               progress: bool = True) -> Path:
    """Local path of a catalog file, downloading and verifying it if needed.

    ``path``: a user-supplied copy (required for restricted data unless it is already in the cache);
    it is verified against the published SHA-1 where one is known, and never deleted.
    """
    e = entry(e) if isinstance(e, str) else e
    target = _target(e, cache)
    if path is not None:
        supplied = Path(path).expanduser()
        if not supplied.is_file():
            raise DataUnavailableError(f"path={supplied} given for {e.name} is not a file")
        _verify_existing(supplied, e, remove_on_mismatch=False)
        return supplied
    if target.is_file():
        try:
            _verify_existing(target, e, remove_on_mismatch=True)
            return target
        except ChecksumError:
            if e.access != "public":
                raise
            # a damaged cached copy of a public file: it was removed; download it afresh below
    if e.access != "public":
        raise DataUnavailableError(_restricted_message(e, target))
    _download(e, target, timeout, progress)
    return target


def fetch_assembly(name: str, *, cache: str | os.PathLike | None = None,
                   path: str | os.PathLike | None = None, **kwargs) -> Path:
    """Path of a dataset's assembly netCDF file (see :data:`.catalog.DATASETS`)."""
    return fetch_file(dataset(name).assembly, cache=cache, path=path, **kwargs)


def fetch_stimulus_set(name: str, *, cache: str | os.PathLike | None = None,
                       csv_path: str | os.PathLike | None = None,
                       zip_path: str | os.PathLike | None = None, **kwargs) -> tuple[Path, Path]:
    """Paths of a stimulus set's CSV and ZIP files."""
    try:
        csv_e, zip_e = STIMULUS_SETS[name]
    except KeyError:
        raise KeyError(f"unknown stimulus set {name!r}; known: {sorted(STIMULUS_SETS)}") from None
    return (fetch_file(csv_e, cache=cache, path=csv_path, **kwargs),
            fetch_file(zip_e, cache=cache, path=zip_path, **kwargs))


def load_stimuli(name: str, *, cache: str | os.PathLike | None = None, **kwargs):
    """A published stimulus set as a :class:`cornet_repro.data.brainio.StimulusSet`."""
    from .brainio import load_stimulus_set

    csv, zip_ = fetch_stimulus_set(name, cache=cache, **kwargs)
    return load_stimulus_set(csv, zip_, identifier=name)


def load_dataset(name: str, *, cache: str | os.PathLike | None = None, path: str | os.PathLike | None = None,
                 with_stimuli: bool = True, **kwargs):
    """A published assembly, with its stimulus set's metadata merged into the presentation coords."""
    from .brainio import load_assembly

    d = dataset(name)
    stimuli = load_stimuli(d.stimulus_set, cache=cache, **kwargs) if (with_stimuli and d.stimulus_set) else None
    return load_assembly(fetch_assembly(name, cache=cache, path=path, **kwargs), stimulus_set=stimuli)
