#!/usr/bin/env python3
"""ctest port.rtthread.sconscript: runs the package's root SConscript as
RT-Thread's scons would, with a stand-in for its `building` module, once per
choice of the Kconfig "Client" (full / nano) and with the msh command on and
off, and checks the source list it hands to DefineGroup: every file exists;
both build the engine (src/session); the nano choice builds src/nano and the
port's transport but no threaded client or thread; the full choice the
reverse. Then each list is compiled with
arm-none-eabi-gcc against the RT-Thread declaration headers
(tests/rtos-api/rtthread) and nothing kmqtt_* may stay undefined across the
set: a file SConscript forgets shows as a symbol nobody defines.
Usage: rtthread_sconscript_check.py <source root>"""
import concurrent.futures
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import types

root = os.path.realpath(sys.argv[1])
port = os.path.join(root, "src", "port", "rtthread")


def run(defined):
    got = {}
    b = types.ModuleType("building")
    b.GetCurrentDir = lambda: root
    b.Glob = lambda pat: sorted(glob.glob(pat))
    b.GetDepend = lambda names: all(n in defined for n in names)

    def define_group(name, src, depend, **kw):
        got.update(name=name, src=[os.path.realpath(s) for s in src], depend=depend, kw=kw)
        return "group"

    b.DefineGroup = define_group
    b.Return = lambda name: None
    sys.modules["building"] = b
    code = open(os.path.join(root, "SConscript")).read()
    exec(compile(code, "SConscript", "exec"), {"__name__": "SConscript"})
    return got


def rel(paths):
    return {os.path.relpath(p, root) for p in paths}


fails = []


def check(cond, what):
    if not cond:
        fails.append(what)


groups = {}
for defined, kind in (({"PKG_KMQTT_FULL_CLIENT", "PKG_KMQTT_USING_MSH_CMD"}, "full"),
                      ({"PKG_KMQTT_FULL_CLIENT"}, "full"),
                      ({"PKG_KMQTT_FULL_CLIENT", "PKG_KMQTT_USING_TLS"}, "full"),
                      ({"PKG_KMQTT_NANO_CLIENT", "PKG_KMQTT_USING_MSH_CMD"}, "nano"),
                      ({"PKG_KMQTT_NANO_CLIENT"}, "nano"),
                      ({"PKG_KMQTT_NANO_CLIENT", "PKG_KMQTT_USING_TLS"}, "nano")):
    g = run(defined)
    tag = "%s %s" % (kind, sorted(defined))
    groups[tag] = (defined, g.get("src", []))
    src = rel(g.get("src", []))
    check(g.get("depend") == ["PKG_USING_KMQTT"], tag + ": group depends on PKG_USING_KMQTT")
    check("KMQTT_USER_CONFIG" in g["kw"].get("CPPDEFINES", []), tag + ": KMQTT_USER_CONFIG defined")
    for p in g.get("src", []):
        check(os.path.isfile(p), tag + ": missing file " + p)
    check(len(set(g["src"])) == len(g["src"]), tag + ": a file listed twice")
    dirs = {os.path.dirname(s) for s in src}
    for d in ("src/codec", "src/common", "src/mem", "src/session"):
        check(d in dirs, tag + ": builds " + d)
    for f in ("clock.c", "sync.c", "heap.c", "registry.c", "bsd_os.c", "netdev_watch.c"):
        check("src/port/rtthread/" + f in src, tag + ": builds the port's " + f)
    check("src/port/bsd/bsd_tcp.c" in src, tag + ": builds the shared BSD-socket transport")
    tls = {"src/transport/tls_common.c", "src/transport/tls_mbedtls.c"}
    check((tls <= src) == ("PKG_KMQTT_USING_TLS" in defined),
          tag + ": TLS sources exactly when PKG_KMQTT_USING_TLS")
    check(not {"src/transport/tls_openssl.c"} & src, tag + ": no OpenSSL")
    nano_files = rel(glob.glob(os.path.join(root, "src/nano/*.c")))
    if kind == "nano":
        check(nano_files <= src, tag + ": builds every src/nano/*.c")
        check("src/client" not in dirs, tag + ": no threaded client")
        check("src/port/rtthread/thread.c" not in src, tag + ": no thread.c")
        check("src/port/rtthread/msh_kmqtt.c" not in src, tag + ": no msh command")
    else:
        check(not nano_files & src, tag + ": no src/nano")
        check("src/client" in dirs, tag + ": the threaded client")
        check("src/port/rtthread/thread.c" in src, tag + ": thread.c")
        check(("src/port/rtthread/msh_kmqtt.c" in src) == ("PKG_KMQTT_USING_MSH_CMD" in defined),
              tag + ": msh_kmqtt.c exactly when PKG_KMQTT_USING_MSH_CMD")
        check(("src/port/common/diag_print.c" in src) == ("PKG_KMQTT_USING_MSH_CMD" in defined),
              tag + ": diag_print.c with the msh commands")

