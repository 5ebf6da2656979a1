"""Turns image files into KServe v1 request files for the dog-cat model.

    python examples/dog-cat/make_requests.py IMAGE [IMAGE ...] --out requests/

Each ``IMAGE`` becomes ``requests/<name>.json`` holding ``{"instances":[{"data":"<base64>"}]}``;
send one with
``curl -H "Host: dog-cat.models.example.com" -d @requests/dog.1.json
http://<ingress>/v1/models/dogs-and-cats:predict`` (answer ``{"predictions":[0]}`` for a dog).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from pdk_assets.envelope import write_request_files


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("images", nargs="+", type=Path, help="JPEG or PNG files")
    parser.add_argument("--out", type=Path, default=Path("requests"), help="output folder")
    arguments = parser.parse_args(argv)
    missing = [str(image) for image in arguments.images if not image.is_file()]
    if missing:
        parser.error(f"no such file(s): {', '.join(missing)}")
    for path in write_request_files(arguments.images, arguments.out):
        print(path)


if __name__ == "__main__":
    main()
