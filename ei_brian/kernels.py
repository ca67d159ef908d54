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

__all__ = ["kernels", "load_generated"]

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


_generated = {}


def load_generated(name, source):
    """A generated Cython module (e.g. a neuron model's derived loops, :mod:`ei_brian.derived`):
    built once into ``<cache>/generated/<name>`` under a file lock, then imported; ``name`` must
    change with ``source`` (the callers put the source's digest in it)."""
    with _loading:
        if name not in _generated:
            folder = os.path.join(cache_root(), "generated", name)
            os.makedirs(os.path.dirname(folder), exist_ok=True)
            with FileLock(folder + ".lock"):
                built = _find(folder, name)
                if built is None:
                    built = _build(folder, name, source.encode(), "the neuron model's loops")
            spec = importlib.util.spec_from_file_location(name, built)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            _generated[name] = module
    return _generated[name]


def _find(folder, module="_kernels"):
    if not os.path.isdir(folder):
        return None
    for name in os.listdir(folder):
        if name.startswith(module) and name.endswith((".so", ".pyd")):
            return os.path.join(folder, name)
    return None


def _build(folder, module="_kernels", source_text=None, what="ei_brian's gradient loops"):
    # Cython.Build (0.1 s) and setuptools (0.07 s) only when compiling
    from Cython.Build import cythonize
    from setuptools import Distribution, Extension
    staging = folder + ".building"
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(staging)
    source = os.path.join(staging, module + ".pyx")
    if source_text is None:
        shutil.copyfile(SOURCE, source)
    else:
        with open(source, "wb") as f:
            f.write(source_text)
    print(f"compiling {what} (once) into {folder}", file=sys.stderr, flush=True)
    log = io.StringIO()
    try:
        with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            extensions = cythonize([Extension(module, [source])], quiet=True)
            build = Distribution({"ext_modules": extensions}).get_command_obj("build_ext")
            build.build_lib = staging
            build.build_temp = os.path.join(staging, "build")
            build.ensure_finalized()
            build.run()
        built = build.get_ext_fullpath(module)
    except BaseException as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise KernelBuildError(f"building {what} ({source if source_text else SOURCE}) with Cython "
                               f"failed: {error}; a C compiler is needed (as for Brian2's "
                               f"standalone mode). Build output:\n{log.getvalue()[-3000:]}"
                               ) from error
    os.makedirs(folder, exist_ok=True)
    target = os.path.join(folder, os.path.basename(built))
    shutil.copyfile(built, target + ".part")
    os.replace(target + ".part", target)
    shutil.rmtree(staging, ignore_errors=True)
    return target
