"""vecindex: a fast HNSW vector index with filtering and compression."""
from vecindex._core import FormatError, simd_info

__all__ = ["FormatError", "simd_info"]
__version__ = "0.1.0"
