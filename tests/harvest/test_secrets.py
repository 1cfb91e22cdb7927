"""Credentials by reference: no secret in the sources file, the logs, the status, the errors."""

from __future__ import annotations

import base64
import contextlib
import json
import logging
from collections.abc import Iterator

import pytest

from everest_elearn.harvest.sources import SourcesInvalid, parse
from tests.fixtures.moto import MotoS3
from tests.harvest.conftest import AgentFactory, earth_search_item, item_collection, moments
from tests.harvest.replay import Replay, Reply

SECRET = "s3cr3t-Value-42"
SOURCE = """\
sources:
  - name: guarded
    kind: stac
    url: {url}
    into: s2
    auth: {auth}
    credential: PROVIDER_SECRET
    limits: {{retries: 1, backoff: 0.01}}
"""
LOGGERS = ("everest_elearn", "httpx", "httpcore", "botocore", "boto3", "urllib3")


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every library that sees a request logs at DEBUG (levels restored afterwards)."""
    with contextlib.ExitStack() as stack:
        stack.enter_context(caplog.at_level(logging.DEBUG))
        for name in LOGGERS:
            stack.enter_context(caplog.at_level(logging.DEBUG, logger=name))
        yield caplog


def _forms(value: str) -> list[str]:
    """The secret as it could show: itself, and base64 (basic auth) of it with its user."""
    return [value, base64.b64encode(f"user:{value}".encode()).decode()]


@pytest.mark.parametrize(
    ("auth", "credential"),
    [("basic", f"user:{SECRET}"), ("bearer", SECRET), ("header", f"X-Api-Key: {SECRET}")],
)
async def test_no_secret_in_logs_status_or_errors(
    replay: Replay,
    make_agent: AgentFactory,
    debug_logs: pytest.LogCaptureFixture,
    auth: str,
    credential: str,
) -> None:
    page = json.dumps(item_collection([earth_search_item(0, moments(1)[0])], None)).encode()
    answers = iter([Reply(b"no", status=401), Reply(b"busy", status=503)])
    replay.route("/search", lambda _r: next(answers, Reply(page)))
    agent = make_agent(
        SOURCE.format(url=replay.url, auth=auth), environ={"PROVIDER_SECRET": credential}
    )
    refused = await agent.run("guarded")  # 401: refused credential
    retried = await agent.run("guarded")  # 503 then 200
    status = await agent.status()
    assert refused.state == "failed" and "credential" in (refused.error or "")
    assert (retried.state, retried.created) == ("ok", 1)
    sent = replay.requests("/search")[0].headers
    assert SECRET in " ".join(sent.values()) or base64.b64encode(credential.encode()).decode() in (
        sent.get("Authorization", "")
    )
    shown = "\n".join(
        [
            debug_logs.text,
            json.dumps(status),
            json.dumps(refused.to_dict()),
            json.dumps(retried.to_dict()),
        ]
    )
    assert "harvest guarded" in debug_logs.text and "HTTP Request" in debug_logs.text
    for form in _forms(SECRET):
        assert form not in shown


async def test_s3_keys_stay_out_of_logs_and_errors(
    moto_s3: MotoS3, make_agent: AgentFactory, debug_logs: pytest.LogCaptureFixture
) -> None:
    sources = f"""\
sources:
  - name: bucket
    kind: s3
    url: s3://no-such-bucket/x
    endpoint: {moto_s3.endpoint_url}
    credential: KEYS
    limits: {{retries: 0}}
"""
    agent = make_agent(sources, environ={"KEYS": f"testing:{SECRET}"})
    report = await agent.run("bucket")
    status = await agent.status()
    assert report.state == "failed" and "NoSuchBucket" in (report.error or "")
    assert "ListObjectsV2" in debug_logs.text  # botocore did log the request
    shown = "\n".join([debug_logs.text, json.dumps(status), json.dumps(report.to_dict())])
    assert SECRET not in shown


def test_a_secret_in_a_url_query_is_refused_by_line() -> None:
    text = """\
sources:
  - name: keyed
    kind: stac
    url: https://x.org/stac?collections=s2&apikey=abc123
  - name: tree
    kind: local
    url: /data/tree
    base_url: https://files.x.org/tree/?X-Amz-Signature=def456
"""
    with pytest.raises(SourcesInvalid) as caught:
        parse(text)
    problems = dict(caught.value.problems)
    assert "'apikey'" in problems[4] and "credential" in problems[4]
    assert "'X-Amz-Signature'" in problems[8]
    assert "abc123" not in str(caught.value) and "def456" not in str(caught.value)
