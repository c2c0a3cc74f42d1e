"""Fuzzing of MultiVectorIndex.load: every mutated file either loads into a sound, usable
index or raises vecindex.FormatError; never a crash, never another exception.

Uses the container-level mutators of tests/fuzz_mutations.py on whole files, field-value
mutations of the multi-vector sections (MVCF, MVDC, MVTK), and the Index mutators applied to
the embedded candidate index (MVGR) with the file re-sealed around it."""
from __future__ import annotations

import struct
import subprocess
import sys
import textwrap

import numpy as np

import fuzz_mutations
import vecindex
import vx_file

LOADER = textwrap.dedent(
    """
    import sys, numpy as np, vecindex
    rng = np.random.default_rng(0)
    for number, path in enumerate(sys.argv[1:]):
        try:
            index = vecindex.MultiVectorIndex.load(path, mmap=number % 2 == 1)
        except vecindex.FormatError:
            print(number, "format-error", flush=True)
            continue
        except BaseException as error:
            print(number, "load-raised", type(error).__name__, str(error)[:200].replace(chr(10), " "), flush=True)
            continue
        try:
            live = set(index.ids().tolist())
            assert len(live) == len(index), "ids() and len() disagree"
            queries = [rng.normal(size=(3, index.dim)).astype(np.float32) for _ in range(2)]
            found, scores = index.search(queries, k=4, candidates=8)
            assert set(found.ravel().tolist()) - {-1} <= live, "search returned an id that is not live"
            assert not np.isnan(scores).any(), "search returned NaN scores"
            exact, _ = index.search(queries, k=4, exact=True)
            assert set(exact.ravel().tolist()) - {-1} <= live
            for id_ in sorted(live)[:3]:
                assert np.isfinite(index.get(id_)).all(), "stored tokens are not finite"
            vecindex.MultiVectorIndex.from_bytes(index.to_bytes())
            print(number, "loaded", flush=True)
        except BaseException as error:
            print(number, "use-raised", type(error).__name__, str(error)[:200].replace(chr(10), " "), flush=True)
    """
)


def base_files() -> dict[str, bytes]:
    rng = np.random.default_rng(3)
    files = {}
    for token_dtype in ("f32", "f16", "sq8"):
        index = vecindex.MultiVectorIndex(6, "f32", token_dtype, k_sim=2, d_proj=3, r_reps=2,
                                          attributes={"tag": "keyword"} if token_dtype == "f16" else None)
        docs = [rng.standard_normal((int(rng.integers(1, 5)), 6)).astype(np.float32) for _ in range(12)]
        attrs = {"tag": ["a", "b"] * 6} if token_dtype == "f16" else None
        index.add(docs, ids=np.arange(12) * 3, attrs=attrs)
        index.delete([3, 9])
        files[token_dtype] = index.to_bytes()
    return files


def section_field_values(blob: bytes, rng: np.random.Generator) -> list[tuple[str, bytes]]:
    """Edge values written into every 8-byte (MVCF, MVDC) or 4-byte field, re-sealed."""
    out = []
    for tag, width, fmt, edges in (("MVCF", 8, "<Q", fuzz_mutations.U64_EDGES), ("MVDC", 8, "<Q", fuzz_mutations.U64_EDGES),
                                   ("MVDC", 4, "<I", fuzz_mutations.U32_EDGES), ("MVCF", 4, "<I", fuzz_mutations.U32_EDGES)):
        payload = dict(vx_file.sections(blob))[tag]
        for offset in range(0, len(payload) - width + 1, width):
            for value in (edges[i] for i in rng.choice(len(edges), size=3, replace=False)):
                mutated = bytearray(payload)
                struct.pack_into(fmt, mutated, offset, value)
                out.append((f"{tag}[{offset}]={value}", vx_file.replace_section(blob, tag, bytes(mutated))))
    return out


def token_values(blob: bytes, rng: np.random.Generator) -> list[tuple[str, bytes]]:
    out = []
    payload = dict(vx_file.sections(blob))["MVTK"]
    for pattern in (b"\xff\xff\xff\x7f", b"\x00\x00\x80\x7f", b"\x00\x7c", b"\xff\x7f", b"\x00\x00\x80\xbf"):
        for _ in range(4):
            offset = int(rng.integers(0, max(1, len(payload) - len(pattern))))
            mutated = bytearray(payload)
            mutated[offset:offset + len(pattern)] = pattern
            out.append((f"MVTK@{offset}={pattern.hex()}", vx_file.replace_section(blob, "MVTK", bytes(mutated))))
    resized = [("MVTK-short", payload[:-1]), ("MVTK-long", payload + b"\0" * 4), ("MVDC-empty", b"")]
    for label, data in resized:
        out.append((label, vx_file.replace_section(blob, label[:4], data)))
    return out


def nested_index_mutations(blob: bytes, rng: np.random.Generator) -> list[tuple[str, bytes]]:
    graph = dict(vx_file.sections(blob))["MVGR"]
    mutated = fuzz_mutations.all_mutations(graph, int(rng.integers(0, 1000)), 1)
    picks = rng.choice(len(mutated), size=min(150, len(mutated)), replace=False)
    return [(f"MVGR:{mutated[i][0]}", vx_file.replace_section(blob, "MVGR", mutated[i][1])) for i in picks]


def run_batch(paths: list[str]) -> list[str]:
    result = subprocess.run([sys.executable, "-c", LOADER, *paths], capture_output=True, text=True, timeout=600)
    lines = result.stdout.splitlines()
    if result.returncode != 0 or len(lines) != len(paths):
        culprit = paths[len(lines)] if len(lines) < len(paths) else "?"
        raise AssertionError(f"loader died (rc={result.returncode}) on {culprit}\nstderr:\n{result.stderr[-3000:]}")
    return [line.split(" ", 1)[1] for line in lines]


def test_mutated_multivector_files_load_soundly_or_raise_format_error(tmp_path):
    cases = []
    for seed, (name, blob) in enumerate(sorted(base_files().items())):
        rng = np.random.default_rng(seed)
        mutations = (fuzz_mutations.truncations(blob, rng, 30) + fuzz_mutations.raw_bit_flips(blob, rng, 30)
                     + fuzz_mutations.sealed_bit_flips(blob, rng, 30) + fuzz_mutations.sealed_byte_writes(blob, rng, 20)
                     + fuzz_mutations.table_entries(blob, rng) + section_field_values(blob, rng)
                     + token_values(blob, rng) + nested_index_mutations(blob, rng))
        cases += [(f"{name}:{label}", data) for label, data in mutations]
    paths = []
    for number, (_, data) in enumerate(cases):
        path = tmp_path / f"m{number}.vx"
        path.write_bytes(data)
        paths.append(str(path))
    outcomes = []
    for start in range(0, len(paths), 400):
        outcomes += run_batch(paths[start:start + 400])
    bad = [f"{label}: {outcome}" for (label, _), outcome in zip(cases, outcomes) if outcome not in ("loaded", "format-error")]
    assert not bad, f"{len(bad)} mutated files neither loaded soundly nor raised FormatError:\n" + "\n".join(bad[:30])
    # The structural checks behind the checksums must be reached, and some files must load.
    assert outcomes.count("format-error") > 100 and outcomes.count("loaded") > 10
