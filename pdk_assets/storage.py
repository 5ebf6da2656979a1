"""The model store boundary: where the deploy step uploads ``config.properties`` and the
``.mar`` for KServe's storage initializer to fetch. ``ModelStore`` is the Protocol tests fake;
``S3Store`` serves AWS S3 and S3-compatible stores (MinIO, MLDM's S3 gateway), ``GcsStore`` GCS,
``LocalStore`` a folder (the dry run)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Protocol


class ModelStore(Protocol):
    scheme: str
    """URI scheme KServe's storageUri uses for this store: ``s3``, ``gs`` or ``file``."""

    def upload(self, source: Path, bucket: str, key: str) -> None:
        """Copies ``source`` to ``key`` in ``bucket``, replacing what is there."""


class StorageError(RuntimeError):
    """An upload failed; the message names the bucket and what to check."""


class S3Store:
    """S3 or an S3-compatible endpoint; credentials from boto3's usual chain (IRSA,
    ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``)."""

    scheme = "s3"

    def __init__(self, endpoint: str = "", region: str = "") -> None:
        import boto3

        self._client: Any = boto3.client(
            "s3", endpoint_url=endpoint or None, region_name=region or None
        )

    def upload(self, source: Path, bucket: str, key: str) -> None:
        try:
            self._client.upload_file(str(source), bucket, key)
        except Exception as error:  # boto3 raises botocore and S3 transfer errors alike
            raise StorageError(
                f"uploading {source.name} to s3://{bucket}/{key} failed: {error}; check the "
                "bucket name, the endpoint and the pipeline's storage credentials"
            ) from None


class GcsStore:
    """Google Cloud Storage with the pod's Workload Identity (needs google-cloud-storage, which
    the deploy image installs only for GCP; see images/README.md)."""

    scheme = "gs"

    def __init__(self) -> None:
        from google.cloud import storage

        self._client: Any = storage.Client()

    def upload(self, source: Path, bucket: str, key: str) -> None:
        try:
            self._client.bucket(bucket).blob(key).upload_from_filename(str(source))
        except Exception as error:
            raise StorageError(
                f"uploading {source.name} to gs://{bucket}/{key} failed: {error}; check the "
                "bucket name and the pipeline's Workload Identity binding"
            ) from None


class LocalStore:
    """A folder standing in for the bucket: ``<root>/<bucket>/<key>``."""

    scheme = "file"

    def __init__(self, root: Path) -> None:
        self.root = root

    def upload(self, source: Path, bucket: str, key: str) -> None:
        target = self.root / bucket / key
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)


def store_for(kind: str, endpoint: str = "", region: str = "") -> ModelStore:
    """The store for ``PDK_STORAGE_KIND``: ``s3`` and ``minio`` → S3 API, ``gcs`` → GCS."""
    if kind in ("s3", "minio"):
        return S3Store(endpoint, region)
    if kind == "gcs":
        return GcsStore()
    raise StorageError(f"storage kind {kind!r} is not one of s3, gcs, minio")
