#!/usr/bin/python3
"""make check-rtthread RTT_ROOT=<rt-thread tree> [MBEDTLS_ROOT=<mbedtls package>]

Compiles the kmqtt RT-Thread package against a real RT-Thread tree, in every
configuration: {full, nano} client x {lwIP through SAL, AT sockets} x {without,
with TLS}. For each one an rtconfig.h is generated the way menuconfig would:
Kconfiglib (Debian python3-kconfiglib) reads the tree's own Kconfig together
with the package's Kconfig, the configuration's choices are set, and every
symbol (the package's selects included) is written out. The source list is
what the package's SConscript hands to DefineGroup for that rtconfig.h. Each
file is compiled with arm-none-eabi-gcc -Wall -Wextra -Werror against the
tree's headers; nothing of the tree is compiled or linked.

Prints one line per configuration and a matrix; exits non-zero if any fails.
The tree is never copied into the project; docs/port-rtthread.md says where
to get one."""
import glob
import os
import re
import subprocess
import sys
import tempfile
import types

try:
    import kconfiglib
except ImportError:
    sys.exit("check-rtthread: needs Kconfiglib (apt-get install python3-kconfiglib); "
             "run with /usr/bin/python3")

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), ".."))


def find_rtt(path):
    for cand in (path, os.path.join(path, "rt-thread")):
        if os.path.isfile(os.path.join(cand, "include", "rtthread.h")):
            return os.path.realpath(cand)
    sys.exit("check-rtthread: no include/rtthread.h under %s (give RTT_ROOT=<rt-thread tree>)" % path)


def version(rtt):
    text = open(os.path.join(rtt, "include", "rtdef.h"), errors="replace").read()
    v = []
    for names in (("RT_VERSION_MAJOR", "RT_VERSION"), ("RT_VERSION_MINOR", "RT_SUBVERSION"),
                  ("RT_VERSION_PATCH", "RT_REVISION")):
        for n in names:
            m = re.search(r"#define\s+%s\s+(\d+)" % n, text)
            if m:
                v.append(int(m.group(1)))
                break
    return tuple(v)


TOP_KCONFIG = """mainmenu "kmqtt check-rtthread"
config KMQTT_CHECK_SOC
    bool
    default y
    select %(arch)s
    select RT_USING_COMPONENTS_INIT
    select RT_USING_USER_MAIN
# Stands for the mbedtls package's own Kconfig (packages index).
config PKG_USING_MBEDTLS
    bool "mbedtls"
source "$RTT_DIR/Kconfig"
source "$KMQTT_DIR/Kconfig"
"""


def make_config(rtt, arch, choices, out_dir):
    """Writes rtconfig.h for choices (symbol -> value) and returns the symbol values."""
    os.environ["RTT_DIR"] = rtt
    os.environ["KMQTT_DIR"] = ROOT
    top = os.path.join(out_dir, "Kconfig")
    with open(top, "w") as f:
        f.write(TOP_KCONFIG % {"arch": arch})
    k = kconfiglib.Kconfig(top, warn=False)
    # Twice: a choice only takes once what it depends on is set.
    for _ in range(3):
        for name, value in choices.items():
            k.syms[name].set_value(value)
    for name, value in choices.items():
        got = k.syms[name].str_value
        if got != value:
            raise RuntimeError("Kconfig did not take %s=%s (got %s)" % (name, value, got))
    lines = ["#ifndef RT_CONFIG_H__", "#define RT_CONFIG_H__", ""]
    values = {}
    for sym in k.unique_defined_syms:
        if not sym.nodes or sym.name in ("KMQTT_CHECK_SOC",):
            continue
        v = sym.str_value
        if sym.orig_type in (kconfiglib.BOOL, kconfiglib.TRISTATE):
            if v == "y":
                lines.append("#define %s" % sym.name)
                values[sym.name] = "y"
        elif sym.orig_type == kconfiglib.STRING:
            if sym.visibility or sym.config_string:
                lines.append('#define %s "%s"' % (sym.name, v))
                values[sym.name] = v
        elif sym.orig_type in (kconfiglib.INT, kconfiglib.HEX) and v != "":
            if sym.config_string:
                lines.append("#define %s %s" % (sym.name, v))
                values[sym.name] = v
    lines += ["", "#endif", ""]
    with open(os.path.join(out_dir, "rtconfig.h"), "w") as f:
        f.write("\n".join(lines))
    return values


