"""Build the project's Docker images (notebook, agency, hub) through the Docker engine.

Each image's build context is assembled from ``docker/<name>/`` (plus the project's source where
the image installs it and the machine's CA bundle for pip) and hashed; the hash is stored as an
image label, so an image whose inputs did not change is never rebuilt. No registry is needed: the
base is ``settings.images.base_image`` or, on ``auto``, the public base when it is already present
locally and otherwise the local Debian base built by ``docker/base/build.sh``.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from everest_elearn.errors import BackendUnavailable, NotFound, UpstreamError
from everest_elearn.settings import ImagesSettings

HASH_LABEL = "org.everest-elearn.context-hash"
IMAGE_LABEL = "org.everest-elearn.image"
PUBLIC_BASE = "python:3.11-slim-bookworm"
LOCAL_BASE = "everest/debian-base:bookworm"
# Files never copied into a context: caches and build leftovers.
_IGNORED = {"__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
_STEP = re.compile(r"^Step (\d+)/(\d+) :")


@dataclass(frozen=True)
class ImageSpec:
    """One image: its folder under ``docker/`` and whether it installs the project."""

    name: str
    repository: str
    with_project: bool


IMAGES: dict[str, ImageSpec] = {
    "notebook": ImageSpec("notebook", "everest/notebook", with_project=True),
    "agency": ImageSpec("agency", "everest/agency", with_project=True),
    "hub": ImageSpec("hub", "everest/hub", with_project=True),
}


@dataclass(frozen=True)
class BuildEvent:
    """Progress of a build: step ``step`` of ``total`` (0 when unknown) and the engine's line."""

    image: str
    step: int
    total: int
    line: str


@dataclass(frozen=True)
class BuiltImage:
    """An image present in the engine, as the builder sees it."""

    name: str
    tag: str
    image_id: str
    context_hash: str
    size_bytes: int
    built: bool  # False when an image with the same hash already existed
    seconds: float


ProgressCallback = Callable[[BuildEvent], None]


def project_root() -> Path:
    """The checkout holding ``docker/`` and ``pyproject.toml`` (src layout, editable install)."""
    return Path(__file__).resolve().parents[2]


