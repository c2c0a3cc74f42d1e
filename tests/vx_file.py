"""A Python reader/writer for the vecindex file container, for tests that tamper with files.

It follows the layout documented in cpp/io/container.h:
  0   magic "VECINDX\\0"
  8   format version u32, endianness mark u32, section count u32, table CRC-32 u32
  24  section table: count x {tag u32, flags u32, offset u64, length u64, crc u32, reserved u32}
  ... sections, each on a 64-byte boundary; the file ends where the last section ends.
zlib.crc32 is the same CRC-32 as the core's, so a mutated file can be re-sealed: its checksums
made valid again, so that only the structural validation behind them can reject it.
"""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

HEADER = struct.Struct("<8sIIII")
ENTRY = struct.Struct("<IIQQII")
ALIGN = 64


@dataclass
class Entry:
    tag: str
    flags: int
    offset: int
    length: int
    crc: int
    reserved: int = 0


FORMAT_VERSION = 2  # what the core writes for int ids (cpp/io/container.h kBaseWriteVersion; string keys: 3)


def tag_code(tag: str) -> int:
    return struct.unpack("<I", tag.encode("latin-1"))[0]


def tag_text(code: int) -> str:
    return struct.pack("<I", code).decode("latin-1")


def align_up(value: int) -> int:
    return (value + ALIGN - 1) // ALIGN * ALIGN


def read_table(blob: bytes) -> list[Entry]:
    """The section table of a well-formed file, in file order."""
    magic, _version, _endian, count, _crc = HEADER.unpack_from(blob, 0)
    assert magic == b"VECINDX\0", "not a vecindex file"
    entries = []
    for i in range(count):
        tag, flags, offset, length, crc, reserved = ENTRY.unpack_from(blob, HEADER.size + i * ENTRY.size)
        entries.append(Entry(tag_text(tag), flags, offset, length, crc, reserved))
    return entries


def sections(blob: bytes) -> list[tuple[str, bytes]]:
    """(tag, payload) of every section, in file order."""
    return [(e.tag, bytes(blob[e.offset:e.offset + e.length])) for e in read_table(blob)]


def section_span(blob: bytes, tag: str) -> tuple[int, int]:
    """(offset, length) of one section."""
    for entry in read_table(blob):
        if entry.tag == tag:
            return entry.offset, entry.length
    raise KeyError(tag)


def write_table(blob: bytes, entries: list[Entry], *, version: int | None = None, endian: int = 0x01020304) -> bytes:
    """Rewrites the header and section table in place (same entry count), with a valid table CRC.
    The format version stays the blob's own unless given."""
    if version is None:
        version = (struct.unpack_from("<I", blob, 8)[0] if len(blob) >= 12 else 0) or FORMAT_VERSION
    table = b"".join(ENTRY.pack(tag_code(e.tag), e.flags, e.offset, e.length, e.crc, e.reserved) for e in entries)
    header = HEADER.pack(b"VECINDX\0", version, endian, len(entries), zlib.crc32(table))
    out = bytearray(blob)
    out[: len(header) + len(table)] = header + table
    return bytes(out)


def reseal(blob: bytes) -> bytes:
    """Recomputes every section CRC (over its declared offset and length) and the table CRC.

    Sections whose declared span lies outside the file keep their old CRC: the core rejects
    them by their bounds before it reads any checksum."""
    entries = read_table(blob)
    for entry in entries:
        if entry.offset + entry.length <= len(blob):
            entry.crc = zlib.crc32(blob[entry.offset:entry.offset + entry.length])
    return write_table(blob, entries)


STRING_KEYS_VERSION = 3  # files with a KEYS section (kStringKeysVersion)


def build(parts: list[tuple[str, bytes]], version: int | None = None) -> bytes:
    """A complete, validly sealed file from (tag, payload) pairs, laid out as the core does
    (and, unless given, with the version the core would write for them)."""
    if version is None:
        version = STRING_KEYS_VERSION if any(tag == "KEYS" for tag, _ in parts) else FORMAT_VERSION
    offset = align_up(HEADER.size + len(parts) * ENTRY.size)
    entries, end = [], offset
    for tag, payload in parts:
        entries.append(Entry(tag, 0, offset, len(payload), zlib.crc32(payload)))
        end = offset + len(payload)
        offset = align_up(end)
    image = bytearray(end)
    for entry, (_tag, payload) in zip(entries, parts):
        image[entry.offset:entry.offset + len(payload)] = payload
    return write_table(bytes(image), entries, version=version)


