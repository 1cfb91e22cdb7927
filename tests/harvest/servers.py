"""Real file servers on loopback for listing harvests: nginx (autoindex) and Python's http.server."""

from __future__ import annotations

import functools
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.harvest.conftest import RASTERS, SAFE

NGINX_CONF = """\
{user}daemon off;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {root}/tmp;
    proxy_temp_path {root}/tmp;
    fastcgi_temp_path {root}/tmp;
    uwsgi_temp_path {root}/tmp;
    scgi_temp_path {root}/tmp;
    server {{
        listen 127.0.0.1:{port};
        location / {{ root {data}; autoindex on; autoindex_exact_size on; }}
    }}
}}
"""


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def archive_tree(root: Path, copy: bool = False) -> Path:
    """A provider's tree: the real SAFE zips and GeoTIFFs in dated folders, linked (or copied into
    the test's temporary folder for servers that refuse symbolic links)."""
    for zipped in sorted(SAFE.glob("*.zip")):
        target = root / "S1" / "GRD" / "2015" / "02" / zipped.name
        target.parent.mkdir(parents=True, exist_ok=True)
        _place(zipped, target, copy)
    for tif in sorted(RASTERS.rglob("*.tif")):
        target = root / "rasters" / tif.name
        target.parent.mkdir(parents=True, exist_ok=True)
        _place(tif, target, copy)
    (root / "README.txt").write_text("not a product\n")
    return root


def _place(source: Path, target: Path, copy: bool) -> None:
    if copy:
        shutil.copyfile(source, target)
    else:
        target.symlink_to(source)


@pytest.fixture
def nginx_tree(tmp_path: Path) -> Iterator[str]:
    """nginx with autoindex over an archive tree; yields its base URL."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    data = archive_tree(tmp_path / "www")
    run = tmp_path / "nginx"
    (run / "tmp").mkdir(parents=True)
    port = _port()
    conf = run / "nginx.conf"
    # As root, nginx's workers would run as nobody and could not enter the private temp folder.
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf.write_text(NGINX_CONF.format(user=user, root=run, port=port, data=data))
    process = subprocess.Popen([binary, "-p", str(run), "-c", str(conf)], stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(url, timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"nginx did not start: {(run / 'error.log').read_text() if (run / 'error.log').exists() else ''}"
                    ) from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def python_tree(tmp_path: Path) -> Iterator[str]:
    """Python's http.server directory listing (no sizes, no dates, no ranges)."""
    data = archive_tree(tmp_path / "py")
    handler = functools.partial(_Quiet, directory=os.fspath(data))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return
