"""vecindex: a fast HNSW vector index with filtering and compression."""
from vecindex._core import FormatError, simd_info
from vecindex.filters import AllowList, F

__all__ = ["AllowList", "F", "FormatError", "simd_info"]
__version__ = "0.1.0"
