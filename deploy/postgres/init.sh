#!/bin/bash
# PostgreSQL's first start (empty volume): the Open Data Cube's database and owner, and Keycloak's.
# Run by the postgres image's entrypoint from /docker-entrypoint-initdb.d with POSTGRES_* set.
# The ODC schema and the containers' read-only role (everest_reader) are created by the Data
# Agency as the owner (`datacube system init` through everest_elearn.packages.datacube).
set -euo pipefail
: "${ODC_DB_PASSWORD:?ODC_DB_PASSWORD is not set}"
: "${KEYCLOAK_DB_PASSWORD:?KEYCLOAK_DB_PASSWORD is not set}"
# Names are fixed in docker-compose.yml; overridable for tests that share one cluster.
ODC_DB=${ODC_DB:-odc}
KEYCLOAK_DB=${KEYCLOAK_DB:-keycloak}
psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
  -v odc="$ODC_DB" -v odc_pw="$ODC_DB_PASSWORD" \
  -v kc="$KEYCLOAK_DB" -v kc_pw="$KEYCLOAK_DB_PASSWORD" <<'SQL'
-- The ODC owner is no superuser: datacube's group roles (postgres driver) are made here, with
-- its hierarchy, and agdc_admin is granted to the owner, so `datacube system init` as the owner
-- finds them and can SET ROLE agdc_admin. CREATEROLE lets the agency make the containers'
-- read-only login role (a member of agdc_user).
CREATE ROLE :"odc" LOGIN CREATEROLE PASSWORD :'odc_pw';
CREATE DATABASE :"odc" OWNER :"odc";
SELECT format('CREATE ROLE %I NOLOGIN %s', name, extra)
  FROM (VALUES (1, 'agdc_user', ''), (2, 'agdc_ingest', 'IN ROLE agdc_user'),
               (3, 'agdc_manage', 'IN ROLE agdc_ingest'),
               (4, 'agdc_admin', 'CREATEROLE IN ROLE agdc_manage')) AS r(n, name, extra)
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r.name) ORDER BY n \gexec
GRANT agdc_admin TO :"odc" WITH ADMIN OPTION;
CREATE ROLE :"kc" LOGIN PASSWORD :'kc_pw';
CREATE DATABASE :"kc" OWNER :"kc";
SQL
