"""Which of a season's sample positions a map can draw, and in the order Leaflet expects."""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo_data.crs import in_china_box


def mappable(frame: pd.DataFrame) -> pd.Series:
    """Samples whose stored position can be drawn on a map of China (not swapped, not abroad, not 0,0); the
    others stay in every table and count, flagged by the origin check."""
    if not len(frame):
        return pd.Series([], dtype=bool)
    return pd.Series(
        in_china_box(frame["lon"].to_numpy(dtype=float), frame["lat"].to_numpy(dtype=float)),
        index=frame.index,
    )


def sample_positions(frame: pd.DataFrame) -> np.ndarray:
    """An (n, 2) array of [lat, lon] rows, the order Leaflet expects."""
    return frame[["lat", "lon"]].to_numpy(dtype=float)
