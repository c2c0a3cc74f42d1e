"""Every AVX-512 kernel against the scalar reference, on a CPU without AVX-512.

No emulator available here runs AVX-512: QEMU's TCG has none (tried: qemu-x86_64 7.2 with
-cpu max, Skylake-Server and Icelake-Server raise SIGILL on the first zmm instruction), and
Intel SDE is not in any package registry. So the kernels' own source files are compiled against
SIMDe (libsimde-dev), which implements the AVX-512 intrinsics in portable C, through the stand-in
tests/native/simde_avx512/immintrin.h, and tests/native/isa_check.cpp compares all 24 kernels
(f32, codec and Chamfer families) with scalar, inputs ending at guard pages. This checks the
kernels' logic (accumulator chains, masked tails, the combined reductions, the nibble layout);
the real instructions run only on AVX-512 hardware (tests/test_kernels.py and friends there).
"""
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SIMD = ROOT / "cpp" / "simd"
HARNESS = ROOT / "tests" / "native" / "isa_check.cpp"
SHIM = ROOT / "tests" / "native" / "simde_avx512"
SOURCES = [HARNESS] + [SIMD / f"{family}_{isa}.cpp" for family in ("kernels", "codec_kernels", "chamfer_kernels")
                       for isa in ("scalar", "avx512")] + \
          [SIMD / name for name in ("dispatch.cpp", "codec_dispatch.cpp", "chamfer_dispatch.cpp")]
CXX = shutil.which("g++") or shutil.which("c++")


def simde_present():
    if CXX is None:
        return False
    probe = subprocess.run([CXX, "-x", "c++", "-std=c++17", "-E", "-"], input="#include <simde/x86/avx512.h>\n",
                           capture_output=True, text=True)
    return probe.returncode == 0


needs_simde = pytest.mark.skipif(not simde_present(), reason="needs a C++ compiler and SIMDe (libsimde-dev) headers")


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    binary = tmp_path_factory.mktemp("avx512") / "isa_check"
    # Baseline x86-64 flags: the point is to run on a CPU without AVX-512 (or AVX2).
    command = [CXX, "-O1", "-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-psabi", "-DVECINDEX_CHECK_AVX512",
               f"-I{SHIM}", f"-I{ROOT / 'cpp'}", *map(str, SOURCES), "-o", str(binary)]
    built = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert built.returncode == 0, f"building the SIMDe AVX-512 harness failed:\n{built.stderr[-4000:]}"
    return binary


@needs_simde
@pytest.mark.parametrize("seed", [20261126, 7])
def test_every_avx512_kernel_matches_scalar_on_simde(harness, seed):
    result = subprocess.run([str(harness), str(seed)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"AVX-512 kernels disagree with scalar (seed {seed}):\n{result.stdout}{result.stderr}"
    assert "24 kernels checked, 0 failures" in result.stdout, result.stdout


def test_shim_defines_only_what_simde_lacks():
    # The stand-in header adds intrinsics SIMDe 0.7.4 lacks; each must be a real Intel intrinsic
    # name that the kernel files use, so a typo cannot hide a kernel's call behind a shim.
    shim = (SHIM / "immintrin.h").read_text()
    kernels = "".join(path.read_text() for path in SIMD.glob("*avx512*"))
    defined = {line.split("(")[0].split()[-1] for line in shim.splitlines()
               if line.startswith("inline ") and " _mm" in line.split("(")[0]}
    assert defined, "no shim intrinsics found"
    unused = sorted(name for name in defined if name not in kernels)
    assert not unused, f"shim defines intrinsics no AVX-512 kernel uses: {unused}"
