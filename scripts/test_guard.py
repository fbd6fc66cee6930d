#!/usr/bin/env python3
"""Every test that is written runs (issue 23).

After a CTest pass (or the emulated Cortex-M runs of scripts/test-target.sh),
checks that each cmocka program ran and passed exactly the cases its source
registers, and that each shell test ran exactly the checks it plans:

  ctest BUILD JUNIT [--partial]
      BUILD is a configured and tested build directory, JUNIT the file of
      `ctest --output-junit`. For every CTest entry that ran, each program
      of the build on its command line must print one "[ RUN      ]" and one
      "[       OK ]" line per case its sources register; a tests/**/test_*.sh
      on the command line must end with "all N checks passed" where N is its
      `kt_plan N`. Unless --partial (a ctest -R subset): every cmocka program
      built must be run by a CTest entry, every tests/**/*.c that registers
      cases must be built into one, every tests/**/test_*.sh must be run, and
      every CTest entry must have run.
  target BUILD [--not-run NAME]...
      BUILD is one tests/target build of scripts/test-target.sh; the run of
      program P is in BUILD/<P without .elf>.log. NAME is a program the
      script checks by itself (shim_selftest.elf fails on purpose).

How many cases a source registers is counted by the compiler: the source is
preprocessed with its own compile command (compile_commands.json) and
tests/guard/count_cases.h forced in, which turns each cmocka_unit_test*()
into a marker; so #if blocks and macros that wrap a registration count as
they compile. Which program a CTest entry runs comes from the command line
CTest shows (`ctest --show-only=json-v1`) and <build>/test-guard/programs.tsv
(target, output file; written by cmake/check_outputs.cmake), not from names.

With -v each CTest entry's or program's numbers are printed too.

Exit status 0 when everything matches; 1 with one line per mismatch naming
the CTest entry or program, its sources and both numbers.
"""

import json
import os
import re
import shlex
import subprocess
import sys
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COUNT_HEADER = os.path.join(ROOT, "tests", "guard", "count_cases.h")
# Text of a test source that registers cases (for finding sources no program
# is built from; the counts themselves come from the preprocessor).
REGISTERS = re.compile(r"cmocka_run_group_tests")
RUN_LINE = re.compile(r"^\[ RUN      \] ", re.M)
OK_LINE = re.compile(r"^\[       OK \] ", re.M)
SHELL_DONE = re.compile(r"^all (\d+) checks passed", re.M)
SHELL_PLAN = re.compile(r"^\s*kt_plan\s+(\d+)\s*$", re.M)
# What CTest puts in place of output past --test-output-size-passed/-failed.
TRUNCATED = "This part of the test output was removed since it exceeds the threshold"
# Folders (under the source directory) whose sources are not host test
# programs: the target runtime and its self-test (scripts/test-target.sh),
# the guard's own fixtures (built by tests/guard/selftest.sh in projects of
# their own), the fuzz harnesses.
NOT_HOST_TESTS = ("tests/target/", "tests/guard/", "tests/fuzz/")


def rel(path):
    path = os.path.realpath(path)
    root = os.path.realpath(ROOT)
    return os.path.relpath(path, root) if path.startswith(root + os.sep) else path


