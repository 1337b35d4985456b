"""PID 1 of the ``userns`` and ``namespaces`` sandboxes (see :mod:`mdlm_tasks._sandbox`).

``unshare`` starts this file's source with ``python -I -S -c`` in fresh mount, PID, network,
IPC and UTS namespaces (plus a user namespace in ``userns`` mode), holding the capabilities of
those namespaces. It builds the sample's root file system on a tmpfs (read-only binds of the
system and interpreter folders, a read-only ``/proc``, a minimal ``/dev`` and one size-limited
tmpfs for the working directory, ``/tmp``, ``/var/tmp`` and ``/dev/shm``), pivots into it,
runs the program as its child with every capability dropped, copies the files the caller
keeps, writes the program's wait status and exits, which kills whatever the program left
behind. It uses the standard library only and is never imported by the package.
"""

import ctypes
import json
import os
import platform
import resource
import sys

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 0x1, 0x2, 0x4, 0x8
MS_BIND, MS_REC, MS_PRIVATE = 0x1000, 0x4000, 0x40000
MNT_DETACH = 0x2
MOUNT_ATTR_RDONLY, MOUNT_ATTR_NOSUID, MOUNT_ATTR_NODEV = 0x1, 0x2, 0x4
AT_FDCWD, AT_RECURSIVE = -100, 0x8000
SYS_MOUNT_SETATTR = 442  # one number on every architecture (added after the syscall tables merged)
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "arm64": 41, "riscv64": 41, "ppc64le": 203, "s390x": 217}
DEVICES = ("null", "zero", "full", "random", "urandom")
SETUP_FAILED = 125

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


class MountAttr(ctypes.Structure):
    """``struct mount_attr`` of ``mount_setattr(2)``."""

    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]


def check(result, what):
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def mount(source, target, fstype=None, flags=0, data=None):
    def raw(text):
        return None if text is None else os.fsencode(text)

    check(libc.mount(raw(source), raw(target), raw(fstype), ctypes.c_ulong(flags), raw(data)), f"mount {target}")


def make_readonly(path, recursive):
    # mount_setattr changes only the attributes named, so flags the kernel locked on mounts
    # inherited from the host (nosuid, noexec, atime) stay as they are.
    attr = MountAttr(MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, 0, 0, 0)
    flags = AT_RECURSIVE if recursive else 0
    check(libc.syscall(ctypes.c_long(SYS_MOUNT_SETATTR), ctypes.c_long(AT_FDCWD), os.fsencode(path),
                       ctypes.c_long(flags), ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr))),
          f"read-only {path}")


def pivot_root(new_root, put_old):
    number = SYS_PIVOT_ROOT.get(platform.machine())
    if number is None:
        raise OSError(0, f"pivot_root: unknown architecture {platform.machine()}")
    check(libc.syscall(ctypes.c_long(number), os.fsencode(new_root), os.fsencode(put_old)), "pivot_root")


def bind_read_only(source, root):
    target = root + source
    if os.path.islink(source):  # e.g. /bin -> usr/bin on merged-/usr systems
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.symlink(os.readlink(source), target)
        return
    if os.path.isdir(source):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        open(target, "w").close()
    mount(source, target, flags=MS_BIND | MS_REC)
    make_readonly(target, recursive=True)


def build_root(config):
    root = config["root"]
    mount("none", "/", flags=MS_REC | MS_PRIVATE)
    mount("sandbox-root", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,nr_inodes=4096,mode=755")
    for source in config["read_only"]:
        bind_read_only(source, root)
    # One quota for everything the program may write.
    os.makedirs(root + "/sandbox")
    mount("sandbox", root + "/sandbox", "tmpfs", MS_NOSUID | MS_NODEV,
          f"size={config['disk_mb']}m,nr_inodes={config['inodes']},mode=755")
    for folder in ("/sandbox/work", "/sandbox/tmp"):
        os.mkdir(root + folder, 0o755)
    for name in config["inputs"]:
        with open(os.path.join(config["input_dir"], name), "rb") as source, \
                open(f"{root}/sandbox/work/{name}", "wb") as target:
            target.write(source.read())
        os.chmod(f"{root}/sandbox/work/{name}", 0o755)
    os.makedirs(root + "/proc")
    mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY)
    os.makedirs(root + "/dev")
    mount("sandbox-dev", root + "/dev", "tmpfs", MS_NOSUID, "size=64k,nr_inodes=64,mode=755")
    for device in DEVICES:
        open(f"{root}/dev/{device}", "w").close()
        mount(f"/dev/{device}", f"{root}/dev/{device}", flags=MS_BIND)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        os.symlink(target, f"{root}/dev/{name}")
    for folder in ("/tmp", "/var/tmp", "/dev/shm"):
        os.makedirs(root + folder, exist_ok=True)
        mount(root + "/sandbox/tmp", root + folder, flags=MS_BIND)
    make_readonly(root + "/dev", recursive=False)
    os.mkdir(root + "/.old")
    pivot_root(root, root + "/.old")
    os.chdir("/")
    check(libc.umount2(b"/.old", MNT_DETACH), "umount old root")
    os.rmdir("/.old")
    make_readonly("/", recursive=False)


def start_program(config):
    pid = os.fork()
    if pid:
        return pid
    try:
        os.chdir("/sandbox/work")
        # Counted inside this namespace only, so the host user's other processes do not count.
        resource.setrlimit(resource.RLIMIT_NPROC, (config["nproc"], config["nproc"]))
        drop = ["--bounding-set=-all", "--inh-caps=-all", "--ambient-caps=-all", "--no-new-privs", "--"]
        os.execve(config["setpriv"], [config["setpriv"], *drop, *config["argv"]], config["env"])
    except OSError as error:
        print(f"sandbox: cannot start {config['argv'][0]}: {error}", file=sys.stderr)
    os._exit(127)


def wait_for(pid):
    while True:  # as PID 1, also reap the program's orphans
        child, status = os.waitpid(-1, 0)
        if child == pid:
            return status


def main():
    config = json.loads(sys.argv[1])
    try:
        out_dir = os.open(config["output_dir"], os.O_RDONLY | os.O_DIRECTORY)
        status_file = os.open(config["status_file"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        build_root(config)
    except OSError as error:
        print(f"sandbox setup failed: {error}", file=sys.stderr)
        sys.exit(SETUP_FAILED)
    status = wait_for(start_program(config))
    work = os.open("/sandbox/work", os.O_RDONLY | os.O_DIRECTORY)
    for name in config["keep"]:
        try:  # a file the program did not write (or one over RLIMIT_FSIZE) is just not kept
            source = os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=work)
            target = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o755, dir_fd=out_dir)
            while chunk := os.read(source, 1 << 20):
                os.write(target, chunk)
        except OSError:
            continue
    os.write(status_file, str(status).encode())
    sys.exit(0)


if __name__ == "__main__":
    main()
