#!/bin/sh
# MLDE runs this in the task container before train.py: the trial downloads its data from MLDM
# with pachyderm-sdk, which MLDE's task images do not include. Same pin as pyproject.toml.
set -e
pip install --quiet --no-cache-dir pachyderm-sdk==2.12.2
