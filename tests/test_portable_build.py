"""The built extension must run on any x86-64 CPU until cpuid has chosen a kernel table.

FAISS, hnswlib and annoy wheels have crashed with SIGILL because code compiled with AVX flags
leaked into functions that run before the CPU check (typically an inline library function
instantiated in a kernel file that the linker then used for every caller). Our kernels live
in per-ISA ELF sections named vecindex_isa_<isa> (see cpp/simd/kernel_table.h), which survive
stripping, so the disassembly of the shipped _core shows exactly where ISA code may be.
"""
import json
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from vecindex import _core

REPO_ROOT = Path(__file__).resolve().parents[1]
CORE_PATH = Path(_core.__file__)
IS_X86_64 = platform.machine().lower() in {"x86_64", "amd64"}
KERNEL_SECTION_PREFIX = "vecindex_isa_"

x86_64_only = pytest.mark.skipif(not IS_X86_64, reason="checks x86-64 ISA extensions")
needs_objdump = pytest.mark.skipif(shutil.which("objdump") is None, reason="objdump not installed")

# Beyond the x86-64 baseline: all AVX/AVX2/FMA/F16C/AVX-512 instructions are VEX/EVEX
# encoded with mnemonics starting "v", AVX-512 mask instructions start "k" (no baseline
# mnemonic starts with either, bar the never-emitted verr/verw), plus the scalar
# extensions the ISA files' flags enable. tzcnt is left out: it encodes as `rep bsf`,
# which baseline GCC emits on purpose because older CPUs run it as bsf.
EXTENDED_SCALAR_MNEMONICS = {
    "popcnt", "lzcnt", "movbe", "andn", "bextr", "blsi", "blsmsk", "blsr",
    "bzhi", "mulx", "pdep", "pext", "rorx", "sarx", "shlx", "shrx",
}
BASELINE_V_MNEMONICS = {"verr", "verw"}
SECTION_LINE = re.compile(r"^Disassembly of section (\S+):$")
LABEL_LINE = re.compile(r"^[0-9a-f]+ <(.+)>:$")
INSTRUCTION_LINE = re.compile(r"^\s+[0-9a-f]+:\t(.*)$")
MNEMONIC_WORD = re.compile(r"^[a-z][a-z0-9.]*$")


def is_beyond_baseline(instruction):
    # Leading words are prefixes (lock, rep, notrack, data16, ...) and the mnemonic.
    for word in instruction.split():
        if not MNEMONIC_WORD.match(word):
            break
        if word in EXTENDED_SCALAR_MNEMONICS:
            return True
        if (word.startswith("v") and word not in BASELINE_V_MNEMONICS) or re.match(r"^k[a-z]", word):
            return True
    return False


def disassemble(path):
    """Yields (section, function label, instruction text) for every instruction."""
    result = subprocess.run(
        ["objdump", "-d", "-C", "--no-show-raw-insn", str(path)], capture_output=True, text=True, check=True
    )
    section = label = ""
    for line in result.stdout.splitlines():
        if match := SECTION_LINE.match(line):
            section, label = match.group(1), ""
        elif match := LABEL_LINE.match(line):
            label = match.group(1)
        elif match := INSTRUCTION_LINE.match(line):
            yield section, label, match.group(1)


@pytest.fixture(scope="module")
def instructions():
    return list(disassemble(CORE_PATH))


@x86_64_only
@needs_objdump
def test_isa_instructions_appear_only_in_kernel_sections(instructions):
    leaked = [
        f"{section} <{label}>: {text}"
        for section, label, text in instructions
        if not section.startswith(KERNEL_SECTION_PREFIX) and is_beyond_baseline(text)
    ]
    assert not leaked, (
        f"{len(leaked)} instructions beyond baseline x86-64 outside the kernel sections of "
        f"{CORE_PATH.name}; they may run before the cpuid check:\n" + "\n".join(leaked[:30])
    )


@x86_64_only
@needs_objdump
@pytest.mark.parametrize("isa, register", [("avx2", "%ymm"), ("avx512", "%zmm")])
def test_kernel_sections_hold_the_isa_kernels(instructions, isa, register):
    # Proves the check above looks at the right thing: the ISA code is there, where expected.
    section = KERNEL_SECTION_PREFIX + isa
    in_section = [text for name, _, text in instructions if name == section]
    assert in_section, f"no section {section} in {CORE_PATH.name}"
    assert any(register in text for text in in_section), f"{section} uses no {register} register"


