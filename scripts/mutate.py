#!/usr/bin/env python3
"""Mutation testing (make mutate; docs/proof.md).

Makes small wrong versions of the chosen source files, one change each:
  cmp    a comparison flipped (< and >=, > and <=, == and !=) or its
         boundary moved (< to <=, > to >=, ...)
  logic  && and || swapped
  const  an integer constant changed by one (+1, and -1 when not 0)
  drop   a statement dropped (an expression statement, a return in a
         void function, a break or continue)
builds each in a private copy of the tree (the worktree is never touched,
so a make test may run beside it), runs the chosen tests, and reports the
kill rate and every survivor. A mutant that does not compile is not
counted (the compiler killed it, not a test).

Usage:
  scripts/mutate.py --files 'src/codec/*.c' src/codec/codec_internal.h \
      --tests 'unit.test_(decode|decode_frame|decode_reject|encode|props|reason|roundtrip|topic|utf8)' \
      [--max 200] [--seed 1] [--out build/mutate]

--max picks that many mutants at random (with --seed) from all of them;
0 runs them all. Survivors are listed in OUT/survivors.txt with the file,
line, the change and the line as mutated.
"""
import argparse
import glob
import os
import random
import re
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CMP_SWAPS = [
    ("<=", [">", "<"]),
    (">=", ["<", ">"]),
    ("==", ["!="]),
    ("!=", ["=="]),
    ("<", [">=", "<="]),
    (">", ["<=", ">="]),
]
# A comparison operator standing alone (not <<, >>, ->, <<=, >>=, or inside
# an #include <...>).
CMP_RE = re.compile(r"(?<![<>=!\-])(<=|>=|==|!=|<|>)(?![<>=])")
LOGIC_RE = re.compile(r"(&&|\|\|)")
CONST_RE = re.compile(r"(?<![\w.])(0[xX][0-9a-fA-F]+|\d+)([uUlL]*)(?![\w.])")
STMT_RE = re.compile(r"^(\s*)((?:[a-z_][\w\->.\[\]]*\s*(?:[-+*/|&^]?=|\+\+|--)|[a-z_]\w*\s*\(|\+\+|--|"
                     r"break|continue|return)[^;{}]*;)\s*(/\*.*\*/)?\s*$")


def code_part(line):
    """The line without a trailing // or /* */ comment; None for lines that
    are comments, preprocessor directives or blank."""
    s = line.strip()
    if not s or s.startswith(("#", "/*", "*", "//")):
        return None
    cut = len(line)
    for marker in ("/*", "//"):
        i = line.find(marker)
        if i >= 0:
            cut = min(cut, i)
    return line[:cut]


def in_string(code, pos):
    return code[:pos].count('"') % 2 == 1 or code[:pos].count("'") % 2 == 1


def mutants_of(path, rel):
    out = []
    with open(path) as f:
        lines = f.read().split("\n")
    in_comment = False
    void_fn = False
    for n, line in enumerate(lines):
        s = line.strip()
        if in_comment:
            if "*/" in s:
                in_comment = False
            continue
        if s.startswith("/*") and "*/" not in s:
            in_comment = True
            continue
        # Which function we are in: a definition starts at column 0.
        if re.match(r"^(static\s+)?(inline\s+)?void\s+\w+\(", line):
            void_fn = True
        elif re.match(r"^(static\s+)?(inline\s+)?[\w ]+\**\s*\w+\(", line) and not line.startswith(" "):
            void_fn = False
        code = code_part(line)
        if code is None:
            continue
        if re.match(r"^\s*(static\s+)?(const\s+)?(typedef|struct|enum|union)\b", code):
            continue
        for m in CMP_RE.finditer(code):
            if in_string(code, m.start()):
                continue
            op = m.group(1)
            # '<' and '>' of a declaration like uint8_t b[4] > no; skip '>' in '->'
            for new in dict(CMP_SWAPS)[op]:
                mutated = code[:m.start()] + new + code[m.end():] + line[len(code):]
                out.append((rel, n, "cmp %s -> %s" % (op, new), mutated))
        for m in LOGIC_RE.finditer(code):
            new = "||" if m.group(1) == "&&" else "&&"
            mutated = code[:m.start()] + new + code[m.end():] + line[len(code):]
            out.append((rel, n, "logic %s -> %s" % (m.group(1), new), mutated))
        # Constants, outside array sizes of declarations and case labels.
        if not re.match(r"^\s*case\b", code):
            for m in CONST_RE.finditer(code):
                if in_string(code, m.start()):
                    continue
                text, suffix = m.group(1), m.group(2)
                value = int(text, 16) if text.lower().startswith("0x") else int(text)
                for delta in (1, -1):
                    if value + delta < 0:
                        continue
                    new = (hex(value + delta) if text.lower().startswith("0x") else str(value + delta))
                    mutated = code[:m.start()] + new + suffix + code[m.end():] + line[len(code):]
                    out.append((rel, n, "const %s -> %s" % (text, new), mutated))
        m = STMT_RE.match(line)
        if m and not re.match(r"^\s*(if|while|for|switch|else)\b", line):
            stmt = m.group(2)
            is_return = stmt.startswith("return")
            if not is_return or (void_fn and stmt.startswith("return;")):
                out.append((rel, n, "drop statement", m.group(1) + ";"))
    return out, lines


