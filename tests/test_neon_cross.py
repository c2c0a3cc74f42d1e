"""Every NEON kernel against the scalar reference, cross-compiled for aarch64 and run in qemu.

The x86 build never compiles the *_neon.cpp files, so without this test the NEON kernels would
go unexecuted here. tests/native/isa_check.cpp holds the comparisons; this test builds it with
the six kernel files (and the three dispatch files) and requires a zero exit status. Skipped
where the cross toolchain or qemu-aarch64 is missing.
"""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CPP = ROOT / "cpp"
HARNESS = ROOT / "tests" / "native" / "isa_check.cpp"
KERNEL_FILES = [
    CPP / "simd" / "kernels_scalar.cpp",
    CPP / "simd" / "kernels_neon.cpp",
    CPP / "simd" / "codec_kernels_scalar.cpp",
    CPP / "simd" / "codec_kernels_neon.cpp",
    CPP / "simd" / "chamfer_kernels_scalar.cpp",
    CPP / "simd" / "chamfer_kernels_neon.cpp",
]
DISPATCH_FILES = [CPP / "simd" / "dispatch.cpp", CPP / "simd" / "codec_dispatch.cpp", CPP / "simd" / "chamfer_dispatch.cpp"]
CROSS_CXX = "aarch64-linux-gnu-g++"
QEMU = "qemu-aarch64"
SYSROOT = "/usr/aarch64-linux-gnu"

# Only the qemu runs need the cross toolchain; the x86 compile check below does not.
needs_cross_toolchain = pytest.mark.skipif(
    shutil.which(CROSS_CXX) is None or shutil.which(QEMU) is None,
    reason=f"needs {CROSS_CXX} and {QEMU} on PATH",
)


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    binary = tmp_path_factory.mktemp("neon") / "neon_check"
    command = [CROSS_CXX, "-O2", "-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter", f"-I{CPP}",
               str(HARNESS), *map(str, KERNEL_FILES + DISPATCH_FILES), "-o", str(binary)]
    built = subprocess.run(command, capture_output=True, text=True)
    assert built.returncode == 0, f"cross-compilation failed:\n{built.stderr}"
    return binary


def run_harness(binary, seed):
    # Without VECINDEX_SIMD the harness also checks that dispatch picks the NEON tables.
    env = {key: value for key, value in os.environ.items() if key != "VECINDEX_SIMD"}
    return subprocess.run([QEMU, "-L", SYSROOT, str(binary), str(seed)], capture_output=True, text=True,
                          timeout=600, env=env)


@needs_cross_toolchain
@pytest.mark.parametrize("seed", [20261126, 7])
def test_every_neon_kernel_matches_scalar(harness, seed):
    result = run_harness(harness, seed)
    assert result.returncode == 0, f"NEON kernels disagree with scalar (seed {seed}):\n{result.stdout}{result.stderr}"
    # The harness's own summary: all 24 kernels (4 f32 + 18 codec + 2 Chamfer) were compared.
    assert "dispatch: NEON tables available and active" in result.stdout, result.stdout
    assert "24 kernels checked, 0 failures" in result.stdout, result.stdout


def test_neon_codec_file_compiles_to_nothing_on_x86(tmp_path):
    """The x86 build skips *_neon.cpp, and the file's __aarch64__ guard keeps it harmless if compiled."""
    cxx = shutil.which("g++") or shutil.which("c++")
    if cxx is None:
        pytest.skip("no native C++ compiler")
    machine = subprocess.run([cxx, "-dumpmachine"], capture_output=True, text=True).stdout
    if "aarch64" in machine:
        pytest.skip("native compiler targets aarch64")
    obj = tmp_path / "codec_kernels_neon.o"
    built = subprocess.run([cxx, "-O2", "-std=c++17", f"-I{CPP}", "-c", str(KERNEL_FILES[3]), "-o", str(obj)],
                           capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    nm = shutil.which("nm")
    if nm is not None:
        symbols = subprocess.run([nm, str(obj)], capture_output=True, text=True, check=True).stdout
        assert symbols.strip() == "", f"x86 object of the NEON file defines symbols:\n{symbols}"
