"""Runner images: one per language, built from ``runners/images/<language>/``.

Every image is ``FROM`` one shared base, Debian 13 (trixie) with its updates,
security and backports suites, Debian's python3 and the run users, built from
``runners/images/base/``. The base's root file system is ``debian:trixie-slim`` when
the engine has it or a registry answers, otherwise a debootstrapped minbase imported
with ``docker import``. Language images install their toolchains with apt during
``docker build`` (the build's network reaches Debian's mirror); Python packages come
from a wheelhouse and npm packages from ``npm ci``, both run on the host, so no build
needs PyPI or the npm registry. An image's tag hashes the base's and its own build
folder, so a build with nothing changed is a look-up.
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
from typing import TYPE_CHECKING

from runners.errors import ImageError

if TYPE_CHECKING:
    from runners import docker as dk

IMAGES_DIR = Path(__file__).parent / "images"
CACHE_DIR = Path(os.environ.get("GRADER_CACHE_DIR", Path.home() / ".cache" / "grader"))


@dataclass(frozen=True)
class LanguageImage:
    """What it takes to build one language's runner image (data, not code).

    Every image builds ``FROM`` the shared trixie base (``runners/images/base``) and
    installs its toolchain with apt during ``docker build``. ``assets`` are fetched on
    the host, where the registries answer, and copied into the build context:
    ``wheels`` (``requirements.txt`` for ``python_version``) and ``npm``
    (``package.json`` + ``package-lock.json``, installed into ``node_modules/``).
    """

    language: str
    repository: str
    assets: tuple[str, ...] = ()
    python_version: str = "3.13"
    # The interpreter that runs the launcher (PID 1): Debian's python3 everywhere but
    # the Python image, whose venv also holds pytest.
    launcher_python: str = "/usr/bin/python3"

    @property
    def build_dir(self) -> Path:
        return IMAGES_DIR / self.language


def _recipe(folder: Path) -> LanguageImage:
    """An image recipe, read from its folder (``runners/images/<name>/``): a language's
    runner image is ``grader-<name>``, a database's (its folder holds the ``grader-db``
    entry point) ``grader-db-<name>``; a ``requirements.txt`` is fetched as a wheelhouse
    (installed into ``/opt/venv``, whose python3 then runs the launcher), a
    ``package-lock.json`` as an npm tree. Adding a language adds a folder, no code."""
    name = folder.name
    database = (folder / "grader-db").is_file()
    wheels = (folder / "requirements.txt").is_file()
    npm = (folder / "package-lock.json").is_file()
    return LanguageImage(
        name,
        f"grader-db-{name}" if database else f"grader-{name}",
        assets=("wheels",) * wheels + ("npm",) * npm,
        launcher_python="/opt/venv/bin/python3" if wheels else "/usr/bin/python3",
    )


LANGUAGE_IMAGES: dict[str, LanguageImage] = {
    p.name: _recipe(p)
    for p in sorted(IMAGES_DIR.iterdir())
    if p.name != "base" and (p / "Dockerfile").is_file()
}
# Databases of service challenges (one fresh container per run), on the same base.
DATABASE_IMAGES: tuple[str, ...] = tuple(
    name for name, image in LANGUAGE_IMAGES.items() if image.repository.startswith("grader-db-")
)
# What `grader images build` with no language builds (the others build on demand).
DEFAULT_LANGUAGES: tuple[str, ...] = ("python",)

# The shared base: Debian 13 from a registry's slim image or, where none answers, a
# debootstrapped minbase imported into the engine; then runners/images/base on top.
BASE_DIR = IMAGES_DIR / "base"
BASE_REPOSITORY = "grader-base"
BASE_SUITE = "trixie"
OFFICIAL_ROOT = "debian:trixie-slim"
LOCAL_ROOT = "grader-rootfs:trixie"
NPM_CI = (
    "npm",
    "ci",
    "--ignore-scripts",
    "--no-audit",
    "--no-fund",
    "--loglevel=error",
    "--os=linux",
    "--cpu=x64",
    "--libc=glibc",
)
DEBIAN_MIRROR = os.environ.get("GRADER_DEBIAN_MIRROR", "http://deb.debian.org/debian")

Progress = Callable[[str], None]


def _spec(language: str) -> LanguageImage:
    try:
        return LANGUAGE_IMAGES[language]
    except KeyError:
        known = ", ".join(sorted(LANGUAGE_IMAGES))
        raise ImageError(f"no runner image for language {language!r} (known: {known})") from None


def _hash_dirs(*dirs: Path) -> str:
    h = hashlib.sha256()
    for root in dirs:
        h.update(root.name.encode() + b"\0")
        for path in sorted(root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                h.update(path.relative_to(root).as_posix().encode() + b"\0")
                h.update(path.read_bytes() + b"\0")
    return h.hexdigest()[:12]


def base_tag() -> str:
    """The shared base's tag: a hash of its build folder."""
    return f"{BASE_REPOSITORY}:{BASE_SUITE}-{_hash_dirs(BASE_DIR)}"


