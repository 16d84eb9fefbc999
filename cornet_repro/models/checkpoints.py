"""Official CORnet checkpoints: cached, hash-verified download and tolerant loading.

Checkpoints are read from a local path or a URL. URLs are downloaded once into the cache
directory (``cache_dir`` argument, else ``$CORNET_REPRO_CACHE``, else ``~/.cache/cornet_repro``),
written atomically, and verified, like ``torch.hub``, against the sha256 prefix embedded in the
file name (``cornet_s-1d3f7974.pth`` -> the file's sha256 starts with ``1d3f7974``). Loading uses
``torch.load(weights_only=True)`` and accepts the state dict at the top level or under
``"state_dict"``, with or without the ``module.`` prefix that ``DataParallel`` adds (the official
files have both).
"""

from __future__ import annotations

import hashlib
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import Tensor, nn
from torch.nn.modules.utils import consume_prefix_in_state_dict_if_present

from cornet_repro.files import atomic_path

__all__ = [
    "BASE_URL", "CACHE_ENV", "CheckpointError", "OFFICIAL_CHECKPOINTS", "cache_dir",
    "expected_hash_prefix", "load_checkpoint", "load_state_dict", "official_url",
    "resolve_checkpoint", "sha256_file", "verify_hash",
]

CACHE_ENV = "CORNET_REPRO_CACHE"
BASE_URL = "https://s3.amazonaws.com/cornet-models/"
#: File names of the official checkpoints; the part after "-" is the sha256 prefix.
OFFICIAL_CHECKPOINTS = {
    "cornet_z": "cornet_z-5c427c9c.pth",
    "cornet_r": "cornet_r-5930a990.pth",
    "cornet_rt": "cornet_rt-933c001c.pth",
    "cornet_s": "cornet_s-1d3f7974.pth",
}
# Same rule as torch.hub: the hex digits between the last "-" and the first "." that follows.
_HASH_RE = re.compile(r"-([a-f0-9]+)\.")
_CHUNK = 1 << 20


class CheckpointError(RuntimeError):
    """A checkpoint could not be found, downloaded, verified or loaded."""


def cache_dir(path: str | os.PathLike | None = None) -> Path:
    """The checkpoint cache: ``path`` if given, else ``$CORNET_REPRO_CACHE``, else ``~/.cache/cornet_repro``."""
    if path is not None:
        return Path(path).expanduser()
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    return Path.home() / ".cache" / "cornet_repro"


def official_url(name: str) -> str:
    """Download URL of the official checkpoint of ``name`` (``'cornet_s'``, ...)."""
    if name not in OFFICIAL_CHECKPOINTS:
        raise ValueError(f"no official checkpoint for {name!r}; available: {sorted(OFFICIAL_CHECKPOINTS)}")
    return BASE_URL + OFFICIAL_CHECKPOINTS[name]


def expected_hash_prefix(filename: str) -> str | None:
    """The sha256 prefix embedded in a file name (``cornet_s-1d3f7974.pth`` -> ``'1d3f7974'``), if any."""
    matches = _HASH_RE.findall(Path(filename).name)
    return matches[-1] if matches else None


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verify_hash(path: str | os.PathLike, prefix: str | None = None, *, name: str | None = None) -> None:
    """Check that the sha256 of ``path`` starts with ``prefix`` (default: the prefix in ``name`` or
    in the file's own name); raise :class:`CheckpointError` naming the file otherwise."""
    path = Path(path)
    prefix = prefix if prefix is not None else expected_hash_prefix(name or path.name)
    if not prefix:
        return
    actual = sha256_file(path)
    if not actual.startswith(prefix):
        raise CheckpointError(
            f"checkpoint {path} is corrupt or incomplete: its sha256 is {actual[:16]}..., but the "
            f"name {name or path.name!r} promises a hash starting with {prefix!r}. Delete the file "
            "and download it again.")


def _is_url(source: str | os.PathLike) -> bool:
    return isinstance(source, str) and urllib.parse.urlparse(source).scheme in ("http", "https", "ftp", "file")


