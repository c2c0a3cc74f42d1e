"""Progress reporting for long calls: ``add(..., progress=...)`` and ``train(..., progress=...)``.

The ``progress`` argument takes:

- ``False`` or ``None`` (default): no reporting;
- ``True``: a tqdm progress bar on stderr when tqdm is installed (``pip install
  vecindex[progress]``), otherwise a plain line on stderr at every 10%;
- a callable ``progress(done, total)``: called from the calling thread with the GIL held,
  about every 50 ms while the call runs and once more with ``(total, total)`` when it
  finishes. Returning ``False`` cancels the call, which then raises
  :class:`vecindex.Cancelled`; any other return value (``True``, ``None``) continues. An
  exception raised by the callable also stops the call and propagates.

A cancelled ``add`` keeps the vectors already linked into the graph and forgets the rest;
the index stays valid and usable. The :class:`Cancelled` exception says how many were kept,
and its ``added_ids`` attribute holds their ids (int64 array, in input order; an object
array of str keys for an index made with ``keys="str"``; with several threads they need not
be the first rows of the batch). Automatic ids of forgotten rows are
not used up: the next add continues after the largest id kept. Ctrl-C during ``add`` behaves
the same and raises ``KeyboardInterrupt`` carrying the same ``added_ids``. ``train`` reports
only its start ``(0, n)`` and end ``(n, n)``: cancelling at the start skips training
(``added_ids`` is then None).
"""
from __future__ import annotations

import sys
from typing import Any, Callable, Optional, Union

from vecindex._core import Cancelled

ProgressCallback = Callable[[int, int], Optional[bool]]
ProgressArg = Union[bool, None, ProgressCallback]

__all__ = ["Cancelled", "ProgressCallback", "ProgressArg", "ProgressReporter"]


class ProgressReporter:
    """Turns a ``progress=`` argument into the ``callback(done, total)`` the core polls.

    Use as a context manager around one call: the bar is closed even when the call fails.
    """

    def __init__(self, progress: ProgressArg, description: str) -> None:
        if progress is not None and not isinstance(progress, bool) and not callable(progress):
            raise TypeError(f"progress must be True, False or a callable(done, total), not {type(progress).__name__}")
        self._description = description
        self._user: Optional[ProgressCallback] = progress if callable(progress) else None
        self._show = progress is True
        self._bar: Any = None
        self._printed_step = -1
        self._done = 0

    @property
    def callback(self) -> Optional[ProgressCallback]:
        """What to hand to the core, or None when nothing reports (keeps the fast path)."""
        return self.report if (self._user or self._show) else None

    def report(self, done: int, total: int) -> Optional[bool]:
        """Record progress; returns False when the user's callable asks to cancel."""
        self._done = done
        if self._show:
            self._draw(done, total)
        if self._user is not None:
            return self._user(done, total)
        return None

    def start(self, total: int) -> None:
        """Report ``(0, total)``; raises Cancelled if the user's callable returns False."""
        if self.report(0, total) is False:
            raise Cancelled("cancelled by the progress callback")

    def finish(self, total: int) -> None:
        """Report completion ``(total, total)``; the answer no longer matters."""
        if self.callback is not None:
            self.report(total, total)

    def __enter__(self) -> "ProgressReporter":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def _draw(self, done: int, total: int) -> None:
        if self._bar is None and self._printed_step < 0:
            self._bar = _make_tqdm(total, self._description)
        if self._bar is not None:
            self._bar.update(done - self._bar.n)
            return
        # Plain fallback: one line per 10% (log-friendly, no carriage returns).
        step = 10 if total == 0 else done * 10 // total
        if step > self._printed_step:
            self._printed_step = step
            print(f"vecindex {self._description}: {done}/{total} ({step * 10}%)", file=sys.stderr, flush=True)


def _make_tqdm(total: int, description: str) -> Any:
    try:
        from tqdm.auto import tqdm  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        return None
    return tqdm(total=total, desc=f"vecindex {description}", unit="vec")
