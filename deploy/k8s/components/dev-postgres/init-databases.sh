#!/usr/bin/env bash
# One database and one user per service, created on the first start of a PostgreSQL container
# (/docker-entrypoint-initdb.d of the official image). Used by docker-compose.yml and by the Kubernetes dev overlay.
# ACHATS_DATABASES lists "name:password" pairs; each user owns its database, and no other user may connect to it.
set -euo pipefail

for entry in ${ACHATS_DATABASES}; do
    name="${entry%%:*}"
    password="${entry#*:}"
    echo "achats: database and user ${name}"
    psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
        -v name="${name}" -v password="${password}" <<'SQL'
CREATE ROLE :"name" LOGIN PASSWORD :'password';
CREATE DATABASE :"name" OWNER :"name";
REVOKE ALL ON DATABASE :"name" FROM PUBLIC;
SQL
done
