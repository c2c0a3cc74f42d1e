"""Compatibility layers that let code written for other vector libraries run on vecindex.

``from vecindex.compat import hnswlib`` gives a drop-in replacement for hnswlib's Python
API (``hnswlib.Index`` and ``hnswlib.BFIndex``).
"""
from vecindex.compat import hnswlib

__all__ = ["hnswlib"]
