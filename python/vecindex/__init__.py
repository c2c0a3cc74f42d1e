"""vecindex: a fast HNSW vector index with a native C++ core and a numpy-first API.

>>> import numpy as np, vecindex
>>> index = vecindex.Index(dim=4, metric="l2")
>>> ids = index.add(np.eye(4))
>>> index.search(np.eye(4)[0], k=1)[0]
array([0])
"""
import warnings as _warnings

from vecindex._core import Cancelled, FormatError, simd_info
from vecindex._core import _simd_override_problems
from vecindex.filters import AllowList, F
from vecindex.index import Index
from vecindex.multivector import MultiVectorIndex

# e.g. VECINDEX_SIMD=avx3 or VECINDEX_SIMD_CODEC=avx3: say so rather than ignore it silently.
for _problem in _simd_override_problems():
    _warnings.warn(_problem, RuntimeWarning, stacklevel=2)

__all__ = ["AllowList", "Cancelled", "F", "FormatError", "Index", "MultiVectorIndex", "simd_info"]
__version__ = "0.1.0"
