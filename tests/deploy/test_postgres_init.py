"""deploy/postgres/init.sh on a real PostgreSQL 15: the ODC owner can initialise its index."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.compose import ROOT
from tests.fixtures.postgres import PG_BIN, PostgresServer

pytestmark = pytest.mark.services


def test_init_script_gives_odc_owner_and_keycloak_database(
    postgres_server: PostgresServer,
) -> None:
    odc_pw, kc_pw = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
    env = {
        "PATH": f"{PG_BIN}:/usr/bin:/bin",
        "PGHOST": str(postgres_server.socket_dir),
        "PGPORT": str(postgres_server.port),
        "POSTGRES_USER": "postgres",
        "ODC_DB_PASSWORD": odc_pw,
        "KEYCLOAK_DB_PASSWORD": kc_pw,
        "ODC_DB": "odc_deploy",
        "KEYCLOAK_DB": "keycloak_deploy",
    }
    done = subprocess.run(
        ["bash", str(ROOT / "deploy" / "postgres" / "init.sh")],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    owners = postgres_server.psql(
        "SELECT datname || '=' || pg_get_userbyid(datdba) FROM pg_database "
        "WHERE datname IN ('odc_deploy', 'keycloak_deploy') ORDER BY 1"
    )
    assert owners.split() == ["keycloak_deploy=keycloak_deploy", "odc_deploy=odc_deploy"]
    # The agency connects as the (non-superuser) owner and initialises the index itself.
    url = f"postgresql+psycopg2://odc_deploy:{odc_pw}@127.0.0.1:{postgres_server.port}/odc_deploy"
    datacube = Path(sys.executable).parent / "datacube"
    odc_env = {**os.environ, "ODC_DEFAULT_DB_URL": url, "ODC_DEFAULT_INDEX_DRIVER": "postgres"}
    for args in (["system", "init"], ["system", "check"]):
        step = subprocess.run(
            [str(datacube), *args], env=odc_env, capture_output=True, text=True, check=False
        )
        assert step.returncode == 0, step.stdout + step.stderr
    assert "Valid connection:\tYES" in step.stdout or "Valid connection: YES" in step.stdout