@x86_64_only
@needs_objdump
def test_kernel_sections_hold_only_kernel_functions(instructions):
    # A stripped build labels code by section; an unstripped one names each function, which
    # must then be a kernel from an ISA namespace (vecindex::simd::avx2_impl and so on).
    labels = {(section, label) for section, label, _ in instructions if section.startswith(KERNEL_SECTION_PREFIX)}
    assert labels, "no kernel sections found"
    strangers = [
        f"{section}: {label}"
        for section, label in labels
        if label.split("+")[0] != section and "_impl::" not in label
    ]
    assert not strangers, "non-kernel functions in kernel sections:\n" + "\n".join(sorted(strangers))


@pytest.mark.parametrize("build_file", ["CMakeLists.txt", "pyproject.toml"])
def test_build_files_have_no_unportable_flags(build_file):
    path = REPO_ROOT / build_file
    if not path.exists():
        pytest.skip(f"{build_file} not found next to the tests (installed test run)")
    # Both formats use '#' comments; a comment may name a flag to say why it is absent.
    code = "\n".join(line.split("#", 1)[0] for line in path.read_text().splitlines())
    for flag in ["-march=native", "-mtune=native", "-mcpu=native", "-ffast-math", "-Ofast",
                 "-funsafe-math-optimizations"]:
        assert flag not in code, f"{build_file} uses {flag}: wheels built with it crash or lose IEEE semantics"


# ---- run the extension on an emulated CPU without AVX (user-mode qemu) ----

needs_qemu = pytest.mark.skipif(shutil.which("qemu-x86_64") is None, reason="qemu-x86_64 (qemu-user) not installed")

# numpy itself needs x86-64-v2, so the oldest CPU a user can run us on is Nehalem-class
# (SSE4.2, POPCNT, no AVX); that is the CPU we emulate.
OLDEST_NUMPY_CPU = "Nehalem"
IMPORT_SCRIPT = "import json, vecindex; print(json.dumps(vecindex.simd_info()))"
# Scalar kernels are deterministic, so the emulated run must match a native scalar run exactly.
KERNEL_SCRIPT = """
import json, numpy as np, vecindex
from vecindex import _core
rng = np.random.default_rng(0)
a, b = rng.standard_normal((2, 389)).astype(np.float32)
rows = list(rng.standard_normal((4, 389)).astype(np.float32))
values = {kernel: [_core._kernel_distance("scalar", kernel, a, b),
                   _core._kernel_distance_x4("scalar", kernel, a, rows).tolist()]
          for kernel in ("l2sq", "dot")}
print(json.dumps({"info": vecindex.simd_info(), "values": values}))
"""


# What simd_info() must say on a CPU without AVX: every kernel family runs scalar code.
SCALAR_ONLY = {"level": "scalar", "available": ["scalar"],
               "families": {"f32": "scalar", "codec": "scalar", "chamfer": "scalar"}}


