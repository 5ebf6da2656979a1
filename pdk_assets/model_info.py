"""``model-info.yaml``: what the train container hands the deploy container through MLDM."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError


class ModelInfoError(ValueError):
    """A missing or malformed ``model-info.yaml``; the message names the file."""


class ModelInfo(BaseModel):
    """One registered model version, ready to deploy."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    """MLDE registry model name, e.g. ``dogs-and-cats``."""
    version: int = Field(ge=1)
    """Registry version number."""
    checkpoint: str = Field(min_length=1)
    """UUID of the registered checkpoint."""
    pipeline: str = Field(min_length=1)
    """MLDM pipeline that trained it."""
    repo: str = Field(min_length=1)
    """MLDM data repo it was trained on."""
    job_id: str = Field(min_length=1)
    """MLDM job (and data commit) id; also the model version's name."""
    experiment_id: int = Field(ge=0)
    """MLDE experiment that trained it (0 in the local dry run)."""
    example: str = Field(min_length=1)
    """Example (folder under ``examples/``) it belongs to."""


def write_model_info(info: ModelInfo, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(info.model_dump(), sort_keys=False))
    return path


def read_model_info(path: Path) -> ModelInfo:
    """Reads ``path``; raises ``ModelInfoError`` naming it when missing or malformed."""
    if not path.is_file():
        raise ModelInfoError(
            f"{path}: no model-info.yaml; the deploy step runs on the train pipeline's output, "
            "which has one only when training registered a model"
        )
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise ModelInfoError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(raw, dict):
        raise ModelInfoError(f"{path}: expected a mapping, got {type(raw).__name__}")
    try:
        return ModelInfo.model_validate(raw)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in item['loc'])}: {item['msg']}" for item in error.errors()
        )
        raise ModelInfoError(f"{path}: malformed model-info.yaml: {problems}") from None
