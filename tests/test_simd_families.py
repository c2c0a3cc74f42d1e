"""Each kernel family (f32 distances, codec, Chamfer) picks its SIMD level on its own.

VECINDEX_SIMD forces every family; VECINDEX_SIMD_F32 / _CODEC / _CHAMFER override it for one
family. One rule in cpp/simd/dispatch.cpp (choose_family_level) serves all three; these tests
check it through vecindex.simd_info()["families"] and the families' own active-level hooks, in a
fresh interpreter per environment because the levels are chosen once, at first use.
"""
import json
import os
import subprocess
import sys

import pytest

import vecindex

AVAILABLE = vecindex.simd_info()["available"]
BEST = AVAILABLE[-1]
UNAVAILABLE = [name for name in ("scalar", "neon", "avx2", "avx512") if name not in AVAILABLE]
FAMILIES = {"f32": "VECINDEX_SIMD_F32", "codec": "VECINDEX_SIMD_CODEC", "chamfer": "VECINDEX_SIMD_CHAMFER"}
PROBE = ("import json, vecindex; from vecindex import _core, _codec_testing; info = vecindex.simd_info(); "
         "print(json.dumps([info, _codec_testing._codec_active_level(), _core._chamfer_active_level()]))")


def import_with(strict_warnings=False, **variables):
    env = {key: value for key, value in os.environ.items() if not key.startswith("VECINDEX_SIMD")}
    env.update(variables)
    command = [sys.executable] + (["-W", "error"] if strict_warnings else []) + ["-c", PROBE]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    return result


def families_with(**variables):
    result = import_with(**variables)
    assert result.returncode == 0, result.stderr
    info, codec_level, chamfer_level = json.loads(result.stdout)
    # simd_info reports the tables the families really use.
    assert info["families"]["codec"] == codec_level and info["families"]["chamfer"] == chamfer_level
    assert info["level"] == info["families"]["f32"]
    return info["families"]


def test_unforced_families_run_at_the_best_level():
    assert families_with() == {"f32": BEST, "codec": BEST, "chamfer": BEST}


@pytest.mark.parametrize("level", AVAILABLE)
def test_global_variable_forces_every_family(level):
    assert families_with(VECINDEX_SIMD=level) == {"f32": level, "codec": level, "chamfer": level}


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("level", AVAILABLE)
def test_family_variable_forces_only_its_family(family, level):
    # Under VECINDEX_SIMD=<another level>, so the override is visible whichever level is the best.
    other = "scalar" if level != "scalar" else BEST
    got = families_with(VECINDEX_SIMD=other, **{FAMILIES[family]: level})
    assert got == {name: (level if name == family else other) for name in FAMILIES}


@pytest.mark.parametrize("family", FAMILIES)
def test_unknown_family_value_warns_and_defers_to_the_global_variable(family):
    variable = FAMILIES[family]
    result = import_with(VECINDEX_SIMD="scalar", **{variable: "avx3"})
    assert result.returncode == 0, result.stderr
    assert f"RuntimeWarning: {variable}='avx3' is not a SIMD level and was ignored" in result.stderr
    assert "scalar, neon, avx2, avx512" in result.stderr
    info = json.loads(result.stdout)[0]
    assert info["families"] == {name: "scalar" for name in FAMILIES}
    # With warnings as errors (as under pytest) the import fails instead of going on silently.
    strict = import_with(strict_warnings=True, VECINDEX_SIMD="scalar", **{variable: "avx3"})
    assert strict.returncode != 0 and variable in strict.stderr


def test_unknown_global_and_family_values_each_warn_once():
    result = import_with(VECINDEX_SIMD="sse9", VECINDEX_SIMD_CODEC="avx3")
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("VECINDEX_SIMD='sse9' is not a SIMD level") == 1, result.stderr
    assert result.stderr.count("VECINDEX_SIMD_CODEC='avx3' is not a SIMD level") == 1, result.stderr
    assert json.loads(result.stdout)[0]["families"] == {name: BEST for name in FAMILIES}


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("level", UNAVAILABLE)
def test_unavailable_family_level_falls_back_to_the_best_without_a_warning(family, level):
    result = import_with(strict_warnings=True, VECINDEX_SIMD="scalar", **{FAMILIES[family]: level})
    assert result.returncode == 0, result.stderr
    families = json.loads(result.stdout)[0]["families"]
    assert families == {name: (BEST if name == family else "scalar") for name in FAMILIES}


@pytest.mark.parametrize("family", FAMILIES)
def test_empty_family_value_is_unset(family):
    result = import_with(strict_warnings=True, VECINDEX_SIMD="scalar", **{FAMILIES[family]: ""})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[0]["families"] == {name: "scalar" for name in FAMILIES}