def run(cmd, cwd, timeout):
    # Its own process group, so a timeout ends the whole tree.
    p = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         start_new_session=True)
    try:
        out, _ = p.communicate(timeout=timeout)
        return p.returncode, out
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, 9)
        p.communicate()
        return 124, "timeout"


def run_tests(programs, cwd, timeout):
    """Runs each test program; the first that fails (or hangs past timeout:
    a mutant that loops) kills the mutant."""
    for prog in programs:
        rc, _ = run([prog], cwd, timeout)
        if rc != 0:
            return rc
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", nargs="+", required=True)
    ap.add_argument("--tests", required=True, help="CTest regex (-R) of the tests to run")
    ap.add_argument("--max", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "mutate"))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=int, default=20, help="seconds per test program")
    args = ap.parse_args()

    out = os.path.abspath(args.out)
    tree = os.path.join(out, "tree")
    build = os.path.join(out, "build")
    os.makedirs(out, exist_ok=True)

    # A private copy of the tracked files.
    if os.path.exists(tree):
        shutil.rmtree(tree)
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, stdout=subprocess.PIPE,
                           check=True).stdout.decode().split("\0")
    for rel in files:
        if not rel or not os.path.isfile(os.path.join(ROOT, rel)):
            continue
        dst = os.path.join(tree, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        # copy, not copy2: a fresh mtime, so make rebuilds what a mutant of an
        # earlier, interrupted run left built.
        shutil.copy(os.path.join(ROOT, rel), dst)

    rc, log = run(["cmake", "-S", tree, "-B", build, "-DCMAKE_BUILD_TYPE=RelWithDebInfo"], out, 600)
    if rc != 0:
        print(log)
        return 2
    # The test programs the regex selects, by CTest's own listing.
    rc, log = run(["ctest", "--test-dir", build, "-N", "-R", args.tests], out, 120)
    names = re.findall(r"Test\s+#\d+: (\S+)", log)
    if not names:
        print("mutate: no test matches %s" % args.tests)
        return 2
    targets = [n.replace(".", "_") for n in names]
    build_cmd = ["cmake", "--build", build, "-j%d" % args.jobs, "--target"] + targets
    rc, log = run(build_cmd, out, 1200)
    if rc != 0:
        print(log)
        return 2
    # The programs themselves, not CTest (whose per-test TIMEOUT of minutes
    # would make every looping mutant cost that much): each gets --timeout
    # seconds, ten times what the unmutated suite needs is plenty.
    programs = [os.path.join(build, "tests", t) for t in targets]
    rc, log = run(["ctest", "--test-dir", build, "-R", args.tests], out, 600)
    if rc != 0:
        print("mutate: the tests fail on the unmutated code:\n" + log)
        return 2

    paths = []
    for pattern in args.files:
        matched = sorted(glob.glob(os.path.join(ROOT, pattern)))
        paths += [os.path.relpath(p, ROOT) for p in matched]
    all_mutants = []
    originals = {}
    for rel in paths:
        ms, lines = mutants_of(os.path.join(tree, rel), rel)
        all_mutants += ms
        originals[rel] = lines
    total = len(all_mutants)
    chosen = all_mutants
    if args.max and args.max < total:
        chosen = random.Random(args.seed).sample(all_mutants, args.max)
        chosen.sort(key=lambda m: (m[0], m[1]))
    print("mutate: %d mutants of %d files, running %d; tests: %s (%d programs)" %
          (total, len(paths), len(chosen), args.tests, len(names)), flush=True)

    killed = survived = broken = 0
    survivors = []
    start = time.time()
    for i, (rel, n, what, mutated) in enumerate(chosen):
        lines = list(originals[rel])
        lines[n] = mutated
        src = os.path.join(tree, rel)
        with open(src, "w") as f:
            f.write("\n".join(lines))
        rc, _ = run(build_cmd, out, 600)
        if rc != 0:
            broken += 1
            verdict = "does not compile"
        else:
            rc = run_tests(programs, out, args.timeout)
            if rc != 0:
                killed += 1
                verdict = "killed"
            else:
                survived += 1
                verdict = "SURVIVED"
                survivors.append("%s:%d: %s: %s" % (rel, n + 1, what, mutated.strip()))
        with open(src, "w") as f:
            f.write("\n".join(originals[rel]))
        print("  [%d/%d] %s:%d %s: %s" % (i + 1, len(chosen), rel, n + 1, what, verdict), flush=True)
    # Leave the copy's build as it was.
    run(build_cmd, out, 600)

    counted = killed + survived
    rate = 100.0 * killed / counted if counted else 0.0
    with open(os.path.join(out, "survivors.txt"), "w") as f:
        f.write("\n".join(survivors) + ("\n" if survivors else ""))
    print("mutate: %d mutants run in %.0f s: %d killed, %d survived, %d did not compile" %
          (len(chosen), time.time() - start, killed, survived, broken))
    print("mutate: kill rate %.1f%% (%d of %d that compiled)" % (rate, killed, counted))
    for s in survivors:
        print("  survivor: " + s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
