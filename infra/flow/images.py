"""The flow's train and deploy images, built from this checkout and pushed by ``pulumi up``.

Each image's tag is a hash of its build inputs (``content_tag``), computed while the program
runs, before anything is built: a change to the training code changes the tag, the tag changes
the pipeline spec that names it, and ``pulumi up`` rebuilds the image and updates the pipeline
together. Unchanged code keeps the tag, so nothing is rebuilt or updated. Nothing is built
during a preview (``build_on_preview=False``) or under the test mocks.

The build context is the repository root, because the Dockerfiles copy ``pdk_assets/``, the
example folder and ``pyproject.toml`` besides ``images/<kind>/``. A ``.dockerignore`` that
admits only those (``BUILD_INPUTS``) keeps pulumi-docker-build's own context hash, and so its
rebuild decision, in step with the tag.
"""

from __future__ import annotations

import functools
import hashlib
import os
import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pulumi
import pulumi_docker_build as docker_build

from infra.plan.stackfiles import REPO_ROOT

ImageKind = Literal["train", "deploy"]
KINDS: tuple[ImageKind, ...] = ("train", "deploy")
REPOSITORIES: Mapping[ImageKind, str] = {"train": "train", "deploy": "deploy"}
"""Repository of each image under the registry prefix: ``<registry>/train:<tag>``. One
repository per kind (not per example), so a registry that needs repositories created up front
(ECR) needs exactly these two: ``infra.contract.FLOW_IMAGES``."""
EXAMPLE_BUILD_ARG = "EXAMPLE"
"""The Dockerfiles' ``ARG`` naming the example folder to copy."""
TAG_HASH_LENGTH = 16
"""Hex digits of the content hash in a tag (64 bits)."""
_IGNORED_DIRS = frozenset({"__pycache__"})
_IGNORED_SUFFIXES = frozenset({".pyc"})
_EXAMPLE_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def build_inputs(kind: ImageKind, example: str) -> list[str]:
    """Every path (relative to the context) the ``kind`` Dockerfile copies for ``example``."""
    return [f"images/{kind}", "pdk_assets", f"examples/{example}", "pyproject.toml"]


def dockerfile(kind: ImageKind) -> str:
    """The ``kind`` image's Dockerfile, relative to the context."""
    return f"images/{kind}/Dockerfile"


def _files(path: Path) -> Iterable[Path]:
    if path.is_file():
        yield path
        return
    for current, dirs, files in os.walk(path):
        dirs[:] = [name for name in dirs if name not in _IGNORED_DIRS]
        for name in files:
            if Path(name).suffix not in _IGNORED_SUFFIXES:
                yield Path(current) / name


