"""One adapter per library, all with the same interface, so the runner treats them alike.

    adapter = ADAPTERS[name](metric, dim)
    adapter.build(data, M, ef_construction, threads)
    ids = adapter.search(queries, k, ef, threads)      # (q, k) int64, -1 where nothing was found
    adapter.index_bytes()                              # size of the serialized index

Every library gets the same M and ef_construction and its own batch search API. The peers store
float32; "vecindex" is built exactly as a user would (`Index(dim, metric, M, ef_construction)`,
no dtype: the default, an sq8 walk reranked on kept float32 vectors, exact distances), and
"vecindex-f32" is the same with dtype="f32" (the default before issue 15), "vecindex-sq4" the same
walk on 4-bit codes (dtype="sq4", rerank=True, exact distances), and "vecindex-qg" the quantized
graph (graph_codes="rabitq": f32 vectors, neighbours' 1-bit codes beside the level-0 links, exact
distances).
Thread counts are set through each library's own control, because a library left at its default
would use every core and make the single-threaded comparison meaningless.
"""
from __future__ import annotations

import importlib
import os
import tempfile
from importlib import metadata

import numpy as np

from bench.groundtruth import normalized


def _serialized_size(save) -> int:
    """Size in bytes of what `save(path)` writes, via a temp dir removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="vecindex-bench-") as directory:
        path = os.path.join(directory, "index.bin")
        save(path)
        return os.path.getsize(path)


def _version(distribution: str, module_name: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        module = importlib.import_module(module_name)
        return str(getattr(module, "__version__", "unknown"))


class Adapter:
    name = ""
    module = ""          # import name
    distribution = ""    # pip name, for the version

    def __init__(self, metric: str, dim: int):
        self.metric, self.dim = metric, dim
        self.config: dict = {}  # library-specific settings, recorded in the JSON

    @classmethod
    def unavailable_reason(cls) -> str | None:
        """None if the library can be benchmarked, else a short reason to print and record."""
        try:
            importlib.import_module(cls.module)
        except ImportError as error:
            return f"not installed ({error})"
        return None

    @classmethod
    def version(cls) -> str:
        return _version(cls.distribution, cls.module)

    def build(self, data: np.ndarray, M: int, ef_construction: int, threads: int) -> None:
        raise NotImplementedError

    def search(self, queries: np.ndarray, k: int, ef: int, threads: int) -> np.ndarray:
        raise NotImplementedError

    def index_bytes(self) -> int:
        raise NotImplementedError


class VecindexAdapter(Adapter):
    name, module, distribution = "vecindex", "vecindex", "vecindex"

    @classmethod
    def unavailable_reason(cls) -> str | None:
        reason = super().unavailable_reason()
        if reason is None and not hasattr(importlib.import_module("vecindex"), "Index"):
            return "installed vecindex has no Index class yet (core not merged)"
        return reason

    options: dict = {}  # Index() keywords beyond dim, metric, M, ef_construction: none, as a user would

    def build(self, data, M, ef_construction, threads):
        import vecindex
        self.index = vecindex.Index(dim=self.dim, metric=self.metric, M=M,
                                    ef_construction=ef_construction, **self.options)
        self.index.add(data, threads=threads)
        self.config = {"simd": vecindex.simd_info().get("level"), "dtype": self.index.dtype, **self.options}
        if hasattr(self.index, "memory_usage"):  # in-RAM bytes by part, beside the file size
            self.config["memory_usage"] = self.index.memory_usage()

    def search(self, queries, k, ef, threads):
        ids, _ = self.index.search(queries, k=k, ef=ef, threads=threads)
        return np.asarray(ids, dtype=np.int64)

    def index_bytes(self):
        return _serialized_size(self.index.save)


class VecindexF32Adapter(VecindexAdapter):
    name = "vecindex-f32"
    options = {"dtype": "f32"}


class VecindexSq4Adapter(VecindexAdapter):
    name = "vecindex-sq4"
    options = {"dtype": "sq4", "rerank": True}


class VecindexQuantizedGraphAdapter(VecindexAdapter):
    name = "vecindex-qg"
    options = {"graph_codes": "rabitq"}


class HnswlibAdapter(Adapter):
    name, module, distribution = "hnswlib", "hnswlib", "hnswlib"
    SPACES = {"l2": "l2", "ip": "ip", "cosine": "cosine"}  # hnswlib normalizes for cosine itself
    seed = 100  # hnswlib's own default level seed

    def build(self, data, M, ef_construction, threads):
        import hnswlib
        self.index = hnswlib.Index(space=self.SPACES[self.metric], dim=self.dim)
        self.index.init_index(max_elements=data.shape[0], ef_construction=ef_construction, M=M,
                              random_seed=self.seed)
        self.index.set_num_threads(threads)
        self.index.add_items(data, np.arange(data.shape[0]), num_threads=threads)

    def search(self, queries, k, ef, threads):
        self.index.set_ef(ef)
        self.index.set_num_threads(threads)
        labels, _ = self.index.knn_query(queries, k=k, num_threads=threads)
        return labels.astype(np.int64)

    def index_bytes(self):
        return _serialized_size(self.index.save_index)


class FaissAdapter(Adapter):
    name, module, distribution = "faiss", "faiss", "faiss-cpu"

    def _prepare(self, vectors):
        # faiss has no cosine metric: cosine is inner product on unit vectors.
        return normalized(vectors) if self.metric == "cosine" else np.ascontiguousarray(vectors)

    def build(self, data, M, ef_construction, threads):
        import faiss
        metric = faiss.METRIC_L2 if self.metric == "l2" else faiss.METRIC_INNER_PRODUCT
        self.index = faiss.IndexHNSWFlat(self.dim, M, metric)
        self.index.hnsw.efConstruction = ef_construction
        faiss.omp_set_num_threads(threads)
        self.index.add(self._prepare(data))
        self.config = {"metric": "l2" if self.metric == "l2" else "inner_product",
                       "normalized_inputs": self.metric == "cosine"}

    def search(self, queries, k, ef, threads):
        import faiss
        faiss.omp_set_num_threads(threads)
        self.index.hnsw.efSearch = ef
        _, labels = self.index.search(self._prepare(queries), k)
        return labels.astype(np.int64)

    def index_bytes(self):
        import faiss
        return _serialized_size(lambda path: faiss.write_index(self.index, path))


class UsearchAdapter(Adapter):
    name, module, distribution = "usearch", "usearch", "usearch"
    METRICS = {"l2": "l2sq", "ip": "ip", "cosine": "cos"}

    @classmethod
    def unavailable_reason(cls):
        try:
            importlib.import_module("usearch.index")
        except ImportError as error:
            return f"not installed ({error})"
        return None

    def build(self, data, M, ef_construction, threads):
        from usearch.index import Index
        # dtype pinned to f32: left as None, usearch may pick f16 storage, which is not like for like.
        self.index = Index(ndim=self.dim, metric=self.METRICS[self.metric], dtype="f32",
                           connectivity=M, expansion_add=ef_construction)
        self.index.add(np.arange(data.shape[0], dtype=np.uint64), data, threads=threads)
        self.config = {"dtype": str(self.index.dtype), "metric": self.METRICS[self.metric],
                       "memory_usage": int(self.index.memory_usage)}

    def search(self, queries, k, ef, threads):
        self.index.expansion_search = ef
        matches = self.index.search(queries, k, threads=threads)
        ids = matches.keys.astype(np.int64)
        missing = np.arange(k)[None, :] >= np.asarray(matches.counts)[:, None]
        ids[missing] = -1
        return ids

    def index_bytes(self):
        return _serialized_size(self.index.save)


ADAPTERS = {adapter.name: adapter for adapter in
            (VecindexAdapter, VecindexF32Adapter, VecindexSq4Adapter, VecindexQuantizedGraphAdapter, HnswlibAdapter,
             FaissAdapter, UsearchAdapter)}
