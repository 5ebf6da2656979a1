"""Which planned changes replace a resource, and which resources hold data.

The mock engine does not run providers' diffs, so the offline diff cannot ask a provider
whether a change is an update or a replacement. This table holds, for the types this program
declares, the inputs whose change makes the provider delete the resource and create it anew
(Pulumi's "replace"), each with where that is stated; ``tests/test_replacements.py`` checks the
Kubernetes entries against the kubernetes provider's own table when the rig has its source.

A path ends at a property; a change to it or anything under it (``spec.volumeClaimTemplates``
covers ``spec.volumeClaimTemplates[0].spec.resources``) replaces. Paths are the snapshot's
input names (camelCase).
"""

from __future__ import annotations

from collections.abc import Iterable

KUBERNETES_IDENTITY = ("metadata.name", "metadata.namespace")
"""Every Kubernetes object is replaced when its name or namespace changes (the provider's
``forceNew`` for all kinds)."""

REPLACE_ON: dict[str, tuple[str, ...]] = {
    # pulumi-kubernetes provider/pkg/provider/diff.go (forceNewProperties, the v4.25.0 source
    # the rig builds; tests/test_replacements.py compares): kinds this program declares.
    "kubernetes:core/v1:PersistentVolumeClaim": (
        "spec.accessModes",
        "spec.selector",
        "spec.storageClassName",
        "spec.volumeName",
    ),
    "kubernetes:core/v1:PersistentVolume": tuple(
        f"spec.{source}"
        for source in [
            "awsElasticBlockStore",
            "azureDisk",
            "azureFile",
            "cephfs",
            "cinder",
            "csi",
            "fc",
            "flexVolume",
            "flocker",
            "gcePersistentDisk",
            "glusterfs",
            "hostPath",
            "iscsi",
            "local",
            "nfs",
            "photonPersistentDisk",
            "portworxVolume",
            "quobyte",
            "rbd",
            "scaleIO",
            "storageos",
            "vsphereVolume",
        ]
    ),
    "kubernetes:apps/v1:StatefulSet": (
        "spec.podManagementPolicy",
        "spec.revisionHistoryLimit",
        "spec.selector",
        "spec.serviceName",
        "spec.volumeClaimTemplates",
    ),
    "kubernetes:apps/v1:DaemonSet": ("spec.selector",),
    "kubernetes:batch/v1:Job": (
        "spec.completions",
        "spec.parallelism",
        "spec.selector",
        "spec.template",
    ),
    # ConfigMaps and Secrets are replaced on a data change unless the provider sets
    # enableConfigMapMutable / enableSecretMutable (this program sets neither).
    "kubernetes:core/v1:ConfigMap": ("binaryData", "data"),
    "kubernetes:core/v1:Secret": ("type", "stringData", "data"),
    "kubernetes:core/v1:Service": ("spec.clusterIP",),
    "kubernetes:storage.k8s.io/v1:StorageClass": ("parameters", "provisioner"),
    "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": ("roleRef",),
    # A Helm release of another chart or name is another release (helm.v3.Release replaces on
    # `name` and `chart`; pulumi-kubernetes docs, helm.v3.Release).
    "kubernetes:helm.sh/v3:Release": ("name", "chart", "namespace"),
    # AWS (Terraform provider attributes marked ForceNew, as the pulumi-aws docs state).
    "aws:rds/instance:Instance": (
        "identifier",
        "engine",
        "availabilityZone",
        "dbName",
        "kmsKeyId",
        "storageEncrypted",
        "username",
    ),
    "aws:s3/bucket:Bucket": ("bucket", "bucketPrefix"),
    "aws:efs/fileSystem:FileSystem": (
        "availabilityZoneName",
        "creationToken",
        "encrypted",
        "kmsKeyId",
        "performanceMode",
    ),
    "aws:ecr/repository:Repository": ("name", "encryptionConfigurations"),
    "aws:eks/cluster:Cluster": ("name", "kubernetesNetworkConfig", "encryptionConfig"),
    "aws:eks/nodeGroup:NodeGroup": (
        "nodeGroupName",
        "amiType",
        "capacityType",
        "diskSize",
        "instanceTypes",
        "subnetIds",
        "remoteAccess",
    ),
    "aws:ec2/vpc:Vpc": ("cidrBlock",),
    "aws:ec2/subnet:Subnet": ("cidrBlock", "availabilityZone", "vpcId"),
    # GCP (Terraform google provider, "Changing this forces a new resource to be created").
    "gcp:sql/databaseInstance:DatabaseInstance": ("name", "region", "project"),
    "gcp:sql/database:Database": ("name", "instance", "project"),
    "gcp:storage/bucket:Bucket": ("name", "location", "project"),
    "gcp:filestore/instance:Instance": ("name", "location", "tier", "networks", "project"),
    "gcp:artifactregistry/repository:Repository": ("repositoryId", "location", "format"),
    "gcp:container/cluster:Cluster": ("name", "location", "network", "subnetwork", "project"),
    "gcp:container/nodePool:NodePool": ("name", "cluster", "location", "project"),
    "gcp:compute/network:Network": ("name", "autoCreateSubnetworks"),
    "gcp:compute/subnetwork:Subnetwork": ("name", "network", "region"),
    # A new secret or key: everything that trusted or used the old one must be redone.
    "random:index/randomPassword:RandomPassword": (
        "length",
        "special",
        "upper",
        "lower",
        "numeric",
        "keepers",
    ),
    "tls:index/privateKey:PrivateKey": ("algorithm", "rsaBits", "ecdsaCurve"),
}

