"""Runtime images: what a runtime brings into an execution environment, laid out as Lambda's.

A runtime image is a host directory, one per runtime, made by `make install` (Python:
`python -m lambent.runtimes.build_images`, see build_images.py; Node:
scripts/install-node-runtimes.sh):

    <images>/<runtime>/image.json   what it was built from (never visible inside)
    <images>/<runtime>/lang/        read-only at /var/lang: the interpreter, its standard
                                    library and, for Python, boto3 in site-packages
    <images>/<runtime>/runtime/     optional: merged read-only into /var/runtime, below
                                    Lambent's own runtime client (e.g. node_modules/ with
                                    the AWS SDK for JavaScript)

So no host directory appears inside an environment under its host name: the namespaces
sandbox mounts `lang/` at /var/lang and `runtime/` under /var/runtime; the process sandbox
(no isolation) rewrites those two paths to the image's directories.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

LANG_DIR = "/var/lang"
IMAGE_LANG = "lang"
IMAGE_RUNTIME = "runtime"
MANIFEST = "image.json"


def default_images_dir() -> Path:
    """Where `make install` puts the images: next to the interpreter running Lambent."""
    return Path(sys.prefix) / "runtimes"


@dataclass(frozen=True)
class RuntimeImage:
    """One built image; `lang` is mounted at /var/lang, `runtime` (if any) in /var/runtime."""

    root: Path

    @property
    def lang(self) -> Path:
        return self.root / IMAGE_LANG

    @property
    def runtime(self) -> Path | None:
        path = self.root / IMAGE_RUNTIME
        return path if path.is_dir() else None


def find_image(images: Path, runtime: str) -> RuntimeImage | None:
    """The complete image of `runtime` under `images`, if one was built (the manifest is
    written last, so a half-built image is never found)."""
    root = images / runtime
    if (root / MANIFEST).is_file() and (root / IMAGE_LANG).is_dir():
        return RuntimeImage(root)
    return None
