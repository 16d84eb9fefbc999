"""Downloads against a local HTTP server: good, corrupt, truncated and missing files."""

import hashlib
import http.server
import threading
from pathlib import Path

import pytest

from cornet_repro.data import catalog
from cornet_repro.data.fetch import (ChecksumError, DataUnavailableError, cache_dir, fetch_file, sha1_of)

PAYLOAD = b"BrainIO test payload " * 1000


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path == "/truncated.nc":
            # announce more bytes than are sent, then close
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD[:100])
            self.wfile.flush()
            self.close_connection = True
            return
        super().do_GET()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("served")
    (root / "good.nc").write_bytes(PAYLOAD)
    (root / "corrupt.nc").write_bytes(PAYLOAD[:-1] + b"!")
    handler = lambda *a, **kw: _Handler(*a, directory=str(root), **kw)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def _entry(url, filename="good.nc", sha1=hashlib.sha1(PAYLOAD).hexdigest(), access="public"):
    return catalog.CatalogEntry(name=f"test.{filename}", filename=filename, url=f"{url}/{filename}", sha1=sha1,
                                kind="assembly", access=access, how_to_obtain="ask the test")


def test_good_download_is_cached(server, tmp_path):
    path = fetch_file(_entry(server), cache=tmp_path, progress=False)
    assert path == tmp_path / "brainio" / "good.nc" and path.read_bytes() == PAYLOAD
    # second call: served from the cache even with the server unreachable
    again = fetch_file(_entry("http://127.0.0.1:9"), cache=tmp_path, progress=False)
    assert again == path


def test_env_var_sets_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("CORNET_REPRO_CACHE", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c"
    assert cache_dir(tmp_path / "p") == tmp_path / "p"
    monkeypatch.delenv("CORNET_REPRO_CACHE")
    assert cache_dir() == Path("~/.cache/cornet_repro").expanduser()


def test_checksum_mismatch_removes_file(server, tmp_path):
    e = _entry(server, "corrupt.nc", sha1=hashlib.sha1(PAYLOAD).hexdigest())
    with pytest.raises(ChecksumError, match="removed"):
        fetch_file(e, cache=tmp_path, progress=False)
    assert not any((tmp_path / "brainio").iterdir())  # neither the file nor a temporary remains


def test_damaged_cache_is_replaced(server, tmp_path):
    target = tmp_path / "brainio" / "good.nc"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"damaged")
    assert fetch_file(_entry(server), cache=tmp_path, progress=False).read_bytes() == PAYLOAD


def test_truncated_download_keeps_nothing(server, tmp_path):
    with pytest.raises(DataUnavailableError, match="truncated|connection lost"):
        fetch_file(_entry(server, "truncated.nc"), cache=tmp_path, progress=False)
    assert not any((tmp_path / "brainio").iterdir())


def test_404_says_what_to_download_and_where(server, tmp_path):
    with pytest.raises(DataUnavailableError, match=r"HTTP 404.*save it as .*missing\.nc"):
        fetch_file(_entry(server, "missing.nc"), cache=tmp_path, progress=False)


def test_no_network_message(tmp_path):
    e = _entry("http://127.0.0.1:9")  # discard port: connection refused
    with pytest.raises(DataUnavailableError, match=r"no connection.*Download it yourself.*brainio/good\.nc"):
        fetch_file(e, cache=tmp_path, progress=False, timeout=5)


def test_restricted_data_needs_a_user_path(tmp_path):
    e = _entry("http://127.0.0.1:9", access="restricted")
    with pytest.raises(DataUnavailableError, match="not public: ask the test.*path="):
        fetch_file(e, cache=tmp_path)
    supplied = tmp_path / "mine.nc"
    supplied.write_bytes(PAYLOAD)
    assert fetch_file(e, cache=tmp_path, path=supplied) == supplied
    supplied.write_bytes(b"other")
    with pytest.raises(ChecksumError, match="not the published file"):
        fetch_file(e, cache=tmp_path, path=supplied)
    assert supplied.exists()  # a user's file is never deleted


def test_catalog_entries_are_well_formed():
    for d in catalog.DATASETS.values():
        e = d.assembly
        assert e.filename.endswith(".nc")
        if e.url:
            assert e.url.startswith(catalog.BUCKET_URL) and len(e.sha1) == 40
        if e.access == "public":
            assert d.stimulus_set in catalog.STIMULUS_SETS
    assert catalog.DATASETS["MajajHong2015.public"].assembly.filename == "assy_dicarlo_MajajHong2015_public.nc"
    assert catalog.entry("objectome.public.zip").sha1 == "064f2955f98e63867755fee2e3ead8cddf6bfab8"
    with pytest.raises(KeyError, match="known"):
        catalog.dataset("nope")


def test_new_behavior_data_message(tmp_path):
    with pytest.raises(DataUnavailableError, match="Not published"):
        fetch_file(catalog.DATASETS["NewBehavior2019"].assembly, cache=tmp_path)


def test_sha1_of(tmp_path):
    p = tmp_path / "f"
    p.write_bytes(b"abc")
    assert sha1_of(p) == "a9993e364706816aba3e25717850c26c9cd0d89d"
