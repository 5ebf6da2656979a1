"""The labelling rule and the data scan: folder names cannot mislabel, junk files are skipped
and counted."""

from __future__ import annotations

from pathlib import Path

import pytest

from pdk_assets.labels import SKIP_HIDDEN, SKIP_NO_LABEL, SKIP_UNREADABLE, label_for, scan
from pdk_assets.synthetic import class_image, write_dataset

CLASSES = ["dog", "cat"]


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("dog.123.jpg", 0),
        ("cat.7.jpg", 1),
        ("Cat_7.PNG", 1),
        ("DOG-a.jpeg", 0),
        ("dogs/cat.1.jpg", 1),  # FIX: the guides labelled by "dog" anywhere in the path
        ("cats/dog.1.jpg", 0),
        ("hotdog.1.jpg", None),
        ("doggy.jpg", None),
        ("catalogue.jpg", None),
        ("dog", 0),
        (".dog.jpg", None),
        ("1.jpg", None),
    ],
)
def test_label_comes_from_the_file_names_leading_token(name: str, label: int | None) -> None:
    assert label_for(name, CLASSES) == label


def test_folder_names_do_not_mislabel(tmp_path: Path) -> None:
    (tmp_path / "dogs").mkdir()
    (tmp_path / "dogs" / "cat.1.jpg").write_bytes(class_image(1))
    (tmp_path / "cat-photos").mkdir()
    (tmp_path / "cat-photos" / "dog.1.jpg").write_bytes(class_image(0))
    found = scan(tmp_path, CLASSES)
    labels = {path.relative_to(tmp_path).as_posix(): label for path, label in found.items}
    assert labels == {"dogs/cat.1.jpg": 1, "cat-photos/dog.1.jpg": 0}


def test_junk_files_are_skipped_and_counted(tmp_path: Path) -> None:
    # FIX: .DS_Store and non-image files crashed the guides' pipeline.
    good = class_image(0)
    (tmp_path / "dog.1.jpg").write_bytes(good)
    (tmp_path / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (tmp_path / "dog.notes.txt").write_text("not an image")
    (tmp_path / "dog.2.jpg").write_bytes(good[: len(good) // 2])  # truncated JPEG
    (tmp_path / "readme.md").write_text("# data")
    found = scan(tmp_path, CLASSES)
    assert [path.name for path, _ in found.items] == ["dog.1.jpg"]
    assert found.skipped == {SKIP_HIDDEN: 1, SKIP_UNREADABLE: 2, SKIP_NO_LABEL: 1}
    assert "skipped 4" in found.summary(CLASSES)
    # Names only (MLDM mounts with empty files): the text file passes until decoded.
    assert len(scan(tmp_path, CLASSES, decode=False).items) == 3


def test_only_restricts_to_the_given_paths(tmp_path: Path) -> None:
    write_dataset(tmp_path, CLASSES, per_class=2)
    found = scan(tmp_path, CLASSES, only={"cats/dog.1.jpg"})
    assert [(p.relative_to(tmp_path).as_posix(), label) for p, label in found.items] == [
        ("cats/dog.1.jpg", 0)
    ]


def test_generated_dataset_hides_images_in_misleading_folders(tmp_path: Path) -> None:
    write_dataset(tmp_path, CLASSES, per_class=3)
    found = scan(tmp_path, CLASSES)
    assert sorted(label for _, label in found.items) == [0, 0, 0, 1, 1, 1]
    assert all(path.parent.name == "cats" for path, label in found.items if label == 0)
    assert found.skipped == {SKIP_HIDDEN: 1, SKIP_UNREADABLE: 1}