STATEFUL: dict[str, str] = {
    "kubernetes:core/v1:PersistentVolumeClaim": "its volume's data",
    "kubernetes:core/v1:PersistentVolume": "the volume's data",
    "kubernetes:core/v1:Namespace": "every object in the namespace",
    "aws:rds/instance:Instance": "the database",
    "aws:s3/bucket:Bucket": "the bucket's objects",
    "aws:efs/fileSystem:FileSystem": "the shared files",
    "aws:ecr/repository:Repository": "the pushed images",
    "aws:kms/key:Key": "everything encrypted with the key",
    "gcp:sql/databaseInstance:DatabaseInstance": "the database",
    "gcp:sql/database:Database": "the database",
    "gcp:storage/bucket:Bucket": "the bucket's objects",
    "gcp:filestore/instance:Instance": "the shared files",
    "gcp:artifactregistry/repository:Repository": "the pushed images",
    "pulumi-python:dynamic/pdk:MldmRepo": "the repo's commits",
    "pulumi-python:dynamic/pdk:MldeProject": "the project's experiments and models",
    "pulumi-python:dynamic/pdk:MldeWorkspace": "the workspace's projects",
    "tls:index/privateKey:PrivateKey": "trust in every certificate it signed",
}
"""Types whose deletion or replacement loses something, and what. A StatefulSet is not one:
its claims outlive it (the default retention policy keeps them) and a new one adopts them."""


def replace_paths(resource_type: str) -> tuple[str, ...]:
    paths = REPLACE_ON.get(resource_type, ())
    if resource_type.startswith("kubernetes:") and not resource_type.startswith(
        "kubernetes:helm.sh/"
    ):
        paths = KUBERNETES_IDENTITY + paths
    return paths


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith((prefix + ".", prefix + "["))


def triggers(resource_type: str, changed: Iterable[str]) -> list[str]:
    """The changed input paths (``inputs.`` already stripped) that replace the resource."""
    paths = replace_paths(resource_type)
    return [path for path in changed if any(_under(path, prefix) for prefix in paths)]


def data_at_risk(resource_type: str) -> str | None:
    """What deleting or replacing a resource of this type loses, or None."""
    return STATEFUL.get(resource_type)