def _download(url: str, destination: Path, timeout: float) -> None:
    """Stream ``url`` into ``destination`` atomically, verifying the hash in its name first."""
    prefix = expected_hash_prefix(destination.name)
    try:
        with atomic_path(destination) as tmp:
            digest = hashlib.sha256()
            with urllib.request.urlopen(url, timeout=timeout) as response, open(tmp, "wb") as f:
                while chunk := response.read(_CHUNK):
                    digest.update(chunk)
                    f.write(chunk)
            # Checked before the rename: a bad download never lands in the cache.
            if prefix and not digest.hexdigest().startswith(prefix):
                raise CheckpointError(
                    f"download of {url} is corrupt or incomplete: sha256 {digest.hexdigest()[:16]}... "
                    f"does not start with {prefix!r} (from the file name); nothing was written to "
                    f"{destination}. Try again, or fetch the file yourself and place it there.")
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        raise CheckpointError(
            f"could not download {url} ({exc}). Without network access, download it elsewhere and "
            f"place it at {destination} (the cache directory is set by the cache_dir argument or "
            f"${CACHE_ENV}).") from exc


def resolve_checkpoint(source: str | os.PathLike, cache: str | os.PathLike | None = None, *,
                       check_hash: bool = True, timeout: float = 60.0) -> Path:
    """Local path of a checkpoint given as a path or URL, downloading URLs into the cache once.

    The sha256 prefix in the file name (if any) is verified for downloads and, with
    ``check_hash=True``, also for cached and local files.
    """
    if _is_url(source):
        filename = Path(urllib.parse.urlparse(str(source)).path).name
        if not filename:
            raise CheckpointError(f"cannot derive a file name from the URL {source!r}")
        path = cache_dir(cache) / filename
        if not path.exists():
            _download(str(source), path, timeout)
            return path
    else:
        path = Path(source).expanduser()
        if not path.is_file():
            raise CheckpointError(f"checkpoint file {path} does not exist")
    if check_hash:
        verify_hash(path)
    return path


def _extract_state_dict(obj: object, path: Path) -> dict[str, Tensor]:
    if isinstance(obj, Mapping) and isinstance(obj.get("state_dict"), Mapping):
        obj = obj["state_dict"]
    if not isinstance(obj, Mapping) or not obj or not all(isinstance(v, Tensor) for v in obj.values()):
        raise CheckpointError(
            f"{path} holds no state dict: expected a mapping of parameter names to tensors, at the "
            "top level or under 'state_dict'")
    state = OrderedDict(obj)
    # Keep the per-module version metadata: load_state_dict uses it to upgrade old formats.
    metadata = getattr(obj, "_metadata", None)
    if metadata is not None:
        state._metadata = OrderedDict(metadata)  # type: ignore[attr-defined]
    # DataParallel / DDP checkpoints prefix every key with "module.".
    if all(key.startswith("module.") for key in state):
        consume_prefix_in_state_dict_if_present(state, "module.")
    return state


def load_state_dict(source: str | os.PathLike, cache: str | os.PathLike | None = None, *,
                    map_location: str | torch.device = "cpu", check_hash: bool = True,
                    timeout: float = 60.0) -> dict[str, Tensor]:
    """The state dict of a checkpoint (path or URL), without ``module.`` prefixes."""
    path = resolve_checkpoint(source, cache, check_hash=check_hash, timeout=timeout)
    try:
        obj = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # truncated zip, wrong format, disallowed pickled objects, ...
        raise CheckpointError(
            f"could not read checkpoint {path}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}. "
            "The file may be truncated or not a PyTorch state dict; delete it and fetch it again.") from exc
    return _extract_state_dict(obj, path)


def load_checkpoint(model: nn.Module, source: str | os.PathLike, cache: str | os.PathLike | None = None, *,
                    strict: bool = True, check_hash: bool = True, timeout: float = 60.0) -> nn.Module:
    """Load a checkpoint (path or URL) into ``model`` and return the model.

    Mismatched keys or shapes raise :class:`CheckpointError` naming the file.
    """
    state = load_state_dict(source, cache, check_hash=check_hash, timeout=timeout)
    try:
        model.load_state_dict(state, strict=strict)
    except RuntimeError as exc:
        raise CheckpointError(
            f"checkpoint {source} does not fit {type(model).__name__}: {exc}") from exc
    return model
