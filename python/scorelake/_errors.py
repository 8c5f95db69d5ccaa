"""Errors raised by ScoreLake."""

from ._scorelake import ScoreLakeError

__all__ = ["ScoreLakeError", "missing_package"]


def missing_package(package: str, purpose: str) -> ImportError:
    """An ImportError naming the optional package to install for ``purpose``."""
    return ImportError(
        f"{purpose} needs the `{package}` package: pip install {package}"
        f" (or pip install 'scorelake[{package}]')"
    )
