"""Which files of a data commit are training images, and their labels.

The labelling rule, in order:

1. The file name's leading token, up to the first ``.``, ``_`` or ``-``, compared
   case-insensitively with the example's class names, which must match exactly: ``dog.123.jpg``,
   ``Cat_7.png`` and ``dog-a.jpeg`` are labelled; ``hotdog.1.jpg`` and ``doggy.jpg`` are not.
2. Otherwise the nearest enclosing folder named after a class, singular or plural
   (``dogs/1.jpg``, ``train/Cat/2.png``, ``boxes/3.jpg`` for class ``box``): the class-folder
   layout many public image datasets use.

So a file's own name wins over its folders (``dogs/cat.1.jpg`` is a cat). The guides labelled a
file "dog" when "dog" appeared anywhere in its path, so a folder named ``dogs`` made every cat a
dog.

A file is skipped, counted by reason and never fatal, when it or any folder above it is hidden
(``.DS_Store``, ``.ipynb_checkpoints/dog.12-checkpoint.jpg``, ``.git/``), when neither rule
labels it, or when Pillow cannot decode it (text files, truncated JPEGs, decompression bombs).

The train container checks names only (MLDM mounts the commit with empty files) and the trial
decodes; both call ``scan`` with the same rule, so they agree on everything but decoding, and
both refuse a commit with fewer than ``MIN_PER_CLASS`` usable images of some class.

This module needs only the standard library and Pillow: it is uploaded with the experiment code
to MLDE, where the trial uses it to build its dataset.
"""

from __future__ import annotations

import re
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

_TOKEN = re.compile(r"^([^._-]+)")

SKIP_HIDDEN = "hidden file"
SKIP_NO_LABEL = "name matches no class"
SKIP_UNREADABLE = "not a readable image"

MIN_PER_CLASS = 2
"""Usable images each class needs: one to train on and one to validate with (with one image of
a class, Determined fails with "validation_loader is empty")."""
MAX_PIXELS = 64_000_000
"""Largest image (width x height) decoded, in training and serving: 8000x8000. Pillow's own
bomb check only warns up to 179 megapixels, which is 0.5 GiB of RGB per image."""


def is_hidden(relative: str | PurePosixPath) -> bool:
    """Whether a path (relative to the commit root) is or lies inside a hidden file/folder."""
    return any(part.startswith(".") for part in PurePosixPath(relative).parts)


def _class_of(token: str, classes: Sequence[str], *, plural: bool) -> int | None:
    token = token.lower()
    for index, label in enumerate(classes):
        name = label.lower()
        if token == name or (plural and token in (f"{name}s", f"{name}es")):
            return index
    return None


def label_for(name: str, classes: Sequence[str]) -> int | None:
    """The class index of the file at relative path ``name`` by the rule above, or None."""
    path = PurePosixPath(name)
    if is_hidden(path):
        return None
    match = _TOKEN.match(path.name)
    if match is not None:
        label = _class_of(match.group(1), classes, plural=False)
        if label is not None:
            return label
    for folder in reversed(path.parent.parts):
        label = _class_of(folder, classes, plural=True)
        if label is not None:
            return label
    return None


def is_readable_image(path: Path) -> bool:
    """Whether Pillow can fully decode ``path`` (``verify`` misses truncated data, so load),
    refusing images over ``MAX_PIXELS`` from their header, before decoding them."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    return False
                image.load()
    except Exception:  # Pillow raises many types (OSError, SyntaxError, ValueError...) on bad data
        return False
    return True


class NotEnoughData(ValueError):
    """Too few usable images of some class; the message says how many are needed."""


@dataclass
class Scan:
    """The labelled images of a folder and what was skipped."""

    items: list[tuple[Path, int]] = field(default_factory=list)
    """(image path, class index), sorted by path."""
    skipped: Counter[str] = field(default_factory=Counter)
    """Reason → number of files skipped for it."""

    def per_class(self, classes: Sequence[str]) -> dict[str, int]:
        counts = Counter(label for _, label in self.items)
        return {name: counts[index] for index, name in enumerate(classes)}

    def summary(self, classes: Sequence[str]) -> str:
        counts = ", ".join(f"{n} {name}" for name, n in self.per_class(classes).items())
        text = f"{len(self.items)} images ({counts})"
        if self.skipped:
            reasons = ", ".join(f"{n} {reason}" for reason, n in sorted(self.skipped.items()))
            text += f"; skipped {sum(self.skipped.values())} ({reasons})"
        return text

    def shortfall(self, classes: Sequence[str], minimum: int = MIN_PER_CLASS) -> str | None:
        """Why this scan is too small to train on, or None when every class has ``minimum``."""
        short = {name: n for name, n in self.per_class(classes).items() if n < minimum}
        if not short:
            return None
        found = ", ".join(f"{n} {name}" for name, n in short.items())
        return (
            f"needs at least {minimum} usable images of every class (one to train, one to "
            f"validate), found {found} ({self.summary(classes)})"
        )


def scan(
    root: Path, classes: Sequence[str], *, only: set[str] | None = None, decode: bool = True
) -> Scan:
    """Labels every file under ``root`` by the rule above. ``only``: relative paths to keep
    (incremental training); ``decode=False`` checks names only (for empty-file mounts)."""
    result = Scan()
    for path in sorted(p for p in Path(root).rglob("*") if p.is_file()):
        relative = path.relative_to(root).as_posix()
        if only is not None and relative not in only:
            continue
        if is_hidden(relative):
            result.skipped[SKIP_HIDDEN] += 1
            continue
        label = label_for(relative, classes)
        if label is None:
            result.skipped[SKIP_NO_LABEL] += 1
        elif decode and not is_readable_image(path):
            result.skipped[SKIP_UNREADABLE] += 1
        else:
            result.items.append((path, label))
    return result
