"""The public surface of ``wirekit.serializer``: names, docstrings, dependencies."""

from __future__ import annotations

import inspect
import subprocess
import sys

import wirekit.serializer as api


def test_all_names_exist_and_are_documented() -> None:
    assert sorted(api.__all__) == sorted(set(api.__all__))
    missing_docs = []
    for name in api.__all__:
        obj = getattr(api, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            if not inspect.getdoc(obj):
                missing_docs.append(name)
            if inspect.isclass(obj):
                for klass in obj.__mro__[:-1]:  # inherited methods too, except object's
                    for attr, member in vars(klass).items():
                        if attr.startswith("_"):
                            continue
                        documented = inspect.getdoc(member)
                        if (callable(member) or isinstance(member, property)) and not documented:
                            missing_docs.append(f"{name}.{attr}")
    assert missing_docs == []
    assert api.__doc__


def test_serializer_methods_from_the_design() -> None:
    required = [
        "write_bytes",
        "write_char",
        "write_uint8",
        "write_uint16_be",
        "write_uint16_le",
        "write_uint32_be",
        "write_uint32_le",
        "write_uint48_be",
        "write_uint48_le",
        "write_uint64_be",
        "write_uint64_le",
        "write_float_be",
        "write_float_le",
        "write_double_be",
        "write_double_le",
        "write_int8",
        "write_int16_be",
        "write_int16_le",
        "write_int32_be",
        "write_int32_le",
        "write_int64_be",
        "write_int64_le",
        "write_varint",
        "schedule",
        "flush",
        "yield_",
        "close",
        "is_closed",
        "operation",
        "shift",
        "drain",
        "pending_bytes",
        "has_pending_output",
        "free_bytes_in_buffer",
    ]
    for name in required:
        assert hasattr(api.Serializer, name), name
    for name in ["serialize", "serialize_to_bytes", "Writev", "Yield", "Close", "FlushReason"]:
        assert name in api.__all__


def test_imports_only_the_standard_library_and_not_asyncio() -> None:
    code = (
        "import sys; before = set(sys.modules); import wirekit.serializer; "
        "new = sorted(set(sys.modules) - before); print(' '.join(new))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    modules = result.stdout.split()
    assert "asyncio" not in modules  # imported lazily by TransportWriter
    assert "socket" not in modules
    stdlib = sys.stdlib_module_names
    # (`<hash>__mypyc`: the compiled build's shared library of wirekit.serializer itself.)
    ours = [m for m in modules if m.startswith("wirekit") or m.endswith("__mypyc")]
    foreign = [m for m in modules if m.split(".")[0] not in stdlib and m not in ours]
    assert foreign == []


def test_docstring_examples() -> None:
    import doctest

    from wirekit.serializer import _reservation

    for module in (api, _reservation):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0, module.__name__
