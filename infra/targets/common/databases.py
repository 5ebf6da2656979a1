"""The Job that creates the PDK databases on whichever Postgres a target provides."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_kubernetes as k8s

from infra.contract import DATABASE_CA_CONFIG_MAP, DATABASE_CA_KEY, DATABASES, DatabaseCa
from infra.naming import Naming
from infra.targets.common.pods import secret_env, setup_job

POSTGRES_UID = 999
"""The postgres user of the official image, which the Job runs as."""
WAIT_SECONDS = 300
"""How long the script waits for the server to accept connections before it gives up."""
JOB_DEADLINE_SECONDS = 900
"""The Job's own deadline (every retry included), so a broken database fails ``pulumi up``
instead of blocking it."""
CA_DIR = "/etc/pdk/postgres-ca"

CREATE_DATABASES = """\
set -u
# Errors that waiting cannot fix (credentials, TLS, pg_hba) end the script at once; anything
# else (DNS not yet resolvable, connection refused, server starting) is retried until
# WAIT_SECONDS have passed (the clock must pass the deadline: `date +%s` counts whole seconds).
# Either way the last error psql printed is the one shown.
deadline=$(( $(date +%s) + ${{WAIT_SECONDS}} ))
while ! error=$(psql --no-psqlrc --dbname=postgres --command='SELECT 1' 2>&1 >/dev/null); do
  case "$error" in
    *"password authentication failed"*|*"pg_hba.conf"*|*"SSL"*|*"certificate"*| \\
    *"does not exist"*|*"permission denied"*)
      echo "cannot use postgres at $PGHOST:$PGPORT (sslmode=$PGSSLMODE): $error" >&2
      exit 1 ;;
  esac
  if [ "$(date +%s)" -gt "$deadline" ]; then
    echo "gave up after ${{WAIT_SECONDS}}s waiting for postgres at $PGHOST:$PGPORT: $error" >&2
    exit 1
  fi
  echo "waiting for postgres at $PGHOST:$PGPORT: $error"
  sleep 2
done
set -e
for db in {databases}; do
  exists=$(psql --no-psqlrc --dbname=postgres --tuples-only --no-align --set=ON_ERROR_STOP=1 \\
    --set=db="$db" <<'SQL'
SELECT 1 FROM pg_database WHERE datname = :'db';
SQL
)
  if [ "$exists" = 1 ]; then
    echo "database $db already exists"
  else
    psql --no-psqlrc --dbname=postgres --quiet --set=ON_ERROR_STOP=1 --set=db="$db" <<'SQL'
CREATE DATABASE :"db";
SQL
    echo "database $db created"
  fi
done
"""


def create_databases_job(
    resource_name: str,
    *,
    naming: Naming,
    namespace: pulumi.Input[str],
    labels: Mapping[str, str],
    image: str,
    host: pulumi.Input[str],
    port: int,
    user: str,
    password_secret: pulumi.Input[str],
    sslmode: str,
    opts: pulumi.ResourceOptions,
    ca: DatabaseCa | None = None,
) -> k8s.batch.v1.Job:
    """Creates ``DATABASES`` if missing; safe to run again. The password is read from key
    ``password`` of Secret ``password_secret``, never placed in the Job spec. With ``ca`` the
    server's certificate is verified against it (a ConfigMap in ``namespace``)."""
    env = [
        k8s.core.v1.EnvVarArgs(name="PGHOST", value=host),
        k8s.core.v1.EnvVarArgs(name="PGPORT", value=str(port)),
        k8s.core.v1.EnvVarArgs(name="PGUSER", value=user),
        k8s.core.v1.EnvVarArgs(name="PGSSLMODE", value=sslmode),
        # Bounds each connection attempt, so an address that drops packets is retried (and
        # reported) instead of hanging on the TCP timeout.
        k8s.core.v1.EnvVarArgs(name="PGCONNECT_TIMEOUT", value="10"),
        k8s.core.v1.EnvVarArgs(name="WAIT_SECONDS", value=str(WAIT_SECONDS)),
        secret_env("PGPASSWORD", password_secret, "password"),
    ]
    config_maps: dict[str, pulumi.Input[str]] = {}
    if ca is not None:
        config_map = ca_config_map(
            f"{resource_name}-ca",
            naming=naming,
            namespace=namespace,
            labels=labels,
            ca=ca,
            opts=opts,
        )
        config_maps[CA_DIR] = config_map.metadata.name
        env.append(
            k8s.core.v1.EnvVarArgs(name="PGSSLROOTCERT", value=f"{CA_DIR}/{DATABASE_CA_KEY}")
        )
    return setup_job(
        resource_name,
        naming=naming,
        namespace=namespace,
        labels=labels,
        run_as=POSTGRES_UID,
        container_name="create-databases",
        image=image,
        script=CREATE_DATABASES.format(databases=" ".join(DATABASES)),
        env=env,
        opts=opts,
        config_maps=config_maps,
        deadline_seconds=JOB_DEADLINE_SECONDS,
    )


def ca_config_map(
    resource_name: str,
    *,
    naming: Naming,
    namespace: pulumi.Input[str],
    labels: Mapping[str, str],
    ca: DatabaseCa,
    opts: pulumi.ResourceOptions,
) -> k8s.core.v1.ConfigMap:
    """``DATABASE_CA_CONFIG_MAP`` in ``namespace``: the database's CA certificates under
    ``DATABASE_CA_KEY`` (public certificates, so a ConfigMap)."""
    return k8s.core.v1.ConfigMap(
        resource_name,
        metadata=naming.metadata(DATABASE_CA_CONFIG_MAP, namespace, labels, {"pdk/ca": ca.name}),
        data={DATABASE_CA_KEY: ca.pem},
        opts=opts,
    )
