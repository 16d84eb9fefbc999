"""Official CORnet weights: cached, hash-verified download and tolerant loading.

Weights are read from a local path or a URL. URLs are downloaded once into the cache directory
(:func:`cornet_repro.cache.cache_dir`: the ``cache`` argument, else ``$CORNET_REPRO_CACHE``, else
``~/.cache/cornet_repro``) by :func:`cornet_repro.cache.download`: written atomically, verified,
like ``torch.hub``, against the sha256 prefix embedded in the file name (``cornet_s-1d3f7974.pth``
-> the file's sha256 starts with ``1d3f7974``), and kept only if it loads as a state dict (a
server answering with an HTML page or a truncated file never lands in the cache). Loading uses
``torch.load(weights_only=True)`` and accepts the state dict at the top level or under
``"state_dict"``, with or without the ``module.`` prefix that ``DataParallel`` adds (the official
files have both).

("Weights" are published parameters; a training run's resumable state is a *checkpoint*, see
:mod:`cornet_repro.runs`.)
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import Tensor, nn
from torch.nn.modules.utils import consume_prefix_in_state_dict_if_present

from ..cache import CACHE_ENV, DownloadError, cache_dir, download, file_hash

__all__ = [
    "BASE_URL", "WeightsError", "OFFICIAL_WEIGHTS", "expected_hash_prefix", "load_weights",
    "load_state_dict", "official_url", "resolve_weights", "verify_hash",
]

BASE_URL = "https://s3.amazonaws.com/cornet-models/"
#: File names of the official weights; the part after "-" is the sha256 prefix.
OFFICIAL_WEIGHTS = {
    "cornet_z": "cornet_z-5c427c9c.pth",
    "cornet_r": "cornet_r-5930a990.pth",
    "cornet_rt": "cornet_rt-933c001c.pth",
    "cornet_s": "cornet_s-1d3f7974.pth",
}
# Same rule as torch.hub: the hex digits between the last "-" and the first "." that follows.
_HASH_RE = re.compile(r"-([a-f0-9]+)\.")


class WeightsError(RuntimeError):
    """Weights could not be found, downloaded, verified or loaded."""


def official_url(name: str) -> str:
    """Download URL of the official weights of ``name`` (``'cornet_s'``, ...)."""
    if name not in OFFICIAL_WEIGHTS:
        raise ValueError(f"no official weights for {name!r}; available: {sorted(OFFICIAL_WEIGHTS)}")
    return BASE_URL + OFFICIAL_WEIGHTS[name]


def expected_hash_prefix(filename: str) -> str | None:
    """The sha256 prefix embedded in a file name (``cornet_s-1d3f7974.pth`` -> ``'1d3f7974'``), if any."""
    matches = _HASH_RE.findall(Path(filename).name)
    return matches[-1] if matches else None


def verify_hash(path: str | os.PathLike, prefix: str | None = None, *, name: str | None = None) -> None:
    """Check that the sha256 of ``path`` starts with ``prefix`` (default: the prefix in ``name`` or
    in the file's own name); raise :class:`WeightsError` naming the file otherwise."""
    path = Path(path)
    prefix = prefix if prefix is not None else expected_hash_prefix(name or path.name)
    if not prefix:
        return
    actual = file_hash(path)
    if not actual.startswith(prefix):
        raise WeightsError(
            f"weights file {path} is corrupt or incomplete: its sha256 is {actual[:16]}..., but the "
            f"name {name or path.name!r} promises a hash starting with {prefix!r}. Delete the file "
            "and download it again.")


def _is_url(source: str | os.PathLike) -> bool:
    return isinstance(source, str) and urllib.parse.urlparse(source).scheme in ("http", "https", "ftp", "file")


def _download(url: str, destination: Path, timeout: float) -> None:
    """Download ``url`` into the cache; kept only if its hash matches its name and it loads."""
    try:
        download(url, destination, expected=expected_hash_prefix(destination.name), timeout=timeout,
                 check=lambda tmp: _read_state_dict(tmp, name=url))
    except (DownloadError, WeightsError) as exc:
        raise WeightsError(
            f"could not download {url} ({exc}); nothing was written to {destination}. Without network "
            f"access, download it elsewhere and place it at {destination} (the cache directory is set by "
            f"the cache argument or ${CACHE_ENV}).") from exc


def resolve_weights(source: str | os.PathLike, cache: str | os.PathLike | None = None, *,
                    check_hash: bool = True, timeout: float = 60.0) -> Path:
    """Local path of weights given as a path or URL, downloading URLs into the cache once.

    The sha256 prefix in the file name (if any) is verified for downloads and, with
    ``check_hash=True``, also for cached and local files.
    """
    if _is_url(source):
        filename = Path(urllib.parse.urlparse(str(source)).path).name
        if not filename:
            raise WeightsError(f"cannot derive a file name from the URL {source!r}")
        path = cache_dir(cache) / filename
        if not path.exists():
            _download(str(source), path, timeout)
            return path
    else:
        path = Path(source).expanduser()
        if not path.is_file():
            raise WeightsError(f"weights file {path} does not exist")
    if check_hash:
        verify_hash(path)
    return path


def _read_state_dict(path: Path, *, name: str | os.PathLike | None = None,
                     map_location: str | torch.device = "cpu") -> dict[str, Tensor]:
    try:
        obj = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # truncated zip, HTML page, disallowed pickled objects, ...
        first = str(exc).splitlines()[0] if str(exc) else ""
        raise WeightsError(
            f"could not read weights {name or path}: {type(exc).__name__}: {first[:200]}. The file may be "
            "truncated or not a PyTorch state dict; delete it and fetch it again.") from None
    return _extract_state_dict(obj, Path(name or path))


def _extract_state_dict(obj: object, path: Path) -> dict[str, Tensor]:
    if isinstance(obj, Mapping) and isinstance(obj.get("state_dict"), Mapping):
        obj = obj["state_dict"]
    if not isinstance(obj, Mapping) or not obj or not all(isinstance(v, Tensor) for v in obj.values()):
        raise WeightsError(
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
    """The state dict of weights (path or URL), without ``module.`` prefixes."""
    path = resolve_weights(source, cache, check_hash=check_hash, timeout=timeout)
    return _read_state_dict(path, map_location=map_location)


def load_weights(model: nn.Module, source: str | os.PathLike, cache: str | os.PathLike | None = None, *,
                 strict: bool = True, check_hash: bool = True, timeout: float = 60.0) -> nn.Module:
    """Load weights (path or URL) into ``model`` and return the model.

    Mismatched keys or shapes raise :class:`WeightsError` naming the file.
    """
    state = load_state_dict(source, cache, check_hash=check_hash, timeout=timeout)
    try:
        # PyTorch upgrades older formats here (e.g. BatchNorm without num_batches_tracked)
        model.load_state_dict(state, strict=strict)
    except RuntimeError as exc:
        expected = set(model.state_dict())
        missing, unexpected = sorted(expected - set(state)), sorted(set(state) - expected)
        if missing or unexpected:
            detail = (f"{_keys(missing, 'missing')}{' and ' if missing and unexpected else ''}"
                      f"{_keys(unexpected, 'unexpected')}; they are for another architecture (or another "
                      "config of this one)")
        else:  # same keys, other shapes
            detail = "; ".join(line.strip() for line in str(exc).splitlines()[1:4])
        raise WeightsError(f"weights {source} do not fit {type(model).__name__}: {detail}") from None
    return model


def _keys(keys: list[str], kind: str, shown: int = 4) -> str:
    if not keys:
        return ""
    more = f", … ({len(keys) - shown} more)" if len(keys) > shown else ""
    return f"{len(keys)} {kind} key(s) ({', '.join(keys[:shown])}{more})"
