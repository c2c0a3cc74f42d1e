"""The README's multi-vector example runs as written, and its claims hold."""
import re
from pathlib import Path

import numpy as np

import vecindex

README = Path(__file__).resolve().parents[1] / "README.md"


def example_code():
    text = README.read_text()
    section = text[text.index("## Multi-vector (late interaction)"):]
    section = section[:section.index("\n## ", 5)]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_readme_example_runs_as_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = {}
    exec(compile(example_code(), "README.md", "exec"), namespace)
    mv, q1, q2, q3 = namespace["mv"], namespace["q1"], namespace["q2"], namespace["q3"]
    ids, scores = namespace["ids"], namespace["scores"]
    assert ids.shape == scores.shape == (3, 10)
    # The filtered search kept to its filter, and its scores are exact Chamfer similarities.
    assert all(i % 10 == 0 for i in ids.ravel())
    for q, query in enumerate((q1, q2, q3)):
        for id_, score in zip(ids[q], scores[q]):
            exact = float((query @ mv.get(int(id_)).T).max(axis=1).sum())
            assert abs(score - exact) <= 1e-4 * max(1.0, abs(exact))
    assert 7 not in mv and len(mv) == 999
    assert (tmp_path / "mv.vx").exists()


def test_default_encoding_is_the_documented_one():
    index = vecindex.MultiVectorIndex(dim=128)
    assert index.dtype == "sq8" and index.token_dtype == "f16"
    encoding = index.encoding
    assert encoding["dim"] == encoding["r_reps"] * 2 ** encoding["k_sim"] * encoding["d_proj"]
    assert isinstance(index.encode_queries([np.ones((3, 128), np.float32)]), np.ndarray)
