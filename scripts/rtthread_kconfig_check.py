#!/usr/bin/python3
"""ctest port.rtthread.kconfig: every option of the package's Kconfig changes
the built package.

Kconfiglib (Debian python3-kconfiglib) reads the package's Kconfig beside a
stand-in for the RT-Thread symbols it refers to. For each PKG_KMQTT_* option a
configuration is made from the defaults (with the client the option belongs
to) and one with that option changed (a bool flipped, an int moved to another
value in its range). Each is written as rtconfig.h (as menuconfig would), the
package's SConscript gives the source list, and the sources are compiled with
arm-none-eabi-gcc against the stand-in headers (tests/rtos-api/rtthread). The
option passes when the source list or an object file differs. The options the
package tools read and the code must not (path, version) are listed apart.
Usage: rtthread_kconfig_check.py <source root>"""
import concurrent.futures
import glob
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import types

try:
    import kconfiglib
except ImportError:
    print("port.rtthread.kconfig: needs Kconfiglib (apt-get install python3-kconfiglib)",
          file=sys.stderr)
    sys.exit(1)

root = os.path.realpath(sys.argv[1])
api = os.path.join(root, "tests", "rtos-api", "rtthread")

# Read by RT-Thread's package tools (where to unpack, which release), not by
# the code.
TOOLS_ONLY = {"PKG_KMQTT_PATH", "PKG_KMQTT_VER", "PKG_USING_KMQTT_V010",
              "PKG_USING_KMQTT_LATEST_VERSION"}

STANDIN_KCONFIG = """mainmenu "kmqtt Kconfig check"
config RT_VER_NUM
    hex
    default 0x50100
config RT_THREAD_PRIORITY_32
    bool
    default y
config RT_USING_FINSH
    bool
    default y
config RT_USING_MUTEX
    bool
config RT_USING_SEMAPHORE
    bool
config RT_USING_EVENT
    bool
config RT_USING_SAL
    bool
config SAL_USING_POSIX
    bool
config RT_USING_POSIX_FS
    bool
config RT_USING_POSIX_SOCKET
    bool
config RT_USING_POSIX_POLL
    bool
config RT_USING_POSIX_PIPE
    bool
config PKG_USING_MBEDTLS
    bool
source "%s"
"""

# The kernel part of the stand-in rtconfig.h (everything but the package).
KERNEL = [line for line in open(os.path.join(api, "rtconfig.h")).read().splitlines()
          if line.startswith("#define") and "PKG_" not in line and "RT_CONFIG_H" not in line]


def load():
    with tempfile.NamedTemporaryFile("w", suffix=".Kconfig", delete=False) as f:
        f.write(STANDIN_KCONFIG % os.path.join(root, "Kconfig"))
        top = f.name
    try:
        return kconfiglib.Kconfig(top, warn=False)
    finally:
        os.unlink(top)


def values(k, changes):
    k.unset_values()
    for _ in range(3):
        for name, v in changes.items():
            k.syms[name].set_value(v)
    for name, v in changes.items():
        if k.syms[name].str_value != v:
            raise RuntimeError("Kconfig refused %s=%s" % (name, v))
    out = {}
    for sym in k.unique_defined_syms:
        if not sym.name.startswith("PKG_") or not sym.config_string:
            continue
        v = sym.str_value
        if sym.orig_type == kconfiglib.BOOL:
            if v == "y":
                out[sym.name] = None
        elif sym.orig_type == kconfiglib.STRING:
            out[sym.name] = '"%s"' % v
        else:
            out[sym.name] = v
    return out


def sources(defined):
    got = {}
    b = types.ModuleType("building")
    b.GetCurrentDir = lambda: root
    b.Glob = lambda pat: sorted(glob.glob(pat))
    b.GetDepend = lambda names: all(n in defined for n in names)
    b.DefineGroup = lambda name, src, depend, **kw: got.update(src=list(src)) or []
    b.Return = lambda name: None
    sys.modules["building"] = b
    exec(compile(open(os.path.join(root, "SConscript")).read(), "SConscript", "exec"),
         {"__name__": "SConscript"})
    return got["src"]