def read_text(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


class Build:
    """The executables of one build directory, their sources and case counts."""

    def __init__(self, build):
        self.build = os.path.abspath(build)
        manifest = os.path.join(self.build, "test-guard", "programs.tsv")
        if not os.path.exists(manifest):
            sys.exit(f"test-guard: {manifest} is missing: configure with a CMakeLists.txt that "
                     "calls kmqtt_check_unique_outputs() (cmake/check_outputs.cmake)")
        self.targets = {}  # output file -> [(target, binary dir)]
        for line in read_text(manifest).splitlines():
            if line.strip():
                target, out, bindir = line.split("\t")
                self.targets.setdefault(os.path.realpath(out), []).append((target, bindir))
        with open(os.path.join(self.build, "compile_commands.json"), encoding="utf-8") as f:
            commands = json.load(f)
        self.objects = []  # (object file, directory, source, arguments)
        for e in commands:
            args = e["arguments"] if "arguments" in e else shlex.split(e["command"])
            obj = e.get("output") or args[args.index("-o") + 1]
            self.objects.append((os.path.join(e["directory"], obj), e["directory"],
                                 os.path.join(e["directory"], e["file"]), args))
        self._sources = {}  # output file -> [(source, cases)]
        self._preprocessed = {}  # preprocessing command -> cases

    def collisions(self):
        """One line per file two targets write, with what each would put there."""
        lines = []
        for out, owners in sorted(self.targets.items()):
            if len(owners) > 1:
                each = []
                for target, bindir in owners:
                    objs = self.compiled_target(target, bindir)
                    self.count_objects(objs)
                    n = sum(self._preprocessed[tuple(preprocess_command(o[3]))] for o in objs)
                    srcs = ", ".join(rel(o[2]) for o in objs
                                     if self._preprocessed[tuple(preprocess_command(o[3]))])
                    each.append(f"{target} ({srcs or 'no cases'}: {n} case(s))")
                lines.append(f"{rel(out)} is written by {len(owners)} targets, {' and '.join(each)}"
                             "; it holds whichever was linked last")
        return lines

    def count_all(self, outs):
        """Counts the cases of the programs OUTS, preprocessing in parallel."""
        self.count_objects([o for out in outs for o in self.compiled(out)])

    def count_objects(self, objects):
        jobs = {}
        for _, directory, src, args in objects:
            jobs.setdefault(tuple(preprocess_command(args)), (directory, src))
        todo = [c for c in jobs if c not in self._preprocessed]
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            for cmd, n in zip(todo, pool.map(lambda c: count_cases(jobs[c][0], c, jobs[c][1]),
                                             todo)):
                self._preprocessed[cmd] = n

    def compiled(self, out):
        """The objects the program written to OUT compiles itself (not its libraries')."""
        (target, bindir), = self.targets[os.path.realpath(out)]
        return self.compiled_target(target, bindir)

    def compiled_target(self, target, bindir):
        objdir = os.path.join(bindir, "CMakeFiles", target + ".dir") + os.sep
        return [o for o in self.objects if o[0].startswith(objdir)]

    def sources(self, out):
        """[(source, cases)] of the program written to OUT."""
        out = os.path.realpath(out)
        if out not in self._sources:
            self.count_all([out])
            self._sources[out] = [(src, self._preprocessed[tuple(preprocess_command(args))])
                                  for _, _, src, args in self.compiled(out)]
        return self._sources[out]

    def cases(self, out):
        return sum(n for _, n in self.sources(out))

    def describe(self, out):
        (target, _), = self.targets[os.path.realpath(out)]
        srcs = [rel(s) for s, n in self.sources(out) if n > 0] or [rel(s) for s, _ in
                                                                   self.sources(out)]
        return f"{rel(out)} (target {target}, from {', '.join(srcs)})"


def preprocess_command(args):
    """ARGS, a compile command, turned into one that preprocesses the source to
    stdout with tests/guard/count_cases.h forced in (no object, no depfile)."""
    cmd = []
    skip = False
    for a in args:
        if skip:
            skip = False
        elif a in ("-o", "-MF", "-MT", "-MQ"):
            skip = True
        elif a not in ("-c", "-MD", "-MMD") and not a.startswith(("-MF", "-MT", "-MQ")):
            cmd.append(a)
    cmd[1:1] = ["-E", "-P", "-w", "-include", COUNT_HEADER]
    return cmd


def count_cases(directory, cmd, src):
    """Case registrations the compiler sees in SRC, preprocessed by CMD."""
    p = subprocess.run(cmd, cwd=directory, capture_output=True, text=True, errors="replace")
    if p.returncode != 0:
        sys.exit(f"test-guard: preprocessing {rel(src)} failed ({' '.join(cmd)}):\n{p.stderr}")
    return len(re.findall(r"\bKMQTT_GUARD_CASE_MARKER\b", p.stdout))


def cmocka_counts(output):
    return len(RUN_LINE.findall(output)), len(OK_LINE.findall(output))


def shell_test(arg):
    """The path of a kt_* shell test (tests/**/test_*.sh that calls kt_done), or None."""
    if not (arg.endswith(".sh") and os.path.basename(arg).startswith("test_")):
        return None
    if not os.path.isfile(arg) or "kt_done" not in read_text(arg):
        return None
    return os.path.realpath(arg)


def source_root(build):
    """The source directory BUILD was configured from (CMakeCache.txt)."""
    for line in read_text(os.path.join(build, "CMakeCache.txt")).splitlines():
        if line.startswith("CMAKE_HOME_DIRECTORY:"):
            return os.path.realpath(line.split("=", 1)[1])
    sys.exit(f"test-guard: no CMAKE_HOME_DIRECTORY in {build}/CMakeCache.txt")


def repo_files(src, pattern):
    """Files named PATTERN under SRC's tests/ (or SRC), build trees and NOT_HOST_TESTS left out."""
    top = os.path.join(src, "tests") if os.path.isdir(os.path.join(src, "tests")) else src
    out = []
    for dirpath, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs
                   if not os.path.exists(os.path.join(dirpath, d, "CMakeCache.txt"))]
        for f in files:
            path = os.path.join(dirpath, f)
            if re.fullmatch(pattern, f) and \
                    not os.path.relpath(path, src).startswith(NOT_HOST_TESTS):
                out.append(os.path.realpath(path))
    return sorted(out)


