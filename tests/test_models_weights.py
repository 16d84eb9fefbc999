"""Loading official-style weights: nesting, prefixes, hash verification, cached URL downloads."""

from __future__ import annotations

import functools
import hashlib
import http.server
import shutil
import socket
import threading
from pathlib import Path

import pytest
import torch
from torch import nn

import cornet_repro.cache as cache_module
from cornet_repro.models import CORnetZ, WeightsError, get_model, load_state_dict, load_weights
from cornet_repro.models import weights


def tiny_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))


def save(obj: object, directory: Path, stem: str, with_hash: bool = True) -> Path:
    """torch.save ``obj``; with ``with_hash`` name the file ``<stem>-<sha256[:8]>.pth`` like torch.hub."""
    tmp = directory / f"{stem}.tmp"
    torch.save(obj, tmp)
    name = f"{stem}-{hashlib.sha256(tmp.read_bytes()).hexdigest()[:8]}.pth" if with_hash else f"{stem}.pth"
    return tmp.rename(directory / name)


def wrap(state: dict, nested: bool, prefixed: bool) -> object:
    if prefixed:
        state = {f"module.{k}": v for k, v in state.items()}
    return {"epoch": 43, "arch": "CORnet", "state_dict": state} if nested else state


@pytest.mark.parametrize("nested", [False, True], ids=["top-level", "under-state_dict"])
@pytest.mark.parametrize("prefixed", [False, True], ids=["plain", "module-prefix"])
def test_load_from_file(tmp_path: Path, nested: bool, prefixed: bool) -> None:
    source = tiny_model()
    path = save(wrap(source.state_dict(), nested, prefixed), tmp_path, "tiny")
    state = load_state_dict(path)
    assert list(state) == list(source.state_dict())
    target = tiny_model()
    for p in target.parameters():
        nn.init.zeros_(p)
    load_weights(target, path)
    for (k, a), b in zip(source.state_dict().items(), target.state_dict().values()):
        assert torch.equal(a, b), k


def test_official_keys_with_dataparallel_prefix(tmp_path: Path) -> None:
    # The published files: {"state_dict": {"module.V1.conv.weight": ...}, ...}
    source = CORnetZ()
    path = save(wrap(source.state_dict(), nested=True, prefixed=True), tmp_path, "cornet_z")
    target = load_weights(CORnetZ(), path)
    assert all(torch.equal(a, b) for a, b in zip(source.state_dict().values(), target.state_dict().values()))


def test_version_metadata_survives_prefix_removal(tmp_path: Path) -> None:
    # Checkpoints from old PyTorch versions lack BatchNorm's num_batches_tracked; the state dict's
    # version metadata tells load_state_dict to fill it in.
    model = nn.DataParallel(tiny_model())
    state = model.state_dict()
    del state["module.1.num_batches_tracked"]
    state._metadata["module.1"]["version"] = 1
    path = save({"state_dict": state}, tmp_path, "old")
    loaded = load_state_dict(path)
    assert loaded._metadata["1"]["version"] == 1 and "1.weight" in loaded
    load_weights(tiny_model(), path)  # strict, no missing-key error


def test_hash_is_verified(tmp_path: Path) -> None:
    good = save(tiny_model().state_dict(), tmp_path, "tiny")
    weights.verify_hash(good)  # no error

    wrong = tmp_path / "tiny-deadbeef.pth"
    shutil.copy(good, wrong)
    with pytest.raises(WeightsError, match=r"tiny-deadbeef\.pth.*deadbeef"):
        load_state_dict(wrong)
    load_state_dict(wrong, check_hash=False)  # the content itself is fine

    truncated = tmp_path / "truncated" / good.name  # right name, half the bytes
    truncated.parent.mkdir()
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(WeightsError, match="corrupt or incomplete") as info:
        load_state_dict(truncated)
    assert str(truncated) in str(info.value)


def test_truncated_file_without_hash(tmp_path: Path) -> None:
    good = save(tiny_model().state_dict(), tmp_path, "tiny", with_hash=False)
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(good.read_bytes()[:200])
    with pytest.raises(WeightsError, match="could not read weights") as info:
        load_state_dict(truncated)
    assert str(truncated) in str(info.value)
    with pytest.raises(WeightsError, match="does not exist"):
        load_state_dict(tmp_path / "missing.pth")


def test_not_a_state_dict_and_mismatch(tmp_path: Path) -> None:
    path = save({"state_dict": {"epoch": 3}}, tmp_path, "bad")
    with pytest.raises(WeightsError, match="holds no state dict"):
        load_state_dict(path)
    path = save(tiny_model().state_dict(), tmp_path, "tiny")
    with pytest.raises(WeightsError, match=r"do not fit CORnetZ: 10 missing key\(s\) \(IT.conv.bias, .* and 7 unexpected key\(s\) \(0.bias"):
        load_weights(CORnetZ(), path)


