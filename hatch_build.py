"""Build hook: compile the optional C++ scan loop (redactor/_native.cpp) into the wheel.

It needs only the C++ compiler Python itself was built with. When there is none, or the
platform is not Linux, or REDACTOR_PURE_PYTHON=1 is set, the wheel is pure Python and the
engine runs its scan loop in Python: the same results, about a third slower on busy logs.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SOURCE = Path("redactor") / "_native.cpp"


class NativeBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Compiles the extension for wheels, and in place for editable installs."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Called by hatchling before it builds a wheel (`version` is standard or editable)."""
        if self.target_name != "wheel" or not _wanted():
            return
        name = "_native" + sysconfig.get_config_var("EXT_SUFFIX")
        root = Path(self.root)
        if version == "editable":  # the checkout itself is on the path: build next to the source
            _compile(root / SOURCE, root / "redactor" / name)
            return
        built = Path(tempfile.mkdtemp(prefix="redactor-native-")) / name
        if _compile(root / SOURCE, built):
            build_data["force_include"][str(built)] = f"redactor/{name}"
            build_data["pure_python"] = False
            build_data["infer_tag"] = True


def _wanted() -> bool:
    if os.environ.get("REDACTOR_PURE_PYTHON") == "1":
        return False
    return sys.platform.startswith("linux")


def _compile(source: Path, target: Path) -> bool:
    compiler = shlex.split(sysconfig.get_config_var("CXX") or "c++")
    include = sysconfig.get_paths()["include"]
    command = [
        *compiler,
        "-O2",
        "-std=c++17",
        "-shared",
        "-fPIC",
        "-fvisibility=hidden",
        f"-I{include}",
        str(source),
        "-o",
        str(target),
        "-ldl",
    ]
    try:
        subprocess.run(command, check=True, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError) as error:
        output = getattr(error, "stderr", "") or str(error)
        sys.stderr.write(f"redactor: native scan not built, using Python's: {output[-2000:]}\n")
        return False
    return True


if __name__ == "__main__":  # `python hatch_build.py`: rebuild in place after editing the source
    here = Path(__file__).resolve().parent
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    sys.exit(0 if _compile(here / SOURCE, here / "redactor" / f"_native{suffix}") else 1)
