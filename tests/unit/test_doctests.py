"""The examples in the pure modules' docstrings are tests too: every module of
ccplane (the demo's scripts apart) that has one runs it here."""
from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import ccplane

MODULES = sorted(m.name for m in pkgutil.walk_packages(ccplane.__path__, "ccplane.")
                 if not m.name.startswith("ccplane.demo") and not m.name.endswith("__main__"))


def with_examples() -> list[str]:
    found = []
    for name in MODULES:
        module = importlib.import_module(name)
        if doctest.DocTestFinder().find(module) and any(t.examples for t in doctest.DocTestFinder().find(module)):
            found.append(name)
    return found


EXAMPLES = with_examples()


def test_the_pure_modules_have_examples() -> None:
    for name in ("ccplane.features.attendances.domain", "ccplane.features.callbacks.domain",
                 "ccplane.features.dialer.domain"):
        assert name in EXAMPLES


@pytest.mark.parametrize("name", EXAMPLES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
