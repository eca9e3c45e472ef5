"""Child process: write the benchmark symbols (kept out of the runner so its memory stays small)."""

import json
import sys


def main() -> None:
    import numpy as np
    import pandas as pd
    from arcticdb import Arctic

    uri, kind, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
    lib = Arctic(uri).get_library("bench", create_if_missing=True)
    end = pd.Timestamp.now().floor("min")
    if kind == "rows":  # one symbol with `size` rows and a few float columns
        index = pd.date_range(end=end, periods=size, freq="s")
        data = np.random.default_rng(0).normal(size=(size, 3))
        lib.write(f"rows_{size}", pd.DataFrame(data, index=index, columns=["a", "b", "c"]))
    else:  # `size` small symbols
        index = pd.date_range(end=end, periods=10, freq="h")
        frame = pd.DataFrame({"close": np.arange(10.0)}, index=index)
        from arcticdb import WritePayload

        lib.write_batch([WritePayload(f"sym_{i:05d}", frame) for i in range(size)])
    print(json.dumps({"written": size}))


main()
