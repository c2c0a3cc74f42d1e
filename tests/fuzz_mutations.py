"""Seeded mutators of saved index files, for tests/test_fuzz_load.py.

Every mutator takes (blob, rng) and returns a list of (label, mutated bytes). Most re-seal
their output (valid CRCs), so only the structural checks behind the checksums can reject it;
the raw ones (truncation, unsealed bit flips) exercise the checksums and bounds themselves.
"""
from __future__ import annotations

import struct

import numpy as np

import vx_file

U64_EDGES = [0, 1, 2, 7, 63, 64, 65, 255, 2**16, 2**31 - 1, 2**31, 2**32 - 16, 2**32 - 1, 2**32, 2**62,
             2**63 - 1, 2**63, 2**64 - 2, 2**64 - 1]
U32_EDGES = [0, 1, 2, 0x7FFFFFFF, 0x80000000, 0xFFFFFFF0, 0xFFFFFFFE, 0xFFFFFFFF]


def _put(data: bytes, offset: int, fmt: str, value: int) -> bytes:
    out = bytearray(data)
    size = struct.calcsize(fmt)
    value &= (1 << (8 * size)) - 1  # wrap negatives into the field's width
    unsigned = fmt.replace("q", "Q").replace("i", "I").replace("b", "B")
    struct.pack_into(unsigned, out, offset, value)
    return bytes(out)


def _get(data: bytes, offset: int, fmt: str) -> int:
    return struct.unpack_from(fmt, data, offset)[0]


def _with_section(blob: bytes, tag: str, payload: bytes) -> bytes:
    """Replaces a same-length payload in place and re-seals."""
    offset, length = vx_file.section_span(blob, tag)
    assert len(payload) == length
    out = bytearray(blob)
    out[offset:offset + length] = payload
    return vx_file.reseal(bytes(out))


def _section(blob: bytes, tag: str) -> bytes:
    offset, length = vx_file.section_span(blob, tag)
    return bytes(blob[offset:offset + length])


def _shape(blob: bytes) -> tuple[int, int, int]:
    """(count, M, dim) read from META."""
    meta = _section(blob, "META")
    fields = vx_file.meta_fields(meta)
    return (_get(meta, *fields["count"]), _get(meta, *fields["M"]), _get(meta, *fields["dim"]))


# -- raw (unsealed) ------------------------------------------------------------------------

def truncations(blob: bytes, rng: np.random.Generator, count: int) -> list[tuple[str, bytes]]:
    cuts = set(rng.integers(0, len(blob), size=count).tolist())
    for entry in vx_file.read_table(blob):  # every section boundary, and one byte either side
        cuts.update({entry.offset - 1, entry.offset, entry.offset + 1, entry.offset + entry.length - 1})
    return [(f"truncate@{cut}", blob[:cut]) for cut in sorted(cuts) if 0 <= cut < len(blob)]


def raw_bit_flips(blob: bytes, rng: np.random.Generator, count: int) -> list[tuple[str, bytes]]:
    out = []
    for position in rng.integers(0, len(blob), size=count).tolist():
        mutated = bytearray(blob)
        mutated[position] ^= 1 << int(rng.integers(0, 8))
        out.append((f"raw-flip@{position}", bytes(mutated)))
    return out


# -- re-sealed: random damage inside one section -------------------------------------------

def sealed_bit_flips(blob: bytes, rng: np.random.Generator, count: int) -> list[tuple[str, bytes]]:
    out = []
    for tag, payload in vx_file.sections(blob):
        for _ in range(count if payload else 0):
            mutated = bytearray(payload)
            for _ in range(int(rng.integers(1, 4))):
                position = int(rng.integers(0, len(mutated)))
                mutated[position] ^= 1 << int(rng.integers(0, 8))
            out.append((f"{tag}-flip", _with_section(blob, tag, bytes(mutated))))
    return out


def sealed_byte_writes(blob: bytes, rng: np.random.Generator, count: int) -> list[tuple[str, bytes]]:
    out = []
    for tag, payload in vx_file.sections(blob):
        for _ in range(count if payload else 0):
            mutated = bytearray(payload)
            position = int(rng.integers(0, len(mutated)))
            span = min(int(rng.integers(1, 9)), len(mutated) - position)
            fill = rng.choice([0x00, 0xFF, 0x7F, 0x80, int(rng.integers(0, 256))])
            mutated[position:position + span] = bytes([int(fill)]) * span
            out.append((f"{tag}-write@{position}", _with_section(blob, tag, bytes(mutated))))
    return out