def run_emulated(cpu, script, forced_level=None):
    """Runs script on an emulated cpu; cpu=None runs it natively for comparison."""
    env = {"PATH": "/usr/bin:/bin"}
    if forced_level is not None:
        env["VECINDEX_SIMD"] = forced_level
    # Found on the caller's PATH: the child's PATH is minimal on purpose.
    emulator = [] if cpu is None else [shutil.which("qemu-x86_64"), "-cpu", cpu]
    result = subprocess.run(
        [*emulator, sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, (
        f"run on emulated {cpu} (VECINDEX_SIMD={forced_level}) exited {result.returncode} "
        f"(-4 or 132 is SIGILL):\n{result.stderr[-2000:]}"
    )
    return result.stdout


@x86_64_only
@needs_qemu
def test_import_on_cpu_without_avx_picks_scalar():
    info = json.loads(run_emulated(OLDEST_NUMPY_CPU, IMPORT_SCRIPT))
    # 'available' comes from our own cpuid check: it proves the emulated CPU lacks AVX.
    assert info == SCALAR_ONLY


@x86_64_only
@needs_qemu
def test_kernels_run_on_cpu_without_avx_and_match_native_scalar():
    emulated = json.loads(run_emulated(OLDEST_NUMPY_CPU, KERNEL_SCRIPT, forced_level="avx2"))
    native = json.loads(run_emulated(None, KERNEL_SCRIPT, forced_level="scalar"))
    assert emulated["info"] == SCALAR_ONLY
    assert emulated["values"] == native["values"]


@x86_64_only
@needs_qemu
@pytest.mark.parametrize("cpu, available", [
    ("Haswell", ["scalar", "avx2"]),
    ("Haswell,-f16c", ["scalar"]),    # AVX2 and FMA alone were once enough to pick avx2
    ("Haswell,-bmi2", ["scalar"]),
    ("Haswell,-popcnt", ["scalar"]),
    ("Haswell,-xsave", ["scalar"]),   # no XSAVE: the OS cannot save YMM registers
])
def test_emulated_cpu_missing_one_avx2_level_flag_gets_scalar(cpu, available):
    info = json.loads(run_emulated(cpu, IMPORT_SCRIPT))
    assert info["available"] == available and info["level"] == available[-1]


# One thread and a fixed seed make the build deterministic, so the emulated run must give
# exactly what the native scalar run gives. The odd dim exercises every kernel tail.
INDEX_SCRIPT = """
import json, numpy as np, vecindex
rng = np.random.default_rng(1)
data = rng.standard_normal((300, 37)).astype(np.float32)
report = {}
for metric in ("l2", "ip"):
    index = vecindex.Index(dim=37, metric=metric, M=8, ef_construction=40, seed=7)
    index.add(data, threads=1)
    ids, distances = index.search(data[:25], k=5, threads=1)
    report[metric] = {"ids": ids.tolist(), "distances": distances.tolist()}
print(json.dumps({"info": vecindex.simd_info(), "report": report}))
"""


@x86_64_only
@needs_qemu
def test_index_add_and_search_on_cpu_without_avx_match_native_scalar():
    emulated = json.loads(run_emulated(OLDEST_NUMPY_CPU, INDEX_SCRIPT, forced_level="avx2"))
    native = json.loads(run_emulated(None, INDEX_SCRIPT, forced_level="scalar"))
    assert emulated["info"]["level"] == native["info"]["level"] == "scalar"
    assert emulated["report"] == native["report"]


# ---- which CPUs may run a level: every compile flag, plus OS register state ----

def cmake_flags(variable):
    text = (REPO_ROOT / "CMakeLists.txt").read_text()
    match = re.search(rf'set\({variable} "([^"]*)"\)', text)
    assert match, f"{variable} not found in CMakeLists.txt"
    return [flag[len("-m"):] for flag in match.group(1).split()]


@pytest.mark.parametrize("level, variable", [("avx2", "VECINDEX_AVX2_FLAGS"), ("avx512", "VECINDEX_AVX512_FLAGS")])
def test_dispatch_checks_every_flag_the_level_is_compiled_with(level, variable):
    if not (REPO_ROOT / "CMakeLists.txt").exists():
        pytest.skip("CMakeLists.txt not found next to the tests (installed test run)")
    required = _core._simd_required_features(level)
    unchecked = [flag for flag in cmake_flags(variable) if flag not in required]
    assert not unchecked, f"{level} files are compiled with -m{unchecked} but dispatch does not check them"


# cpuid words of a CPU with everything both x86 levels need, and the OS state enabled.
LEAF1_ECX = sum(1 << bit for bit in (0, 9, 12, 19, 20, 23, 27, 28, 29))  # sse3 ... popcnt, osxsave, avx, f16c
LEAF7_EBX = sum(1 << bit for bit in (5, 8, 16, 17, 30, 31))  # avx2, bmi2, avx512 f/dq/bw/vl
LEAF7_ECX = (1 << 11) | (1 << 14)  # avx512 vnni, vpopcntdq
XCR0 = 0b11100111  # x87, SSE, AVX, opmask, ZMM_Hi256, Hi16_ZMM
FULL_CPU = {"leaf1_ecx": LEAF1_ECX, "leaf7_ebx": LEAF7_EBX, "leaf7_ecx": LEAF7_ECX, "xcr0": XCR0}


def without(word, bit):
    cpu = dict(FULL_CPU)
    cpu[word] &= ~(1 << bit)
    return cpu


@x86_64_only
@pytest.mark.parametrize("cpu, missing_avx2, missing_avx512", [
    (FULL_CPU, [], []),
    (without("leaf1_ecx", 29), ["f16c"], ["f16c"]),       # AVX2 and FMA, but no F16C
    (without("leaf7_ebx", 8), ["bmi2"], ["bmi2"]),
    (without("leaf1_ecx", 23), ["popcnt"], ["popcnt"]),
    (without("leaf1_ecx", 12), ["fma"], ["fma"]),
    (without("xcr0", 2), ["os_ymm"], ["os_ymm"]),         # the OS does not save YMM registers
    (without("leaf7_ecx", 14), [], ["avx512vpopcntdq"]),  # Skylake-X: AVX-512 without VPOPCNTDQ
    (without("leaf7_ecx", 11), [], ["avx512vnni"]),
    (without("xcr0", 6), [], ["os_zmm_hi256"]),           # the OS does not save ZMM registers
    ({**FULL_CPU, "xcr0": 0}, ["os_xmm", "os_ymm"], ["os_xmm", "os_ymm", "os_opmask", "os_zmm_hi256", "os_hi16_zmm"]),
])
def test_a_level_runs_only_where_cpu_and_os_have_all_it_needs(cpu, missing_avx2, missing_avx512):
    assert _core._simd_missing_features("avx2", cpu) == missing_avx2
    assert _core._simd_missing_features("avx512", cpu) == missing_avx512
    assert _core._simd_missing_features("scalar", {key: 0 for key in cpu}) == []


@x86_64_only
def test_levels_available_here_are_the_ones_this_cpu_has_every_feature_for():
    cpu = _core._simd_cpuid()
    available = json.loads(run_emulated(None, IMPORT_SCRIPT))["available"]
    for level in ("avx2", "avx512"):
        assert (level in available) == (_core._simd_missing_features(level, cpu) == []), level


LINUX_CPU_FLAG = {"sse3": "pni", "sse4.1": "sse4_1", "sse4.2": "sse4_2", "avx512vnni": "avx512_vnni",
                  "avx512vpopcntdq": "avx512_vpopcntdq"}


@x86_64_only
@pytest.mark.skipif(not Path("/proc/cpuinfo").exists(), reason="no /proc/cpuinfo (not Linux)")
def test_our_cpuid_reading_agrees_with_the_kernel():
    # Linux lists an extension in /proc/cpuinfo only if the CPU has it and the kernel enabled
    # its register state, so it is an independent check of our cpuid and xgetbv reading.
    flags = set(re.search(r"^flags\s*:(.*)$", Path("/proc/cpuinfo").read_text(), re.M).group(1).split())
    cpu = _core._simd_cpuid()
    for level in ("avx2", "avx512"):
        extensions = [name for name in _core._simd_required_features(level) if not name.startswith("os_")]
        kernel_says = all(LINUX_CPU_FLAG.get(name, name) in flags for name in extensions)
        assert kernel_says == (_core._simd_missing_features(level, cpu) == []), level


def test_unknown_simd_override_warns_at_import_and_is_ignored():
    env = {"PATH": "/usr/bin:/bin", "VECINDEX_SIMD": "avx3"}
    result = subprocess.run([sys.executable, "-c", IMPORT_SCRIPT], env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "RuntimeWarning: VECINDEX_SIMD='avx3' is not a SIMD level and was ignored" in result.stderr
    assert "scalar, neon, avx2, avx512" in result.stderr
    assert json.loads(result.stdout)["level"] == json.loads(run_emulated(None, IMPORT_SCRIPT))["level"]
    # With warnings as errors (as under pytest) the import fails instead of going on silently.
    strict = subprocess.run([sys.executable, "-W", "error::RuntimeWarning", "-c", IMPORT_SCRIPT], env=env,
                            capture_output=True, text=True, timeout=120)
    assert strict.returncode != 0 and "RuntimeWarning" in strict.stderr


@pytest.mark.parametrize("value", ["avx2", "scalar", "avx512", "neon", ""])
def test_known_or_empty_simd_override_imports_without_a_warning(value):
    env = {"PATH": "/usr/bin:/bin", "VECINDEX_SIMD": value}
    result = subprocess.run([sys.executable, "-W", "error", "-c", IMPORT_SCRIPT], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