def test_hash_prefix_from_name() -> None:
    assert weights.expected_hash_prefix("cornet_s-1d3f7974.pth") == "1d3f7974"
    assert weights.expected_hash_prefix("https://x.org/a/cornet_rt-933c001c.pth") == "933c001c"
    assert weights.expected_hash_prefix("weights.pth") is None
    assert weights.official_url("cornet_s").endswith("/cornet_s-1d3f7974.pth")


class _Server:
    """A local HTTP server over a directory, counting the requests it receives."""

    def __init__(self, directory: Path) -> None:
        self.requests: list[str] = []
        server = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                server.requests.append(self.path)
                super().do_GET()

            def log_message(self, *args) -> None:  # keep the test output clean
                pass

        handler = functools.partial(Handler, directory=str(directory))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "_Server":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_url_download_is_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    served = tmp_path / "served"
    served.mkdir()
    source = tiny_model()
    path = save(wrap(source.state_dict(), nested=True, prefixed=True), served, "tiny")
    cache = tmp_path / "cache"
    with _Server(served) as server:
        state = load_state_dict(server.url + path.name, cache)
        assert (cache / path.name).read_bytes() == path.read_bytes()
        assert list(state) == list(source.state_dict())
        load_state_dict(server.url + path.name, cache)  # second time: from the cache
        assert server.requests == [f"/{path.name}"]

        # The cache directory can come from the environment.
        env_cache = tmp_path / "env-cache"
        monkeypatch.setenv(cache_module.CACHE_ENV, str(env_cache))
        load_state_dict(server.url + path.name)
        assert (env_cache / path.name).is_file()

        # A download whose bytes do not match the hash in its name never lands in the cache.
        shutil.copy(path, served / "tiny-0badc0de.pth")
        with pytest.raises(WeightsError, match="wrong sha256.*nothing was written"):
            load_state_dict(server.url + "tiny-0badc0de.pth", cache)
        assert not (cache / "tiny-0badc0de.pth").exists()
        assert not [p for p in cache.iterdir() if ".tmp" in p.name]

        # Without a hash in its name, a file that is not loadable weights (an HTML error page
        # served with status 200) is refused before it reaches the cache, so no later call reuses it.
        (served / "weights.pth").write_text("<html><body>Service unavailable</body></html>")
        with pytest.raises(WeightsError, match=r"could not download .*weights\.pth .*could not read weights"):
            load_state_dict(server.url + "weights.pth", cache)
        assert not (cache / "weights.pth").exists()
        assert not [p for p in cache.iterdir() if ".tmp" in p.name]


def test_torchvision_pretrained_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def offline(*args, **kwargs):
        raise cache_module.urllib.error.URLError("network is unreachable")

    monkeypatch.setattr(cache_module.urllib.request, "urlopen", offline)
    monkeypatch.setattr(torch.hub, "_hub_dir", str(tmp_path / "hub"))
    with pytest.raises(WeightsError, match=r"could not download https://download\.pytorch\.org/models/resnet18-\w+\.pth") as info:
        get_model("resnet18", pretrained=True)
    assert str(tmp_path / "hub" / "checkpoints" / "resnet18-") in str(info.value)


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def test_offline_download_names_url_and_destination(tmp_path: Path) -> None:
    url = _closed_port_url() + "cornet_s-1d3f7974.pth"
    with pytest.raises(WeightsError) as info:
        load_state_dict(url, tmp_path, timeout=5)
    message = str(info.value)
    assert url in message and str(tmp_path / "cornet_s-1d3f7974.pth") in message


def test_pretrained_cornet_from_mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Serve a CORnet-Z checkpoint in the official layout under a (test) official name.
    served = tmp_path / "served"
    served.mkdir()
    source = CORnetZ()
    path = save(wrap(source.state_dict(), nested=True, prefixed=True), served, "cornet_z")
    monkeypatch.setitem(weights.OFFICIAL_WEIGHTS, "cornet_z", path.name)
    with _Server(served) as server:
        monkeypatch.setattr(weights, "BASE_URL", server.url)
        model = get_model("cornet_z", pretrained=True, cache_dir=tmp_path / "cache")
    assert all(torch.equal(a, b) for a, b in zip(source.state_dict().values(), model.state_dict().values()))

    # Offline: the error says what to fetch and where to put it.
    monkeypatch.setattr(weights, "BASE_URL", _closed_port_url())
    with pytest.raises(WeightsError, match="place it at") as info:
        get_model("cornet_rt", pretrained=True, cache_dir=tmp_path / "cache")
    assert "cornet_rt-933c001c.pth" in str(info.value) and str(tmp_path / "cache") in str(info.value)
