"""Runs INSIDE pycsw's own virtualenv (pycsw 2.6 pins OWSLib < 0.29): loads records, serves pycsw.

    python pycsw_app.py load DB JSONL      -> prints "inserted N in S seconds (per-record R, bulk B)"
    python pycsw_app.py serve DB PORT      -> pycsw's WSGI app on 127.0.0.1:PORT
Standard library and pycsw only: this file must not import everest_elearn.
"""

from __future__ import annotations

import configparser
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from wsgiref.simple_server import WSGIRequestHandler, make_server

TABLE = "records"
DC = "http://www.opengis.net/cat/csw/2.0.2"


def _xml(rec: dict) -> str:
    w, s, e, n = rec["bbox"]
    return (
        f'<csw:Record xmlns:csw="{DC}" xmlns:dc="http://purl.org/dc/elements/1.1/"'
        ' xmlns:dct="http://purl.org/dc/terms/" xmlns:ows="http://www.opengis.net/ows">'
        f"<dc:identifier>{rec['identifier']}</dc:identifier><dc:title>{rec['title']}</dc:title>"
        f"<dc:type>dataset</dc:type><dc:subject>{rec['platform']}</dc:subject>"
        f'<ows:BoundingBox crs="urn:x-ogc:def:crs:EPSG:6.11:4326"><ows:LowerCorner>{s} {w}</ows:LowerCorner>'
        f"<ows:UpperCorner>{n} {e}</ows:UpperCorner></ows:BoundingBox></csw:Record>"
    )


def _row(rec: dict, now: str) -> dict:
    return {
        "identifier": rec["identifier"],
        "typename": "csw:Record",
        "schema": DC,
        "mdsource": "local",
        "insert_date": now,
        "xml": _xml(rec),
        "anytext": " ".join([rec["identifier"], rec["title"], rec["platform"], rec["keywords"]]),
        "type": "dataset",
        "title": rec["title"],
        "keywords": rec["keywords"],
        "date": rec["start"],  # without the ISO profile pycsw's OpenSearch time filters dc:date
        "time_begin": rec["start"],
        "time_end": rec["end"],
        "wkt_geometry": rec["wkt"],
        "platform": rec["platform"],
        "cloudcover": rec["cloudCover"],
    }


def load(db: str, jsonl: str, per_record: int = 2000) -> None:
    from pycsw.core import admin, config, repository
    from sqlalchemy import Column, Float, Text

    url = f"sqlite:///{db}"
    extra = [Column("platform", Text, index=True), Column("cloudcover", Float, index=True)]
    admin.setup_db(url, TABLE, os.path.dirname(admin.__file__), extra_columns=extra)
    context = config.StaticContext()
    repo = repository.Repository(url, context, table=TABLE)
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    with open(jsonl, encoding="utf-8") as handle:
        rows = [_row(json.loads(line), now) for line in handle]
    # pycsw's own insert path (one transaction per record, as harvesting and CSW-T do it).
    started = time.perf_counter()
    for row in rows[:per_record]:
        repo.insert(
            repo.dataset(**{k: v for k, v in row.items() if k not in ("platform", "cloudcover")}),
            "local",
            now,
        )
    single = time.perf_counter() - started
    done = min(per_record, len(rows))
    # The rest in bulk through SQLAlchemy, so a 100,000-record run finishes in minutes.
    started = time.perf_counter()
    table = repo.dataset.__table__
    with repo.engine.begin() as conn:
        for i in range(done, len(rows), 5000):
            conn.execute(table.insert(), rows[i : i + 5000])
        for row in rows[:done]:
            conn.execute(
                table.update().where(table.c.identifier == row["identifier"]),
                {"platform": row["platform"], "cloudcover": row["cloudcover"]},
            )
    bulk = time.perf_counter() - started
    print(
        json.dumps(
            {"inserted": len(rows), "per_record": [done, single], "bulk": [len(rows) - done, bulk]}
        )
    )


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def serve(db: str, port: int) -> None:
    cfg = configparser.ConfigParser(interpolation=None)
    cfg["server"] = {
        "home": tempfile.gettempdir(),
        "url": f"http://127.0.0.1:{port}/",
        "mimetype": "application/xml; charset=UTF-8",
        "encoding": "UTF-8",
        "language": "en-US",
        "maxrecords": "20",
        "loglevel": "ERROR",
        "logfile": "",
        "pretty_print": "false",
        "gzip_compresslevel": "0",
        "domainquerytype": "list",
        "domaincounts": "false",
    }
    cfg["manager"] = {"transactions": "false", "allowed_ips": "127.0.0.1"}
    cfg["metadata:main"] = {"identification_title": "bench", "identification_abstract": "bench"}
    cfg["repository"] = {"database": f"sqlite:///{db}", "table": TABLE}
    path = os.path.join(tempfile.mkdtemp(), "pycsw.cfg")
    with open(path, "w", encoding="utf-8") as handle:
        cfg.write(handle)
    os.environ["PYCSW_CONFIG"] = path
    from pycsw.wsgi import application

    httpd = make_server("127.0.0.1", port, application, handler_class=_Quiet)
    print("ready", flush=True)
    httpd.serve_forever()


if __name__ == "__main__":
    if sys.argv[1] == "load":
        load(sys.argv[2], sys.argv[3])
    else:
        serve(sys.argv[2], int(sys.argv[3]))
