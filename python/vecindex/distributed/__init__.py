"""Scale-out on Ray: :class:`ShardedIndex`, the ``vecindex.Index`` API over shards held by Ray actors.

Needs Ray: ``pip install "vecindex[distributed]"``. ``import vecindex`` never imports Ray;
importing this package without Ray raises ImportError naming the extra.
"""
try:
    import ray  # noqa: F401
except ImportError as error:
    raise ImportError('vecindex.distributed needs Ray: pip install "vecindex[distributed]"') from error

from vecindex.distributed.errors import ShardUnavailable, WritesLost
from vecindex.distributed.sharded_index import SearchResult, ShardedIndex

__all__ = ["SearchResult", "ShardUnavailable", "ShardedIndex", "WritesLost"]
