"""The data cache: where downloaded and generated files live, file hashes, and one download.

Cache root: the ``cache`` argument, else ``$CORNET_REPRO_CACHE``, else ``~/.cache/cornet_repro``.
Its users: Brain-Score's BrainIO files (``<cache>/brainio/``, :mod:`cornet_repro.data.fetch`),
official CORnet weights (``<cache>/``, :mod:`cornet_repro.models.weights`), the simulated
experiment (``<cache>/simulated/``) and rendered training images (``<cache>/simulated-objects/``).

:func:`download` is the only code that fetches a URL: it streams into a temporary file beside
the target, hashing as it goes, checks the length the server announced and the expected hash,
and only then renames the file into place; a failed or cut download leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable

from .files import atomic_path

__all__ = ["CACHE_ENV", "DownloadError", "cache_dir", "file_hash", "download"]

CACHE_ENV = "CORNET_REPRO_CACHE"
_CHUNK = 1 << 20


class DownloadError(OSError):
    """A download failed (no connection, HTTP error, cut short, too slow, or a wrong hash).

    The message says what happened; nothing was written to the destination.
    """


def cache_dir(cache: str | os.PathLike | None = None) -> Path:
    """The cache root: ``cache``, else ``$CORNET_REPRO_CACHE``, else ``~/.cache/cornet_repro``."""
    if cache is not None:
        return Path(cache).expanduser()
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else Path("~/.cache/cornet_repro").expanduser()


def file_hash(path: str | os.PathLike, algorithm: str = "sha256") -> str:
    """Hex digest of a file (``sha256``, or ``sha1`` as BrainIO's catalogs publish), read in chunks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def download(url: str, destination: str | os.PathLike, *, algorithm: str = "sha256",
             expected: str | None = None, timeout: float = 60.0, deadline: float | None = 3600.0,
             progress: bool = False, check: Callable[[Path], None] | None = None) -> Path:
    """Download ``url`` to ``destination`` atomically and return the destination.

    ``expected``: the file's ``algorithm`` digest, or a prefix of it (as in torch.hub file names);
    ``timeout``: seconds allowed for each network read; ``deadline``: seconds allowed for the whole
    download (a server trickling bytes never keeps it alive past that); ``check``: a function that
    raises if the complete temporary file is not usable (e.g. not loadable), called before the
    rename. Raises :class:`DownloadError`; on any failure the destination is left as it was.
    """
    destination = Path(destination)
    start = time.monotonic()
    try:
        response = urllib.request.urlopen(url, timeout=timeout)
    except urllib.error.HTTPError as error:
        access = ": access denied" if error.code in (401, 403) else ""
        raise DownloadError(f"HTTP {error.code} {error.reason}{access}") from error
    except (urllib.error.URLError, socket.timeout, OSError, ValueError, http.client.HTTPException) as error:
        raise DownloadError(f"no connection: {getattr(error, 'reason', error)}") from error
    announced = response.headers.get("Content-Length")
    announced = int(announced) if announced and announced.isdigit() else None
    digest = hashlib.new(algorithm)
    received = 0
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=announced, unit="B", unit_scale=True, desc=destination.name, leave=False)
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
        with response, atomic_path(destination) as tmp:
            with open(tmp, "wb") as out:
                while True:
                    if deadline is not None and time.monotonic() - start > deadline:
                        raise DownloadError(f"took longer than {deadline:g} s (received {received} bytes)")
                    try:
                        # read1 returns what has arrived: a trickling server cannot hold one call
                        # past the deadline (read(n) waits for all n bytes)
                        chunk = response.read1(_CHUNK) if hasattr(response, "read1") else response.read(_CHUNK)
                    except Exception as error:  # socket.timeout, IncompleteRead, ConnectionError, ...
                        raise DownloadError(f"connection lost after {received} bytes: "
                                            f"{type(error).__name__}: {error}") from error
                    if not chunk:
                        break
                    out.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    if bar is not None:
                        bar.update(len(chunk))
            if announced is not None and received != announced:
                raise DownloadError(f"truncated: received {received} of {announced} bytes")
            got = digest.hexdigest()
            if expected is not None and not got.startswith(expected):
                raise DownloadError(f"wrong {algorithm}: got {got[:16]}…, expected {expected[:16]}…")
            if check is not None:
                check(Path(tmp))
    finally:
        if bar is not None:
            bar.close()
    return destination
