"""The one message for a framework that is not installed."""
from __future__ import annotations


def missing_framework(module: str, extra: str, error: ImportError) -> ImportError:
    """An ImportError naming the extra that installs what ``module`` needs."""
    message = (f"vecindex.integrations.{module} needs {error.name or 'its framework'}, which is not installed: "
               f'pip install "vecindex[{extra}]"')
    return ImportError(message, name=error.name)
