"""Runner images: one per language, built from ``runners/images/<language>/``.

The image's tag is a hash of its build folder, so a build with nothing changed is
a look-up. The base is an official slim image when one is present or a registry
answers; otherwise a Debian base made here with debootstrap and ``docker import``.
Python packages come from a wheelhouse downloaded on the host, so the build itself
runs with no network.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from runners import docker as dk
from runners.errors import ImageError

IMAGES_DIR = Path(__file__).parent / "images"
CACHE_DIR = Path(os.environ.get("GRADER_CACHE_DIR", Path.home() / ".cache" / "grader"))


@dataclass(frozen=True)
class LanguageImage:
    """What it takes to build one language's runner image (data, not code)."""

    language: str
    repository: str
    official_base: str
    local_base: str
    debootstrap_include: tuple[str, ...]
    python_version: str

    @property
    def build_dir(self) -> Path:
        return IMAGES_DIR / self.language


LANGUAGE_IMAGES: dict[str, LanguageImage] = {
    "python": LanguageImage(
        language="python",
        repository="grader-python",
        official_base="python:3.11-slim",
        local_base="grader-base:bookworm-python",
        debootstrap_include=("python3", "python3-venv"),
        python_version="3.11",
    ),
}

Progress = Callable[[str], None]


def _spec(language: str) -> LanguageImage:
    try:
        return LANGUAGE_IMAGES[language]
    except KeyError:
        known = ", ".join(sorted(LANGUAGE_IMAGES))
        raise ImageError(f"no runner image for language {language!r} (known: {known})") from None


def content_hash(language: str) -> str:
    """Hash of the image's build folder: the image tag changes when it does."""
    spec = _spec(language)
    h = hashlib.sha256()
    for path in sorted(spec.build_dir.rglob("*")):
        if path.is_file():
            h.update(path.relative_to(spec.build_dir).as_posix().encode() + b"\0")
            h.update(path.read_bytes() + b"\0")
    return h.hexdigest()[:12]


def image_tag(language: str) -> str:
    return f"{_spec(language).repository}:{content_hash(language)}"


def wheelhouse(language: str, progress: Progress) -> Path:
    """Download the image's Python packages on the host (cached by requirements)."""
    spec = _spec(language)
    reqs = spec.build_dir / "requirements.txt"
    key = hashlib.sha256(reqs.read_bytes() + spec.python_version.encode()).hexdigest()[:12]
    dest = CACHE_DIR / "wheelhouse" / f"{language}-{key}"
    if (dest / ".complete").exists():
        return dest
    progress(f"downloading wheels for {language} into {dest}")
    tmp = Path(tempfile.mkdtemp(prefix="wheels-", dir=_ensure_dir(dest.parent)))
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--disable-pip-version-check",
        "--only-binary=:all:",
        "--python-version",
        spec.python_version,
        "--implementation",
        "cp",
        "--platform",
        "manylinux2014_x86_64",
        "--platform",
        "any",
        "-d",
        str(tmp),
        "-r",
        str(reqs),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        last = (proc.stderr.strip().splitlines() or ["pip failed"])[-1]
        raise ImageError(f"downloading the wheelhouse failed: {last}")
    (tmp / ".complete").write_text("ok\n")
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)
    return dest


def _ensure_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def make_local_base(spec: LanguageImage, progress: Progress) -> Path:
    """debootstrap a minimal Debian with the language's packages; returns a tarball."""
    if shutil.which("debootstrap") is None:
        raise ImageError(
            "no registry answered and debootstrap is missing: install it "
            "(apt-get install -y debootstrap) or load the image "
            f"{spec.official_base} into the Docker engine"
        )
    if os.geteuid() != 0:
        raise ImageError(
            "no registry answered and making a local base with debootstrap needs root; "
            f"run `grader images build` as root or load {spec.official_base}"
        )
    work = Path(tempfile.mkdtemp(prefix="grader-rootfs-", dir=_ensure_dir(CACHE_DIR)))
    rootfs = work / "rootfs"
    progress(f"debootstrap bookworm with {', '.join(spec.debootstrap_include)} (about a minute)")
    cmd = [
        "debootstrap",
        "--variant=minbase",
        f"--include={','.join(spec.debootstrap_include)}",
        "bookworm",
        str(rootfs),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        shutil.rmtree(work, ignore_errors=True)
        tail = " / ".join(proc.stdout.strip().splitlines()[-2:])
        raise ImageError(f"debootstrap failed ({proc.returncode}): {tail}")
    for junk in ("var/cache/apt/archives", "var/lib/apt/lists"):
        target = rootfs / junk
        if target.is_dir():
            for child in target.iterdir():
                if child.is_file():
                    child.unlink()
    tarball = work / "rootfs.tar"
    progress("packing the base file system")
    subprocess.run(["tar", "-C", str(rootfs), "-cf", str(tarball), "."], check=True)
    shutil.rmtree(rootfs, ignore_errors=True)
    return tarball


def build(language: str, *, force: bool = False, progress: Progress | None = None) -> str:
    """Build (or find) the runner image for ``language``; returns its tag."""
    say = progress or (lambda _m: None)
    spec = _spec(language)
    tag = image_tag(language)
    engine = dk.Engine()
    if not force and engine.image_exists(tag):
        say(f"{tag} is up to date")
        return tag
    wheels = wheelhouse(language, say)
    base = _choose_base(engine, spec, say)
    with tempfile.TemporaryDirectory(prefix="grader-build-") as ctx_dir:
        ctx = Path(ctx_dir)
        for item in spec.build_dir.iterdir():
            if item.is_file():
                shutil.copy2(item, ctx / item.name)
        shutil.copytree(wheels, ctx / "wheels")
        say(f"building {tag} from {base}")
        engine.build(ctx, tag=tag, buildargs={"BASE": base}, progress=say)
    engine.tag(tag, f"{spec.repository}:latest")
    say(f"built {tag}")
    return tag


_ENSURED: dict[tuple[str, str], str] = {}


def ensure(recipe: str, *, progress: Progress | None = None) -> str:
    """The tag of ``recipe``'s image, building it first when it is missing (first use).

    Remembered per process once the image exists, so a run costs no engine look-up.
    """
    key = (recipe, content_hash(recipe))
    tag = _ENSURED.get(key)
    if tag is None:
        tag = _ENSURED[key] = build(recipe, progress=progress)
    return tag


def _choose_base(engine: dk.Engine, spec: LanguageImage, say: Progress) -> str:
    if engine.image_exists(spec.official_base):
        return spec.official_base
    if engine.image_exists(spec.local_base):
        return spec.local_base
    say(f"pulling {spec.official_base}")
    if engine.try_pull(spec.official_base):
        return spec.official_base
    say(f"no registry answered: making a local base {spec.local_base}")
    tarball = make_local_base(spec, say)
    try:
        engine.import_tarball(tarball, spec.local_base)
    finally:
        shutil.rmtree(tarball.parent, ignore_errors=True)
    return spec.local_base
