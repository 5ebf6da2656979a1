"""Tabular data commits: which files hold rows, and reading them with a column check.

A data commit of a ``data.kind: table`` example holds CSV (``.csv``, ``.csv.gz``) or Parquet
(``.parquet``) files, as public datasets publish them (NYC TLC trip records are Parquet since
2022, CSV before). Hidden files and folders (``.ipynb_checkpoints/``) and other files are
skipped and counted. ``read_columns`` reads the columns an example needs and refuses a file
without them, naming the file and the missing columns.

Standard library only, plus pyarrow for Parquet: this module is uploaded with the experiment
code to MLDE, where the trial reads its rows with it.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pdk_assets.labels import SKIP_HIDDEN, is_hidden

TABLE_SUFFIXES = (".csv", ".csv.gz", ".parquet")
SKIP_NOT_TABLE = "not a .csv, .csv.gz or .parquet file"


class SchemaError(ValueError):
    """A data file without the columns the example reads; the message names both."""


@dataclass
class TableFiles:
    files: list[Path] = field(default_factory=list)
    """Data files, sorted by path."""
    skipped: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        text = f"{len(self.files)} data files"
        if self.skipped:
            reasons = ", ".join(f"{n} {reason}" for reason, n in sorted(self.skipped.items()))
            text += f"; skipped {sum(self.skipped.values())} ({reasons})"
        return text


def is_table(name: str) -> bool:
    return name.lower().endswith(TABLE_SUFFIXES)


def table_files(root: Path, *, only: set[str] | None = None) -> TableFiles:
    """The data files under ``root`` (names only: works on MLDM's empty-file mounts)."""
    found = TableFiles()
    for path in sorted(p for p in Path(root).rglob("*") if p.is_file()):
        relative = path.relative_to(root).as_posix()
        if only is not None and relative not in only:
            continue
        if is_hidden(relative):
            found.skipped[SKIP_HIDDEN] += 1
        elif not is_table(path.name):
            found.skipped[SKIP_NOT_TABLE] += 1
        else:
            found.files.append(path)
    return found


def _missing(path: Path, present: Sequence[str], groups: Sequence[Sequence[str]]) -> None:
    """Raises unless ``present`` holds every column of some group in ``groups``."""
    have = set(present)
    if any(set(group) <= have for group in groups):
        return
    wanted = " or ".join("[" + ", ".join(group) + "]" for group in groups)
    missing = min((sorted(set(g) - have) for g in groups), key=len)
    raise SchemaError(
        f"{path.name}: lacks column(s) {', '.join(missing)}; files need the columns {wanted} "
        f"(found: {', '.join(present) or 'none'})"
    )


def read_columns(path: Path, groups: Sequence[Sequence[str]]) -> dict[str, list[Any]]:
    """Every column of ``path`` that appears in ``groups``, as lists of equal length; the file
    must hold all columns of at least one group. CSV values are strings (empty when missing),
    Parquet values their own types (None when missing)."""
    wanted = {column for group in groups for column in group}
    if path.name.lower().endswith(".parquet"):
        try:
            import pyarrow.parquet as parquet
        except ImportError as error:
            raise SchemaError(f"{path.name}: reading Parquet needs pyarrow ({error})") from None
        try:
            names = parquet.read_schema(path).names
        except Exception as error:  # pyarrow raises ArrowInvalid, OSError...
            raise SchemaError(f"{path.name}: not a readable Parquet file ({error})") from None
        _missing(path, names, groups)
        table = parquet.read_table(path, columns=[n for n in names if n in wanted])
        return {name: table.column(name).to_pylist() for name in table.column_names}
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rt", newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = [name.strip() for name in next(reader, [])]
            _missing(path, header, groups)
            keep = [(i, name) for i, name in enumerate(header) if name in wanted]
            columns: dict[str, list[Any]] = {name: [] for _, name in keep}
            for row in reader:
                for i, name in keep:
                    columns[name].append(row[i].strip() if i < len(row) else "")
            return columns
    except (OSError, UnicodeDecodeError, csv.Error, EOFError) as error:
        raise SchemaError(f"{path.name}: not a readable CSV file ({error})") from None


def csv_text(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A CSV document (header + rows); ``None`` becomes an empty field."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([["" if v is None else v for v in row] for row in rows])
    return buffer.getvalue()
