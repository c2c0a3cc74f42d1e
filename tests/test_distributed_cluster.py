"""A local multi-node Ray cluster (head + two workers): shards land on different nodes; a
worker node is removed, then a new one joins, and the fault behaviour is checked end to end."""
from __future__ import annotations

import time

import numpy as np
import pytest

import ray
from ray.cluster_utils import Cluster
from vecindex.distributed import ShardedIndex, ShardUnavailable, WritesLost
from vecindex.distributed.routing import shard_of

from conftest import clustered

DIM, K = 16, 5


@pytest.fixture(scope="module")
def cluster():
    if ray.is_initialized():
        ray.shutdown()
    # The head has no CPUs, so the two one-CPU shards can only run on the two workers.
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False})
    workers = [cluster.add_node(num_cpus=1) for _ in range(2)]
    ray.init(address=cluster.address, log_to_driver=False)
    cluster.wait_for_nodes()
    yield cluster, workers
    ray.shutdown()
    cluster.shutdown()


def test_node_loss_raises_then_partial_results_then_restart_from_last_save(cluster, tmp_path):
    cluster, workers = cluster
    vectors = clustered(600, DIM, seed=31)
    index = ShardedIndex(dim=DIM, shards=2, cpus_per_shard=1, max_restarts=5, timeout=10)
    placed = {entry["shard"]: entry["node_id"] for entry in index.shard_info()}
    worker_ids = {node.node_id for node in workers}
    assert len(set(placed.values())) == 2 and set(placed.values()) == worker_ids

    index.add(vectors[:400])
    index.save(tmp_path / "saved")
    later = np.arange(400, 600)
    index.add(vectors[400:], ids=later)  # written after the save

    doomed = next(node for node in workers if node.node_id == placed[1])
    cluster.remove_node(doomed)
    lost_shard, live_shard = 1, 0
    unsaved = later[shard_of(later, 2) == lost_shard]

    with pytest.raises(ShardUnavailable) as caught:
        index.search(vectors[:10], K)
    assert not isinstance(caught.value, WritesLost)
    assert caught.value.shard == lost_shard and f"shard {lost_shard} is unavailable" in str(caught.value)
    np.testing.assert_array_equal(caught.value.unsaved_ids[lost_shard], unsaved)
    assert "will be lost" in str(caught.value) and "allow_partial=True" in str(caught.value)

    result = index.search(vectors[:10], K, allow_partial=True, timeout=5)
    assert result.missing_shards == [lost_shard]
    found = result[0][result[0] >= 0]
    assert found.size and (shard_of(found, 2) == live_shard).all()

    cluster.add_node(num_cpus=1)  # room again: the shard's actor restarts and reopens its save
    deadline, lost = time.monotonic() + 120, None
    while lost is None and time.monotonic() < deadline:
        try:
            index.search(vectors[:10], K, timeout=10)
        except WritesLost as error:
            lost = error
        except ShardUnavailable:
            time.sleep(1)
    assert lost is not None, "the lost shard never came back"
    np.testing.assert_array_equal(lost.lost_ids[lost_shard], unsaved)
    assert len(index) == 600 - unsaved.size
    saved_on_lost = np.arange(400)[shard_of(np.arange(400), 2) == lost_shard]
    np.testing.assert_array_equal(index.get(saved_on_lost[:5]), vectors[saved_on_lost[:5]])
    assert index.shard_info()[lost_shard]["node_id"] not in (placed[0], placed[1])
    index.close()