def content_hash(language: str) -> str:
    """Hash of the base's and the image's build folders: the tag changes when they do."""
    return _hash_dirs(BASE_DIR, _spec(language).build_dir)


def image_tag(language: str) -> str:
    return f"{_spec(language).repository}:{content_hash(language)}"


def wheelhouse(language: str, progress: Progress) -> Path:
    """Download the image's Python packages on the host (cached by requirements)."""
    spec = _spec(language)
    reqs = spec.build_dir / "requirements.txt"
    key = hashlib.sha256(reqs.read_bytes() + spec.python_version.encode()).hexdigest()[:12]
    # (Wheels for the image's Python, Debian's python3 of the base.)
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


def npm_tree(language: str, progress: Progress) -> Path:
    """``npm ci`` the image's package-lock.json on the host (cached by the lock file);
    the build copies the resulting ``node_modules`` in and needs no registry."""
    spec = _spec(language)
    lock = spec.build_dir / "package-lock.json"
    manifest = spec.build_dir / "package.json"
    if not lock.is_file() or not manifest.is_file():
        raise ImageError(f"{spec.build_dir} has no package.json and package-lock.json")
    key = hashlib.sha256(
        manifest.read_bytes() + b"\0" + lock.read_bytes() + b"\0" + " ".join(NPM_CI).encode()
    ).hexdigest()[:12]
    dest = CACHE_DIR / "npm" / f"{language}-{key}"
    if (dest / ".complete").exists():
        return dest
    if shutil.which("npm") is None:
        raise ImageError("npm is missing on this machine: install Debian's npm (or Node.js)")
    progress(f"installing the npm packages for {language} into {dest}")
    tmp = Path(tempfile.mkdtemp(prefix="npm-", dir=_ensure_dir(dest.parent)))
    shutil.copy2(manifest, tmp / "package.json")
    shutil.copy2(lock, tmp / "package-lock.json")
    # Optional dependencies stay: native resolvers (Jest's unrs-resolver) ship their
    # binaries as per-platform optional packages. Scripts never run on the host.
    cmd = list(NPM_CI)
    cmd += ["--prefix", str(tmp)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=tmp)
    if proc.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        last = (proc.stderr.strip().splitlines() or ["npm failed"])[-1]
        raise ImageError(f"installing the npm packages failed: {last}")
    (tmp / ".complete").write_text("ok\n")
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)
    return dest


def make_local_root(progress: Progress, suite: str = BASE_SUITE) -> Path:
    """debootstrap a minbase Debian ``suite``; returns a tarball of its file system."""
    if shutil.which("debootstrap") is None:
        raise ImageError(
            "no registry answered and debootstrap is missing: install it "
            "(apt-get install -y debootstrap) or load the image "
            f"{OFFICIAL_ROOT} into the Docker engine"
        )
    if os.geteuid() != 0:
        raise ImageError(
            "no registry answered and making a local base with debootstrap needs root; "
            f"run `grader images build` as root or load {OFFICIAL_ROOT}"
        )
    work = Path(tempfile.mkdtemp(prefix="grader-rootfs-", dir=_ensure_dir(CACHE_DIR)))
    rootfs = work / "rootfs"
    progress(f"debootstrap {suite} (minbase, about a minute)")
    cmd = ["debootstrap", "--variant=minbase", suite, str(rootfs), DEBIAN_MIRROR]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        shutil.rmtree(work, ignore_errors=True)
        tail = " / ".join(proc.stdout.strip().splitlines()[-2:])
        raise ImageError(f"debootstrap failed ({proc.returncode}): {tail}")
    _slim(rootfs)
    tarball = work / "rootfs.tar"
    progress("packing the base file system")
    subprocess.run(["tar", "-C", str(rootfs), "-cf", str(tarball), "."], check=True)
    shutil.rmtree(rootfs, ignore_errors=True)
    return tarball


