"""The downloader against a loopback HTTP server: progress, resume with Range, checksum retry, errors."""

from __future__ import annotations

import hashlib
import http.server
import threading
from pathlib import Path
from typing import ClassVar

import pytest

from lstm_sentiment.data.download import download
from lstm_sentiment.errors import UserError

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB


class RangeHandler(http.server.BaseHTTPRequestHandler):
    payload = PAYLOAD
    served: ClassVar[list[str]] = []  # shared by every handler the server makes

    def do_GET(self):
        data = self.payload
        start = 0
        header = self.headers.get("Range")
        self.served.append(header or "")
        if header:
            start = int(header.split("=")[1].split("-")[0])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        self.wfile.write(data[start:])

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RangeHandler)
    RangeHandler.served = []
    RangeHandler.payload = PAYLOAD
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/aclImdb_v1.tar.gz"
    httpd.shutdown()


def test_download_verifies_and_skips_when_present(server, tmp_path):
    digest = hashlib.sha256(PAYLOAD).hexdigest()
    path = download(server, tmp_path, sha256=digest, progress=False)
    assert path.read_bytes() == PAYLOAD and path.name == "aclImdb_v1.tar.gz"
    download(server, tmp_path, sha256=digest, progress=False)
    assert len(RangeHandler.served) == 1  # the verified file is not fetched again


def test_download_resumes_a_partial_file(server, tmp_path):
    (tmp_path / "aclImdb_v1.tar.gz.part").write_bytes(PAYLOAD[:1000])
    path = download(server, tmp_path, sha256=hashlib.sha256(PAYLOAD).hexdigest(), progress=False)
    assert RangeHandler.served == ["bytes=1000-"]
    assert path.read_bytes() == PAYLOAD


def test_checksum_mismatch_refetches_once_then_fails(server, tmp_path):
    with pytest.raises(UserError, match="does not match its sha256 checksum twice"):
        download(server, tmp_path, sha256="0" * 64, progress=False)
    assert len(RangeHandler.served) == 2
    assert not list(Path(tmp_path).iterdir())  # nothing half-written is left behind


def test_unreachable_server_is_a_clear_error(tmp_path):
    with pytest.raises(UserError, match="run the same command again to resume"):
        download("http://127.0.0.1:9/aclImdb_v1.tar.gz", tmp_path, progress=False, timeout=2)
