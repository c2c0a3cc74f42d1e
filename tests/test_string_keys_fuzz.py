"""The KEYS file section (string keys) is validated like every section: every mutated file
either loads into a sound, usable str-keyed index or raises FormatError, and a crafted count or
offset cannot make load allocate more than the file pays for."""
from __future__ import annotations

import struct
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import fuzz_mutations
import vecindex
import vx_file
from test_fuzz_load import PEAK_LOADER

# Like test_fuzz_load's loader, for indexes that may have string keys.
LOADER = textwrap.dedent(
    """
    import sys, numpy as np, vecindex
    rng = np.random.default_rng(0)
    for number, path in enumerate(sys.argv[1:]):
        try:
            index = vecindex.Index.load(path, mmap=number % 2 == 1)
        except vecindex.FormatError:
            print(number, "format-error", flush=True)
            continue
        except BaseException as error:
            print(number, "load-raised", type(error).__name__, str(error)[:200].replace(chr(10), " "), flush=True)
            continue
        try:
            index.check_integrity()
            keyed = index.key_type == "str"
            live = set(index.ids().tolist())
            assert len(live) == len(index), "ids() and len() disagree"
            assert all(isinstance(k, str) for k in live) == keyed or not live, "ids() of the wrong type"
            queries = rng.normal(size=(4, index.dim)).astype(np.float32)
            found, distances = index.search(queries, k=5, ef=16)
            pad = None if keyed else -1
            assert set(found.ravel().tolist()) - {pad} <= live, "search returned a key that is not live"
            assert not np.isnan(distances).any(), "search returned NaN distances"
            if live:
                some = sorted(live)[:3]
                assert all(k in index for k in some)
                assert np.isfinite(index.get(some)).all(), "stored vectors are not finite"
                allowed, _ = index.search(queries, k=5, filter=some)
                assert set(allowed.ravel().tolist()) - {pad} <= set(some), "filtered search broke its filter"
                if not index.read_only:
                    index.delete(some[:1])
            if not index.read_only:
                fresh = ["fresh-a", "fresh-b", "fresh-c"] if keyed else [i for i in range(len(live) + 3) if i not in live][:3]
                try:
                    index.add(rng.normal(size=(3, index.dim)), ids=fresh)
                except ValueError as error:
                    # A flipped rerank flag can leave a sound, untrained sq8 index without full
                    # vectors, which refuses 3 rows as documented.
                    if "must be trained first" not in str(error):
                        raise
                index.check_integrity()
                index.compact()
            vecindex.Index.from_bytes(index.to_bytes()).check_integrity()
            print(number, "loaded", flush=True)
        except BaseException as error:
            print(number, "use-raised", type(error).__name__, str(error)[:200].replace(chr(10), " "), flush=True)
    """
)


def keys_section(keys: list[bytes]) -> bytes:
    offsets = np.concatenate([[0], np.cumsum([len(k) for k in keys])]).astype("<u8")
    return struct.pack("<Q", len(keys)) + offsets.tobytes() + b"".join(keys)


def base_files() -> dict[str, bytes]:
    rng = np.random.default_rng(13)
    files = {}
    keyed = vecindex.Index(dim=6, M=4, ef_construction=16, keys="str", attributes={"tag": "keyword"})
    keys = [f"k{i}" if i % 3 else f"ключ-{i}-{'x' * (i % 40)}" for i in range(120)]
    keyed.add(rng.normal(size=(120, 6)), ids=keys, attrs={"tag": [f"t{i % 4}" for i in range(120)]}, threads=1)
    keyed.delete(keys[5:9])
    files["str-keys"] = keyed.to_bytes()
    files["str-keys-empty"] = vecindex.Index(dim=3, keys="str").to_bytes()
    coded = vecindex.Index(dim=8, M=4, ef_construction=16, dtype="sq8", rerank=True, keys="str")
    coded.add(rng.normal(size=(64, 8)), ids=[f"c{i}" for i in range(64)], threads=1)
    files["str-keys-sq8"] = coded.to_bytes()
    return files