# -- re-sealed: targeted fields ------------------------------------------------------------

def meta_field_values(blob: bytes, rng: np.random.Generator) -> list[tuple[str, bytes]]:
    meta = _section(blob, "META")
    fields = vx_file.meta_fields(meta)
    count = _get(meta, *fields["count"])
    out = []
    for name, (offset, fmt) in fields.items():
        values = U64_EDGES if fmt.endswith("Q") or fmt.endswith("q") else U32_EDGES
        if fmt.endswith("B"):
            values = [0, 1, 2, 255]
        values = list(values) + [count - 1, count + 1, count * 2, -1, -2]
        for value in values:
            out.append((f"META.{name}={value}", _with_section(blob, "META", _put(meta, offset, fmt, value))))
    return out


def graph_field_values(blob: bytes, rng: np.random.Generator) -> list[tuple[str, bytes]]:
    count, M, _ = _shape(blob)
    graph = _section(blob, "GRPH")
    layout = vx_file.graph_layout(graph, count, M)
    out = []
    for name, (offset, fmt) in layout["header"].items():
        old = _get(graph, offset, fmt)
        for value in U64_EDGES + [old + 1, old - 1, old ^ 0xFF, old + 256, (count << 8) | (old & 0xFF)]:
            out.append((f"GRPH.{name}={value}", _with_section(blob, "GRPH", _put(graph, offset, fmt, value))))
    if count == 0:
        return out
    slots = rng.integers(0, count, size=min(count, 12)).tolist()
    top = max(layout["levels"])
    slots.append(layout["levels"].index(top))  # a top-level node, often the entry point
    for slot in slots:
        for value in (-128, -2, -1, 0, 1, top, top + 1, 16, 17, 127):
            at = layout["levels_at"] + slot
            out.append((f"GRPH.level[{slot}]={value}", _with_section(blob, "GRPH", _put(graph, at, "<b", value))))
    return out


def link_values(blob: bytes, rng: np.random.Generator, count_per_kind: int) -> list[tuple[str, bytes]]:
    """Out-of-range, self, duplicate and wrong-level neighbour ids; bad degree counts."""
    count, M, _ = _shape(blob)
    if count == 0:
        return []
    graph = _section(blob, "GRPH")
    layout = vx_file.graph_layout(graph, count, M)
    levels = layout["levels"]
    blocks = [(slot, lv) for slot in range(count) for lv in range(0, levels[slot] + 1)]
    out = []
    for _ in range(count_per_kind):
        slot, level = blocks[int(rng.integers(0, len(blocks)))]
        at = vx_file.link_block(layout, slot, level)
        degree = _get(graph, at, "<I")
        capacity = 2 * M if level == 0 else M
        for value in (capacity, capacity + 1, 0xFFFFFFFF, int(rng.integers(0, 2**32))):
            out.append((f"degree[{slot},{level}]={value}", _with_section(blob, "GRPH", _put(graph, at, "<I", value))))
        if degree == 0:
            continue
        position = at + 4 * (1 + int(rng.integers(0, degree)))
        lower = [s for s in range(count) if levels[s] < level]
        targets = [count, count + 1, 0x7FFFFFFF, 0xFFFFFFF0, 0xFFFFFFFF, slot]
        if lower:
            targets.append(lower[int(rng.integers(0, len(lower)))])
        if degree >= 2:  # a duplicate of this node's first link
            first = _get(graph, at + 4, "<I")
            targets.append(first)
            position = at + 8
        for target in targets:
            out.append((f"link[{slot},{level}]={target}", _with_section(blob, "GRPH", _put(graph, position, "<I", target))))
    return out


