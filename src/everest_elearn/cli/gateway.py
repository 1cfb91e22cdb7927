"""``everest-elearn gateway``: check the rules file, show the gateway's statistics and status."""

from __future__ import annotations

from pathlib import Path

import httpx
import typer

from everest_elearn.errors import BackendUnavailable, EverestError
from everest_elearn.gateway import rules as rules_mod

app = typer.Typer(help="The data gateway: rules, cache and mirror.", no_args_is_help=True)


RULES_FILE = typer.Argument(..., help="The rules file (YAML) to check.")


@app.command("check-rules")
def check_rules(file: Path = RULES_FILE) -> None:
    """Validate a rules file; every problem is printed with its line. Exit 1 when invalid."""
    try:
        text = file.read_text()
    except OSError as exc:
        typer.secho(f"{file}: cannot read: {exc.strerror or exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    try:
        parsed = rules_mod.parse(text, str(file))
    except rules_mod.RulesInvalid as exc:
        for problem in exc.problems:
            typer.secho(f"{file}:{problem.line}: {problem.message}", fg=typer.colors.RED, err=True)
        typer.secho(f"{len(exc.problems)} problem(s); the file is not valid", err=True)
        raise typer.Exit(1) from None
    policies = (
        "no policies (open)" if parsed.policies is None else f"{len(parsed.policies)} policies"
    )
    typer.echo(
        f"{file}: valid ({len(parsed.sources)} sources, {len(parsed.rules)} rules, {policies})"
    )


def _get(path: str, url: str | None, token: str | None) -> dict[str, object]:
    from everest_elearn.settings import load_settings

    settings = load_settings()
    base = url or settings.api.public_url or f"http://{settings.api.host}:{settings.api.port}"
    if token is None and settings.security.admin_token is not None:
        token = settings.security.admin_token.get_secret_value()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        response = httpx.get(base.rstrip("/") + path, headers=headers, timeout=30)
    except httpx.HTTPError:
        raise BackendUnavailable(f"the Data Agency at {base}") from None
    if response.status_code != 200:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        raise EverestError(f"{base}{path} answered {response.status_code}: {detail}")
    body: dict[str, object] = response.json()
    return body


URL = typer.Option(None, "--url", help="The Data Agency's base URL (default from settings).")
TOKEN = typer.Option(
    None, "--token", envvar="EVEREST_TOKEN", help="Bearer token (default: the admin token)."
)


@app.command()
def stats(url: str | None = URL, token: str | None = TOKEN) -> None:
    """Cache statistics of the running agency: hits, misses, bytes, evictions, fallbacks."""
    report = _get("/gateway/stats", url, token)
    usage = report.pop("usage", None)
    for key, value in report.items():
        typer.echo(f"{key:18} {value}")
    if isinstance(usage, dict):
        for kind, figures in usage.items():
            typer.echo(
                f"{kind + ' usage':18} {figures['objects']} objects, {figures['bytes']} bytes"
            )


@app.command()
def status(url: str | None = URL, token: str | None = TOKEN) -> None:
    """The rules in force, when they were loaded, and why the last edit was rejected if it was."""
    report = _get("/gateway/status", url, token)
    rules = report.get("rules")
    if isinstance(rules, dict):
        for key, value in rules.items():
            typer.echo(f"{key:10} {value}")
    typer.echo(f"{'store':10} {report.get('store')}")
