#!/usr/bin/env python3
"""ctest port.rtthread.sconscript: runs src/port/rtthread/SConscript as
RT-Thread's scons would, with a stand-in for its `building` module, once per
choice of the Kconfig "Client" (full / nano) and with the msh command on and
off, and checks the source list it hands to DefineGroup: every file exists;
the nano choice builds src/nano and the port's transport but no session,
client or thread; the full choice the reverse; each list compiles together
(port.rtthread.compile compiles the files themselves).
Usage: rtthread_sconscript_check.py <source root>"""
import glob
import os
import sys
import types

root = os.path.realpath(sys.argv[1])
port = os.path.join(root, "src", "port", "rtthread")


def run(defined):
    got = {}
    b = types.ModuleType("building")
    b.GetCurrentDir = lambda: port
    b.Glob = lambda pat: sorted(glob.glob(pat))
    b.GetDepend = lambda names: all(n in defined for n in names)

    def define_group(name, src, depend, **kw):
        got.update(name=name, src=[os.path.realpath(s) for s in src], depend=depend, kw=kw)
        return "group"

    b.DefineGroup = define_group
    b.Return = lambda name: None
    sys.modules["building"] = b
    code = open(os.path.join(port, "SConscript")).read()
    exec(compile(code, "SConscript", "exec"), {"__name__": "SConscript"})
    return got


def rel(paths):
    return {os.path.relpath(p, root) for p in paths}


fails = []


def check(cond, what):
    if not cond:
        fails.append(what)


for defined, kind in (({"PKG_KMQTT_FULL_CLIENT", "PKG_KMQTT_USING_MSH_CMD"}, "full"),
                      ({"PKG_KMQTT_FULL_CLIENT"}, "full"),
                      ({"PKG_KMQTT_NANO_CLIENT", "PKG_KMQTT_USING_MSH_CMD"}, "nano"),
                      ({"PKG_KMQTT_NANO_CLIENT"}, "nano")):
    g = run(defined)
    tag = "%s %s" % (kind, sorted(defined))
    src = rel(g.get("src", []))
    check(g.get("depend") == ["PKG_USING_KMQTT"], tag + ": group depends on PKG_USING_KMQTT")
    check("KMQTT_USER_CONFIG" in g["kw"].get("CPPDEFINES", []), tag + ": KMQTT_USER_CONFIG defined")
    for p in g.get("src", []):
        check(os.path.isfile(p), tag + ": missing file " + p)
    check(len(set(g["src"])) == len(g["src"]), tag + ": a file listed twice")
    dirs = {os.path.dirname(s) for s in src}
    for d in ("src/codec", "src/common", "src/mem"):
        check(d in dirs, tag + ": builds " + d)
    for f in ("clock.c", "sync.c", "heap.c", "tcp.c"):
        check("src/port/rtthread/" + f in src, tag + ": builds the port's " + f)
    nano_files = rel(glob.glob(os.path.join(root, "src/nano/*.c")))
    if kind == "nano":
        check(nano_files <= src, tag + ": builds every src/nano/*.c")
        check(not dirs & {"src/session", "src/client"}, tag + ": no session or client")
        check("src/port/rtthread/thread.c" not in src, tag + ": no thread.c")
        check("src/port/rtthread/msh_kmqtt.c" not in src, tag + ": no msh command")
    else:
        check(not nano_files & src, tag + ": no src/nano")
        check({"src/session", "src/client"} <= dirs, tag + ": session and client")
        check("src/port/rtthread/thread.c" in src, tag + ": thread.c")
        check(("src/port/rtthread/msh_kmqtt.c" in src) == ("PKG_KMQTT_USING_MSH_CMD" in defined),
              tag + ": msh_kmqtt.c exactly when PKG_KMQTT_USING_MSH_CMD")

# Kconfig and kmqtt_user_config.h know the names SConscript asks for.
kconfig = open(os.path.join(port, "Kconfig")).read()
for name in ("PKG_KMQTT_FULL_CLIENT", "PKG_KMQTT_NANO_CLIENT", "PKG_KMQTT_NANO_INBOUND_QOS2"):
    check("config " + name in kconfig, "Kconfig defines " + name)
check("PKG_KMQTT_NANO_INBOUND_QOS2" in open(os.path.join(port, "kmqtt_user_config.h")).read(),
      "kmqtt_user_config.h maps PKG_KMQTT_NANO_INBOUND_QOS2")

if fails:
    for f in fails:
        print("port.rtthread.sconscript: FAILED: " + f, file=sys.stderr)
    sys.exit(1)
print("port.rtthread.sconscript: SConscript builds the right sources for the full and the nano "
      "client, with and without the msh command")
