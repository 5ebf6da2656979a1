"""The Job that creates the PDK databases on whichever Postgres a target provides."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_kubernetes as k8s

from infra.contract import DATABASES
from infra.naming import Naming
from infra.targets.common.pods import secret_env, setup_job

POSTGRES_UID = 999
"""The postgres user of the official image, which the Job runs as."""

CREATE_DATABASES = """\
set -eu
until pg_isready --quiet; do echo "waiting for postgres at $PGHOST:$PGPORT"; sleep 2; done
for db in {databases}; do
  if psql --dbname=postgres --tuples-only --no-align \\
      --command="SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
    echo "database $db already exists"
  else
    psql --dbname=postgres --command="CREATE DATABASE \\"$db\\""
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
) -> k8s.batch.v1.Job:
    """Creates ``DATABASES`` if missing; safe to run again. The password is read from key
    ``password`` of Secret ``password_secret``, never placed in the Job spec."""
    return setup_job(
        resource_name,
        naming=naming,
        namespace=namespace,
        labels=labels,
        run_as=POSTGRES_UID,
        container_name="create-databases",
        image=image,
        script=CREATE_DATABASES.format(databases=" ".join(DATABASES)),
        env=[
            k8s.core.v1.EnvVarArgs(name="PGHOST", value=host),
            k8s.core.v1.EnvVarArgs(name="PGPORT", value=str(port)),
            k8s.core.v1.EnvVarArgs(name="PGUSER", value=user),
            k8s.core.v1.EnvVarArgs(name="PGSSLMODE", value=sslmode),
            secret_env("PGPASSWORD", password_secret, "password"),
        ],
        opts=opts,
    )