def replace_section(blob: bytes, tag: str, payload: bytes) -> bytes:
    """The file with one section's payload replaced (any length), rebuilt and sealed."""
    return build([(t, payload if t == tag else p) for t, p in sections(blob)])


# -- field maps of the sections written by cpp/index/index_io.cpp and the graph/store ------

def meta_fields(meta: bytes) -> dict[str, tuple[int, str]]:
    """Offset and struct format of every META field."""
    fields = {"dim": (0, "<Q"), "metric": (8, "<I")}
    dtype_length = struct.unpack_from("<Q", meta, 12)[0]
    fields["dtype_length"] = (12, "<Q")
    position = 20 + dtype_length
    for name in ("M", "ef_construction", "ef_search", "seed", "pq_m", "store_seed"):
        fields[name] = (position, "<Q")
        position += 8
    fields["rerank"] = (position, "<B")
    position += 1
    for name, fmt in (("count", "<Q"), ("live", "<Q"), ("next_auto_id", "<q")):
        fields[name] = (position, fmt)
        position += 8
    return fields


def graph_layout(graph: bytes, count: int, M: int, version: int = 2) -> dict:
    """Where the graph's header, levels, level-0 blocks and upper blocks lie in GRPH."""
    header = {name: (8 * i, "<Q") for i, name in enumerate(("M", "ef_construction", "seed", "count", "entry"))}
    levels_at = 40
    levels = [struct.unpack_from("<b", graph, levels_at + i)[0] for i in range(count)]
    # Format 2 on: zero padding, so the level-0 lists start 4-byte aligned.
    level0_at = levels_at + count + ((-count % 4) if version >= 2 else 0)
    block0 = 4 * (1 + 2 * M)
    upper, position = {}, level0_at + count * block0
    block_upper = 4 * (1 + M)
    for slot, level in enumerate(levels):
        for lv in range(1, level + 1):
            upper[(slot, lv)] = position
            position += block_upper
    return {
        "header": header,
        "levels_at": levels_at,
        "levels": levels,
        "level0_at": level0_at,
        "block0": block0,
        "upper": upper,
        "end": position,
    }


def link_block(layout: dict, slot: int, level: int) -> int:
    """Offset in GRPH of the {count, ids...} block of `slot` at `level`."""
    if level == 0:
        return layout["level0_at"] + slot * layout["block0"]
    return layout["upper"][(slot, level)]


# -- the ATTR section (cpp/filter/attribute_store.cpp), for crafting attribute stores --------

ATTRIBUTE_KINDS = {"keyword": 0, "keywords": 1, "int": 2, "float": 3, "bool": 4}


def _empty_column(kind: str, slots: int) -> bytes:
    """One column with every value missing, as its save() writes it."""
    bitmap = bytes(8 * ((slots + 63) // 64))
    if kind == "keyword":  # dictionary (no values), then one code per slot (UINT32_MAX: missing)
        return struct.pack("<Q", 0) + b"\xff\xff\xff\xff" * slots
    if kind == "keywords":  # dictionary, presence, a value count per slot, then the values
        return struct.pack("<Q", 0) + bitmap + bytes(4 * slots)
    if kind in ("int", "float"):  # presence, one value per slot
        return bitmap + bytes(8 * slots)
    return bitmap + bitmap  # bool: presence, true rows


def attribute_section(fields: list[tuple[str, str]], slots: int = 0, live: bytes | None = None) -> bytes:
    """An ATTR payload: format version, field count, (name, kind) per field, slot count, the
    live-row bitmap (`live`, default all clear), then one all-missing column per field."""
    out = struct.pack("<II", 1, len(fields))
    for name, kind in fields:
        encoded = name.encode()
        out += struct.pack("<Q", len(encoded)) + encoded + struct.pack("<B", ATTRIBUTE_KINDS[kind])
    out += struct.pack("<Q", slots)
    out += live if live is not None else bytes(8 * ((slots + 63) // 64))
    for _name, kind in fields:
        out += _empty_column(kind, slots)
    return out
