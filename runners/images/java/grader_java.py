"""Java in the sandbox: ``grader-test`` and ``grader-lint`` (see grader_driver.py).

One JVM (GraderLauncher) compiles the submission's sources (flat or under
src/main/java, any packages), then each test file on its own, and runs the test
classes on the JUnit Platform (Jupiter 5 + AssertJ on the class path).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, "/opt/grader/lib")
import grader_driver as gd  # noqa: E402
import grader_lint as gl  # noqa: E402

JAVA = "/usr/lib/jvm/java-21-openjdk-amd64/bin/java"
CLASSPATH = ":".join(
    [
        "/opt/grader/java/grader-junit.jar",
        "/usr/share/java/junit-platform-console-standalone.jar",
        "/usr/share/java/assertj-core.jar",
        "/usr/share/java/byte-buddy.jar",
    ]
)
WORK = "/work/.grader-java"
JVM_FLAGS = [
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-XX:-UsePerfData",
    "-XX:MaxRAMPercentage=60",
    "-Xss1m",
    "-Dfile.encoding=UTF-8",
    "-Djava.io.tmpdir=/tmp",
    "-XX:SharedArchiveFile=/opt/grader/java/grader.jsa",
    "-Xshare:auto",
    "-Xlog:cds=off",
    "-Xlog:cds+dynamic=off",
]
CHECKSTYLE_CONFIG = "/opt/grader/java/checkstyle.xml"


def java() -> str:
    return JAVA if os.path.exists(JAVA) else "java"


def test() -> None:
    ctx = gd.start()
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    env = dict(gd.BASE_ENV)
    cmd = [
        java(),
        *JVM_FLAGS,
        "-cp",
        CLASSPATH,
        "grader.harness.GraderLauncher",
        ctx.src,
        WORK,
        str(max(1, int(ctx.test_timeout))),
        "1" if ctx.sentinel else "0",
        *ctx.tests,
    ]
    code = ctx.run_framework("junit", cmd, env=env, cwd=WORK)
    ctx.finish()
    sys.exit(code)


def lint() -> None:
    """checkstyle -f xml with the project's rule set (checkstyle.xml beside this)."""
    args = gl.start()
    rep = gl.Report("checkstyle")
    files = [f for f in args.files if f.endswith(".java")]
    if not files:
        rep.emit()
        return
    p = subprocess.run(
        [
            "/usr/bin/checkstyle",
            "-c",
            CHECKSTYLE_CONFIG,
            "-f",
            "xml",
            *[os.path.join(args.src, f) for f in files],
        ],
        capture_output=True,
        text=True,
        env=dict(gl.ENV),
        timeout=300,
        cwd=args.src,
    )
    start = p.stdout.find("<?xml")
    try:
        root = ET.fromstring(p.stdout[start:] if start >= 0 else "")
    except ET.ParseError:
        rep.errors.append((p.stderr or p.stdout)[-2000:])
        rep.emit()
        return
    for f in root.iter("file"):
        rel = gl.relative(args.src, f.get("name", ""))
        for e in f:
            source = e.get("source", "")
            rule = source.rsplit(".", 1)[-1].removesuffix("Check")
            rep.add(
                rel,
                e.get("line"),
                e.get("column"),
                rule,
                e.get("message", ""),
                e.get("severity", "warning") if e.tag == "error" else "error",
            )
    rep.emit()
