"""The scripts under bench/ are not a package: each test module loads the one it drives by path."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"


def load_bench_script(name: str):
    """bench/<name>.py as module `bench_<name>` (not `portal`, which is the app), registered in
    sys.modules because dataclasses look their module up there."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
