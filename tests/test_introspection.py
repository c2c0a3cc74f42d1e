"""repr, stats() and memory_usage() describe the index."""
import numpy as np

import vecindex

from conftest import clustered


def test_repr_shows_the_configuration_and_size():
    index = vecindex.Index(dim=12, metric="ip", M=8, ef_construction=50, ef_search=33, dtype="f16")
    index.add(clustered(40, 12, seed=1))
    text = repr(index)
    for part in ("dim=12", "metric='ip'", "dtype='f16'", "size=40", "M=8", "ef_construction=50", "ef_search=33"):
        assert part in text


def test_stats_report_levels_degree_size_and_memory_by_part():
    index = vecindex.Index(dim=8, M=6, attributes={"size": "int"}, dtype="f32")  # codes: 4 bytes a dimension
    index.add(clustered(500, 8, seed=2), attrs={"size": list(range(500))})
    index.delete([0, 1])
    stats = index.stats()
    assert stats["levels"] >= 1
    assert 0 < stats["mean_degree0"] <= 2 * 6
    assert stats["size"] == 498
    assert stats["deleted"] == 2
    assert stats["slots"] == stats["slots_allocated"] == 500  # deleted rows hold slots until compact()
    assert stats["memory"] == index.memory_usage()
    memory = stats["memory"]
    assert set(memory) == {"graph", "codes", "full_vectors", "attributes", "mapped", "keys"}
    assert memory["codes"] >= 500 * 8 * 4
    assert memory["graph"] > 0
    assert memory["attributes"] >= 500 * 8  # one int64 per row at least


def test_attribute_memory_grows_with_declared_attributes():
    data = clustered(300, 8, seed=3)
    plain = vecindex.Index(dim=8)
    plain.add(data)
    with_attrs = vecindex.Index(dim=8, attributes={"size": "int", "section": "keyword"})
    with_attrs.add(data, attrs={"size": list(range(300)), "section": ["a", "b", "c"] * 100})
    assert with_attrs.memory_usage()["attributes"] > plain.memory_usage()["attributes"] + 300 * 8


def test_slots_drop_after_compact_and_refill_before_new_slots_are_allocated():
    index = vecindex.Index(dim=8, M=6)
    index.add(clustered(300, 8, seed=4))
    index.delete(np.arange(100))
    assert index.stats()["slots"] == 300
    assert index.compact() == 100
    stats = index.stats()
    assert (stats["slots"], stats["slots_allocated"], stats["deleted"], stats["size"]) == (200, 300, 0, 200)
    index.add(clustered(150, 8, seed=5))
    stats = index.stats()
    assert (stats["slots"], stats["slots_allocated"]) == (350, 350)