# Kconfig and kmqtt_user_config.h know the names SConscript asks for.
kconfig = open(os.path.join(root, "Kconfig")).read()
for name in ("PKG_KMQTT_FULL_CLIENT", "PKG_KMQTT_NANO_CLIENT", "PKG_KMQTT_NANO_INBOUND_QOS2"):
    check("config " + name in kconfig, "Kconfig defines " + name)
check("PKG_KMQTT_NANO_INBOUND_QOS2" in open(os.path.join(port, "kmqtt_user_config.h")).read(),
      "kmqtt_user_config.h maps PKG_KMQTT_NANO_INBOUND_QOS2")



def compile_set(defined, srcs, out):
    """Compiles srcs as the package would; returns (undefined kmqtt_* symbols, errors)."""
    api = os.path.join(root, "tests", "rtos-api", "rtthread")
    flags = ["-mcpu=cortex-m4", "-mthumb", "-Os", "-std=c99", "-Wall", "-Wextra", "-Werror",
             "-pedantic", "-I" + api, "-I" + os.path.join(root, "include"),
             "-I" + os.path.join(root, "src"), "-I" + port,
             "-I" + os.path.join(root, "src", "port", "bsd"),
             "-I" + os.path.join(root, "src", "port", "common"), "-DKMQTT_USER_CONFIG"]
    # The test's rtconfig.h describes the full client; the nano choice adds its symbol.
    flags += ["-D" + d for d in sorted(defined) if d == "PKG_KMQTT_NANO_CLIENT"]
    # TLS needs the mbedtls package's headers: its sources are checked against
    # real trees by make check-rtthread, not here.
    srcs = [x for x in srcs if "/src/transport/" not in x]
    objs = [os.path.join(out, "%d.o" % i) for i in range(len(srcs))]

    def one(i):
        r = subprocess.run(["arm-none-eabi-gcc"] + flags + ["-c", srcs[i], "-o", objs[i]],
                           capture_output=True, text=True)
        return "\n".join(r.stderr.strip().splitlines()[:4]) if r.returncode else None

    with concurrent.futures.ThreadPoolExecutor(2) as ex:
        errs = [e for e in ex.map(one, range(len(srcs))) if e]
    if errs:
        return set(), errs
    nm = subprocess.run(["arm-none-eabi-nm"] + objs, capture_output=True, text=True).stdout
    defs, undef = set(), set()
    for line in nm.splitlines():
        f = line.split()
        if len(f) == 2 and f[0] == "U":
            undef.add(f[1])
        elif len(f) == 3 and f[1] in "TDRBC":
            defs.add(f[2])
    return {u for u in undef - defs if u.startswith("kmqtt_")}, []


if shutil.which("arm-none-eabi-gcc") is None:
    fails.append("arm-none-eabi-gcc not found (scripts/deps.sh installs gcc-arm-none-eabi)")
else:
    for tag, (defined, srcs) in groups.items():
        with tempfile.TemporaryDirectory() as out:
            missing, errs = compile_set(defined, srcs, out)
        for e in errs:
            fails.append(tag + ": does not compile: " + e)
        check(not missing, tag + ": nothing in the set defines " + ", ".join(sorted(missing)))

if fails:
    for f in fails:
        print("port.rtthread.sconscript: FAILED: " + f, file=sys.stderr)
    sys.exit(1)
print("port.rtthread.sconscript: SConscript builds the right sources for the full and the nano "
      "client, with and without the msh command; each set compiles for cortex-m4 and defines every "
      "kmqtt_* symbol it uses")
