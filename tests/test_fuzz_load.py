"""Fuzzing of Index.load: every mutated file either loads into a sound, usable index or raises
vecindex.FormatError. Never a crash, never another exception.

Most mutations are re-sealed (section CRCs and the table CRC recomputed, see tests/vx_file.py),
so the structural validation behind the checksums is what must catch them. Loads run in
subprocesses, a batch of files each, so a crash fails the test and names the file."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import fuzz_mutations
import vecindex
import vx_file

BATCH = 400

# Loads each file and, when it loads, uses the index hard: integrity, search, get, add,
# delete and a bytes round trip. Prints one "<n> <outcome>" line per file as it goes.
LOADER = textwrap.dedent(
    """
    import sys, numpy as np, vecindex
    rng = np.random.default_rng(0)
    for number, path in enumerate(sys.argv[1:]):
        try:
            index = vecindex.Index.load(path, mmap=number % 2 == 1)  # both load paths
        except vecindex.FormatError:
            print(number, "format-error", flush=True)
            continue
        except BaseException as error:
            print(number, "load-raised", type(error).__name__, str(error)[:200].replace(chr(10), " "), flush=True)
            continue
        try:
            index.check_integrity()
            live = set(index.ids().tolist())
            assert len(live) == len(index), "ids() and len() disagree"
            queries = rng.normal(size=(4, index.dim)).astype(np.float32)
            found, distances = index.search(queries, k=5, ef=16)
            assert set(found.ravel().tolist()) - {-1} <= live, "search returned an id that is not live"
            assert not np.isnan(distances).any(), "search returned NaN distances"
            if live:
                some = sorted(live)[:3]
                assert np.isfinite(index.get(some)).all(), "stored vectors are not finite"
                allowed, _ = index.search(queries, k=5, filter=some)
                assert set(allowed.ravel().tolist()) - {-1} <= set(some), "filtered search broke its filter"
                if index.attributes:
                    index.get_attrs(some)
                if not index.read_only:
                    index.delete(some[:1])
            if not index.read_only:
                # Explicit ids: a file may legitimately have used up the automatic ids.
                fresh = [i for i in range(len(live) + 3) if i not in live][:3]
                index.add(rng.normal(size=(3, index.dim)), ids=fresh)
                index.check_integrity()
            vecindex.Index.from_bytes(index.to_bytes()).check_integrity()
            print(number, "loaded", flush=True)
        except BaseException as error:
            print(number, "use-raised", type(error).__name__, str(error)[:200].replace(chr(10), " "), flush=True)
    """
)


def run_batch(paths: list[str]) -> list[str]:
    """Outcome per path; raises AssertionError naming the file that crashed the loader."""
    result = subprocess.run([sys.executable, "-c", LOADER, *paths], capture_output=True, text=True, timeout=600)
    lines = result.stdout.splitlines()
    if result.returncode != 0 or len(lines) != len(paths):
        culprit = paths[len(lines)] if len(lines) < len(paths) else "?"
        raise AssertionError(
            f"loader died (rc={result.returncode}) on {culprit}\nstderr tail:\n{result.stderr[-3000:]}"
        )
    return [line.split(" ", 1)[1] for line in lines]


def fuzz(tmp_path, base_files: dict[str, bytes], scale: int) -> dict[str, int]:
    """Writes every mutation of every base file, loads them in batches, checks every outcome."""
    cases: list[tuple[str, bytes]] = []
    for seed, (name, blob) in enumerate(sorted(base_files.items())):
        cases += [(f"{name}:{label}", data) for label, data in fuzz_mutations.all_mutations(blob, seed, scale)]
    paths = []
    for number, (_label, data) in enumerate(cases):
        path = tmp_path / f"m{number}.vx"
        path.write_bytes(data)
        paths.append(str(path))
    outcomes: list[str] = []
    for start in range(0, len(paths), BATCH):
        outcomes += run_batch(paths[start:start + BATCH])
    bad = [f"{label}: {outcome}" for (label, _), outcome in zip(cases, outcomes) if outcome not in ("loaded", "format-error")]
    assert not bad, f"{len(bad)} mutated files neither loaded soundly nor raised FormatError:\n" + "\n".join(bad[:30])
    return {"files": len(cases), "loaded": outcomes.count("loaded"), "format-error": outcomes.count("format-error")}


def make_base_files(n: int, codecs: tuple[str, ...] = ("sq8", "rabitq")) -> dict[str, bytes]:
    """Small saved indexes: each metric, deletions, custom ids, one node, empty, attributes, codecs."""
    rng = np.random.default_rng(11)
    files = {}
    l2 = vecindex.Index(dim=8, metric="l2", M=4, ef_construction=20)
    l2.add(rng.normal(size=(n, 8)), ids=np.arange(n) * 7 + 3, threads=1)  # one thread: same graph every run
    l2.delete([3, 10, 7 * (n // 2) + 3])
    files["l2"] = l2.to_bytes()
    cosine = vecindex.Index(dim=5, metric="cosine", M=3, ef_construction=10)
    cosine.add(rng.normal(size=(n // 2, 5)), threads=1)
    cosine.delete([0])
    files["cosine"] = cosine.to_bytes()
    ip = vecindex.Index(dim=3, metric="ip", M=2, ef_construction=8)
    ip.add(rng.normal(size=(1, 3)))
    files["ip-one"] = ip.to_bytes()
    files["empty"] = vecindex.Index(dim=4, dtype="f32").to_bytes()  # an empty f32 index, as before the default changed
    tagged = vecindex.Index(dim=6, M=4, ef_construction=16, attributes={"tag": "keyword", "size": "int"})
    rows = n // 3
    tagged.add(rng.normal(size=(rows, 6)), attrs={"tag": [f"t{i % 5}" for i in range(rows)],
                                                  "size": [i if i % 7 else None for i in range(rows)]}, threads=1)
    tagged.delete([1, 2])
    files["attributes"] = tagged.to_bytes()
    for dtype in codecs:  # compressed codes; rabitq also keeps full vectors (FULL) for reranking
        extra = {"pq_m": 4} if dtype == "pq" else {"rerank": True} if dtype == "rabitq" else {}
        coded = vecindex.Index(dim=8, M=4, ef_construction=16, dtype=dtype, **extra)
        coded.add(rng.normal(size=(max(n, 256), 8)), threads=1)
        coded.delete([5])
        files[dtype] = coded.to_bytes()
    return files


def report(capsys, what: str, counts: dict[str, int]) -> None:
    with capsys.disabled():
        print(f"\n[fuzz_load] {what}: {counts['files']} mutated files tried, {counts['loaded']} loaded soundly, "
              f"{counts['format-error']} raised FormatError")


def test_reseal_is_exact_and_makes_edits_loadable():
    """The helper's CRCs match the core's, so re-sealed edits are judged on structure alone."""
    blob = make_base_files(60)["l2"]
    assert vx_file.reseal(blob) == blob
    assert vx_file.build(vx_file.sections(blob)) == blob
    meta_offset, meta_length = vx_file.section_span(blob, "META")
    meta = blob[meta_offset:meta_offset + meta_length]
    offset, fmt = vx_file.meta_fields(meta)["ef_search"]
    edited = bytearray(blob)
    edited[meta_offset + offset:meta_offset + offset + 8] = (77).to_bytes(8, "little")
    with pytest.raises(vecindex.FormatError, match="checksum"):
        vecindex.Index.from_bytes(bytes(edited))
    assert vecindex.Index.from_bytes(vx_file.reseal(bytes(edited))).ef_search == 77


def test_resealed_structural_damage_is_caught():
    """Re-sealed files with a bad neighbour id, level or count must still be refused."""
    blob = make_base_files(60)["l2"]
    meta = dict(vx_file.sections(blob))["META"]
    count = int.from_bytes(meta[72:80], "little")
    graph = dict(vx_file.sections(blob))["GRPH"]
    layout = vx_file.graph_layout(graph, count, 4)
    link_at = vx_file.link_block(layout, 0, 0) + 4
    for label, payload in (
        ("link out of range", graph[:link_at] + count.to_bytes(4, "little") + graph[link_at + 4:]),
        ("level too high", graph[:40] + bytes([99]) + graph[41:]),
        ("count too large", graph[:24] + (2**40).to_bytes(8, "little") + graph[32:]),
    ):
        with pytest.raises(vecindex.FormatError):
            vecindex.Index.from_bytes(vx_file.replace_section(blob, "GRPH", payload))


def test_fuzz_load_quick(tmp_path, capsys):
    counts = fuzz(tmp_path, make_base_files(150), scale=1)
    report(capsys, "quick run", counts)
    # Re-sealing must let some mutations through to the structural checks and beyond.
    assert counts["loaded"] > 0 and counts["format-error"] > 0


@pytest.mark.slow
def test_fuzz_load_thorough(tmp_path, capsys):
    counts = fuzz(tmp_path, make_base_files(600, codecs=("f16", "bf16", "sq8", "sq4", "pq", "rabitq")), scale=8)
    report(capsys, "thorough run", counts)
    assert counts["loaded"] > 0 and counts["format-error"] > 0


# Loads each file twice (copying, then mapped) and prints "<n> <outcome> <peak growth bytes>":
# the peak resident set during the loads above what the process held before. The kernel's
# high-water mark is reset before every file (clear_refs 5), so each file is measured alone.
PEAK_LOADER = textwrap.dedent(
    """
    import sys, vecindex
    def status(key):
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1]) * 1024
    for number, path in enumerate(sys.argv[1:]):
        outcomes, peak = [], 0
        for mmap in (False, True):
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            before = status("VmRSS:")
            try:
                index = vecindex.Index.load(path, mmap=mmap)
                index.search([0.0] * index.dim, k=2)
                del index
                outcomes.append("loaded")
            except vecindex.FormatError:
                outcomes.append("format-error")
            except BaseException as error:
                outcomes.append(f"raised-{type(error).__name__}")
            peak = max(peak, status("VmHWM:") - before)
        print(number, "/".join(sorted(set(outcomes))), peak, flush=True)
    """
)


def amplification_bases() -> dict[str, bytes]:
    """Small files to craft from: the fuzz bases with every codec family, an sq8 index keeping
    full vectors, and an index with attributes whose vectors are all deleted (so an ATTR with
    no rows is consistent with it)."""
    files = make_base_files(150, codecs=("sq8", "pq", "rabitq"))
    rng = np.random.default_rng(12)
    kept = vecindex.Index(dim=8, M=4, ef_construction=16, dtype="sq8", rerank=True)
    kept.add(rng.normal(size=(64, 8)), threads=1)
    files["sq8-rerank"] = kept.to_bytes()
    dead = vecindex.Index(dim=4, M=2, ef_construction=8, attributes={"tag": "keywords"})
    dead.add(rng.normal(size=(200, 4)), threads=1)
    dead.delete(dead.ids())
    files["all-deleted-attributes"] = dead.to_bytes()
    files["empty-attributes"] = vecindex.Index(dim=4, attributes={"tag": "keywords"}).to_bytes()
    return files


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_crafted_sizes_cannot_inflate_memory(tmp_path, capsys):
    """A small file declaring a huge dim, M, count, pq_m, attribute field/slot/dictionary count
    (re-sealed, so only the size checks can refuse it) must not make load commit more memory
    than the file itself plus 16 MiB: every size is checked against the file before allocating."""
    cases = []
    for name, blob in sorted(amplification_bases().items()):
        rng = np.random.default_rng(len(cases))
        cases += [(f"{name}:{label}", data) for label, data in fuzz_mutations.size_amplifications(blob, rng)]
    paths = []
    for number, (_label, data) in enumerate(cases):
        path = tmp_path / f"a{number}.vx"
        path.write_bytes(data)
        paths.append(str(path))
    result = subprocess.run([sys.executable, "-c", PEAK_LOADER, *paths], capture_output=True, text=True, timeout=900)
    lines = result.stdout.splitlines()
    assert result.returncode == 0 and len(lines) == len(paths), (
        f"loader died (rc={result.returncode}) after {len(lines)} files\n{result.stderr[-3000:]}")
    worst, bad = (0, ""), []
    for (label, data), line in zip(cases, lines):
        _number, outcome, peak = line.split()
        allowed = len(data) + (16 << 20)
        if int(peak) > allowed or not set(outcome.split("/")) <= {"loaded", "format-error"}:
            bad.append(f"{label} ({len(data)} bytes): {outcome}, peak +{int(peak) / 2**20:.1f} MiB")
        worst = max(worst, (int(peak), label))
    with capsys.disabled():
        print(f"\n[fuzz_load] {len(cases)} crafted-size files; largest peak growth {worst[0] / 2**20:.1f} MiB ({worst[1]})")
    assert not bad, f"{len(bad)} crafted files inflated memory or raised otherwise:\n" + "\n".join(bad[:30])
