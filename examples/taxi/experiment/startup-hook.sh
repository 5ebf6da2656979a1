#!/bin/sh
# MLDE runs this in the task container before train.py: the trial downloads its data from MLDM
# with pachyderm-sdk and reads Parquet with pyarrow, which MLDE's task images do not include.
# Same pins as pyproject.toml.
set -e
pip install --quiet --no-cache-dir pachyderm-sdk==2.12.2 pyarrow==26.0.1
