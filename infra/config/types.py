"""Shared value types of the stack config: each an ``Annotated`` string or integer whose
validator raises one ``pdk`` error naming what is wrong, what is allowed and how to fix it.

Types that only one target uses (EC2 instance types, VPC ids) live in that target's
``config.py``; the ones here are used by the shared groups or by more than one target.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic_core import PydanticCustomError

from infra import versions

PROJECT = "pdk-deployer"
"""The Pulumi project name, and so the namespace of every config key (``pdk-deployer:target``)."""

SUPPORTED_KUBERNETES_VERSIONS = versions.KUBERNETES_VERSIONS
"""Kubernetes minor versions ``kubernetesVersion`` accepts (the manifests are validated against
each one's OpenAPI schema); the version matrix's rule then rejects one a pin does not support."""

OFFLINE_SECRET = "[secret: not decrypted offline]"
"""Stands in for a ``secure:`` config value when a stack file is read without Pulumi's
decryption (``pdk plan``); checks that need the plaintext skip such values."""

PRIVATE_NETWORKS = "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16"
"""The RFC 1918 ranges: the default for who may reach exposed services, so a fresh stack is
reachable from the site's network but not from the internet until someone decides it should be."""


class ConfigObject(str):
    """A value the stack file gives as a list or mapping, as Pulumi passes it: its JSON text.
    Every declared key is a scalar, so the loader refuses it, as the Pulumi CLI does."""


class Model(BaseModel):
    """Base of every config group: unknown fields are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


def fail(reason: str, allowed: str, fix: str) -> PydanticCustomError:
    """The error a value validator raises; the loader turns it into a ``Problem``."""
    return PydanticCustomError(
        "pdk", "{reason}", {"reason": reason, "allowed": allowed, "fix": fix}
    )


QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
LABEL_NAME = re.compile(
    r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
)
LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
IMAGE = re.compile(
    # A port may only follow the first component, and only when a path follows it: in
    # "team/app:1" the ":1" is a tag, in "localhost:5000/app:1" the ":5000" is a port.
    r"^(?P<repo>[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+(?=/))?(/[a-z0-9]+([._-][a-z0-9]+)*)*)"
    r"(:(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(@(?P<digest>sha256:[a-f0-9]{64}))?$"
)
_REGISTRY = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*$")
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$")
_CHART_VERSION = re.compile(
    r"^v?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$"
)
_DOMAIN = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]([-a-z0-9]*[a-z0-9])?$")


def _quantity(value: str) -> str:
    if re.fullmatch(r"[0-9]+(\.[0-9]+)?", value):
        raise fail(
            "has no unit, so Kubernetes would read it as bytes",
            "a positive number with a binary suffix, e.g. 20Gi, 500Mi, 1Ti",
            f"write {value}Gi if you mean GiB",
        )
    if not QUANTITY.match(value) or float(re.sub(r"[A-Za-z]+$", "", value)) <= 0:
        raise fail(
            "is not a Kubernetes storage quantity",
            "a positive number with a binary suffix, e.g. 20Gi, 500Mi, 1Ti",
            "write the size with a unit such as Gi",
        )
    return value


DEPLOYMENT_ID_ALLOWED = "1-20 lowercase letters, digits and '-', starting and ending alphanumeric"


def is_deployment_id(value: str) -> bool:
    """Whether ``value`` can sit in every derived name: buckets (3-63 characters, no '_' or
    '.'), IAM roles (64), EKS node groups (63) and label values (63), all of which add at most
    43 characters of their own."""
    return bool(_DNS_LABEL.match(value)) and len(value) <= 20


def stack_deployment_id(stack: str) -> str:
    """The deployment id a stack gets when ``deploymentId`` is empty: its name, as a label
    value, lowercased. The loader checks it with ``is_deployment_id`` before anything runs."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "-", stack)[:63]
    return (cleaned.strip("-_.") or "unnamed").lower()


def _dns_label(value: str) -> str:
    if value and not is_deployment_id(value):
        raise fail(
            "is not a short DNS label",
            DEPLOYMENT_ID_ALLOWED,
            "choose an id such as 'ci-1234' (it ends up in bucket and label values)",
        )
    return value


def label_key_fits(key: str) -> bool:
    """Kubernetes label keys: an optional DNS prefix of at most 253 characters and a name of at
    most 63 (apimachinery's IsQualifiedName)."""
    prefix, _, name = key.rpartition("/")
    return bool(LABEL_NAME.match(key)) and len(name) <= 63 and len(prefix) <= 253


def label_value_fits(value: str) -> bool:
    """Kubernetes label values: at most 63 characters of ``[A-Za-z0-9_.-]``, alphanumeric ends."""
    return bool(LABEL_VALUE.match(value)) and len(value) <= 63


def _node_label(value: str) -> str:
    key, sep, label_value = value.partition("=")
    if not sep or not label_key_fits(key) or not label_value_fits(label_value):
        raise fail(
            "is not a node label",
            "KEY=VALUE with a valid Kubernetes label key (name at most 63 characters) and value "
            "(at most 63), e.g. nodegroup-role=gpu-worker",
            "write the label as KEY=VALUE",
        )
    return value


def _taint(value: str) -> str:
    match = re.match(r"^(?P<key>[^=:]+)(=(?P<value>[^:]*))?:(?P<effect>.+)$", value)
    if (
        not match
        or not label_key_fits(match["key"])
        or not label_value_fits(match["value"] or "")
        or match["effect"] not in TAINT_EFFECTS
    ):
        raise fail(
            "is not a node taint",
            f"KEY=VALUE:EFFECT with EFFECT one of {', '.join(TAINT_EFFECTS)}, "
            "e.g. nvidia.com/gpu=present:NoSchedule",
            "write the taint as KEY=VALUE:EFFECT",
        )
    return value


def _pinned_image(value: str) -> str:
    match = IMAGE.match(value)
    if not match:
        raise fail(
            "is not a container image reference",
            "REGISTRY/REPOSITORY:TAG or ...@sha256:DIGEST",
            "copy the reference from the image's registry page",
        )
    if not match["digest"] and match["tag"] in (None, "latest"):
        raise fail(
            "is not pinned",
            "an explicit version tag (not 'latest') or a sha256 digest",
            f"pin it, e.g. {match['repo']}:<version>",
        )
    return value


def _kubernetes_version(value: str) -> str:
    if value not in SUPPORTED_KUBERNETES_VERSIONS:
        raise fail(
            "is not a supported Kubernetes version",
            ", ".join(SUPPORTED_KUBERNETES_VERSIONS),
            "set the MAJOR.MINOR version your cluster runs",
        )
    return value


def _registry(value: str) -> str:
    if value and not _REGISTRY.match(value):
        raise fail(
            "is not an image registry prefix",
            "HOST[:PORT][/PATH] without scheme or tag, e.g. localhost:5001/pdk or docker.io/acme",
            "drop any 'https://' and trailing '/'",
        )
    return value


def _host(value: str) -> str:
    if value and not _HOST.match(value):
        raise fail(
            "is not a host name or IP address",
            "a DNS name or an IPv4 address, e.g. nfs.example.internal or 10.0.0.5",
            "give the address only, without scheme or path",
        )
    return value


def _absolute_path(value: str) -> str:
    if not value.startswith("/"):
        raise fail("is not an absolute path", "a path starting with '/'", "write the full path")
    return value


def _chart_version(value: str) -> str:
    if not _CHART_VERSION.match(value):
        raise fail(
            "is not a version",
            "an exact semantic version such as 1.17.2 or v1.17.2 (no ranges, no 'latest')",
            "copy the version from the chart's or project's release page",
        )
    return value


def source_ranges(value: str) -> str:
    """Comma-separated CIDRs, normalised (no blanks); raises the ``pdk`` error otherwise."""
    ranges = [part.strip() for part in value.split(",")]
    for cidr in ranges:
        try:
            # A bare address parses as a /32 network; the API server and the load balancers
            # reject it at deploy time, so demand the prefix here.
            if "/" not in cidr:
                raise ValueError(cidr)
            ipaddress.ip_network(cidr, strict=True)
        except ValueError:
            raise fail(
                f"contains {cidr!r}, which is not a network in CIDR notation",
                "comma-separated CIDRs with host bits zero, e.g. 10.0.0.0/8,203.0.113.7/32",
                "write each range as ADDRESS/PREFIX",
            ) from None
    return ",".join(ranges)


def _domain(value: str) -> str:
    if (
        not _DOMAIN.match(value)
        or len(value) > 253
        or any(len(label) > 63 for label in value.split("."))
    ):
        raise fail(
            "is not a DNS domain",
            "lowercase DNS labels of at most 63 characters joined by dots, at most 253 in all, "
            "e.g. example.com or models.pdk.internal",
            "give the domain only, without scheme or port",
        )
    return value


def _slot_count(value: int) -> int:
    if not 1 <= value <= 16:
        raise fail(
            "is not a GPU count per pod",
            "1 to 16, at most the GPUs of one GPU node",
            "set it to the GPU count of your GPU nodes",
        )
    return value


def _node_count(value: int) -> int:
    if not 0 <= value <= 100:
        raise fail("is not a node count", "0 to 100", "set a count between 0 and 100")
    return value


def _disk_size(value: int) -> int:
    if not 20 <= value <= 16384:
        raise fail("is not a disk size in GiB", "20 to 16384", "set the size in GiB")
    return value


def split_list(value: str) -> list[str]:
    """A comma-separated config value as its non-empty, stripped items."""
    return [part.strip() for part in value.split(",") if part.strip()]


def split_label(value: str) -> tuple[str, str]:
    """``KEY=VALUE`` (already validated) as a pair."""
    key, _, label_value = value.partition("=")
    return key, label_value


def split_taint(value: str) -> tuple[str, str, str]:
    """``KEY=VALUE:EFFECT`` (already validated) as a triple."""
    head, _, effect = value.rpartition(":")
    key, _, taint_value = head.partition("=")
    return key, taint_value, effect


Quantity = Annotated[str, AfterValidator(_quantity)]
DnsLabel = Annotated[str, AfterValidator(_dns_label)]
NodeLabel = Annotated[str, AfterValidator(_node_label)]
Taint = Annotated[str, AfterValidator(_taint)]
PinnedImage = Annotated[str, AfterValidator(_pinned_image)]
KubernetesVersion = Annotated[str, AfterValidator(_kubernetes_version)]
RegistryPrefix = Annotated[str, AfterValidator(_registry)]
Host = Annotated[str, AfterValidator(_host)]
AbsolutePath = Annotated[str, AfterValidator(_absolute_path)]
ChartVersion = Annotated[str, AfterValidator(_chart_version)]
SourceRanges = Annotated[str, AfterValidator(source_ranges)]
Domain = Annotated[str, AfterValidator(_domain)]
ServiceType = Literal["LoadBalancer", "NodePort"]
SlotCount = Annotated[int, AfterValidator(_slot_count)]
NodeCount = Annotated[int, AfterValidator(_node_count)]
DiskSize = Annotated[int, AfterValidator(_disk_size)]