def package_sources(values):
    """The source list the package's SConscript gives DefineGroup."""
    got = {}
    b = types.ModuleType("building")
    b.GetCurrentDir = lambda: ROOT
    b.Glob = lambda pat: sorted(glob.glob(pat))
    b.GetDepend = lambda names: all(values.get(n, "n") not in ("n", "")
                                    for n in ([names] if isinstance(names, str) else names))

    def define_group(name, src, depend, **kw):
        got.update(src=list(src), cpppath=kw.get("CPPPATH", []), defines=kw.get("CPPDEFINES", []))
        return []

    b.DefineGroup = define_group
    b.Return = lambda name: None
    sys.modules["building"] = b
    code = open(os.path.join(ROOT, "SConscript")).read()
    exec(compile(code, "SConscript", "exec"), {"__name__": "SConscript"})
    return got


def include_dirs(rtt, values, mbedtls):
    c = lambda *p: os.path.join(rtt, "components", *p)
    dirs = [os.path.join(rtt, "include"), c("finsh"), c("drivers", "include"),
            c("libc", "compilers", "common", "include"), c("libc", "compilers", "newlib"),
            c("libc", "posix", "io", "poll"), c("libc", "posix", "ipc"),
            c("net", "sal", "include"), c("net", "sal", "include", "socket"),
            c("net", "sal", "include", "socket", "sys_socket"), c("net", "sal", "include", "dfs_net"),
            c("net", "sal", "impl"), c("net", "netdev", "include")]
    if values.get("RT_USING_DFS_V2") == "y":
        dirs.append(c("dfs", "dfs_v2", "include"))
    elif os.path.isdir(c("dfs", "dfs_v1")):
        dirs.append(c("dfs", "dfs_v1", "include"))
    else:
        dirs.append(c("dfs", "include"))
    if values.get("RT_USING_AT") == "y":
        dirs += [c("net", "at", "include"), c("net", "at", "at_socket")]
    if mbedtls:
        # The package copies ports/inc/tls_config.h over mbedtls/config.h when
        # it builds; here the same file is named by MBEDTLS_CONFIG_FILE, and
        # its #include "check_config.h" needs mbedtls/include/mbedtls.
        dirs += [os.path.join(mbedtls, "mbedtls", "include"), os.path.join(mbedtls, "ports", "inc"),
                 os.path.join(mbedtls, "mbedtls", "include", "mbedtls")]
    return [d for d in dirs if os.path.isdir(d)]


def net_choices(net):
    if net == "lwip":
        return {"RT_USING_LWIP": "y", "SAL_USING_LWIP": "y"}
    return {"RT_USING_AT": "y", "AT_USING_CLIENT": "y", "AT_USING_SOCKET": "y", "SAL_USING_AT": "y"}


