"""Starting the shard actors: a placement group with one bundle per shard, and the registry."""
from __future__ import annotations

from typing import Optional

import ray
from ray.util.placement_group import placement_group, remove_placement_group
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy, PlacementGroupSchedulingStrategy

from vecindex.distributed.actor import Registry, Shard

PLACEMENT_TIMEOUT = 120.0  # seconds to wait for the cluster to grant every shard its CPUs
# What a shard reserves when cpus_per_shard is not given: a token share, as Ray's own actors
# hold no CPU while running, so several indexes and other work share a machine; a bundle
# must reserve something for the placement group to place (and spread) it.
TOKEN_CPUS = 0.01
STRATEGIES = ("SPREAD", "PACK", "STRICT_SPREAD", "STRICT_PACK")


class Deployment:
    """The live actors of one sharded index, and what they were placed with."""

    def __init__(self, actors: list, registry, group, cpus_per_shard: float, threads: int, max_restarts: int):
        self.actors, self.registry, self.group = actors, registry, group
        self.cpus_per_shard, self.threads, self.max_restarts = cpus_per_shard, threads, max_restarts

    def close(self) -> None:
        if not self.actors or not ray.is_initialized():
            return
        for actor in self.actors + [self.registry]:
            ray.kill(actor, no_restart=True)
        remove_placement_group(self.group)
        self.actors = []


def resolve_cpus(cpus_per_shard: Optional[float]) -> float:
    """The CPUs each shard reserves (None: a token share; its searches then use one thread)."""
    if not ray.is_initialized():
        ray.init()
    if cpus_per_shard is None:
        return TOKEN_CPUS
    if isinstance(cpus_per_shard, bool) or not isinstance(cpus_per_shard, (int, float)) or not cpus_per_shard > 0:
        raise ValueError(f"cpus_per_shard must be a positive number, got {cpus_per_shard!r}")
    return float(cpus_per_shard)


def start(shards: int, config: dict, *, cpus_per_shard: Optional[float], placement_strategy: str, max_restarts: int,
          initial: Optional[list] = None) -> Deployment:
    if placement_strategy not in STRATEGIES:
        raise ValueError(f"placement_strategy must be one of {', '.join(STRATEGIES)}, not {placement_strategy!r}")
    if isinstance(max_restarts, bool) or not isinstance(max_restarts, int) or max_restarts < -1:
        raise ValueError(f"max_restarts must be an int >= -1 (-1: restart forever), got {max_restarts!r}")
    cpus = resolve_cpus(cpus_per_shard)
    group = placement_group([{"CPU": cpus}] * shards, strategy=placement_strategy)
    ready, _ = ray.wait([group.ready()], timeout=PLACEMENT_TIMEOUT)
    if not ready:
        remove_placement_group(group)
        raise RuntimeError(f"the Ray cluster did not grant {shards} shards x {cpus:g} CPUs within {PLACEMENT_TIMEOUT:g} s "
                           f"(cluster CPUs: {ray.cluster_resources().get('CPU', 0):g}); lower cpus_per_shard or shards")
    # The registry lives beside the driver: it must outlive any worker node.
    here = NodeAffinitySchedulingStrategy(node_id=ray.get_runtime_context().get_node_id(), soft=False)
    registry = ray.remote(Registry).options(num_cpus=0, scheduling_strategy=here).remote()
    threads = max(1, int(cpus))
    shard_class = ray.remote(Shard)
    actors = []
    for shard in range(shards):
        strategy = PlacementGroupSchedulingStrategy(placement_group=group, placement_group_bundle_index=shard)
        actor = shard_class.options(num_cpus=cpus, max_restarts=max_restarts, max_task_retries=0,
                                    scheduling_strategy=strategy)
        first = None if initial is None else initial[shard]
        actors.append(actor.remote(shard, shards, config, threads, registry, first))
    return Deployment(actors, registry, group, cpus, threads, max_restarts)
