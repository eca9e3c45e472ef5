"""`python -m predictor.cli smoke|train`."""

import sys

from predictor.train import main

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in ("smoke", "train"):
        print("usage: python -m predictor.cli smoke|train", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
