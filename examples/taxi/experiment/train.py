"""The experiment's entrypoint (``entrypoint: python3 train.py``): Determined's Trainer API
around ``TaxiTrial``, the same for every example (``pdk_assets.trial``)."""

from model_def import TaxiTrial

from pdk_assets.trial import run

if __name__ == "__main__":
    run(TaxiTrial)
