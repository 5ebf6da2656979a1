"""The default StorageClass: pd-balanced disks from GKE's PD CSI driver, labelled."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_kubernetes as k8s

from infra.naming import Naming

PD_CLASS = "pd-balanced"
PD_CSI_DRIVER = "pd.csi.storage.gke.io"


def pd_labels_parameter(labels: Mapping[str, str]) -> str:
    """GCP labels (already in GCP's alphabet, ``gcp_labels``) as the driver's ``labels``
    parameter: ``key1=value1,key2=value2``, sorted so the plan is stable."""
    return ",".join(f"{key}={value}" for key, value in sorted(labels.items()))


def pd_storage_class(
    resource_name: str,
    naming: Naming,
    labels: Mapping[str, str],
    opts: pulumi.ResourceOptions,
) -> k8s.storage.v1.StorageClass:
    """pd-balanced disks as the cluster's default class.

    GKE's own default (``standard-rwo``) makes disks without our labels, which the leak query
    could find only by GKE's cluster label. With two default classes Kubernetes (>= 1.26) gives
    claims without a class the newest one, which is this one (created after the cluster), so
    the platform's claims land here.
    """
    return k8s.storage.v1.StorageClass(
        resource_name,
        metadata=naming.metadata(
            PD_CLASS, annotations={"storageclass.kubernetes.io/is-default-class": "true"}
        ),
        provisioner=PD_CSI_DRIVER,
        # The driver labels each disk it creates with ``labels`` ("key1=value1,key2=value2",
        # keys and values in GCP's label alphabet; ConvertLabelsStringToMap, read by
        # ExtractAndDefaultParameters in kubernetes-sigs/gcp-compute-persistent-disk-csi-driver
        # pkg/parameters), so a disk left by a claim carries the deployment id.
        parameters={"type": "pd-balanced", "labels": pd_labels_parameter(labels)},
        reclaim_policy="Delete",
        volume_binding_mode="WaitForFirstConsumer",
        allow_volume_expansion=True,
        opts=opts,
    )
