"""Feature engineering shared by training and serving."""

import pandas as pd


def build_features(frame: pd.DataFrame) -> pd.DataFrame:
    """Returns and a short rolling mean of the close price."""
    out = pd.DataFrame(index=frame.index)
    out["ret"] = frame["close"].pct_change().fillna(0.0)
    out["ma3"] = frame["close"].rolling(3, min_periods=1).mean()
    return out
