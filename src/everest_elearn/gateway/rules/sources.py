"""The rules' sources: provider locations, their authentication and redirect hosts."""

from __future__ import annotations

from typing import Any

from everest_elearn.gateway.rules.checker import Checker
from everest_elearn.gateway.rules.model import CREDENTIAL_NAME, REDIRECT_HOST, AuthKind, Source
from everest_elearn.gateway.yamlines import LineDict


def source_list(p: Checker, value: Any, line: int) -> list[Source]:
    if value is None:
        return []
    out: list[Source] = []
    names: dict[str, int] = {}
    for _, node in p.entries(value, line, "sources", "a source"):
        allowed = {"name", "url", "auth", "credential", "endpoint", "region", "redirect_hosts"}
        p.keys(node, allowed, "source")
        name = p.text(node, "name", "source", required=True)
        url = p.text(node, "url", "source", required=True)
        what = f"source '{name}'"
        if name:
            p.unique(names, name, node, what)
        if url is not None:
            url = source_url(p, url, node.line_of("url"), what)
        auth = AuthKind.NONE
        raw_auth = p.text(node, "auth", what)
        if raw_auth is not None:
            try:
                auth = AuthKind(raw_auth.lower())
            except ValueError:
                choices = ", ".join(a.value for a in AuthKind)
                p.fail(node.line_of("auth"), f"{what}: auth '{raw_auth}' is not one of {choices}")
        credential = p.text(node, "credential", what)
        if credential is not None and not CREDENTIAL_NAME.match(credential):
            p.fail(
                node.line_of("credential"),
                f"{what}: credential must be a name (letters, digits, _ . -)",
            )
            credential = None
        if auth not in (AuthKind.NONE,) and credential is None and "credential" not in node:
            p.fail(node.line, f"{what}: auth {auth.value} needs 'credential: NAME'")
        if url and url.startswith("s3://") and auth not in (AuthKind.NONE, AuthKind.S3):
            p.fail(node.line_of("auth"), f"{what}: an s3:// source takes auth s3 or none")
        if url and not url.startswith("s3://") and auth is AuthKind.S3:
            p.fail(node.line_of("auth"), f"{what}: auth s3 needs an s3:// url")
        endpoint = p.text(node, "endpoint", what)
        if endpoint is not None and not endpoint.startswith(("http://", "https://")):
            p.fail(node.line_of("endpoint"), f"{what}: endpoint must be an http(s) URL")
        hosts = redirect_hosts(p, node, url, what)
        if name and url:
            out.append(
                Source(
                    name,
                    url,
                    auth,
                    credential,
                    endpoint,
                    p.text(node, "region", what),
                    node.line,
                    hosts,
                )
            )
    return out


def redirect_hosts(p: Checker, node: LineDict, url: str | None, what: str) -> tuple[str, ...]:
    hosts = tuple(h.lower() for h in p.patterns(node, "redirect_hosts", what))
    line = node.line_of("redirect_hosts")
    if hosts and url and not url.lower().startswith(("http://", "https://")):
        p.fail(line, f"{what}: redirect_hosts applies to http(s) sources only")
    for host in hosts:
        if not REDIRECT_HOST.match(host):
            p.fail(line, f"{what}: redirect host '{host}' must be a host name[:port]")
    return hosts


def source_url(p: Checker, url: str, line: int, what: str) -> str | None:
    lowered = url.lower()
    if not lowered.startswith(("http://", "https://", "s3://", "file:///")):
        p.fail(line, f"{what}: url must start with http://, https://, s3:// or file:///")
        return None
    authority = url.split("://", 1)[1].split("/", 1)[0]
    if "@" in authority:
        p.fail(line, f"{what}: url must not carry credentials; use 'credential: NAME'")
        return None
    if "?" in url or "#" in url:
        p.fail(line, f"{what}: url must be a location prefix without query or fragment")
        return None
    if any(seg in (".", "..") for seg in url.split("://", 1)[1].split("/")):
        p.fail(line, f"{what}: url must not contain '.' or '..' segments")
        return None
    return url