def check_ctest(build_dir, junit, partial, verbose):
    b = Build(build_dir)
    problems = b.collisions()
    if problems:
        return problems, "two targets write one program: nothing else can be checked"

    listing = subprocess.run(["ctest", "--test-dir", b.build, "--show-only=json-v1"],
                             capture_output=True, text=True, check=True)
    tests = {t["name"]: t for t in json.loads(listing.stdout)["tests"]}
    results = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        out = case.find("system-out")
        status = case.get("status")
        if case.find("failure") is not None:
            status = "fail"
        elif case.find("skipped") is not None:
            status = "skipped"
        results[case.get("name")] = (status, out.text if out is not None and out.text else "")

    programs_listed = set()  # run by a CTest entry of this build
    programs_run = set()  # run by a CTest entry that ran and passed
    scripts_listed = set()
    entries = cases = shells = checks = 0
    not_passed = []
    progs_of = {}
    for name, t in tests.items():
        command = t.get("command") or []
        progs_of[name] = [os.path.realpath(a) for a in command if os.path.realpath(a) in b.targets]
        programs_listed.update(progs_of[name])
        scripts_listed.update(s for s in map(shell_test, command) if s)
    b.count_all(b.targets if not partial else
                {p for name in results if name in progs_of for p in progs_of[name]})
    for name, t in sorted(tests.items()):
        command = t.get("command") or []
        progs = progs_of[name]
        scripts = [s for s in map(shell_test, command) if s]
        if name not in results:
            if not partial:
                problems.append(f"{name}: registered with CTest but did not run")
            continue
        status, output = results[name]
        if status != "run":
            not_passed.append(f"{name} ({status})")
            continue
        if TRUNCATED in output:
            problems.append(f"{name}: CTest cut its output short, nothing can be counted (run ctest "
                            "with --test-output-size-passed and -failed as the Makefile does)")
            continue
        programs_run.update(progs)
        expected = sum(b.cases(p) for p in progs)
        ran, ok = cmocka_counts(output)
        if verbose:
            print(f"test-guard: {name}: registered {expected}, started {ran}, passed {ok}")
        if expected or ran or ok:
            what = " + ".join(b.describe(p) for p in progs) or "(no program of this build)"
            if not (expected == ran == ok):
                problems.append(f"{name}: {what} registers {expected} case(s); the run started "
                                f"{ran} and passed {ok}")
            entries += 1
            cases += ok
        for s in scripts:
            plans = SHELL_PLAN.findall(read_text(s))
            done = SHELL_DONE.findall(output)
            if len(plans) != 1:
                problems.append(f"{name}: {rel(s)} must declare its checks once with 'kt_plan N' "
                                f"(found {len(plans)})")
            elif len(done) != 1 or int(done[0]) != int(plans[0]):
                got = (" and ".join(f"{n} checks passed" for n in done) if done
                       else "no 'all N checks passed' line")
                problems.append(f"{name}: {rel(s)} plans {plans[0]} checks; the run reported "
                                f"{got}")
            else:
                shells += 1
                checks += int(done[0])
            if verbose:
                print(f"test-guard: {name}: plan {plans}, reported {SHELL_DONE.findall(output)}")

    if not partial:
        for out in sorted(b.targets):
            if b.cases(out) and out not in programs_listed:
                problems.append(f"{b.describe(out)} registers {b.cases(out)} case(s) but no "
                                "CTest entry runs it")
        built = {os.path.realpath(s) for out in programs_run for s, n in b.sources(out) if n}
        src_root = source_root(b.build)
        for src in repo_files(src_root, r".*\.c"):
            if REGISTERS.search(read_text(src)) and src not in built:
                problems.append(f"{rel(src)} registers cases but no program a CTest entry runs "
                                "is built from it")
        for script in repo_files(src_root, r"test_.*\.sh"):
            if shell_test(script) and script not in scripts_listed:
                problems.append(f"{rel(script)} is a shell test no CTest entry runs")
    ncmocka = len({p for p in programs_run if b.cases(p)})
    summary = (f"{entries} cmocka runs of {ncmocka} programs, {cases} cases; {shells} shell tests, "
               f"{checks} checks")
    if not_passed:
        summary += f"; not passed (CTest reports them): {', '.join(not_passed)}"
    return problems, summary