def build(cfg, out):
    """Returns {source: sha256 of its object} for configuration cfg."""
    os.makedirs(out, exist_ok=True)
    lines = ["#ifndef RT_CONFIG_H__", "#define RT_CONFIG_H__"] + KERNEL
    for name, v in sorted(cfg.items()):
        lines.append("#define %s" % name if v is None else "#define %s %s" % (name, v))
    lines.append("#endif")
    with open(os.path.join(out, "rtconfig.h"), "w") as f:
        f.write("\n".join(lines) + "\n")
    listed = sources(set(cfg))
    # TLS sources need the mbedtls package (make check-rtthread compiles
    # them): here they count by being listed.
    result = {s: "listed" for s in listed if "/src/transport/" in s}
    srcs = [s for s in listed if "/src/transport/" not in s]
    flags = ["-mcpu=cortex-m4", "-mthumb", "-Os", "-std=c99", "-Wall", "-Wextra", "-Werror",
             "-pedantic", "-I" + out, "-I" + api, "-I" + os.path.join(root, "include"),
             "-I" + os.path.join(root, "src"), "-I" + os.path.join(root, "src", "port", "rtthread"),
             "-I" + os.path.join(root, "src", "port", "bsd"),
             "-I" + os.path.join(root, "src", "port", "common"), "-DKMQTT_USER_CONFIG"]

    def one(i):
        # Preprocessed text first: a file whose text no option touched has the
        # object already compiled for it.
        r = subprocess.run(["arm-none-eabi-gcc"] + flags + ["-E", "-P", srcs[i]],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(srcs[i] + ": " + r.stderr.strip()[:600])
        key = hashlib.sha256(r.stdout.encode()).hexdigest()
        if key not in OBJECTS:
            obj = os.path.join(out, "%d.o" % i)
            r = subprocess.run(["arm-none-eabi-gcc"] + flags + ["-c", srcs[i], "-o", obj],
                               capture_output=True, text=True)
            if r.returncode != 0:
                raise RuntimeError(srcs[i] + ": " + r.stderr.strip()[:600])
            OBJECTS[key] = hashlib.sha256(open(obj, "rb").read()).hexdigest()
        return srcs[i], OBJECTS[key]

    with concurrent.futures.ThreadPoolExecutor(2) as ex:
        result.update(ex.map(one, range(len(srcs))))
    return result


OBJECTS = {}  # sha256 of preprocessed text -> sha256 of its object


def other_value(sym):
    """A different value for sym that Kconfig accepts."""
    if sym.orig_type == kconfiglib.BOOL:
        return "n" if sym.str_value == "y" else "y"
    v = int(sym.str_value, 0)
    lo, hi = None, None
    for lo_s, hi_s, cond in sym.ranges:
        if kconfiglib.expr_value(cond):
            lo, hi = int(lo_s.str_value, 0), int(hi_s.str_value, 0)
            break
    cand = v + 8 if hi is None or v + 8 <= hi else v - 1
    if lo is not None and cand < lo:
        cand = lo
    return str(cand)


def main():
    if shutil.which("arm-none-eabi-gcc") is None:
        print("port.rtthread.kconfig: arm-none-eabi-gcc not found", file=sys.stderr)
        return 1
    k = load()
    options = sorted(s.name for s in k.unique_defined_syms
                     if s.name.startswith("PKG_KMQTT_") or s.name.startswith("PKG_USING_KMQTT"))
    options = [o for o in options if o != "PKG_USING_KMQTT"]
    fails, passed, cache = [], [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in options:
            if name in TOOLS_ONLY:
                continue
            sym = k.syms[name]
            client = "PKG_KMQTT_NANO_CLIENT" if "NANO" in name else "PKG_KMQTT_FULL_CLIENT"
            base_set = {"PKG_USING_KMQTT": "y", client: "y"}
            if name in ("PKG_KMQTT_FULL_CLIENT", "PKG_KMQTT_NANO_CLIENT"):
                base_set = {"PKG_USING_KMQTT": "y"}
            try:
                base = values(k, base_set)
                if name in ("PKG_KMQTT_FULL_CLIENT", "PKG_KMQTT_NANO_CLIENT"):
                    # A choice: the other member is the change.
                    other = "PKG_KMQTT_NANO_CLIENT" if name == "PKG_KMQTT_FULL_CLIENT" \
                        else "PKG_KMQTT_FULL_CLIENT"
                    base = values(k, {"PKG_USING_KMQTT": "y", name: "y"})
                    changed = values(k, {"PKG_USING_KMQTT": "y", other: "y"})
                    what = "%s -> %s" % (name, other)
                else:
                    k.unset_values()
                    values(k, base_set)
                    new = other_value(sym)
                    changed = values(k, dict(base_set, **{name: new}))
                    old = base.get(name, "n") if name in base else "n"
                    what = "%s %s -> %s" % (name, "y" if name in base and old is None else old, new)
                key = tuple(sorted(base.items(), key=lambda x: x[0]))
                if key not in cache:
                    cache[key] = build(base, os.path.join(tmp, "b%d" % len(cache)))
                a = cache[key]
                b = build(changed, os.path.join(tmp, "c_" + name))
            except RuntimeError as e:
                fails.append("%s: %s" % (name, e))
                continue
            diff = sorted(os.path.relpath(s, root) for s in set(a) | set(b) if a.get(s) != b.get(s))
            if diff:
                passed.append("%s: %d file(s) differ (%s%s)" % (what, len(diff), ", ".join(diff[:3]),
                                                              ", ..." if len(diff) > 3 else ""))
            else:
                fails.append("%s changes nothing in the built package" % what)
    for p in passed:
        print("port.rtthread.kconfig: " + p)
    for f in fails:
        print("port.rtthread.kconfig: FAILED: " + f, file=sys.stderr)
    if fails:
        return 1
    print("port.rtthread.kconfig: each of the %d options changes the built package "
          "(%s are read by the package tools only)" % (len(passed), ", ".join(sorted(TOOLS_ONLY))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
