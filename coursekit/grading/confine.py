"""Kernel-level confinement of the grader's sandbox process (Linux), applied to the process itself.

* ``landlock(writable)``: Landlock (Linux >= 5.13) so that files can be created, written, renamed
  or removed only beneath ``writable``; TCP bind/connect are refused (ABI >= 4) and signals to
  processes outside the sandbox are refused (ABI >= 6). Reading stays allowed (the interpreter
  and torch must load). A Landlock domain cannot be left or widened by the confined process.
* ``no_new_privileges()`` and ``drop_capabilities()``: a process started as root keeps uid 0 but
  loses every capability, so it cannot raise its resource limits or undo the confinement.

Each function returns what it achieved (``False`` or an ABI number of 0 when the kernel lacks the
feature) rather than raising, so the grader can report which protections were in force.
"""

from __future__ import annotations

import ctypes
import os

__all__ = ["landlock", "no_new_privileges", "drop_capabilities"]

# Syscall numbers shared by x86_64 and aarch64 (the unified table from 5.x on).
_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446
_SYS_CAPSET = {"x86_64": 126, "aarch64": 91}
_PR_SET_NO_NEW_PRIVS = 38
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1

# Filesystem rights that change something (landlock.h); the ABI that introduced each.
_FS_WRITE_RIGHTS = {
    1 << 1: 1,  # WRITE_FILE
    1 << 4: 1,  # REMOVE_DIR
    1 << 5: 1,  # REMOVE_FILE
    1 << 6: 1,  # MAKE_CHAR
    1 << 7: 1,  # MAKE_DIR
    1 << 8: 1,  # MAKE_REG
    1 << 9: 1,  # MAKE_SOCK
    1 << 10: 1,  # MAKE_FIFO
    1 << 11: 1,  # MAKE_BLOCK
    1 << 12: 1,  # MAKE_SYM
    1 << 13: 2,  # REFER (rename/link across directories)
    1 << 14: 3,  # TRUNCATE
}
_NET_TCP = (1 << 0) | (1 << 1)  # BIND_TCP | CONNECT_TCP, ABI 4
_SCOPE_SIGNAL_AND_UNIX = (1 << 0) | (1 << 1)  # ABSTRACT_UNIX_SOCKET | SIGNAL, ABI 6


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _abi(libc: ctypes.CDLL) -> int:
    version = libc.syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(_CREATE_RULESET_VERSION))
    return max(int(version), 0)


def no_new_privileges() -> bool:
    """prctl(PR_SET_NO_NEW_PRIVS): required by Landlock; exec can no longer gain privileges."""
    try:
        return _libc().prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def landlock(writable: str | os.PathLike) -> int:
    """Confine this process: writes only beneath ``writable``, no TCP, no signals outside.

    Returns the Landlock ABI version applied, or 0 if Landlock is unavailable.
    """
    try:
        libc = _libc()
        abi = _abi(libc)
    except (OSError, AttributeError):
        return 0
    if abi < 1:
        return 0
    fs = sum(bit for bit, since in _FS_WRITE_RIGHTS.items() if abi >= since)
    attr = _RulesetAttr(fs, _NET_TCP if abi >= 4 else 0, _SCOPE_SIGNAL_AND_UNIX if abi >= 6 else 0)
    size = 8 if abi < 4 else 16 if abi < 6 else 24  # the struct grew with the ABI
    ruleset = libc.syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        return 0
    try:
        directory = os.open(os.fspath(writable), os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            rule = _PathBeneathAttr(fs, directory)
            if libc.syscall(_SYS_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.byref(rule), ctypes.c_uint32(0)) != 0:
                return 0
        finally:
            os.close(directory)
        if not no_new_privileges():
            return 0
        if libc.syscall(_SYS_RESTRICT_SELF, ruleset, ctypes.c_uint32(0)) != 0:
            return 0
    finally:
        os.close(ruleset)
    return abi


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def drop_capabilities() -> bool:
    """capset() with empty sets: even uid 0 can then no longer raise limits, kill others or mount."""
    number = _SYS_CAPSET.get(os.uname().machine)
    if number is None:
        return False
    try:
        header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3: two data structs
        data = (_CapData * 2)()
        return _libc().syscall(number, ctypes.byref(header), ctypes.byref(data)) == 0
    except (OSError, AttributeError):
        return False
