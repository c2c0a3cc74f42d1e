"""The insert path's level-0 lists against a plain Python model of HNSW linking.

With ef_construction above the number of vectors, every insert's level-0 beam search reaches
every node already linked, so a one-thread build is fully determined by the linking rules:
- a new node's own list is the diversity heuristic over all earlier nodes, nearest first (a
  candidate is kept unless a neighbour kept before it is nearer to it than the new node is);
- each chosen neighbour links back: appended while its list has room, else its list plus the
  newcomer is re-selected with the same heuristic (for "ip" pruned candidates refill a list).
Coordinates are integers small enough that every distance is exact in float32, so no kernel's
summation order can flip a comparison, and the data is checked to have no tied distances, so
every sort is unambiguous. This pins the batched, windowed selection and link_back's reuse of a
list's known-diverse prefix (cpp/graph/hnsw_graph.cpp) to the textbook rule, list by list.
"""
import numpy as np
import pytest

import vecindex
import vx_file

COUNT, DIM = 150, 16


def exact_data(seed: int) -> np.ndarray:
    # |coordinate| <= 490 in 16 dimensions: squared distances and inner products stay below
    # 2**24, so float32 holds every partial sum exactly.
    return np.random.default_rng(seed).integers(-490, 491, size=(COUNT, DIM)).astype(np.float32)


def pair_distances(data: np.ndarray, metric: str) -> np.ndarray:
    rows = data.astype(np.int64)
    if metric == "l2":
        return ((rows[:, None, :] - rows[None, :, :]) ** 2).sum(axis=2)
    return -(rows @ rows.T)  # "ip": the raw inner product, as the graph links on it


def select(candidates: list, max_count: int, distance: np.ndarray, dense: bool) -> list:
    """The diversity heuristic over (distance to base, node) pairs, nearest first."""
    if len(candidates) <= max_count:
        return list(candidates)
    kept, pruned = [], []
    for item in candidates:
        if len(kept) >= max_count:
            break
        nearer_to_kept = any(distance[item[1], other] < item[0] for _, other in kept)
        (pruned if nearer_to_kept else kept).append(item)
    return kept + pruned[:max_count - len(kept)] if dense else kept


def reachable(lists: list, entry: int) -> set:
    seen, stack = {entry}, [entry]
    while stack:
        for other in lists[stack.pop()]:
            if other not in seen:
                seen.add(other)
                stack.append(other)
    return seen


def model_level0(distance: np.ndarray, levels: list, M: int, dense: bool) -> tuple[list, int]:
    """Every node's level-0 list after linking them in order, and how many full lists were
    re-selected on the way."""
    lists = [[] for _ in range(len(levels))]
    reselections = 0
    entry, top = 0, levels[0]
    for node in range(1, len(levels)):
        # The model's premise: the beam search reaches every earlier node.
        assert reachable(lists, entry) == set(range(node)), f"node {node}: earlier nodes not all reachable"
        earlier = sorted((distance[node, other], other) for other in range(node))
        own = select(earlier, 2 * M if dense else M, distance, dense)
        lists[node] = [other for _, other in own]
        for _, target in own:
            if node in lists[target]:
                continue
            if len(lists[target]) < 2 * M:
                lists[target].append(node)
                continue
            pool = sorted([(distance[target, node], node)] + [(distance[target, o], o) for o in lists[target]])
            lists[target] = [other for _, other in select(pool, 2 * M, distance, dense)]
            reselections += 1
        if levels[node] > top:
            entry, top = node, levels[node]
    return lists, reselections


def built_level0(index: vecindex.Index, M: int) -> tuple[list, list]:
    graph = dict(vx_file.sections(index.to_bytes()))["GRPH"]
    layout = vx_file.graph_layout(graph, COUNT, M)
    lists = []
    for slot in range(COUNT):
        at = vx_file.link_block(layout, slot, 0)
        count = int(np.frombuffer(graph, np.uint32, 1, at)[0])
        lists.append([int(v) for v in np.frombuffer(graph, np.uint32, count, at + 4)])
    return lists, layout["levels"]


# Data seeds whose rows have no tied distances and whose model graph keeps every earlier node
# reachable (the model's premise; both are asserted below).
@pytest.mark.parametrize("metric, M, data_seed", [("l2", 3, 0), ("l2", 4, 1), ("l2", 8, 7),
                                                  ("ip", 3, 1), ("ip", 4, 2), ("ip", 8, 4)])
def test_one_thread_build_links_exactly_as_the_heuristic_model(metric, M, data_seed):
    data = exact_data(data_seed)
    distance = pair_distances(data, metric)
    off_diagonal = distance[~np.eye(COUNT, dtype=bool)].reshape(COUNT, COUNT - 1)
    assert all(len(np.unique(row)) == COUNT - 1 for row in off_diagonal), "tied distances: pick other data"
    index = vecindex.Index(dim=DIM, metric=metric, M=M, ef_construction=COUNT + 50, dtype="f32", seed=5)
    index.add(data, threads=1)
    lists, levels = built_level0(index, M)
    expected, reselections = model_level0(distance, levels, M, dense=metric == "ip")
    assert reselections >= 10  # the data exercises link_back on full lists
    for slot in range(COUNT):
        assert lists[slot] == expected[slot], f"slot {slot}: built {lists[slot]}, model {expected[slot]}"


@pytest.mark.parametrize("metric", ["l2", "ip"])
def test_parallel_build_with_full_lists_keeps_every_list_sound(metric):
    # M=4: level-0 lists hold 8, so most link_backs re-select a full list while the other thread
    # inserts next to it.
    data = np.random.default_rng(21).normal(size=(3000, 16)).astype(np.float32)
    index = vecindex.Index(dim=16, metric=metric, M=4, ef_construction=40)
    index.add(data, threads=2)
    index.check_integrity()
    degree = index.stats()["mean_degree0"]
    assert 0 < degree <= 8
    if metric == "ip":  # inner product keeps its lists full (see hnsw_graph.cpp, dense_links)
        assert degree == 8