def key_mutations(blob: bytes) -> list[tuple[str, bytes]]:
    """Targeted KEYS damage: the count, each offset, invalid UTF-8, an empty, repeated or
    over-long key, a missing or truncated section, and KEYS grafted onto an int-keyed file."""
    _, payload = next(p for p in vx_file.sections(blob) if p[0] == "KEYS")
    count = struct.unpack_from("<Q", payload)[0]
    out = []
    for value in fuzz_mutations.U64_EDGES + [count - 1, count + 1]:
        out.append((f"KEYS.count={value}", vx_file.replace_section(blob, "KEYS", fuzz_mutations._put(payload, 0, "<Q", value))))
    for slot in sorted({0, 1, count // 2, count}) if count else [0]:
        for value in [0, 1, 2, 1024, 1025, 2**32, 2**63, 2**64 - 1]:
            mutated = fuzz_mutations._put(payload, 8 + 8 * slot, "<Q", value)
            out.append((f"KEYS.offset[{slot}]={value}", vx_file.replace_section(blob, "KEYS", mutated)))
    if count:
        offsets = np.frombuffer(payload, dtype="<u8", count=count + 1, offset=8)
        keys = [payload[8 * (count + 2) + int(a):8 * (count + 2) + int(b)] for a, b in zip(offsets[:-1], offsets[1:])]
        for label, changed in [
            ("invalid-utf8", [b"\xff" + keys[0][1:]] + keys[1:]),
            ("surrogate", [b"\xed\xa0\x80"] + keys[1:]),
            ("empty", [b""] + keys[1:]),
            ("repeated", [keys[1]] + keys[1:]),
            ("1024-bytes", [b"a" * 1024] + keys[1:]),
            ("1025-bytes", [b"a" * 1025] + keys[1:]),
            ("one-short", keys[:-1]),
            ("one-extra", keys + [b"extra"]),
        ]:
            out.append((f"KEYS.{label}", vx_file.replace_section(blob, "KEYS", keys_section(changed))))
        out.append(("KEYS.trailing-byte", vx_file.replace_section(blob, "KEYS", payload + b"x")))
    for cut in (0, 7, 8, len(payload) - 1):
        out.append((f"KEYS.truncated@{cut}", vx_file.replace_section(blob, "KEYS", payload[:cut])))
    without = [(tag, data) for tag, data in vx_file.sections(blob) if tag != "KEYS"]
    out.append(("KEYS.removed", vx_file.build(without)))
    out.append(("KEYS.twice", vx_file.build(without + [("KEYS", payload), ("KEYS", payload)])))
    return out


def run(paths: list[str], loader: str) -> list[str]:
    result = subprocess.run([sys.executable, "-c", loader, *paths], capture_output=True, text=True, timeout=600)
    lines = result.stdout.splitlines()
    assert result.returncode == 0 and len(lines) == len(paths), (
        f"loader died (rc={result.returncode}) on {paths[len(lines)] if len(lines) < len(paths) else '?'}\n"
        f"{result.stderr[-3000:]}")
    return [line.split(" ", 1)[1] for line in lines]


def write(tmp_path, cases) -> list[str]:
    paths = []
    for number, (_label, data) in enumerate(cases):
        path = tmp_path / f"s{number}.vx"
        path.write_bytes(data)
        paths.append(str(path))
    return paths


def test_mutated_str_key_files_load_soundly_or_raise_format_error(tmp_path, capsys):
    cases = []
    for seed, (name, blob) in enumerate(sorted(base_files().items())):
        cases += [(f"{name}:{label}", data) for label, data in fuzz_mutations.all_mutations(blob, seed, 1)]
        cases += [(f"{name}:{label}", data) for label, data in key_mutations(blob)]
    outcomes = run(write(tmp_path, cases), LOADER)
    bad = [f"{label}: {outcome}" for (label, _), outcome in zip(cases, outcomes) if outcome not in ("loaded", "format-error")]
    assert not bad, f"{len(bad)} mutated files neither loaded soundly nor raised FormatError:\n" + "\n".join(bad[:30])
    by_label = {label: outcome for (label, _), outcome in zip(cases, outcomes)}
    for label in ("invalid-utf8", "surrogate", "empty", "repeated", "1025-bytes", "one-short", "one-extra",
                  "trailing-byte", "count=0", "count=18446744073709551615"):
        assert by_label[f"str-keys:KEYS.{label}"] == "format-error", label
    assert by_label["str-keys:KEYS.1024-bytes"] == "loaded"
    with capsys.disabled():
        print(f"\n[string keys fuzz] {len(cases)} files, {outcomes.count('loaded')} loaded soundly, "
              f"{outcomes.count('format-error')} raised FormatError")


def test_keys_section_decides_the_key_type():
    rng = np.random.default_rng(3)
    plain = vecindex.Index(dim=4, M=4, ef_construction=8)
    plain.add(rng.normal(size=(3, 4)), ids=[10, 11, 12])
    grafted = vx_file.build(vx_file.sections(plain.to_bytes()) + [("KEYS", keys_section([b"a", b"b", b"c"]))])
    index = vecindex.Index.from_bytes(grafted)
    assert index.key_type == "str" and sorted(index.ids()) == ["a", "b", "c"]
    keyed = vecindex.Index(dim=4, keys="str")
    keyed.add(rng.normal(size=(2, 4)), ids=["x", "y"])
    stripped = vx_file.build([p for p in vx_file.sections(keyed.to_bytes()) if p[0] != "KEYS"])
    assert vecindex.Index.from_bytes(stripped).key_type == "int"


def test_only_string_keyed_files_are_written_as_version_3_and_version_2_files_refuse_keys():
    # A build that reads up to version 2 must refuse a str-keyed file rather than load its
    # internal ids as int ids; files without keys stay readable by such builds.
    rng = np.random.default_rng(4)
    plain = vecindex.Index(dim=4)
    plain.add(rng.normal(size=(3, 4)))
    keyed = vecindex.Index(dim=4, keys="str")
    keyed.add(rng.normal(size=(3, 4)), ids=["a", "b", "c"])
    version = lambda blob: struct.unpack_from("<I", blob, 8)[0]  # noqa: E731
    assert version(plain.to_bytes()) == 2 and version(keyed.to_bytes()) == 3
    as_version_2 = vx_file.build(vx_file.sections(keyed.to_bytes()), version=2)
    with pytest.raises(vecindex.FormatError, match="KEYS.*version 2"):
        vecindex.Index.from_bytes(as_version_2)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_crafted_key_counts_and_offsets_cannot_inflate_memory(tmp_path, capsys):
    cases = []
    for name, blob in sorted(base_files().items()):
        _, payload = next(p for p in vx_file.sections(blob) if p[0] == "KEYS")
        for value in (2**20, 2**32 - 16, 2**62):
            cases.append((f"{name}:count={value}", vx_file.replace_section(blob, "KEYS", fuzz_mutations._put(payload, 0, "<Q", value))))
            last_offset_at = 8 + 8 * struct.unpack_from("<Q", payload)[0]
            huge_last = fuzz_mutations._put(payload, last_offset_at, "<Q", value)
            cases.append((f"{name}:last-offset={value}", vx_file.replace_section(blob, "KEYS", huge_last)))
        # META and IDS_ declaring many live vectors, KEYS sized for their offsets only.
        cases += [(f"{name}:{label}", data) for label, data in fuzz_mutations.size_amplifications(blob, np.random.default_rng(1))
                  if label.startswith("huge:META.count") or label.startswith("huge:IDS_")]
    outcomes = run(write(tmp_path, cases), PEAK_LOADER)
    bad = []
    for (label, data), line in zip(cases, outcomes):
        outcome, peak = line.split()
        if int(peak) > len(data) + (16 << 20) or not set(outcome.split("/")) <= {"loaded", "format-error"}:
            bad.append(f"{label} ({len(data)} bytes): {outcome}, peak +{int(peak) / 2**20:.1f} MiB")
    assert not bad, "\n".join(bad[:30])
