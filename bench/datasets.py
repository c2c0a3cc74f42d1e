"""Benchmark datasets: ann-benchmarks HDF5, .npy pairs, .fvecs/.ivecs, and synthetic clustered data.

Every loader returns a `Dataset` whose ground truth is filled in, either from the file or by brute
force (cached, see groundtruth.py). Distances everywhere follow the ann-benchmarks conventions, so
that ground truth read from a file and ground truth we compute agree:
  cosine -> 1 - cos(q, x);  l2 -> Euclidean distance (not squared);  ip -> -dot(q, x).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench import groundtruth

# ann-benchmarks writes the metric as the `distance` attribute of the HDF5 file.
HDF5_METRICS = {"angular": "cosine", "cosine": "cosine", "euclidean": "l2", "l2": "l2",
                "dot": "ip", "ip": "ip", "inner_product": "ip"}
METRICS = ("l2", "ip", "cosine")


@dataclass
class Dataset:
    name: str
    train: np.ndarray            # (n, dim) float32, C-contiguous
    test: np.ndarray             # (q, dim) float32, C-contiguous
    metric: str                  # l2 | ip | cosine
    gt_ids: np.ndarray | None = None        # (q, K) int64, nearest first
    gt_distances: np.ndarray | None = None  # (q, K) float32, matching gt_ids
    source: str = ""
    notes: dict = field(default_factory=dict)

    @property
    def dim(self) -> int:
        return int(self.train.shape[1])

    def describe(self) -> dict:
        return {"name": self.name, "source": self.source, "metric": self.metric,
                "n_train": int(self.train.shape[0]), "n_test": int(self.test.shape[0]),
                "dim": self.dim, "ground_truth_k": int(self.gt_ids.shape[1]), **self.notes}


def _as_f32(array) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(array, dtype=np.float32))


def load_hdf5(path: Path, metric_override: str | None = None) -> Dataset:
    import h5py  # imported lazily: --quick must work without h5py

    with h5py.File(path, "r") as f:
        missing = [key for key in ("train", "test") if key not in f]
        if missing:
            raise ValueError(f"{path}: not an ann-benchmarks file, missing datasets {missing}")
        attr = f.attrs.get("distance")
        if isinstance(attr, bytes):
            attr = attr.decode()
        if metric_override:
            metric = metric_override
        elif attr is None:
            raise ValueError(f"{path} has no 'distance' attribute; pass --metric l2|ip|cosine")
        elif str(attr).lower() not in HDF5_METRICS:
            raise ValueError(f"{path}: distance={attr!r} is not supported; "
                             f"expected one of {sorted(HDF5_METRICS)}")
        else:
            metric = HDF5_METRICS[str(attr).lower()]
        dataset = Dataset(name=path.stem, train=_as_f32(f["train"][:]), test=_as_f32(f["test"][:]),
                          metric=metric, source=str(path))
        # File ground truth is only valid for the metric the file was made with.
        if "neighbors" in f and not metric_override:
            dataset.gt_ids = np.asarray(f["neighbors"][:], dtype=np.int64)
            if "distances" in f:
                dataset.gt_distances = np.asarray(f["distances"][:], dtype=np.float32)
    return dataset


def read_fvecs(path: Path) -> np.ndarray:
    """Read the TexMex .fvecs format: each row is an int32 dimension followed by that many float32."""
    raw = np.fromfile(path, dtype=np.int32)
    if raw.size == 0:
        raise ValueError(f"{path} is empty")
    dim = int(raw[0])
    if dim <= 0 or raw.size % (dim + 1) != 0:
        raise ValueError(f"{path}: size {raw.size * 4} bytes does not match rows of dim={dim}")
    rows = raw.reshape(-1, dim + 1)
    if not np.all(rows[:, 0] == dim):
        raise ValueError(f"{path}: rows have differing dimensions; expected all {dim}")
    return np.ascontiguousarray(rows[:, 1:].view(np.float32))


def read_ivecs(path: Path) -> np.ndarray:
    """Read .ivecs (same layout as .fvecs with int32 payload), e.g. ground-truth neighbour ids."""
    return read_fvecs(path).view(np.int32).astype(np.int64)


def _read_matrix(path: Path) -> np.ndarray:
    suffix = path.suffix.lower()
    if suffix == ".npy":
        return _as_f32(np.load(path, mmap_mode="r"))
    if suffix == ".fvecs":
        return read_fvecs(path)
    raise ValueError(f"{path}: unsupported vector file; expected .hdf5, .npy or .fvecs")


def load_pair(train_path: Path, queries_path: Path | None, metric: str | None,
              groundtruth_path: Path | None = None) -> Dataset:
    """A base file plus a query file (.npy or .fvecs), optionally with .ivecs/.npy ground truth ids."""
    if queries_path is None:
        raise ValueError(f"{train_path.name} holds only base vectors; pass --queries FILE too")
    if metric is None:
        raise ValueError(f"{train_path.name} carries no metric; pass --metric l2|ip|cosine")
    dataset = Dataset(name=train_path.stem, train=_read_matrix(train_path),
                      test=_read_matrix(queries_path), metric=metric, source=str(train_path))
    if dataset.train.shape[1] != dataset.test.shape[1]:
        raise ValueError(f"base vectors have dim {dataset.train.shape[1]} but queries have "
                         f"dim {dataset.test.shape[1]}")
    if groundtruth_path is not None:
        if groundtruth_path.suffix.lower() == ".ivecs":
            dataset.gt_ids = read_ivecs(groundtruth_path)
        else:
            dataset.gt_ids = np.load(groundtruth_path).astype(np.int64)
    return dataset


def make_clustered(n_train: int = 5000, n_test: int = 1000, dim: int = 64, n_clusters: int = 32,
                   metric: str = "l2", seed: int = 1234) -> Dataset:
    """Overlapping Gaussian blobs with uneven spreads. The spreads are wide enough that at M=16
    recall@10 climbs from ~0.9 at ef=10 to ~1.0 at ef=64, so the quick run shows a real curve."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(0.0, 1.0, size=(n_clusters, dim)).astype(np.float32)
    spreads = rng.uniform(0.8, 1.5, size=n_clusters).astype(np.float32)

    def draw(count: int) -> np.ndarray:
        labels = rng.integers(0, n_clusters, size=count)
        noise = rng.normal(0.0, 1.0, size=(count, dim)).astype(np.float32)
        return _as_f32(centers[labels] + noise * spreads[labels, None])

    name = f"synthetic-clustered-{n_train}x{dim}-{metric}"
    return Dataset(name=name, train=draw(n_train), test=draw(n_test), metric=metric,
                   source=f"synthetic(seed={seed}, clusters={n_clusters})")


