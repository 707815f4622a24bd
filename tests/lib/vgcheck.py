#!/usr/bin/python3
"""Reads valgrind memcheck XML files and fails on clickseg's own errors.

Usage: vgcheck.py SRC_DIR FILE.xml...     (exit 1 when an error is ours)
       vgcheck.py --selftest

An error is clickseg's when it is a definite leak or any memory error
(invalid read/write/free, uninitialised value, bad syscall parameter,
overlap...) and its stack has a frame in SRC_DIR other than main() in
src/cli/main.c: every allocation Open MPI makes in MPI_Init or
MPI_Finalize has main() at the bottom of its stack, and those are not ours,
while a leak or bad access in code that main() reaches through a command
(cmd_run -> run_job -> ...) has that code's frames. So Open MPI's and PMIx's
own reports are filtered by this rule, not by suppression files; possible and
indirect leaks are not counted (a definite leak owns its indirect blocks).
"""
import sys
import xml.etree.ElementTree as ET


def frames_of(err):
    stack = err.find("stack")
    return stack.findall("frame") if stack is not None else []


def ours(frame, src):
    d = frame.findtext("dir") or ""
    if not (d == src or d.startswith(src.rstrip("/") + "/")):
        return False
    return not (frame.findtext("fn") == "main" and frame.findtext("file") == "main.c")


def counted(kind):
    return kind == "Leak_DefinitelyLost" or not kind.startswith("Leak_")


def check(src, root):
    """Returns (ours, others): lists of one-line descriptions."""
    mine, other = [], []
    for err in root.findall("error"):
        kind = err.findtext("kind") or "?"
        if not counted(kind):
            continue
        what = err.findtext("xwhat/text") or err.findtext("what") or ""
        fr = frames_of(err)
        where = " <- ".join("%s (%s:%s)" % (f.findtext("fn") or "?", f.findtext("file") or
                                            (f.findtext("obj") or "?").split("/")[-1],
                                            f.findtext("line") or "?") for f in fr[:10])
        line = "%s: %s\n      %s" % (kind, what, where)
        (mine if any(ours(f, src) for f in fr) else other).append(line)
    return mine, other


def frame(fn, d=None, f=None, obj="/usr/lib/x86_64-linux-gnu/libmpi.so.40"):
    parts = ["<frame><fn>%s</fn><obj>%s</obj>" % (fn, obj)]
    if d:
        parts.append("<dir>%s</dir><file>%s</file><line>1</line>" % (d, f))
    return "".join(parts) + "</frame>"


def selftest():
    src = "/x/src"
    def err(kind, *frames):
        return "<error><kind>%s</kind><what>w</what><stack>%s</stack></error>" % (kind, "".join(frames))
    doc = "<valgrindoutput>%s</valgrindoutput>" % "".join([
        # Open MPI's init leak: only main() of ours at the bottom -> not ours
        err("Leak_DefinitelyLost", frame("malloc"), frame("ompi_mpi_init"),
            frame("main", "/x/src/cli", "main.c")),
        # a leak in our code -> ours
        err("Leak_DefinitelyLost", frame("malloc"), frame("cs_malloc", "/x/src", "error.c"),
            frame("run_job", "/x/src", "run.c"), frame("main", "/x/src/cli", "main.c")),
        # an invalid read in our code -> ours
        err("InvalidRead", frame("classify", "/x/src", "run.c")),
        # a possible leak in our code -> not counted
        err("Leak_PossiblyLost", frame("malloc"), frame("cs_malloc", "/x/src", "error.c")),
        # a library's own uninitialised syscall bytes -> not ours
        err("SyscallParam", frame("writev"), frame("pmix_ptl_base_send_handler")),
        # a directory that merely starts like src -> not ours
        err("InvalidWrite", frame("f", "/x/src2", "a.c")),
    ])
    mine, other = check(src, ET.fromstring(doc))
    assert len(mine) == 2 and "cs_malloc" in mine[0] and "classify" in mine[1], mine
    assert len(other) == 3, other
    print("vgcheck: selftest ok")


def main(argv):
    if argv[1:] == ["--selftest"]:
        selftest()
        return 0
    src, files = argv[1], argv[2:]
    if not files:
        print("vgcheck: no valgrind XML files", file=sys.stderr)
        return 1
    bad, ignored = 0, 0
    for path in files:
        mine, other = check(src, ET.parse(path).getroot())
        ignored += len(other)
        for m in mine:
            print("%s: %s" % (path, m), file=sys.stderr)
        bad += len(mine)
    print("vgcheck: %d file(s), %d error(s) in clickseg's code, %d in libraries ignored"
          % (len(files), bad, ignored))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
