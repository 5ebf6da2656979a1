"""The security and consistency rules of PDK Deployer, written once as plain functions.

Three callers use the same functions:

- the CrossGuard pack (``policy/__main__.py``, run with ``pulumi preview --policy-pack policy``)
  wraps them in ``ResourceValidationPolicy`` / ``StackValidationPolicy`` (``policy/pack.py``);
- ``pdk plan`` evaluates them offline on the resources the mock engine recorded;
- the property tests assert that every committed stack passes them.

Inputs are what a pack sees: the resource type token, its logical name, its input properties
with the engine's camelCase names, and (for stack rules) the names of what it depends on. This
module imports nothing outside the standard library, so the pack's own virtualenv needs only
``pulumi_policy``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

OPEN_IPV4 = "0.0.0.0/0"
OPEN_IPV6 = "::/0"
SECRET_MARKER = "[secret]"
"""How the offline plan shows a secret value (``infra.plan.engine.SECRET``)."""

PART_OF_LABEL = "app.kubernetes.io/part-of"
REQUIRED_LABELS = ("pdk-deployer/stack", "pdk-deployer/deployment-id")
"""Labels (Kubernetes) and tags (AWS) every object carries, so leftovers can be found."""

TAGGABLE_AWS_TYPES = frozenset(
    {
        "aws:ec2/vpc:Vpc",
        "aws:ec2/subnet:Subnet",
        "aws:ec2/internetGateway:InternetGateway",
        "aws:ec2/natGateway:NatGateway",
        "aws:ec2/eip:Eip",
        "aws:ec2/routeTable:RouteTable",
        "aws:ec2/vpcEndpoint:VpcEndpoint",
        "aws:ec2/securityGroup:SecurityGroup",
        "aws:ec2/launchTemplate:LaunchTemplate",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
        "aws:eks/cluster:Cluster",
        "aws:eks/nodeGroup:NodeGroup",
        "aws:eks/addon:Addon",
        "aws:iam/role:Role",
        "aws:iam/policy:Policy",
        "aws:iam/openIdConnectProvider:OpenIdConnectProvider",
        "aws:kms/key:Key",
        "aws:s3/bucket:Bucket",
        "aws:s3/bucketV2:BucketV2",
        "aws:rds/instance:Instance",
        "aws:rds/subnetGroup:SubnetGroup",
        "aws:rds/parameterGroup:ParameterGroup",
        "aws:efs/fileSystem:FileSystem",
        "aws:ecr/repository:Repository",
    }
)
"""AWS types that take ``tags`` among those this program creates (a test compares this set with
pulumi_aws's signatures for every type a stack plans, so a new type cannot slip through)."""

_EXACT_VERSION = re.compile(r"^v?\d+\.\d+\.\d+([-+.][0-9A-Za-z.-]+)?$")
_VERSION_IN_URL = re.compile(r"v?\d+\.\d+\.\d+")
_SENSITIVE_KEY = re.compile(
    r"(password|passwd|secret|token|private[-_.]?key|credential|access[-_.]?key)", re.I
)
_URL_WITH_PASSWORD = re.compile(r"://[^/\s:@]+:[^@/\s]+@")
_AWAITED_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod")


@dataclass(frozen=True)
class Resource:
    """One resource as a policy sees it."""

    type: str
    name: str
    props: Mapping[str, Any]
    dependencies: tuple[str, ...] = ()


@dataclass(frozen=True)
class Violation:
    rule: str
    resource: str
    message: str


ResourceCheck = Callable[[Resource, Mapping[str, Any]], Iterable[str]]
StackCheck = Callable[[Sequence[Resource], Mapping[str, Any]], Iterable[tuple[str, str]]]


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    check_resource: ResourceCheck | None = None
    check_stack: StackCheck | None = None
    config_schema: Mapping[str, Any] = field(default_factory=dict)
    """JSON-schema properties of the rule's config (``--policy-pack-config``)."""


def _walk(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            yield here, item
            yield from _walk(item, here)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}[{index}]")


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


# --- no public database ---------------------------------------------------------------------


def database_not_public(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    props = resource.props
    if resource.type == "aws:rds/instance:Instance" and props.get("publiclyAccessible"):
        yield "RDS instance is publicly accessible: set publiclyAccessible to false"
    if resource.type == "gcp:sql/databaseInstance:DatabaseInstance":
        ip = ((props.get("settings") or {}).get("ipConfiguration")) or {}
        if ip.get("ipv4Enabled", True):
            yield "Cloud SQL instance has a public IPv4 address: set ipv4Enabled to false"
    if resource.type == "kubernetes:core/v1:Service":
        spec = props.get("spec") or {}
        ports = {int(p.get("port", 0)) for p in spec.get("ports") or []}
        if spec.get("type") in ("LoadBalancer", "NodePort") and 5432 in ports:
            yield f"Service exposes PostgreSQL (5432) as {spec['type']}"


# --- no open ingress ------------------------------------------------------------------------


def _open(ranges: Iterable[Any]) -> list[str]:
    return [str(r) for r in ranges if str(r) in (OPEN_IPV4, OPEN_IPV6)]


def no_open_ingress(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    if resource.name in (config.get("acknowledged") or []):
        return
    props, token = resource.props, resource.type
    hint = " (or acknowledge it: the policy config's `acknowledged` list names this resource)"
    if token == "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":
        for key in ("cidrIpv4", "cidrIpv6"):
            if str(props.get(key)) in (OPEN_IPV4, OPEN_IPV6):
                yield f"security group rule admits {props[key]}{hint}"
    elif token == "aws:ec2/securityGroup:SecurityGroup":
        for rule in props.get("ingress") or []:
            opened = _open((rule.get("cidrBlocks") or []) + (rule.get("ipv6CidrBlocks") or []))
            if opened:
                yield f"inline ingress admits {', '.join(opened)}{hint}"
    elif token == "aws:ec2/securityGroupRule:SecurityGroupRule" and props.get("type") == "ingress":
        opened = _open((props.get("cidrBlocks") or []) + (props.get("ipv6CidrBlocks") or []))
        if opened:
            yield f"security group rule admits {', '.join(opened)}{hint}"
    elif token == "aws:eks/cluster:Cluster":
        vpc = props.get("vpcConfig") or {}
        if vpc.get("endpointPublicAccess", True):
            cidrs = vpc.get("publicAccessCidrs")
            if not cidrs or _open(cidrs):
                yield f"the EKS API endpoint is public to {OPEN_IPV4}: set publicAccessCidrs{hint}"
    elif token == "gcp:container/cluster:Cluster":
        networks = (props.get("masterAuthorizedNetworksConfig") or {}).get("cidrBlocks") or []
        opened = _open(n.get("cidrBlock") for n in networks)
        if opened:
            yield f"the GKE API is authorized for {', '.join(opened)}{hint}"
    elif token == "gcp:compute/firewall:Firewall":
        if str(props.get("direction", "INGRESS")) == "INGRESS":
            opened = _open(props.get("sourceRanges") or [])
            if opened:
                yield f"firewall admits {', '.join(opened)}{hint}"
    elif token == "kubernetes:core/v1:Service":
        spec = props.get("spec") or {}
        if spec.get("type") == "LoadBalancer":
            ranges = spec.get("loadBalancerSourceRanges") or []
            if not ranges or _open(ranges):
                yield (
                    f"LoadBalancer Service is open to {OPEN_IPV4}: set "
                    f"loadBalancerSourceRanges{hint}"
                )
    elif token == "kubernetes:gateway.envoyproxy.io/v1alpha1:EnvoyProxy":
        provider = ((props.get("spec") or {}).get("provider") or {}).get("kubernetes") or {}
        service = provider.get("envoyService") or {}
        if service.get("type", "LoadBalancer") == "LoadBalancer":
            ranges = service.get("loadBalancerSourceRanges") or []
            if not ranges or _open(ranges):
                yield f"the Envoy Gateway's LoadBalancer is open to {OPEN_IPV4}{hint}"
    elif token == "kubernetes:helm.sh/v3:Release":
        for path, value in _walk(props.get("values") or {}):
            if path.endswith("service") and isinstance(value, dict):
                if value.get("type") == "LoadBalancer":
                    ranges = value.get("loadBalancerSourceRanges") or []
                    if not ranges or _open(ranges):
                        yield f"values {path}: a LoadBalancer open to {OPEN_IPV4}{hint}"
            elif (
                path.endswith("loadBalancerSourceRanges")
                and isinstance(value, list)
                and _open(value)
                and not path.endswith("service.loadBalancerSourceRanges")
            ):
                yield f"values {path} admits {OPEN_IPV4}{hint}"


# --- encryption at rest ---------------------------------------------------------------------


def encryption_at_rest(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    props, token = resource.props, resource.type
    if token == "aws:rds/instance:Instance" and not props.get("storageEncrypted"):
        yield "RDS storage is not encrypted: set storageEncrypted"
    elif token == "aws:efs/fileSystem:FileSystem" and not props.get("encrypted"):
        yield "EFS file system is not encrypted: set encrypted"
    elif token == "aws:eks/cluster:Cluster":
        config_ = props.get("encryptionConfig") or {}
        if "secrets" not in (config_.get("resources") or []):
            yield "EKS Secrets are not envelope-encrypted: set encryptionConfig with a KMS key"
    elif token == "aws:ec2/launchTemplate:LaunchTemplate":
        for mapping in props.get("blockDeviceMappings") or []:
            ebs = mapping.get("ebs") or {}
            if ebs and not _truthy(ebs.get("encrypted")):
                yield f"volume {mapping.get('deviceName', '?')} is not encrypted"
    elif (
        token == "kubernetes:storage.k8s.io/v1:StorageClass"
        and props.get("provisioner") == "ebs.csi.aws.com"
        and not _truthy((props.get("parameters") or {}).get("encrypted"))
    ):
        yield "EBS StorageClass without parameters.encrypted=true"


# --- buckets private (and encrypted) --------------------------------------------------------

_BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
_PUBLIC_ACCESS_FLAGS = (
    "blockPublicAcls",
    "blockPublicPolicy",
    "ignorePublicAcls",
    "restrictPublicBuckets",
)


def buckets_private(
    resources: Sequence[Resource], config: Mapping[str, Any]
) -> Iterator[tuple[str, str]]:
    """Every S3 bucket has a public access block with all four flags and default encryption
    (matched through dependencies: during a preview the bucket's id is not known yet); every
    GCS bucket enforces public access prevention and uniform access."""
    blocks: dict[str, list[Resource]] = {}
    encrypted: set[str] = set()
    for resource in resources:
        for dep in resource.dependencies:
            if resource.type == "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock":
                blocks.setdefault(dep, []).append(resource)
            if resource.type.startswith(
                "aws:s3/bucketServerSideEncryptionConfiguration"
            ) and resource.props.get("rules"):
                encrypted.add(dep)
    for resource in resources:
        if resource.type in _BUCKETS:
            if str(resource.props.get("acl", "private")).startswith("public"):
                yield resource.name, f"bucket ACL is {resource.props['acl']}"
            found = blocks.get(resource.name, [])
            if not any(all(b.props.get(f) is True for f in _PUBLIC_ACCESS_FLAGS) for b in found):
                yield resource.name, "no public access block with all four flags set"
            if resource.name not in encrypted and not resource.props.get(
                "serverSideEncryptionConfiguration"
            ):
                yield resource.name, "no default server-side encryption"
        elif resource.type == "gcp:storage/bucket:Bucket":
            if resource.props.get("publicAccessPrevention") != "enforced":
                yield resource.name, "publicAccessPrevention is not 'enforced'"
            if not resource.props.get("uniformBucketLevelAccess"):
                yield resource.name, "uniformBucketLevelAccess is off"


# --- pinned images and charts ---------------------------------------------------------------


def _image_pinned(image: str) -> bool:
    if "@sha256:" in image:
        return True
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return False
    return last.rsplit(":", 1)[1] not in ("latest", "")


def pinned_versions(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    props, token = resource.props, resource.type
    if token == "kubernetes:helm.sh/v3:Release":
        version = str(props.get("version") or "")
        if not _EXACT_VERSION.match(version):
            shown = version or "none"
            yield f"chart {props.get('chart')} is not pinned to an exact version ({shown})"
    elif token == "kubernetes:yaml/v2:ConfigFile":
        files = props.get("files") or [props.get("file")]
        for file in files:
            if file and str(file).startswith("http") and not _VERSION_IN_URL.search(str(file)):
                yield f"manifest URL names no version: {file}"
    elif token.startswith("kubernetes:") and props.get("kind") in _AWAITED_KINDS:
        for path, value in _walk(props.get("spec") or {}):
            if path.endswith(".image") and isinstance(value, str) and not _image_pinned(value):
                yield f"image {value} is not pinned to a tag or digest (at spec.{path})"


# --- labels and tags ------------------------------------------------------------------------


def labels_and_tags(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    props, token = resource.props, resource.type
    if token.startswith("kubernetes:") and "kind" in props:
        labels = (props.get("metadata") or {}).get("labels") or {}
        missing = [key for key in REQUIRED_LABELS if not labels.get(key)]
        if labels.get(PART_OF_LABEL) != "pdk":
            missing.append(f"{PART_OF_LABEL}=pdk")
        if missing:
            yield f"labels missing: {', '.join(missing)}"
        template = (props.get("spec") or {}).get("template")
        if isinstance(template, dict):
            template_labels = (template.get("metadata") or {}).get("labels") or {}
            if not all(template_labels.get(key) for key in REQUIRED_LABELS):
                yield "pod template labels lack the deployment labels"
    elif token in TAGGABLE_AWS_TYPES:
        tags = props.get("tags") or {}
        missing = [key for key in REQUIRED_LABELS if not tags.get(key)]
        if missing:
            yield f"tags missing: {', '.join(missing)}"


# --- GPU pool taint matches MLDE's pod spec -------------------------------------------------

_EFFECTS = {
    "NO_SCHEDULE": "NoSchedule",
    "NO_EXECUTE": "NoExecute",
    "PREFER_NO_SCHEDULE": "PreferNoSchedule",
}


GpuPool = tuple[Resource, dict[str, str], list[dict[str, str]]]


def _gpu_pools(resources: Sequence[Resource]) -> Iterator[GpuPool]:
    """(pool, labels, taints in Kubernetes form) of every tainted GPU node pool."""
    for resource in resources:
        props = resource.props
        if resource.type == "aws:eks/nodeGroup:NodeGroup":
            labels, taints = props.get("labels") or {}, props.get("taints") or []
        elif resource.type == "gcp:container/nodePool:NodePool":
            node_config = props.get("nodeConfig") or {}
            labels, taints = node_config.get("labels") or {}, node_config.get("taints") or []
        else:
            continue
        gpu_taints = [
            {
                "key": str(t.get("key")),
                "value": str(t.get("value", "")),
                "effect": _EFFECTS.get(str(t.get("effect")), str(t.get("effect"))),
            }
            for t in taints
            if "gpu" in str(t.get("key", "")).lower()
        ]
        if gpu_taints:
            yield resource, dict(labels), gpu_taints


def _mlde_gpu_spec(resources: Sequence[Resource]) -> tuple[str, Mapping[str, Any]] | None:
    for resource in resources:
        if resource.type != "kubernetes:helm.sh/v3:Release":
            continue
        determined = (resource.props.get("values") or {}).get("determined") or {}
        for pool in determined.get("resourcePools") or []:
            defaults = pool.get("task_container_defaults") or {}
            spec = (defaults.get("gpu_pod_spec") or {}).get("spec")
            if spec:
                return resource.name, spec
    return None


def gpu_taint_matches_mlde(
    resources: Sequence[Resource], config: Mapping[str, Any]
) -> Iterator[tuple[str, str]]:
    """A tainted GPU node pool is only usable if MLDE's GPU pod spec selects its label and
    tolerates its taint (otherwise trials stay Pending and the autoscaler never scales up)."""
    pools = list(_gpu_pools(resources))
    if not pools:
        return
    found = _mlde_gpu_spec(resources)
    if found is None:
        for pool, _, _ in pools:
            yield pool.name, "a tainted GPU pool but no MLDE GPU pod spec tolerates it"
        return
    release, spec = found
    selector = spec.get("nodeSelector") or {}
    tolerations = spec.get("tolerations") or []
    for pool, labels, taints in pools:
        if not selector or any(labels.get(k) != v for k, v in selector.items()):
            yield (
                pool.name,
                (
                    f"MLDE's GPU nodeSelector {selector} (in {release}) does not match the pool's "
                    f"labels {labels}"
                ),
            )
        for taint in taints:
            tolerated = any(
                t.get("key") == taint["key"]
                and t.get("effect") == taint["effect"]
                and (t.get("operator") == "Exists" or t.get("value") == taint["value"])
                for t in tolerations
            )
            if not tolerated:
                yield (
                    pool.name,
                    (
                        f"MLDE's GPU pod spec (in {release}) does not tolerate "
                        f"{taint['key']}={taint['value']}:{taint['effect']}"
                    ),
                )


# --- no plaintext secret in ConfigMaps ------------------------------------------------------


def no_secret_in_configmaps(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    props = resource.props
    if not resource.type.startswith("kubernetes:core/v1:ConfigMap") or props.get("kind") != (
        "ConfigMap"
    ):
        return
    for section in ("data", "binaryData"):
        for key, value in (props.get(section) or {}).items():
            text = str(value)
            if SECRET_MARKER in text:
                yield f"{section}.{key} holds a secret value"
            elif _SENSITIVE_KEY.search(str(key)) and text:
                yield f"{section}.{key} looks like a credential: put it in a Secret"
            elif _URL_WITH_PASSWORD.search(text):
                yield f"{section}.{key} is a URL with a password in it"
            elif "PRIVATE KEY-----" in text:
                yield f"{section}.{key} holds a private key"
    for field_name in ("labels", "annotations"):
        values = (props.get("metadata") or {}).get(field_name) or {}
        if SECRET_MARKER in str(values):
            yield f"metadata.{field_name} holds a secret value"


RULES: tuple[Rule, ...] = (
    Rule(
        "database-not-public",
        "Databases are private: no public RDS/Cloud SQL address, no PostgreSQL Service "
        "exposed outside the cluster.",
        check_resource=database_not_public,
    ),
    Rule(
        "no-open-ingress",
        "Nothing admits 0.0.0.0/0 or ::/0 (security groups, firewalls, the EKS endpoint, "
        "LoadBalancer Services) unless the resource is acknowledged in the policy config.",
        check_resource=no_open_ingress,
        config_schema={
            "acknowledged": {
                "type": "array",
                "items": {"type": "string"},
                "default": [],
                "description": "Logical names of resources allowed to admit 0.0.0.0/0.",
            }
        },
    ),
    Rule(
        "encryption-at-rest",
        "RDS, EFS, node volumes, EBS StorageClasses and EKS Secrets are encrypted.",
        check_resource=encryption_at_rest,
    ),
    Rule(
        "buckets-private",
        "Buckets block public access and encrypt by default.",
        check_stack=buckets_private,
    ),
    Rule(
        "pinned-versions",
        "Helm charts, manifest URLs and container images name exact versions.",
        check_resource=pinned_versions,
    ),
    Rule(
        "labels-and-tags",
        "Every Kubernetes object carries the stack and deployment labels; every taggable AWS "
        "resource the same tags.",
        check_resource=labels_and_tags,
    ),
    Rule(
        "gpu-taint-matches-mlde",
        "MLDE's GPU pod spec selects and tolerates every tainted GPU node pool.",
        check_stack=gpu_taint_matches_mlde,
    ),
    Rule(
        "no-secret-in-configmaps",
        "ConfigMaps hold no secret values, credentials, passwords in URLs or private keys.",
        check_resource=no_secret_in_configmaps,
    ),
)

RULES_BY_NAME = {rule.name: rule for rule in RULES}


def default_config() -> dict[str, dict[str, Any]]:
    return {
        rule.name: {key: schema.get("default") for key, schema in rule.config_schema.items()}
        for rule in RULES
    }


def evaluate(
    resources: Sequence[Resource],
    config: Mapping[str, Mapping[str, Any]] | None = None,
    rules: Sequence[Rule] = RULES,
) -> list[Violation]:
    """Every violation of ``rules`` among ``resources`` (``config``: per-rule settings, as in
    Pulumi's ``--policy-pack-config`` file)."""
    settings = default_config()
    for name, values in (config or {}).items():
        settings.setdefault(name, {}).update(values)
    found: list[Violation] = []
    for rule in rules:
        rule_config = settings.get(rule.name, {})
        if rule.check_resource is not None:
            for resource in resources:
                found.extend(
                    Violation(rule.name, resource.name, message)
                    for message in rule.check_resource(resource, rule_config)
                )
        if rule.check_stack is not None:
            found.extend(
                Violation(rule.name, name, message)
                for name, message in rule.check_stack(resources, rule_config)
            )
    return found


def from_snapshot(snapshot: Mapping[str, Any]) -> list[Resource]:
    """Resources of an offline plan (``Snapshot.to_dict()``) in the form policies see."""
    return [
        Resource(
            str(r["type"]),
            str(r["name"]),
            r.get("inputs") or {},
            tuple(r.get("dependencies") or ()),
        )
        for r in snapshot["resources"]
    ]


def check(
    snapshot: Mapping[str, Any], rule: str, config: Mapping[str, Any] | None = None
) -> list[Violation]:
    """Violations of one rule in an offline plan: what the property tests assert is empty."""
    settings = {rule: dict(config)} if config else None
    return evaluate(from_snapshot(snapshot), settings, [RULES_BY_NAME[rule]])
