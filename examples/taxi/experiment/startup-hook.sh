#!/bin/sh
# MLDE runs this in the task container before train.py: the trial downloads its data from MLDM
# with pachyderm-sdk and reads Parquet with pyarrow, which MLDE's task images do not include.
# pachyderm-sdk is pyproject.toml's pin; pyarrow is the newest release that still supports the
# task image's Python 3.10 (26.x needs 3.11; tests/test_task_images.py checks both).
set -e
pip install --quiet --no-cache-dir pachyderm-sdk==2.12.2 pyarrow==25.0.1
