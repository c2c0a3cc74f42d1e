"""Errors of the sharded index."""
from __future__ import annotations

from typing import Sequence


class ShardUnavailable(RuntimeError):
    """A shard's actor is dead, restarting or not answering.

    ``shard`` is the first unavailable shard, ``shards`` all of them. ``unsaved_ids`` lists,
    per unavailable shard, the ids written to it (added, replaced or deleted) since its last
    save: if the shard comes back it reopens its last save, and those writes are lost.
    """

    def __init__(self, shards: Sequence[int], reasons: dict, unsaved_ids: dict):
        self.shards = sorted(shards)
        self.shard = self.shards[0]
        self.reasons = dict(reasons)
        self.unsaved_ids = dict(unsaved_ids)
        parts = []
        for shard in self.shards:
            lost = self.unsaved_ids.get(shard)
            tail = (f"; {len(lost)} write(s) made to it since its last save will be lost when it restarts "
                    f"from that save (ids {_preview(lost)})" if lost is not None and len(lost) else "")
            parts.append(f"shard {shard} is unavailable ({self.reasons.get(shard, 'no answer')}){tail}")
        super().__init__("; ".join(parts) + ". Pass allow_partial=True to search the live shards only.")


class WritesLost(ShardUnavailable):
    """A shard restarted from its last save, and writes made to it after that save are gone.

    Raised once, by the first call that meets the restarted shard; the shard then serves its
    last save. ``lost_ids`` maps shard -> the ids written since that save (re-add them).
    """

    def __init__(self, lost: dict):
        self.lost_ids = dict(lost)
        self.shards = sorted(lost)
        self.shard = self.shards[0]
        self.reasons = {}
        self.unsaved_ids = dict(lost)
        text = "; ".join(f"shard {shard} restarted from its last save and lost {len(ids)} write(s) made since "
                         f"(ids {_preview(ids)})" for shard, ids in sorted(lost.items()))
        RuntimeError.__init__(self, text + ". The shard now serves its last save; re-add those ids.")


def _preview(ids) -> str:
    listed = [int(i) for i in list(ids)[:10]]
    return ", ".join(map(str, listed)) + (", ..." if len(ids) > 10 else "")
