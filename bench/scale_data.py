"""Larger data sets that keep a real set's structure: points between real vectors and their neighbours.

Row i of the scaled base set is drawn from the triangle spanned by real train vector
a = `i % n_real` and two of a's `PARTNERS` exact nearest real neighbours (picked at random, with
Dirichlet(1, 1, 1) weights, i.e. uniform on the triangle), plus a little isotropic noise (expected
norm `tau` times the mean norm), re-normalised for cosine data. The rows thus fill the real set's
local neighbourhoods instead of piling up on its points. Queries are the real test vectors,
unchanged (held out, so no copies of them exist).
Randomness is drawn per block of rows from a seed derived from (seed, block), so rows never depend
on N: the 100k set is the first 100k rows of the 1M set, and memory stays bounded to the output
plus one block. The real set's exact k-NN (one brute-force pass, numpy) is cached by content.

Why not real vectors plus noise alone: in 384-d isotropic noise is almost orthogonal to everything,
so two noisy copies of one vector stay nearer each other than to any other vector at every noise
level that keeps the data's structure. Measured on the Debian set at 1M (20 copies per real vector):
noise of norm 0.3 / 0.5 / 0.7 left 99.7% / 99.1% / 96.4% of a base vector's true top-10 as copies
of its own source, and a query's top-10 came from 1.4 / 2.0 / 2.8 distinct real vectors, so the
search problem degenerates to "find one copy"; interpolating towards one neighbour still left
93% and 2.3. Triangles mix the rows of neighbouring real vectors: 23% and 5.1 at 1M.
`copy_structure` measures this, and scale.py records it in its JSON.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from bench.datasets import Dataset
from bench.groundtruth import brute_force, normalized

PARTNERS = 10      # candidate corners: the real vector's nearest real neighbours
CORNERS = 3        # the source and two of its neighbours span the triangle a row is drawn in
DEFAULT_TAU = 0.1  # small isotropic noise on top, relative to the data's mean norm
BLOCK_ROWS = 65_536


def _noise_scale(real: np.ndarray, tau: float) -> float:
    sample = real[:: max(1, len(real) // 4096)]
    return float(tau * np.linalg.norm(sample, axis=1).mean() / np.sqrt(real.shape[1]))


def real_neighbours(real: np.ndarray, metric: str, k: int = PARTNERS, cache: Path | None = None) -> np.ndarray:
    """(n_real, k) exact nearest real neighbours of every real vector, itself excluded."""
    digest = hashlib.blake2b(np.ascontiguousarray(real).data, digest_size=10).hexdigest()
    cache_file = Path(cache) / f"real-knn-{digest}-{metric}-{k}.npy" if cache else None
    if cache_file is not None and cache_file.exists():
        return np.load(cache_file)
    ids, _ = brute_force(real, real, metric, k + 1)
    rows = np.arange(len(real))[:, None]
    # Drop each row's own id (usually first, but an exact duplicate may come first).
    out = np.array([row[row != own][:k] for row, own in zip(ids, rows[:, 0])], dtype=np.int64)
    if cache_file is not None:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        np.save(cache_file, out)
    return out


def scaled_base(real: np.ndarray, n: int, neighbours: np.ndarray, tau: float, seed: int, metric: str) -> np.ndarray:
    """n rows interpolated between real[i % n_real] and one of its neighbours; row i is the same
    whatever n is."""
    scale = np.float32(_noise_scale(real, tau))
    out = np.empty((n, real.shape[1]), dtype=np.float32)
    for block, start in enumerate(range(0, n, BLOCK_ROWS)):
        stop = min(n, start + BLOCK_ROWS)
        # One stream per quantity: a stream's first m draws do not depend on how many follow,
        # so a block cut short by n holds the same rows as the full block.
        partner_rng, weight_rng, noise_rng = (np.random.default_rng([seed, block, part]) for part in range(3))
        sources = np.arange(start, stop) % len(real)
        picks = partner_rng.integers(0, neighbours.shape[1], size=(stop - start, CORNERS - 1))
        corners = np.concatenate([sources[:, None], neighbours[sources[:, None], picks]], axis=1)
        weights = weight_rng.dirichlet(np.ones(CORNERS), size=stop - start).astype(np.float32)
        rows = np.einsum("nc,ncd->nd", weights, real[corners])
        rows += noise_rng.standard_normal(rows.shape, dtype=np.float32) * scale
        out[start:stop] = normalized(rows) if metric == "cosine" else rows
    return out


def make_scaled(real: Dataset, n: int, tau: float = DEFAULT_TAU, seed: int = 7, cache: Path | None = None) -> Dataset:
    """A Dataset of n base rows (ground truth not filled in; groundtruth.ensure does that)."""
    neighbours = real_neighbours(real.train, real.metric, cache=cache)
    base = scaled_base(real.train, n, neighbours, tau, seed, real.metric)
    return Dataset(name=f"{real.name}-scaled-{n}", train=base, test=np.ascontiguousarray(real.test),
                   metric=real.metric,
                   source=f"{real.source or real.name}: row i = convex combination of (train[i % {len(real.train)}] "
                          f"and two of its {PARTNERS} nearest, Dirichlet(1,1,1) weights) + noise (tau={tau}), seed={seed}; "
                          f"queries = test",
                   notes={"generator": {"partners": PARTNERS, "corners": CORNERS, "tau": tau, "seed": seed,
                                        "real_rows": int(len(real.train))}})


def source_of(ids: np.ndarray, n_real: int) -> np.ndarray:
    return np.asarray(ids) % n_real


def copy_structure(dataset: Dataset, n_real: int, k: int = 10, probes: int = 200, seed: int = 0) -> dict:
    """How much the perturbed copies of one real vector crowd each other's neighbour lists.

    Needs dataset.gt_ids (queries' true neighbours); probes base rows by brute force."""
    query_sources = source_of(dataset.gt_ids[:, :k], n_real)
    distinct = float(np.mean([len(set(row)) for row in query_sources]))
    rng = np.random.default_rng(seed)
    probe_rows = rng.choice(len(dataset.train), size=min(probes, len(dataset.train)), replace=False)
    ids, _ = brute_force(dataset.train, dataset.train[probe_rows], dataset.metric, k + 1)
    neighbours = np.array([[i for i in row if i != probe][:k] for row, probe in zip(ids, probe_rows)])
    same = float(np.mean(source_of(neighbours, n_real) == source_of(probe_rows, n_real)[:, None]))
    copies = -(-len(dataset.train) // n_real)
    return {"k": k, "copies_per_real_vector": copies,
            "query_topk_distinct_sources": distinct,
            "base_topk_same_source_fraction": same,
            # With k or more exact copies and no noise, distinct sources would be 1 and the
            # same-source fraction min(1, (copies - 1) / k).
            "no_noise_same_source_fraction": min(1.0, (copies - 1) / k)}
