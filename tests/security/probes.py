"""The reconnaissance probes: a submission module whose functions look for a way out.

Each probe returns "ok" or what it found. The hidden test file of the probe challenge
calls each one and asserts "ok", so the probes run as the candidate's code: inside the
pytest process under in-process isolation, in the candidate's own container (reached
over the RPC channel) under process isolation. Standard library only; nothing here
sends a packet anywhere: "no network" is proved from interfaces, routes and local
binds, never by trying to reach an address.
"""

PROBE_SOURCE = r'''
"""Probes of the sandbox, run as the candidate's code."""

import ctypes
import errno
import json
import os
import resource
import signal
import socket
import stat
import time

# Syscall numbers that differ between architectures (the others use libc wrappers).
_NR = {
    "x86_64": {"keyctl": 250, "add_key": 248, "bpf": 321, "perf_event_open": 298,
               "userfaultfd": 323, "open_by_handle_at": 304, "finit_module": 313,
               "process_vm_readv": 310, "kcmp": 312},
    "aarch64": {"keyctl": 219, "add_key": 217, "bpf": 280, "perf_event_open": 241,
                "userfaultfd": 282, "open_by_handle_at": 265, "finit_module": 273,
                "process_vm_readv": 270, "kcmp": 272},
}
_NR_IO_URING_SETUP = 425  # the same on every architecture
_REFUSED = (errno.EPERM, errno.EACCES, errno.ENOSYS)
_SKIP_WALK = ("/proc", "/sys")
_walked = None


def _libc():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc


def _syscall(name, *args):
    nr = _NR_IO_URING_SETUP if name == "io_uring_setup" else _NR[os.uname().machine][name]
    ctypes.set_errno(0)
    ret = _libc().syscall(ctypes.c_long(nr),
                          *[ctypes.c_long(a) if isinstance(a, int) else a for a in args])
    return ret, ctypes.get_errno()


def _expect_refused(what, ret, err):
    if ret >= 0:
        return f"{what} succeeded (returned {ret})"
    if err not in _REFUSED:
        return f"{what} failed with {errno.errorcode.get(err, err)}, not a refusal"
    return None


def _walk():
    """Every path on the file system but /proc and /sys, with its lstat."""
    global _walked
    if _walked is None:
        found = []
        stack = ["/"]
        while stack:
            top = stack.pop()
            try:
                entries = list(os.scandir(top))
            except OSError:
                continue
            for e in entries:
                if e.path in _SKIP_WALK:
                    continue
                try:
                    st = e.stat(follow_symlinks=False)
                except OSError:
                    continue
                found.append((e.path, st))
                if stat.S_ISDIR(st.st_mode):
                    stack.append(e.path)
        _walked = found
    return _walked


def _status():
    with open("/proc/self/status") as fh:
        return dict(line.split(":\t", 1) for line in fh.read().splitlines() if ":\t" in line)


def _mountinfo():
    with open("/proc/self/mountinfo") as fh:
        return [line.split() for line in fh.read().splitlines()]


def _isolation():
    # The candidate's own container exists under process isolation only.
    with open("/grader/job.json") as fh:
        return "process" if json.load(fh)["role"] == "candidate" else "in-process"


def _join(problems):
    problems = [p for p in problems if p]
    return "ok" if not problems else "; ".join(problems)[:3000]


# -- who we are ------------------------------------------------------------------------

def not_root():
    ids = {"uid": os.getuid(), "euid": os.geteuid(), "gid": os.getgid(), "egid": os.getegid()}
    bad = [f"{k}={v}" for k, v in ids.items() if v == 0 or v < 1000]
    bad += [f"supplementary group {g}" for g in os.getgroups() if g == 0]
    try:
        import pwd
        name = pwd.getpwuid(os.getuid()).pw_name
        if name not in ("candidate", "tester"):
            bad.append(f"runs as {name!r}, not a dedicated sandbox user")
    except KeyError:
        bad.append("the user has no passwd entry")
    return _join(bad)


def no_capabilities():
    st = _status()
    return _join(f"{k}={st[k].strip()}" for k in ("CapInh", "CapPrm", "CapEff", "CapBnd",
                                                  "CapAmb") if int(st[k], 16) != 0)


def no_new_privileges():
    return "ok" if _status()["NoNewPrivs"].strip() == "1" else "NoNewPrivs is not set"


def seccomp_filter_is_on():
    st = _status()
    bad = []
    if st.get("Seccomp", "").strip() != "2":
        bad.append(f"Seccomp mode is {st.get('Seccomp')!r}, not 2 (filter)")
    if int(st.get("Seccomp_filters", "0")) < 2:
        bad.append(f"{st.get('Seccomp_filters')} seccomp filters; expected Docker's and the "
                   "launcher's")
    return _join(bad)


def no_setuid_binaries():
    return _join(p for p, st in _walk()
                 if stat.S_ISREG(st.st_mode) and st.st_mode & (stat.S_ISUID | stat.S_ISGID))


def resource_limits_are_set():
    bad = []
    for name, most in (("RLIMIT_NOFILE", 256), ("RLIMIT_FSIZE", 16 * 1024 * 1024),
                       ("RLIMIT_CORE", 0)):
        soft, hard = resource.getrlimit(getattr(resource, name))
        if hard == resource.RLIM_INFINITY or hard > most:
            bad.append(f"{name} hard limit {hard}")
        try:
            resource.setrlimit(getattr(resource, name), (hard, hard + 1))
            bad.append(f"{name} could be raised")
        except (ValueError, OSError):
            pass
    return _join(bad)


# -- the network -------------------------------------------------------------------------

def only_loopback_interface():
    names = sorted(os.listdir("/sys/class/net"))
    return "ok" if names == ["lo"] else f"interfaces: {names}"


def no_routes():
    with open("/proc/net/route") as fh:
        v4 = fh.read().splitlines()[1:]
    bad = [f"IPv4 route {line.split()[:3]}" for line in v4 if line.strip()]
    try:
        with open("/proc/net/ipv6_route") as fh:
            v6 = fh.read().splitlines()
    except OSError:
        v6 = []
    bad += [f"IPv6 route via {line.split()[-1]}" for line in v6
            if line.strip() and line.split()[-1] != "lo"]
    return _join(bad)


def binding_outside_loopback_fails():
    bad = []
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))  # loopback works: the check below is meaningful
    for addr in ("192.0.2.1", "10.1.2.3", "172.17.0.1", "198.51.100.7"):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((addr, 0))
                bad.append(f"bound to {addr}")
            except OSError as exc:
                if exc.errno != errno.EADDRNOTAVAIL:
                    bad.append(f"bind {addr}: {exc}")
    return _join(bad)


def raw_sockets_are_refused():
    bad = []
    for family, kind, proto, what in (
        (getattr(socket, "AF_PACKET", 17), socket.SOCK_RAW, 0, "AF_PACKET"),
        (socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP, "raw ICMP"),
        (socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW, "raw IP"),
    ):
        try:
            socket.socket(family, kind, proto).close()
            bad.append(f"opened a {what} socket")
        except PermissionError:
            pass
        except OSError as exc:
            if exc.errno not in _REFUSED + (errno.EAFNOSUPPORT,):
                bad.append(f"{what}: {exc}")
    return _join(bad)


def no_docker_socket():
    bad = [p for p in ("/var/run/docker.sock", "/run/docker.sock", "/run/containerd")
           if os.path.lexists(p)]
    bad += [p for p, st in _walk() if stat.S_ISSOCK(st.st_mode)]
    return _join(bad)


# -- processes ---------------------------------------------------------------------------

def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def pid1_is_our_launcher():
    cmd = _cmdline(1)
    return "ok" if "/grader/harness/launcher.py" in cmd else f"PID 1 is {cmd!r}"


def only_sandbox_processes():
    pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    bad = []
    for pid in pids:
        cmd = _cmdline(pid)
        if cmd and "python" not in cmd.split()[0]:
            bad.append(f"{pid}: {cmd[:80]}")
    if len(pids) > 12:
        bad.append(f"{len(pids)} processes visible")
    return _join(bad)


def pid1_cannot_be_inspected():
    bad = []
    for path in ("/proc/1/environ", "/proc/1/mem", "/proc/1/maps"):
        try:
            with open(path, "rb") as fh:
                if fh.read(64):
                    bad.append(f"read {path}")
        except OSError:
            pass
    libc = _libc()
    ctypes.set_errno(0)
    ret = libc.ptrace(16, 1, 0, 0)  # PTRACE_ATTACH
    if ret == 0:
        time.sleep(0.05)
        libc.ptrace(17, 1, 0, 0)  # PTRACE_DETACH
    bad.append(_expect_refused("ptrace(PTRACE_ATTACH, 1)", ret, ctypes.get_errno()))
    buf = ctypes.create_string_buffer(16)

    class IoVec(ctypes.Structure):
        _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]

    local = IoVec(ctypes.cast(buf, ctypes.c_void_p), 16)
    remote = IoVec(0x400000, 16)
    ret, err = _syscall("process_vm_readv", 1, ctypes.byref(local), 1, ctypes.byref(remote),
                        1, 0)
    bad.append(_expect_refused("process_vm_readv(1)", ret, err))
    return _join(bad)


def pid1_survives_signals():
    for sig in (signal.SIGKILL, signal.SIGSTOP, signal.SIGSEGV):
        try:
            os.kill(1, sig)
        except OSError:
            pass
    time.sleep(0.2)
    state = ""
    try:
        with open("/proc/1/stat") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        pass
    if "launcher.py" not in _cmdline(1):
        return "PID 1 is gone"
    return "ok" if state in ("S", "R", "") else f"PID 1 is in state {state}"


# -- the kernel --------------------------------------------------------------------------

def sys_is_read_only():
    bad = []
    for line in _mountinfo():
        if line[4] == "/sys" and "ro" not in line[5].split(","):
            bad.append("/sys is mounted read-write")
        if line[4].startswith("/sys/fs/cgroup/") and "ro" not in line[5].split(","):
            bad.append(f"{line[4]} is mounted read-write")
    for path in ("/sys/kernel/uevent_helper", "/sys/fs/cgroup/pids/pids.max",
                 "/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/pids.max",
                 "/sys/fs/cgroup/memory.max"):
        try:
            with open(path, "w") as fh:
                fh.write("max")
            bad.append(f"wrote {path}")
        except OSError:
            pass
    return _join(bad)


def proc_is_not_writable():
    bad = []
    for path in ("/proc/sysrq-trigger", "/proc/sys/kernel/hostname",
                 "/proc/sys/kernel/core_pattern", "/proc/sys/vm/drop_caches",
                 "/proc/1/oom_score_adj"):
        try:
            with open(path, "w") as fh:
                fh.write("-1000" if "oom" in path else "x")
            bad.append(f"wrote {path}")
        except OSError:
            pass
    for path in ("/proc/kcore", "/proc/kmsg", "/dev/kmsg"):
        try:
            with open(path, "rb") as fh:
                if fh.read(64):
                    bad.append(f"read {path}")
        except OSError:
            pass
    try:
        with open("/proc/kallsyms") as fh:
            address = fh.readline().split()[0]
        if address.strip("0"):
            bad.append("kernel addresses are visible in /proc/kallsyms")
    except (OSError, IndexError):
        pass
    return _join(bad)


def kernel_keyring_is_refused():
    bad = [_expect_refused("keyctl(GET_KEYRING_ID)", *_syscall("keyctl", 0, -3, 1, 0, 0)),
           _expect_refused("add_key", *_syscall("add_key", ctypes.c_char_p(b"user"),
                                                ctypes.c_char_p(b"grader"),
                                                ctypes.c_char_p(b"x"), 1, -3))]
    try:
        with open("/proc/keys") as fh:
            if fh.read().strip():
                bad.append("/proc/keys lists keys")
    except OSError:
        pass
    return _join(bad)


def mount_is_refused():
    libc = _libc()
    ctypes.set_errno(0)
    ret = libc.mount(b"none", b"/work", b"tmpfs", 0, b"size=1m")
    bad = [_expect_refused("mount(tmpfs)", ret, ctypes.get_errno())]
    ctypes.set_errno(0)
    ret = libc.umount2(b"/tmp", 2)
    bad.append(_expect_refused("umount2(/tmp)", ret, ctypes.get_errno()))
    return _join(bad)


def unshare_is_refused():
    libc = _libc()
    bad = []
    for flag, name in ((0x10000000, "CLONE_NEWUSER"), (0x00020000, "CLONE_NEWNS"),
                       (0x40000000, "CLONE_NEWNET"), (0x20000000, "CLONE_NEWPID")):
        ctypes.set_errno(0)
        ret = libc.unshare(flag)
        bad.append(_expect_refused(f"unshare({name})", ret, ctypes.get_errno()))
    return _join(bad)


def bpf_is_refused():
    attr = (ctypes.c_uint32 * 30)(1, 4, 4, 1)  # BPF_MAP_TYPE_HASH, key 4, value 4, 1 entry
    return _join([_expect_refused("bpf(BPF_MAP_CREATE)", *_syscall("bpf", 0, attr, 120))])


def io_uring_is_refused():
    params = ctypes.create_string_buffer(120)
    ret, err = _syscall("io_uring_setup", 4, params)
    if ret >= 0:
        os.close(ret)
    return _join([_expect_refused("io_uring_setup", ret, err)])


def other_kernel_attack_surface_is_refused():
    attr = ctypes.create_string_buffer(128)
    handle = ctypes.create_string_buffer(128)
    ctypes.memmove(handle, (8).to_bytes(4, "little") + (1).to_bytes(4, "little"), 8)
    bad = [
        _expect_refused("perf_event_open", *_syscall("perf_event_open", attr, 0, -1, -1, 0)),
        _expect_refused("userfaultfd", *_syscall("userfaultfd", 0)),
        _expect_refused("open_by_handle_at", *_syscall("open_by_handle_at", -100, handle, 0)),
        _expect_refused("finit_module", *_syscall("finit_module", 0, ctypes.c_char_p(b""), 0)),
    ]
    libc = _libc()
    ctypes.set_errno(0)
    ret = libc.ptrace(0, 0, 0, 0)  # PTRACE_TRACEME
    bad.append(_expect_refused("ptrace(PTRACE_TRACEME)", ret, ctypes.get_errno()))
    return _join(bad)


# -- the file system -----------------------------------------------------------------------

_EXPECTED_MOUNTS = ("/", "/proc", "/dev", "/dev/pts", "/dev/mqueue", "/dev/shm", "/sys",
                    "/sys/fs/cgroup", "/sys/firmware", "/tmp", "/work", "/var/tmp", "/run/lock",
                    "/etc/resolv.conf", "/etc/hostname", "/etc/hosts")


def host_paths_are_not_visible():
    bad = [p for p in ("/work/main", "/work/.library", "/var/lib/docker", "/etc/docker",
                       "/root/.cache", "/var/run/docker.sock", "/host", "/mnt/host")
           if os.path.lexists(p)]
    bad += [f"home folder {h}" for h in (os.listdir("/home") if os.path.isdir("/home") else [])]
    for line in _mountinfo():
        point, root = line[4], line[3]
        if point.startswith("/proc/") or point.startswith("/sys/fs/cgroup/"):
            continue
        if point not in _EXPECTED_MOUNTS:
            bad.append(f"unexpected mount {point} (from {root})")
        elif root != "/" and not root.startswith("/var/lib/docker/containers/") and \
                not root.startswith("/docker/"):
            bad.append(f"{point} is a host path {root}")
    with open("/etc/hostname") as fh:
        if fh.read().strip() != "sandbox":
            bad.append("the hostname is not the sandbox's")
    return _join(bad)


_DEVICES = {"null", "zero", "full", "random", "urandom", "tty", "console", "ptmx"}


def no_device_files():
    bad = []
    for path, st in _walk():
        if stat.S_ISBLK(st.st_mode):
            bad.append(f"block device {path}")
        elif stat.S_ISCHR(st.st_mode) and not (
            path.startswith("/dev/pts/") or os.path.basename(path) in _DEVICES
        ):
            bad.append(f"character device {path}")
    return _join(bad)


_WRITABLE_OK = ("/work", "/tmp", "/dev/shm", "/dev/mqueue", "/dev/pts")
_RESULTS = ("/grader/out/result.json", "/grader/out/results", "/grader/out/collected.json",
            "/grader/out/lint", "/grader/out/service.json", "/grader/out/schema.json")


def nothing_writable_outside_tmpfs():
    bad = []
    for path, st in _walk():
        if any(path == d or path.startswith(d + "/") for d in _WRITABLE_OK):
            continue
        if stat.S_ISLNK(st.st_mode) or stat.S_ISCHR(st.st_mode):
            continue
        if path in _RESULTS:
            continue  # pre-created for the run user; bounded by RLIMIT_FSIZE
        if os.access(path, os.W_OK, follow_symlinks=False):
            bad.append(path)
    for d in ("/", "/var/tmp", "/run/lock", "/var/lock", "/grader", "/grader/out", "/opt/venv",
              "/usr", "/etc", "/root"):
        probe = os.path.join(d, f".probe-{os.getpid()}")
        try:
            with open(probe, "w") as fh:
                fh.write("x")
            os.unlink(probe)
            bad.append(f"created a file in {d}")
        except OSError:
            pass
    return _join(bad[:50])


def tests_are_read_only_or_absent():
    mode = _isolation()
    if mode == "process":
        found = [p for p in ("/grader/tests",) if os.path.lexists(p)]
        return "ok" if not found else "the candidate's container holds the tests"
    bad = []
    for path, st in _walk():
        if not path.startswith("/grader/tests"):
            continue
        if st.st_uid != 0:
            bad.append(f"{path} is owned by {st.st_uid}")
        if os.access(path, os.W_OK):
            bad.append(f"{path} is writable")
        if st.st_mode & stat.S_IWOTH or st.st_mode & stat.S_IROTH:
            bad.append(f"{path} is open to others")
    return _join(bad)


def result_files_cannot_be_replaced():
    bad = []
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    target = "/grader/out/results"
    for what, action in (
        ("unlink", lambda: os.unlink(target)),
        ("rename", lambda: os.rename(target, target + ".x")),
        ("symlink to /etc/shadow", lambda: os.symlink("/etc/shadow", "/grader/out/x")),
        ("mkfifo", lambda: os.mkfifo("/grader/out/fifo")),
        ("mkdir", lambda: os.mkdir("/grader/out/dir")),
        ("hard link", lambda: os.link("/etc/passwd", "/grader/out/pw")),
    ):
        try:
            action()
            bad.append(f"{what} in /grader/out succeeded")
        except OSError:
            pass
    if os.access(target, os.W_OK):
        try:
            os.truncate(target, 1 << 30)
            bad.append("made a 1 GiB sparse junit.xml")
        except OSError:
            pass
        finally:
            try:
                os.truncate(target, 0)
            except OSError:
                pass
    return _join(bad)


def other_submissions_are_not_visible(canaries):
    bad = []
    for path, _ in _walk():
        name = os.path.basename(path)
        if any(c in name for c in canaries):
            bad.append(path)
    return _join(bad)


def environment_dump():
    """Everything of the environment this code can see, as text."""
    parts = [json.dumps(dict(os.environ), sort_keys=True)]
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/environ", "rb") as fh:
                    parts.append(fh.read().decode(errors="replace"))
            except OSError:
                pass
    return "\n".join(parts)


def environment_is_clean():
    bad = []
    for k, v in os.environ.items():
        up = k.upper()
        if up.startswith(("GRADER", "PYTEST", "_PYTEST", "DOCKER", "CELERY")) or any(
            w in up for w in ("SECRET", "TOKEN", "PASSWORD", "DATABASE", "REDIS", "BROKER",
                              "AWS", "KEY")
        ):
            bad.append(f"{k} is set")
        if "://" in v:
            bad.append(f"{k} holds a URL")
    return _join(bad)
'''


def probe_names() -> list[str]:
    """The probe functions (every public one but the helpers)."""
    import ast

    tree = ast.parse(PROBE_SOURCE)
    return [
        n.name
        for n in tree.body
        if isinstance(n, ast.FunctionDef)
        and not n.name.startswith("_")
        and n.name not in ("other_submissions_are_not_visible", "environment_dump")
    ]