def check_target(build_dir, not_run, verbose):
    b = Build(build_dir)
    problems = b.collisions()
    if problems:
        return problems, "two targets write one program: nothing else can be checked"
    programs = cases = 0
    b.count_all(b.targets)
    for out in sorted(b.targets):
        expected = b.cases(out)
        name = os.path.basename(out)
        if not expected or name in not_run:
            continue
        log = os.path.join(b.build, re.sub(r"\.elf$", "", name) + ".log")
        if not os.path.exists(log):
            problems.append(f"{b.describe(out)} registers {expected} case(s) but did not run "
                            f"(no {rel(log)})")
            continue
        ran, ok = cmocka_counts(read_text(log))
        if verbose:
            print(f"test-guard: {name}: registered {expected}, started {ran}, passed {ok}")
        if not (expected == ran == ok):
            problems.append(f"{b.describe(out)} registers {expected} case(s); the run started "
                            f"{ran} and passed {ok}")
        programs += 1
        cases += ok
    return problems, f"{programs} programs, {cases} cases"


def main(argv):
    verbose = "-v" in argv
    argv = [a for a in argv if a != "-v"]
    if len(argv) >= 3 and argv[0] == "ctest":
        problems, summary = check_ctest(argv[1], argv[2], "--partial" in argv[3:], verbose)
    elif len(argv) >= 2 and argv[0] == "target":
        rest = argv[2:]
        not_run = {rest[i + 1] for i, a in enumerate(rest) if a == "--not-run" and i + 1 < len(rest)}
        problems, summary = check_target(argv[1], not_run, verbose)
    else:
        sys.exit(__doc__)
    where = rel(argv[1])
    for p in problems:
        print(f"test-guard: {where}: {p}")
    if problems:
        print(f"test-guard: {where}: FAILED, {len(problems)} mismatch(es) ({summary})")
        return 1
    print(f"test-guard: {where}: {summary}, each as its source registers")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