def _slim(rootfs: Path) -> None:
    """Drop apt's caches, manuals, docs (not copyright files) and translations: a
    layer below the base, whatever the base's Dockerfile deletes stays in the image."""
    for junk in ("var/cache/apt/archives", "var/lib/apt/lists"):
        target = rootfs / junk
        if target.is_dir():
            for child in target.iterdir():
                if child.is_file():
                    child.unlink()
    for name in ("usr/share/man", "usr/share/info", "usr/share/groff", "usr/share/lintian"):
        _empty(rootfs / name)
    docs = rootfs / "usr/share/doc"
    if docs.is_dir():
        for pkg in docs.iterdir():
            if pkg.is_dir() and not pkg.is_symlink():
                _empty(pkg, keep="copyright")
    _empty(rootfs / "usr/share/locale", keep="locale.alias")


def _empty(folder: Path, keep: str = "") -> None:
    """Remove everything in ``folder`` (if it is one) but the entry named ``keep``."""
    if not folder.is_dir():
        return
    for child in folder.iterdir():
        if child.name == keep:
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def _copy_build_dir(src: Path, ctx: Path) -> None:
    shutil.copytree(
        src, ctx, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "node_modules")
    )


def build_base(
    engine: dk.Engine, progress: Progress, *, force: bool = False, cold: bool = False
) -> str:
    """Build (or find) the shared trixie base; returns its tag. ``cold``: no layer cache."""
    tag = base_tag()
    if not force and engine.image_exists(tag):
        return tag
    root = _choose_root(engine, progress)
    with tempfile.TemporaryDirectory(prefix="grader-build-") as ctx_dir:
        ctx = Path(ctx_dir)
        _copy_build_dir(BASE_DIR, ctx)
        progress(f"building {tag} from {root}")
        # apt reaches Debian's mirror from the build's (default) network.
        engine.build(
            ctx,
            tag=tag,
            buildargs={"ROOT": root, "MIRROR": DEBIAN_MIRROR},
            progress=progress,
            network_mode="default",
            nocache=cold,
        )
    engine.tag(tag, f"{BASE_REPOSITORY}:{BASE_SUITE}")
    return tag


def build(
    language: str, *, force: bool = False, progress: Progress | None = None, cold: bool = False
) -> str:
    """Build (or find) the runner image for ``language``; returns its tag.

    ``force`` rebuilds (reusing the engine's layer cache); ``cold`` also skips that
    cache, for the image and the base (to measure a first build)."""
    say = progress or (lambda _m: None)
    spec = _spec(language)
    tag = image_tag(language)
    from runners import docker as dk  # the SDK only when something is built

    engine = dk.Engine()
    if not force and not cold and engine.image_exists(tag):
        say(f"{tag} is up to date")
        return tag
    base = build_base(engine, say, force=cold, cold=cold)
    with tempfile.TemporaryDirectory(prefix="grader-build-") as ctx_dir:
        ctx = Path(ctx_dir)
        _copy_build_dir(spec.build_dir, ctx)
        if "wheels" in spec.assets:
            shutil.copytree(wheelhouse(language, say), ctx / "wheels")
        if "npm" in spec.assets:
            shutil.copytree(
                npm_tree(language, say) / "node_modules", ctx / "node_modules", symlinks=True
            )
        say(f"building {tag} from {base}")
        engine.build(
            ctx,
            tag=tag,
            buildargs={"BASE": base, "MIRROR": DEBIAN_MIRROR},
            progress=say,
            network_mode="default",
            nocache=cold,
        )
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


def _choose_root(engine: dk.Engine, say: Progress) -> str:
    if engine.image_exists(OFFICIAL_ROOT):
        return OFFICIAL_ROOT
    if engine.image_exists(LOCAL_ROOT):
        return LOCAL_ROOT
    say(f"pulling {OFFICIAL_ROOT}")
    if engine.try_pull(OFFICIAL_ROOT):
        return OFFICIAL_ROOT
    say(f"no registry answered: making a local root file system {LOCAL_ROOT}")
    tarball = make_local_root(say)
    try:
        engine.import_tarball(tarball, LOCAL_ROOT)
    finally:
        shutil.rmtree(tarball.parent, ignore_errors=True)
    return LOCAL_ROOT
