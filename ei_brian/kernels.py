"""Compiled loops for the gradient code (``_kernels.pyx``), built with Cython on first use.

Cython and a C compiler come with Brian2 (its runtime target uses both). The extension is built
once per version of ``_kernels.pyx`` into ``<cache>/kernels/<digest of the source>`` (in the
folder of the compiled networks, :func:`ei_brian.cache.cache_root`: ``$EI_BRIAN_CACHE`` or
``.cache/brian2``), under a file lock so that processes starting at once build it once; later
processes import the built module (about 15 s for the first build).
"""
import contextlib
import hashlib
import importlib.util
import io
import os
import shutil
import sys
import sysconfig
import threading

from filelock import FileLock

from ei_brian.cache import cache_root

__all__ = ["kernels"]

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_kernels.pyx")
_module = None
_loading = threading.Lock()


class KernelBuildError(RuntimeError):
    """The compiled loops could not be built (no C compiler, or a broken toolchain)."""


def kernels():
    """The compiled module (built on the first call in a process that finds no build)."""
    global _module
    if _module is None:
        with _loading:  # the gradient threads may ask at once
            if _module is None:
                _module = _load()
    return _module


def _load():
    with open(SOURCE, "rb") as f:  # the source and the interpreter it is built for
        digest = hashlib.sha256(f.read() + sysconfig.get_config_var("EXT_SUFFIX").encode())
    digest = digest.hexdigest()[:16]
    folder = os.path.join(cache_root(), "kernels", digest)
    os.makedirs(os.path.dirname(folder), exist_ok=True)
    with FileLock(folder + ".lock"):
        built = _find(folder)
        if built is None:
            built = _build(folder)
    spec = importlib.util.spec_from_file_location("ei_brian._kernels", built)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _find(folder):
    if not os.path.isdir(folder):
        return None
    for name in os.listdir(folder):
        if name.startswith("_kernels") and name.endswith((".so", ".pyd")):
            return os.path.join(folder, name)
    return None


def _build(folder):
    # Cython.Build (0.1 s) and setuptools (0.07 s) only when compiling
    from Cython.Build import cythonize
    from setuptools import Distribution, Extension
    staging = folder + ".building"
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(staging)
    source = os.path.join(staging, "_kernels.pyx")
    shutil.copyfile(SOURCE, source)
    print("compiling ei_brian's gradient loops (once) into " + folder, file=sys.stderr, flush=True)
    log = io.StringIO()
    try:
        with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            extensions = cythonize([Extension("_kernels", [source])], quiet=True)
            build = Distribution({"ext_modules": extensions}).get_command_obj("build_ext")
            build.build_lib = staging
            build.build_temp = os.path.join(staging, "build")
            build.ensure_finalized()
            build.run()
        built = build.get_ext_fullpath("_kernels")
    except BaseException as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise KernelBuildError(f"building ei_brian's compiled loops ({SOURCE}) with Cython "
                               f"failed: {error}; a C compiler is needed (as for Brian2's "
                               f"standalone mode). Build output:\n{log.getvalue()[-3000:]}"
                               ) from error
    os.makedirs(folder, exist_ok=True)
    target = os.path.join(folder, os.path.basename(built))
    shutil.copyfile(built, target + ".part")
    os.replace(target + ".part", target)
    shutil.rmtree(staging, ignore_errors=True)
    return target
