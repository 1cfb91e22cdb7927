#!/usr/bin/env sh
# Print a random value for every secret of .env.example, as KEY=value lines for .env.
#   deploy/make-env.sh >> .env      (later lines win over the empty ones copied from .env.example)
# Tokens are URL-safe; the hub's crypt key is 32 bytes in hex, as JupyterHub wants.
set -eu
exec python3 - <<'PY'
import secrets

for key in (
    "POSTGRES_PASSWORD", "ODC_DB_PASSWORD", "ODC_READER_PASSWORD", "KEYCLOAK_DB_PASSWORD",
    "KEYCLOAK_ADMIN_PASSWORD", "ELASTIC_PASSWORD", "MINIO_ROOT_PASSWORD", "EVEREST_S3_SECRET_KEY",
    "EVEREST_ADMIN_TOKEN", "EVEREST_AGENT_TOKEN", "EVEREST_HUB_CLIENT_SECRET",
    "EVEREST_HUB_ADMIN_TOKEN",
):
    print(f"{key}={secrets.token_urlsafe(24)}")
print("MINIO_ROOT_USER=everest-root")
print("EVEREST_S3_ACCESS_KEY=everest-agency")
print(f"EVEREST_HUB_CRYPT_KEY={secrets.token_hex(32)}")
PY
