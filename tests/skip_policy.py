"""Which skipped tests CI tolerates: the one allow-list of skip reasons.

With ``VECINDEX_STRICT_SKIPS=1`` (set by .ci/run) a test session fails when any test was
skipped for a reason not listed here, or for a listed reason whose condition does not hold
on this machine. ``pip install ".[test]"`` installs every package a test needs, so a missing
package is never a valid reason; what remains is what the hardware (or its emulator) forces.
"""
from __future__ import annotations

import os
import platform
import re
import shutil
from typing import Callable, NamedTuple, Optional

STRICT_ENV = "VECINDEX_STRICT_SKIPS"


class AllowedSkip(NamedTuple):
    pattern: str                  # regular expression matched against the whole skip reason
    holds: Callable[[], bool]     # the skip is only tolerated where this is true


def _machine() -> str:
    return platform.machine().lower()


def _is_x86_64() -> bool:
    return _machine() in {"x86_64", "amd64"}


def _is_aarch64() -> bool:
    return _machine() in {"aarch64", "arm64"}


def _simd_levels() -> list:
    from vecindex import simd_info
    return simd_info()["available"]


def _missing(*programs: str) -> bool:
    return any(shutil.which(program) is None for program in programs)


def huge_pages_offered() -> bool:
    """True when the kernel grants transparent huge pages to advised memory ("always" or "madvise")."""
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
            return "[never]" not in f.read()
    except OSError:
        return False


ALLOWED_SKIPS = [
    # The CPU has no AVX-512 (the level is compiled in on every x86-64 build).
    AllowedSkip(r"avx512 codec kernels not available on this CPU/build", lambda: "avx512" not in _simd_levels()),
    # NEON kernels exist only in aarch64 builds, AVX2 ones only in x86-64 builds.
    AllowedSkip(r"neon codec kernels not available on this CPU/build", lambda: not _is_aarch64()),
    AllowedSkip(r"avx2 codec kernels not available on this CPU/build", lambda: not _is_x86_64()),
    # The same for the multi-vector Chamfer kernels.
    AllowedSkip(r"avx512 Chamfer kernel not available on this CPU/build", lambda: "avx512" not in _simd_levels()),
    AllowedSkip(r"neon Chamfer kernel not available on this CPU/build", lambda: not _is_aarch64()),
    AllowedSkip(r"avx2 Chamfer kernel not available on this CPU/build", lambda: not _is_x86_64()),
    # Only a CPU with every level would have no unavailable level to test (none exists).
    AllowedSkip(r"every level is available here", lambda: True),
    # qemu-user and the aarch64 cross compiler: .ci/run installs them when the machine lets
    # it (root, apt-get, network); elsewhere the emulated-CPU tests cannot run.
    AllowedSkip(r"needs aarch64-linux-gnu-g\+\+ and qemu-aarch64 on PATH",
                lambda: _missing("aarch64-linux-gnu-g++", "qemu-aarch64")),
    AllowedSkip(r"qemu-x86_64 \(qemu-user\) not installed", lambda: _missing("qemu-x86_64")),
    # SIMDe's portable AVX-512 intrinsics (libsimde-dev), which .ci/run installs the same way.
    AllowedSkip(r"needs a C\+\+ compiler and SIMDe \(libsimde-dev\) headers",
                lambda: not os.path.exists("/usr/include/simde/x86/avx512.h")),
    # x86-64 disassembly checks mean nothing on another architecture, and the "NEON file
    # compiles to nothing on x86" check needs a compiler that targets x86.
    AllowedSkip(r"checks x86-64 ISA extensions", lambda: not _is_x86_64()),
    AllowedSkip(r"native compiler targets aarch64", _is_aarch64),
    # The cpuid cross-check reads the Linux kernel's view of the CPU.
    AllowedSkip(r"no /proc/cpuinfo \(not Linux\)", lambda: not os.path.exists("/proc/cpuinfo")),
    # Huge-page placement can only be checked where the kernel offers transparent huge pages.
    AllowedSkip(r"transparent huge pages are not offered by this kernel", lambda: not huge_pages_offered()),
    # Root ignores folder permissions; the read-only-folder test then drops those powers with
    # util-linux's setpriv, and can only skip where root has no setpriv.
    AllowedSkip(r"root may write into read-only folders",
                lambda: hasattr(os, "geteuid") and os.geteuid() == 0 and _missing("setpriv")),
]


def _reason_of(report) -> str:
    # A skip's longrepr is (path, line, "Skipped: <reason>").
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    return reason[len("Skipped: "):] if reason.startswith("Skipped: ") else reason


def why_not_allowed(reason: str) -> Optional[str]:
    """None if the skip is tolerated here, else what is wrong with it."""
    for allowed in ALLOWED_SKIPS:
        if re.fullmatch(allowed.pattern, reason):
            return None if allowed.holds() else "its reason is allowed, but does not hold on this machine"
    return "its reason is not in tests/skip_policy.py ALLOWED_SKIPS"


class StrictSkips:
    """Fails the session (exit status 1) on a skip the allow-list does not cover."""

    def __init__(self):
        self.refused: list[str] = []

    def pytest_runtest_logreport(self, report):
        if report.skipped and not hasattr(report, "wasxfail"):
            self._check(report)

    def pytest_collectreport(self, report):  # a module that skips itself while imported
        if report.skipped:
            self._check(report)

    def _check(self, report) -> None:
        problem = why_not_allowed(_reason_of(report))
        if problem is not None:
            self.refused.append(f"{report.nodeid}: {_reason_of(report)!r} ({problem})")

    def pytest_terminal_summary(self, terminalreporter):
        if self.refused:
            terminalreporter.section(f"{STRICT_ENV}=1: skips not allowed")
            for line in self.refused:
                terminalreporter.line(line)

    def pytest_sessionfinish(self, session):
        # 5: nothing ran, e.g. every module skipped itself; that must fail too.
        if self.refused and session.exitstatus in (0, 5):
            session.exitstatus = 1


def register_if_strict(config) -> None:
    if os.environ.get(STRICT_ENV) == "1":
        config.pluginmanager.register(StrictSkips(), "vecindex-strict-skips")