def run_one(rtt, ver, arch, cflags, client, net, tls, mbedtls):
    choices = {"RT_USING_FINSH": "y", "PKG_USING_KMQTT": "y"}
    choices.update(net_choices(net))
    choices["PKG_KMQTT_NANO_CLIENT" if client == "nano" else "PKG_KMQTT_FULL_CLIENT"] = "y"
    if tls:
        choices["PKG_KMQTT_USING_TLS"] = "y"
    with tempfile.TemporaryDirectory() as out:
        values = make_config(rtt, arch, choices, out)
        # What the tree and the package need, checked before compiling.
        for need in ("SAL_USING_POSIX", "RT_USING_POSIX_PIPE", "RT_USING_POSIX_POLL"):
            if values.get(need) != "y":
                return False, "Kconfig left %s off" % need, 0
        g = package_sources(values)
        incs = [out] + g["cpppath"] + include_dirs(rtt, values, mbedtls if tls else None)
        defs = ["-D" + d for d in g["defines"]]
        # What the tree's newlib SConscript and building.py add to every file.
        defs += ["-Dgcc", "-D_POSIX_C_SOURCE=1", "-DRT_USING_LIBC",
                 "-DRT_USING_NEWLIBC" if ver >= (5,) else "-DRT_USING_NEWLIB"]
        if tls:
            defs.append('-DMBEDTLS_CONFIG_FILE="%s"' % os.path.join(mbedtls, "ports", "inc", "tls_config.h"))
        errors = []
        for i, src in enumerate(g["src"]):
            cmd = (["arm-none-eabi-gcc"] + cflags + defs + ["-I" + d for d in incs] +
                   ["-c", src, "-o", os.path.join(out, "%d.o" % i)])
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                errors.append(os.path.relpath(src, ROOT) + ":\n" +
                              "\n".join(r.stderr.strip().splitlines()[:12]))
        if errors:
            return False, "\n".join(errors), len(g["src"])
        return True, "", len(g["src"])


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    rtt = find_rtt(sys.argv[1])
    mbedtls = sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] else None
    if mbedtls and not os.path.isfile(os.path.join(mbedtls, "mbedtls", "include", "mbedtls", "ssl.h")):
        sys.exit("check-rtthread: MBEDTLS_ROOT=%s has no mbedtls/include/mbedtls/ssl.h "
                 "(the RT-Thread mbedtls package)" % mbedtls)
    ver = version(rtt)
    if ver >= (5,):
        # The titan-mini BSP's device flags (Cortex-M85); libcpu's M85 choice.
        arch = "ARCH_ARM_CORTEX_M85"
        cpu = ["-march=armv8.1-m.main+mve.fp+fp.dp", "-mthumb", "-mfpu=fpv5-sp-d16",
               "-mfloat-abi=hard"]
        if "config ARCH_ARM_CORTEX_M85" not in open(os.path.join(rtt, "libcpu", "Kconfig")).read():
            arch = "ARCH_ARM_CORTEX_M4"
            cpu = ["-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard"]
    else:
        arch = "ARCH_ARM_CORTEX_M4"
        cpu = ["-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard"]
    cflags = cpu + ["-ffunction-sections", "-fdata-sections", "-O2", "-Wall", "-Wextra", "-Werror"]
    vs = ".".join(str(x) for x in ver)
    print("check-rtthread: RT-Thread %s at %s (%s), arm-none-eabi-gcc %s" %
          (vs, rtt, arch, " ".join(cflags)))
    results = []
    failed = 0
    for client in ("full", "nano"):
        for net in ("lwip", "at"):
            for tls in (False, True):
                name = "%s %s%s" % (client, "lwIP/SAL" if net == "lwip" else "AT socket",
                                    " TLS" if tls else "")
                if tls and not mbedtls:
                    results.append((name, "skipped (no MBEDTLS_ROOT)"))
                    print("check-rtthread: %-22s skipped: no MBEDTLS_ROOT given" % name)
                    continue
                try:
                    ok, err, n = run_one(rtt, ver, arch, cflags, client, net, tls, mbedtls)
                except RuntimeError as e:
                    ok, err, n = False, str(e), 0
                results.append((name, "ok (%d files)" % n if ok else "FAILED"))
                print("check-rtthread: %-22s %s" % (name, "ok, %d files" % n if ok else "FAILED"))
                if not ok:
                    failed += 1
                    print(err, file=sys.stderr)
    print("\n| configuration | RT-Thread %s |\n|---|---|" % vs)
    for name, res in results:
        print("| %s | %s |" % (name, res))
    if failed:
        sys.exit("check-rtthread: %d configuration(s) failed" % failed)
    print("check-rtthread: every configuration compiles against RT-Thread %s with -Werror" % vs)


if __name__ == "__main__":
    main()