def _files(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not _IGNORED.intersection(path.relative_to(folder).parts):
            yield path


def assemble_context(spec: ImageSpec, settings: ImagesSettings, dest: Path) -> Path:
    """Copy what the image's Dockerfile needs into ``dest``; returns ``dest``."""
    root = settings.project_dir or project_root()
    source = root / "docker" / spec.name
    if not (source / "Dockerfile").is_file():
        raise NotFound("Dockerfile", str(source / "Dockerfile"))
    for path in _files(source):
        target = dest / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    ca = settings.extra_ca_file
    # Always present (possibly empty) so the Dockerfile can COPY it unconditionally.
    (dest / "extra-ca.crt").write_bytes(ca.read_bytes() if ca and ca.is_file() else b"")
    if spec.with_project:
        project = dest / "project"
        project.mkdir()
        for name in ("pyproject.toml", "README.md"):
            shutil.copy2(root / name, project / name)
        package = root / "src" / "everest_elearn"
        for path in _files(package):
            target = project / "src" / "everest_elearn" / path.relative_to(package)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
    return dest


def context_hash(context: Path, build_args: dict[str, str]) -> str:
    """SHA-256 over every file of the context (path and bytes) and the build arguments."""
    digest = hashlib.sha256()
    for path in _files(context):
        digest.update(str(path.relative_to(context)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    for key in sorted(build_args):
        digest.update(f"{key}={build_args[key]}\0".encode())
    return digest.hexdigest()


def _sdk() -> Any:
    # Imported by name: the checkout's docker/ folder (Dockerfiles) would otherwise shadow the
    # SDK for the type checker, and the SDK is only needed when images are built.
    sdk = importlib.import_module("docker")
    importlib.import_module("docker.errors")
    return sdk


class ImageBuilder:
    """Builds and lists the project's images; the one place that talks to the Docker SDK."""

    def __init__(self, settings: ImagesSettings, client: Any | None = None) -> None:
        self.settings = settings
        self._client = client

    def _docker(self) -> Any:
        if self._client is None:
            sdk = _sdk()
            try:
                self._client = sdk.DockerClient.from_env(timeout=600)
                self._client.ping()
            except sdk.errors.DockerException as exc:
                raise BackendUnavailable("Docker engine") from exc
        return self._client

    def _image(self, ref: str) -> Any | None:
        try:
            return self._docker().images.get(ref)
        except _sdk().errors.ImageNotFound:
            return None

    def _base_image(self, progress: ProgressCallback | None) -> str:
        choice = self.settings.base_image
        if choice != "auto":
            return choice
        if self._image(PUBLIC_BASE) is not None:
            return PUBLIC_BASE
        if self._image(LOCAL_BASE) is None:
            self._build_base(progress)
        return LOCAL_BASE

    def _build_base(self, progress: ProgressCallback | None) -> None:
        # debootstrap and `docker import` are shell work; the script is the single recipe.
        script = (self.settings.project_dir or project_root()) / "docker" / "base" / "build.sh"
        env = {**os.environ, "EVEREST_CACHE_DIR": str(self.settings.cache_dir)}
        env["PATH"] = env.get("PATH", "") + ":/usr/sbin:/sbin"  # debootstrap lives in /usr/sbin
        with subprocess.Popen(
            ["bash", str(script)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        ) as proc:
            assert proc.stdout is not None
            for line in proc.stdout:
                if progress:
                    progress(BuildEvent("base", 0, 0, line.rstrip()))
        if proc.returncode != 0:
            raise UpstreamError(f"building {LOCAL_BASE} failed (docker/base/build.sh)")

    def build_sync(
        self, name: str, progress: ProgressCallback | None = None, force: bool = False
    ) -> BuiltImage:
        """Build ``name`` unless an image with the same context hash exists (blocking)."""
        if name not in IMAGES:
            raise NotFound("image", name)
        spec = IMAGES[name]
        started = time.monotonic()
        base = self._base_image(progress)
        base_image = self._image(base)
        # The base's id is part of the hash: a rebuilt base rebuilds every image on it.
        args = {"BASE_IMAGE": base}
        with tempfile.TemporaryDirectory(prefix=f"everest-{name}-") as tmp:
            context = assemble_context(spec, self.settings, Path(tmp))
            digest = context_hash(context, {**args, "base_id": base_image.id if base_image else ""})
            tag = f"{spec.repository}:{self.settings.tag}"
            existing = self._docker().images.list(filters={"label": f"{HASH_LABEL}={digest}"})
            if existing and not force:
                image = existing[0]
                image.tag(spec.repository, self.settings.tag)
                image.tag(spec.repository, digest[:12])
                return self._built(name, tag, image, digest, False, started)
            image_id = self._stream_build(name, context, tag, args, digest, progress)
        image = self._docker().images.get(image_id)
        image.tag(spec.repository, digest[:12])
        return self._built(name, tag, image, digest, True, started)

    def _stream_build(
        self,
        name: str,
        context: Path,
        tag: str,
        args: dict[str, str],
        digest: str,
        progress: ProgressCallback | None,
    ) -> str:
        step, total, image_id = 0, 0, ""
        tail: list[str] = []
        stream = self._docker().api.build(
            path=str(context),
            tag=tag,
            buildargs=args,
            labels={HASH_LABEL: digest, IMAGE_LABEL: name},
            network_mode="host",  # no bridge here; pip reaches PyPI from the host's network
            rm=True,
            forcerm=True,
            decode=True,
        )
        for chunk in stream:
            if "error" in chunk:
                detail = "\n".join(tail[-15:])
                raise UpstreamError(f"building {tag} failed: {chunk['error'].strip()}\n{detail}")
            if "aux" in chunk and "ID" in chunk["aux"]:
                image_id = chunk["aux"]["ID"]
            line = str(chunk.get("stream", "")).rstrip()
            if not line:
                continue
            tail.append(line)
            match = _STEP.match(line)
            if match:
                step, total = int(match.group(1)), int(match.group(2))
            if progress:
                progress(BuildEvent(name, step, total, line))
        if not image_id:
            raise UpstreamError(f"building {tag} gave no image id")
        return image_id

    def _built(
        self, name: str, tag: str, image: Any, digest: str, built: bool, started: float
    ) -> BuiltImage:
        return BuiltImage(
            name=name,
            tag=tag,
            image_id=image.id,
            context_hash=digest,
            size_bytes=int(image.attrs.get("Size", 0)),
            built=built,
            seconds=time.monotonic() - started,
        )

    def list_sync(self) -> list[BuiltImage]:
        """Images the builder made, newest first (blocking)."""
        found = []
        for image in self._docker().images.list(filters={"label": IMAGE_LABEL}):
            labels = image.labels or {}
            tags = [t for t in image.tags if t.endswith(f":{self.settings.tag}")] or image.tags
            found.append(
                BuiltImage(
                    name=labels.get(IMAGE_LABEL, "?"),
                    tag=tags[0] if tags else image.short_id,
                    image_id=image.id,
                    context_hash=labels.get(HASH_LABEL, ""),
                    size_bytes=int(image.attrs.get("Size", 0)),
                    built=False,
                    seconds=0.0,
                )
            )
        return sorted(found, key=lambda b: (b.name, b.tag))

    async def build(
        self, name: str, progress: ProgressCallback | None = None, force: bool = False
    ) -> BuiltImage:
        """Build ``name`` (see :meth:`build_sync`) off the event loop."""
        return await asyncio.to_thread(self.build_sync, name, progress, force)

    async def list(self) -> list[BuiltImage]:
        """Images the builder made."""
        return await asyncio.to_thread(self.list_sync)