def content_tag(root: Path, paths: Iterable[str], salt: Mapping[str, str] | None = None) -> str:
    """A hash of every file under ``paths`` (files or folders, relative to ``root``): each
    file's path relative to ``root`` and its bytes, in sorted path order, plus ``salt`` (build
    arguments, platforms). ``__pycache__`` folders and ``.pyc`` files are skipped.

    Pure: the same tree gives the same tag on any machine, whatever the files' times or modes.
    Raises ``FileNotFoundError`` naming the first path that does not exist.
    """
    files: dict[str, Path] = {}
    for relative in paths:
        path = root / relative
        if not path.exists():
            raise FileNotFoundError(f"build input {path} does not exist")
        for file in _files(path):
            files[file.relative_to(root).as_posix()] = file
    digest = hashlib.sha256()
    for key, value in sorted((salt or {}).items()):
        digest.update(f"salt\0{key}\0{value}\0".encode())
    for relative, file in sorted(files.items()):
        data = file.read_bytes()
        digest.update(f"file\0{relative}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()[:TAG_HASH_LENGTH]


@dataclass(frozen=True)
class RegistryAuth:
    """Credentials for pushing to a private registry (ECR, Artifact Registry)."""

    username: pulumi.Input[str]
    """User name, e.g. ``AWS`` for ECR, ``oauth2accesstoken`` for Artifact Registry."""
    password: pulumi.Input[str]
    """Password or token (a Pulumi secret), e.g. an ECR authorization token."""
    address: pulumi.Input[str] | None = None
    """Registry host; default the host part of ``FlowImagesArgs.registry``."""


@dataclass(frozen=True)
class FlowImagesArgs:
    example: str
    """Example folder under ``examples/`` baked into both images (build arg ``EXAMPLE``)."""
    registry: pulumi.Input[str]
    """Registry prefix ``HOST[:PORT]/PATH`` (``TargetContract.registry.url``); must not be
    empty: the images are pushed there and the cluster pulls them from there."""
    auth: RegistryAuth | None = None
    """Push credentials; default none (the build host's Docker credentials are used)."""
    root: Path = REPO_ROOT
    """Build context: the repository root. Tests point it at a temporary tree."""
    platforms: Sequence[str] = ("linux/amd64",)
    """Target platforms; default ``linux/amd64``, what the cluster's nodes run."""
    repositories: Mapping[ImageKind, str] = field(default_factory=lambda: dict(REPOSITORIES))
    """Repository of each image under ``registry``; default ``REPOSITORIES``."""

    def __post_init__(self) -> None:
        problems = []
        if not _EXAMPLE_NAME.match(self.example):
            problems.append(
                f"example: {self.example!r} is not an example folder name (lowercase letters, "
                "digits and '-')"
            )
        elif not (self.root / "examples" / self.example).is_dir():
            problems.append(
                f"example: {self.root / 'examples' / self.example} does not exist; pick a "
                "folder under examples/"
            )
        for kind in KINDS:
            if not (self.root / dockerfile(kind)).is_file():
                problems.append(f"{kind} image: {self.root / dockerfile(kind)} does not exist")
        if isinstance(self.registry, str) and not self.registry.strip("/"):
            problems.append(
                "registry: empty; the flow's images need a registry the cluster can pull from "
                "(set the target's registry)"
            )
        allowed = {platform.value for platform in docker_build.Platform}
        problems += [
            f"platforms: {platform!r} is not one of Docker's platforms, e.g. linux/amd64"
            for platform in self.platforms
            if platform not in allowed
        ]
        if problems:
            raise ValueError("flow images: " + "; ".join(problems))


def _context_location(root: Path) -> str:
    """The context as Pulumi sees it: relative to the project's folder (where ``pulumi up``
    runs the program, and where docker-build resolves a relative path) when inside it, so
    plans depend neither on where the checkout lives nor on the folder `pdk` runs from."""
    root, project = root.resolve(), REPO_ROOT.resolve()
    return root.relative_to(project).as_posix() if root.is_relative_to(project) else str(root)


def _image_ref(registry: str, repository: str, tag: str) -> str:
    return f"{registry.rstrip('/')}/{repository}:{tag}"


def _registry_host(registry: str) -> str:
    return registry.split("/", 1)[0]


class FlowImages(pulumi.ComponentResource):
    """The train and deploy images of one example, tagged by content and pushed.

    Pipelines should run ``train_image``/``deploy_image``: the pushed digest reference
    (``<registry>/<repo>:<tag>@sha256:...``) once built, so a pipeline runs exactly the bytes
    built from this checkout. Under the mocks, which build nothing, it is the tag reference.
    """

    train: docker_build.Image
    deploy: docker_build.Image
    train_tag: str
    """Content tag of the train image, e.g. ``dog-cat-0123456789abcdef``; known at plan time."""
    deploy_tag: str
    train_image: pulumi.Output[str]
    deploy_image: pulumi.Output[str]

    def __init__(self, name: str, args: FlowImagesArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("pdk:flow:FlowImages", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        location = _context_location(args.root)
        registries = None
        if args.auth is not None:
            auth = args.auth
            address = (
                auth.address
                if auth.address is not None
                else pulumi.Output.from_input(args.registry).apply(_registry_host)
            )
            registries = [
                docker_build.RegistryArgs(
                    address=address,
                    username=auth.username,
                    password=pulumi.Output.secret(auth.password),
                )
            ]

        tags: dict[ImageKind, str] = {}
        images: dict[ImageKind, docker_build.Image] = {}
        refs: dict[ImageKind, pulumi.Output[str]] = {}
        for kind in KINDS:
            build_args = {EXAMPLE_BUILD_ARG: args.example}
            digest = content_tag(
                args.root,
                build_inputs(kind, args.example),
                salt={**build_args, "platforms": ",".join(sorted(args.platforms))},
            )
            tags[kind] = f"{args.example}-{digest}"
            repository = args.repositories[kind]
            tag_ref = pulumi.Output.from_input(args.registry).apply(
                functools.partial(_image_ref, repository=repository, tag=tags[kind])
            )
            image = docker_build.Image(
                f"{name}-{kind}",
                push=True,
                build_on_preview=False,
                context=docker_build.BuildContextArgs(location=location),
                dockerfile=docker_build.DockerfileArgs(
                    location=posixpath.normpath(posixpath.join(location, dockerfile(kind)))
                ),
                build_args=build_args,
                platforms=[docker_build.Platform(platform) for platform in args.platforms],
                tags=[tag_ref],
                labels={"org.opencontainers.image.version": tags[kind]},
                registries=registries,
                opts=child,
            )
            images[kind] = image
            # ``ref`` is empty until the image is pushed (and under the mocks): fall back to the
            # tag, which names the same content.
            refs[kind] = pulumi.Output.all(image.ref, tag_ref).apply(
                lambda values: str(values[0] or values[1])
            )

        self.train, self.deploy = images["train"], images["deploy"]
        self.train_tag, self.deploy_tag = tags["train"], tags["deploy"]
        self.train_image, self.deploy_image = refs["train"], refs["deploy"]
        self.register_outputs(
            {
                "train_tag": self.train_tag,
                "deploy_tag": self.deploy_tag,
                "train_image": self.train_image,
                "deploy_image": self.deploy_image,
            }
        )
