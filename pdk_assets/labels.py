"""Which files of a data commit are training images, and their labels.

The labelling rule: a file's label is the leading token of its *file name*, up to the first
``.``, ``_`` or ``-``, compared case-insensitively with the example's class names, which must
match exactly. ``dog.123.jpg``, ``Cat_7.png`` and ``dog-a.jpeg`` are labelled; ``hotdog.1.jpg``,
``dogs/cat.1.jpg``'s folder and ``doggy.jpg`` cannot mislead it. (The guides labelled a file
"dog" when "dog" appeared anywhere in its path, so a folder named ``dogs`` made every cat a dog.)

A file is skipped, counted by reason and never fatal, when its name starts with ``.``
(``.DS_Store``, editor files), its name matches no class, or Pillow cannot decode it (text
files, truncated JPEGs).

This module needs only the standard library and Pillow: it is uploaded with the experiment code
to MLDE, where the trial uses it to build its dataset.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

_TOKEN = re.compile(r"^([^._-]+)")

SKIP_HIDDEN = "hidden file"
SKIP_NO_LABEL = "name matches no class"
SKIP_UNREADABLE = "not a readable image"


def label_for(name: str, classes: Sequence[str]) -> int | None:
    """The class index of file name ``name`` (a path's folders are ignored), or None."""
    base = Path(name).name
    match = _TOKEN.match(base)
    if base.startswith(".") or match is None:
        return None
    token = match.group(1).lower()
    for index, label in enumerate(classes):
        if token == label.lower():
            return index
    return None


def is_readable_image(path: Path) -> bool:
    """Whether Pillow can fully decode ``path`` (``verify`` misses truncated data, so load)."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            image.load()
    except Exception:  # Pillow raises many types (OSError, SyntaxError, ValueError...) on bad data
        return False
    return True


@dataclass
class Scan:
    """The labelled images of a folder and what was skipped."""

    items: list[tuple[Path, int]] = field(default_factory=list)
    """(image path, class index), sorted by path."""
    skipped: Counter[str] = field(default_factory=Counter)
    """Reason → number of files skipped for it."""

    def summary(self, classes: Sequence[str]) -> str:
        per_class = Counter(label for _, label in self.items)
        counts = ", ".join(f"{per_class[i]} {name}" for i, name in enumerate(classes))
        text = f"{len(self.items)} images ({counts})"
        if self.skipped:
            reasons = ", ".join(f"{n} {reason}" for reason, n in sorted(self.skipped.items()))
            text += f"; skipped {sum(self.skipped.values())} ({reasons})"
        return text


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
        if path.name.startswith("."):
            result.skipped[SKIP_HIDDEN] += 1
            continue
        label = label_for(path.name, classes)
        if label is None:
            result.skipped[SKIP_NO_LABEL] += 1
        elif decode and not is_readable_image(path):
            result.skipped[SKIP_UNREADABLE] += 1
        else:
            result.items.append((path, label))
    return result