def load(path: str | None, *, quick: bool = False, metric: str | None = None,
         queries: str | None = None, groundtruth_file: str | None = None,
         limit_train: int | None = None, limit_queries: int | None = None,
         k: int = 10, cache_dir: Path | None = None) -> Dataset:
    """Load or synthesize a dataset, apply limits, and make sure ground truth covers k."""
    if metric is not None and metric not in METRICS:
        raise ValueError(f"metric {metric!r} is not supported; expected one of {METRICS}")
    if quick:
        dataset = make_clustered(metric=metric or "l2")
    elif path is None:
        raise ValueError("pass --dataset PATH or --quick")
    else:
        file = Path(path)
        if not file.exists():
            raise FileNotFoundError(f"dataset {file} does not exist")
        if file.suffix.lower() in (".hdf5", ".h5"):
            dataset = load_hdf5(file, metric)
        else:
            dataset = load_pair(file, Path(queries) if queries else None, metric,
                                Path(groundtruth_file) if groundtruth_file else None)

    if limit_train is not None and limit_train < dataset.train.shape[0]:
        # Ground truth over the full base set is wrong for a prefix of it.
        dataset.train = dataset.train[:limit_train]
        dataset.gt_ids = dataset.gt_distances = None
        dataset.notes["limit_train"] = limit_train
    if limit_queries is not None and limit_queries < dataset.test.shape[0]:
        dataset.test = dataset.test[:limit_queries]
        if dataset.gt_ids is not None:
            dataset.gt_ids = dataset.gt_ids[:limit_queries]
        if dataset.gt_distances is not None:
            dataset.gt_distances = dataset.gt_distances[:limit_queries]
        dataset.notes["limit_queries"] = limit_queries

    groundtruth.ensure(dataset, k, cache_dir)
    return dataset
