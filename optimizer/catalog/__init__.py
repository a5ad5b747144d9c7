"""The accelerator catalog: typed records, the embedded data and user overrides."""

from optimizer.catalog.loader import Catalog, load_catalog, normalise_alias
from optimizer.catalog.schema import (
    BIT_LENGTH,
    PRECISIONS,
    Accelerator,
    DensePeaks,
    Figure,
    NetworkOption,
    NodeType,
    Precision,
    PriceRange,
    SystemType,
)

__all__ = [
    "BIT_LENGTH",
    "PRECISIONS",
    "Accelerator",
    "Catalog",
    "DensePeaks",
    "Figure",
    "NetworkOption",
    "NodeType",
    "Precision",
    "PriceRange",
    "SystemType",
    "load_catalog",
    "normalise_alias",
]