def id_values(blob: bytes, rng: np.random.Generator, count_per_kind: int) -> list[tuple[str, bytes]]:
    count, _, _ = _shape(blob)
    if count == 0:
        return []
    ids = _section(blob, "IDS_")
    words = (count + 63) // 64
    out = []
    for _ in range(count_per_kind):
        slot = int(rng.integers(0, count))
        other = _get(ids, 8 * int(rng.integers(0, count)), "<q")
        for value in (-2, -1, 2**63 - 1, other, _get(ids, 8 * slot, "<q") + 1):
            out.append((f"id[{slot}]={value}", _with_section(blob, "IDS_", _put(ids, 8 * slot, "<q", value))))
        bits_at = 8 * count + 8 * (slot // 64)
        word = _get(ids, bits_at, "<Q")
        out.append((f"live[{slot}]^", _with_section(blob, "IDS_", _put(ids, bits_at, "<Q", word ^ (1 << (slot % 64))))))
    last_at = 8 * count + 8 * (words - 1)
    if count % 64:
        high = _get(ids, last_at, "<Q") | (1 << 63)
        out.append(("live-beyond-count", _with_section(blob, "IDS_", _put(ids, last_at, "<Q", high))))
    return out


def vector_values(blob: bytes, rng: np.random.Generator, count_per_kind: int) -> list[tuple[str, bytes]]:
    """VECS: a 64-byte header {dim, count, row_bytes u64, padding}, then count padded rows."""
    count, _, dim = _shape(blob)
    meta = _section(blob, "META")
    if meta[20:20 + _get(meta, 12, "<Q")] != b"f32":
        return []  # codec sections get the generic damage only
    vectors = _section(blob, "VECS")
    row_bytes = _get(vectors, 16, "<Q")
    out = []
    for name, at, value in (("dim", 0, dim + 1), ("dim", 0, 0), ("dim", 0, 2**64 - 1), ("count", 8, count + 1),
                            ("count", 8, 2**63), ("row_bytes", 16, row_bytes + 4), ("row_bytes", 16, row_bytes - 64),
                            ("row_bytes", 16, 0), ("row_bytes", 16, 2**64 - 64)):
        out.append((f"VECS.{name}={value}", _with_section(blob, "VECS", _put(vectors, at, "<Q", value))))
    if count == 0:
        return out
    for _ in range(count_per_kind):
        at = 64 + row_bytes * int(rng.integers(0, count)) + 4 * int(rng.integers(0, dim))
        for bad in (np.nan, np.inf, -np.inf, 3.0e38, 1.0e-45):
            mutated = bytearray(vectors)
            struct.pack_into("<f", mutated, at, bad)
            out.append((f"VECS.value={bad}", _with_section(blob, "VECS", bytes(mutated))))
    return out


# -- re-sealed: section lengths and the table ----------------------------------------------

def section_lengths(blob: bytes, rng: np.random.Generator) -> list[tuple[str, bytes]]:
    """Payloads that are shorter or longer than their contents say, rebuilt with valid CRCs."""
    out = []
    for tag, payload in vx_file.sections(blob):
        for delta in (-64, -9, -8, -4, -1, 1, 4, 8, 64):
            if delta < 0:
                changed = payload[:max(0, len(payload) + delta)]
            else:
                changed = payload + bytes(rng.integers(0, 256, size=delta, dtype=np.uint8))
            out.append((f"{tag}.len{delta:+d}", vx_file.replace_section(blob, tag, changed)))
        out.append((f"{tag}.empty", vx_file.replace_section(blob, tag, b"")))
    return out


def table_entries(blob: bytes, rng: np.random.Generator) -> list[tuple[str, bytes]]:
    """Declared lengths, offsets and tags that disagree with the file, with a valid table CRC."""
    out = []
    entries = vx_file.read_table(blob)
    for i, entry in enumerate(entries):
        for field, values in (
            ("length", [entry.length - 1, entry.length + 1, entry.length + 64, 0, 2**63, 2**64 - 1]),
            ("offset", [0, 24, entry.offset - 64, entry.offset + 1, entry.offset + 64, len(blob), 2**64 - 1]),
        ):
            for value in values:
                if value < 0:
                    continue
                changed = [vx_file.Entry(**vars(e)) for e in entries]
                setattr(changed[i], field, value)
                out.append((f"table[{entry.tag}].{field}={value}", vx_file.reseal(vx_file.write_table(blob, changed))))
        for tag in ("XXXX", entries[(i + 1) % len(entries)].tag, "\0\0\0\0"):
            changed = [vx_file.Entry(**vars(e)) for e in entries]
            changed[i].tag = tag
            out.append((f"table[{entry.tag}].tag={tag!r}", vx_file.reseal(vx_file.write_table(blob, changed))))
    parts = vx_file.sections(blob)
    for i in range(len(parts)):
        out.append((f"drop-{parts[i][0]}", vx_file.build(parts[:i] + parts[i + 1:])))
        out.append((f"twice-{parts[i][0]}", vx_file.build(parts + [parts[i]])))
    out.append(("reversed-order", vx_file.build(parts[::-1])))
    out.append(("extra-section", vx_file.build(parts + [("ZZZZ", b"hello")])))
    for count in (len(parts) + 1, len(parts) - 1, 65, 2**32 - 1):
        header = bytearray(blob)
        struct.pack_into("<I", header, 16, count)
        out.append((f"section-count={count}", bytes(header)))
    return out


def stacked(blob: bytes, rng: np.random.Generator, count: int) -> list[tuple[str, bytes]]:
    """Several random byte writes across sections at once, re-sealed."""
    out = []
    for _ in range(count):
        mutated = bytearray(blob)
        tags = [tag for tag, _ in vx_file.sections(blob)]
        for _ in range(int(rng.integers(2, 6))):
            tag = tags[int(rng.integers(0, len(tags)))]
            offset, length = vx_file.section_span(blob, tag)
            if length:
                mutated[offset + int(rng.integers(0, length))] = int(rng.integers(0, 256))
        out.append(("stacked", vx_file.reseal(bytes(mutated))))
    return out


# -- re-sealed: sizes that claim far more than the file holds -----------------------------

HUGE_DIMS = (65536, 4096)


def _meta_with(blob: bytes, **values: int) -> bytes:
    meta = _section(blob, "META")
    fields = vx_file.meta_fields(meta)
    for name, value in values.items():
        meta = _put(meta, *fields[name], value)
    return meta


def _dtype(blob: bytes) -> str:
    meta = _section(blob, "META")
    return meta[20:20 + _get(meta, 12, "<Q")].decode()


def _codec_dim_at(payload: bytes) -> int:
    """Offset of the dim field in a codec blob header {dtype string, version u32, dim u64, metric}."""
    return 8 + _get(payload, 0, "<Q") + 4


def _with_dim_everywhere(blob: bytes, dim: int, count: int) -> bytes:
    """META, the graph header and every vector section header agree on `dim` and `count`, so
    each section's own size check (not a header mismatch) is what must refuse the file."""
    parts = dict(vx_file.sections(blob))
    parts["META"] = _meta_with(blob, dim=dim, count=count, live=0)
    parts["GRPH"] = _put(parts["GRPH"], 24, "<Q", count)
    for tag in ("VECS", "FULL"):
        payload = parts.get(tag)
        if not payload:
            continue
        if tag == "FULL" or _dtype(blob) == "f32":  # f32 rows: {dim, count, row_bytes}
            payload = _put(_put(_put(payload, 0, "<Q", dim), 8, "<Q", count), 16, "<Q", (4 * dim + 63) // 64 * 64)
        else:
            payload = _put(payload, _codec_dim_at(payload), "<Q", dim)
        parts[tag] = payload
    return vx_file.build(list(parts.items()))


def size_amplifications(blob: bytes, rng: np.random.Generator) -> list[tuple[str, bytes]]:
    """Small re-sealed files whose size fields (META dim, M, count and pq_m; the graph, vector
    and codec headers; attribute field, slot, dictionary and value counts; the id table) declare
    far more than the file holds. Loading one must refuse it (or load it) without allocating
    more than the file could justify: see test_fuzz_load.test_crafted_sizes_cannot_inflate_memory."""
    count, M, dim = _shape(blob)
    dtype = _dtype(blob)
    size = len(blob)
    counts = sorted({size // 12, size // 8, size // 64, count + 1000, 2**32 - 16})  # size // 12: the old only bound
    out = []
    for huge_dim in HUGE_DIMS:
        for new_m in sorted({M, 1024}):
            for new_count in counts:
                values = {"dim": huge_dim, "M": new_m, "count": new_count, "live": 0}
                if dtype == "pq":
                    values["pq_m"] = huge_dim
                label = f"huge:META.dim={huge_dim},M={new_m},count={new_count}"
                out.append((label, _with_section(blob, "META", _meta_with(blob, **values))))
        out.append((f"huge:dim={huge_dim}-everywhere", _with_dim_everywhere(blob, huge_dim, size // 12)))
    for new_count in counts:
        out.append((f"huge:META.count={new_count}", _with_section(blob, "META", _meta_with(blob, count=new_count, live=0))))
        out.append((f"huge:META.M=1024,count={new_count}",
                    _with_section(blob, "META", _meta_with(blob, M=1024, count=new_count, live=0))))
    if dtype == "pq":
        for pq_m in (1, dim, 65536):
            out.append((f"huge:META.pq_m={pq_m}", _with_section(blob, "META", _meta_with(blob, pq_m=pq_m))))
        vectors = _section(blob, "VECS")
        at = _codec_dim_at(vectors) + 8 + 4  # the blob's own pq_m follows dim and metric
        for pq_m in (1, dim, 2**32, 2**63):
            out.append((f"huge:VECS.pq_m={pq_m}", _with_section(blob, "VECS", _put(vectors, at, "<Q", pq_m))))
    # The id table sized for a huge count: the graph must still refuse it by its own length.
    new_count = size // 12
    ids = bytes(8 * new_count + 8 * ((new_count + 63) // 64))
    grown = vx_file.replace_section(blob, "IDS_", ids)
    out.append(("huge:IDS_-for-count", vx_file.replace_section(grown, "META", _meta_with(grown, count=new_count, live=0))))
    out += attribute_amplifications(blob, rng)
    return out


def attribute_amplifications(blob: bytes, rng: np.random.Generator) -> list[tuple[str, bytes]]:
    """ATTR sections with thousands of fields, huge slot counts, dictionaries and value counts."""
    count, _, _ = _shape(blob)
    parts = [(tag, payload) for tag, payload in vx_file.sections(blob) if tag != "ATTR"]
    out = []
    for kind in vx_file.ATTRIBUTE_KINDS:
        fields = [(f"f{i}", kind) for i in range(4096)]
        out.append((f"huge:ATTR.4096x{kind}", vx_file.build(parts + [("ATTR", vx_file.attribute_section(fields))])))
    one = [("k", "keywords")]
    empty = vx_file.attribute_section(one)
    slots_at = 4 + 4 + 8 + len("k") + 1  # version, field count, the field's name and kind
    for slots in (count + 1000, 2**32 - 1, 2**32, 2**63):
        out.append((f"huge:ATTR.slots={slots}", vx_file.build(parts + [("ATTR", _put(empty, slots_at, "<Q", slots))])))
    dictionary_at = len(empty) - 8  # slots 0: the keywords column is just its dictionary count
    for values in (2**20, 2**40, 2**64 - 1):
        out.append((f"huge:ATTR.dictionary={values}", vx_file.build(parts + [("ATTR", _put(empty, dictionary_at, "<Q", values))])))
    # A dictionary of one keyword whose length is huge.
    for length in (2**20, 2**40, 2**64 - 1):
        payload = empty[:dictionary_at] + struct.pack("<QQ", 1, length) + b"abc"
        out.append((f"huge:ATTR.keyword-length={length}", vx_file.build(parts + [("ATTR", payload)])))
    # One slot whose keywords row declares a huge number of values.
    header = empty[:slots_at] + struct.pack("<Q", 1) + bytes(8)  # one slot, not live
    for values in (2**20, 2**32 - 1):
        payload = header + struct.pack("<Q", 0) + struct.pack("<Q", 1) + struct.pack("<I", values)
        out.append((f"huge:ATTR.row-values={values}", vx_file.build(parts + [("ATTR", payload)])))
    return out


def all_mutations(blob: bytes, seed: int, scale: int) -> list[tuple[str, bytes]]:
    """Every mutator at a size proportional to `scale` (1 = the quick default run)."""
    rng = np.random.default_rng(seed)
    return (
        truncations(blob, rng, 40 * scale)
        + raw_bit_flips(blob, rng, 40 * scale)
        + sealed_bit_flips(blob, rng, 40 * scale)
        + sealed_byte_writes(blob, rng, 30 * scale)
        + meta_field_values(blob, rng)
        + graph_field_values(blob, rng)
        + link_values(blob, rng, 12 * scale)
        + id_values(blob, rng, 10 * scale)
        + vector_values(blob, rng, 3 * scale)
        + section_lengths(blob, rng)
        + table_entries(blob, rng)
        + stacked(blob, rng, 40 * scale)
        + size_amplifications(blob, rng)
    )
