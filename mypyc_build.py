"""The opt-in compiled build: a hatchling build hook that compiles a package with mypyc.

Off unless ``WIREKIT_MYPYC=1`` (then the build also needs mypy, setuptools and a C
compiler; a plain build or ``uv sync`` needs none of them):

    HATCH_BUILD_HOOKS_ENABLE=true WIREKIT_MYPYC=1 uv build --all-packages --wheel --out-dir dist/compiled

Each package's ``pyproject.toml`` names this file as its ``custom`` wheel hook and lists
the modules left uncompiled, with the reason, under ``exclude``. Wheels only, built from
the source tree: mypy reads the sibling packages' sources for their types
(``mypyc.ini``). The extension modules are built in a temporary directory, never beside
the sources (where they would shadow the pure-Python modules of a development install).

One repair is applied to the C that mypyc 2.4 generates: on Python < 3.12, a native class
with an interpreted base (every ``Generic`` class, such as ``Parser``) gets a
``__weakref__`` slot whose weak-reference list its ``tp_traverse`` visits and its
``tp_clear`` (also run on deallocation) releases as if it owned a reference; it never
calls ``PyObject_ClearWeakRefs``. A weak reference to such an object (hypothesis keeps one
to every value it draws) is then freed early and left dangling: a crash in a later
garbage collection. The repair skips the list in ``tp_traverse`` and clears the weak
references in ``tp_clear``, as CPython's own classes do.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

ENABLE = "WIREKIT_MYPYC"
REQUIRES = ["mypy==2.4.1", "setuptools>=70"]
_WEAKLIST = r"\*\(\(PyObject \*\*\)\(\(char \*\)self \+ sizeof\(PyObject \*\) \+ sizeof\(\w+\)\)\)"
_VISIT = re.compile(rf"Py_VISIT\(({_WEAKLIST})\);")
_CLEAR = re.compile(rf"Py_CLEAR\(({_WEAKLIST})\);")


def repair_weakrefs(c_source: str) -> str:
    """The generated C with the weak-reference list handled as such (module docstring)."""
    c_source = _VISIT.sub("/* the weak-reference list holds no reference */", c_source)
    return _CLEAR.sub(r"if (\1 != NULL) PyObject_ClearWeakRefs((PyObject *)self);", c_source)


class MypycBuildHook(BuildHookInterface):  # type: ignore[misc]
    """Compile the package's modules (all but ``exclude``) into the wheel."""

    PLUGIN_NAME = "custom"

    def enabled(self) -> bool:
        return os.environ.get(ENABLE, "") not in ("", "0") and self.target_name == "wheel"

    def dependencies(self) -> list[str]:
        return REQUIRES if self.enabled() else []

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if not self.enabled() or version == "editable":
            return
        from mypyc.build import mypycify
        from setuptools import Distribution

        root = Path(self.root)
        config = root.parent / "mypyc.ini"
        if not config.is_file():
            raise RuntimeError(f"{ENABLE}=1: build wheels from the source tree ({config} is missing)")
        excluded = tuple(self.config.get("exclude", []))  # files, or folders ending in "/"
        files = sorted(
            p.relative_to(root).as_posix()
            for p in (root / "src").rglob("*.py")
            if not p.relative_to(root).as_posix().startswith(excluded)
        )
        self._work = work = Path(tempfile.mkdtemp(prefix="wirekit-mypyc-"))
        cwd = Path.cwd()
        os.chdir(root)  # mypy_path in mypyc.ini is relative to the package
        try:
            extensions = mypycify(
                ["--config-file", str(config), *files], opt_level="3", target_dir=str(work / "c")
            )
            for c_file in (work / "c").rglob("*.c"):
                c_file.write_text(repair_weakrefs(c_file.read_text()))
            dist = Distribution({"name": self.metadata.name, "ext_modules": extensions})
            build_ext = dist.get_command_obj("build_ext")
            build_ext.build_lib = str(work / "lib")
            build_ext.build_temp = str(work / "tmp")
            build_ext.inplace = False
            build_ext.ensure_finalized()
            build_ext.run()
        finally:
            os.chdir(cwd)
        for built in (work / "lib").rglob("*.so"):
            build_data["force_include"][str(built)] = built.relative_to(work / "lib").as_posix()
        build_data["pure_python"] = False
        build_data["infer_tag"] = True

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        work = getattr(self, "_work", None)
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)
