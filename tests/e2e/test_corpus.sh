#!/bin/bash
# ranks: 1 3
# cost: 70
# The bad-input corpus (tests/corpus/cases.txt, files made by
# tests/corpus/make_corpus.py from a small generated archive). For every case:
# the documented exit status and message; for a failure, exactly one error
# line, nothing under the output's final name and no *.tmp.* directory left;
# the inputs unchanged (every file's checksum, name, type and mode); every
# rank gone within 10 s (mpirun under `timeout 10`: a timeout is a failure,
# and no process of the case may be left afterwards). Cases whose bad rows are
# rejected must succeed and count them in report.json, or, for `clickseg
# import`, in import.json and rejects.csv line by line (check_import.py).
set -euo pipefail
source "${SRCDIR:?}/lib/common.sh"
CORPUS=$SRCDIR/corpus
DEADLINE=10
BASE=$WORKDIR/base
CASES=$WORKDIR/cases
OUTS=$WORKDIR/out

mpi 1 "$CLICKSEG" generate -o "$BASE" -n 3000 -d 1 -f 3 --seed 3 > /dev/null
$PY "$CORPUS/make_corpus.py" "$BASE" "$CASES" "$CORPUS/cases.txt"
mkdir -p "$OUTS"

# Root reads files whatever their mode, so the permission cases run as
# nobody; that needs the build and the work directory reachable by nobody.
NOBODY=1
runuser -u nobody -- test -x "$CLICKSEG" -a -r "$BASE/events-0000.h5" 2>/dev/null || NOBODY=0

# Names, types, modes and sizes of everything under the given paths, and the
# checksum of every regular file.
snapshot() {
    find "$@" -printf '%p %y %m %s\n' | sort
    find "$@" -type f -print0 | sort -z | xargs -0 -r sha256sum
}

# Processes still carrying a case's marker in their environment.
leftovers() {
    grep -lsz -- "CLICKSEG_CORPUS_CASE=$1\$" /proc/[0-9]*/environ 2>/dev/null || true
}

failures=()
ran=0
skipped=0
slowest=0
slowest_case=
bad() { failures+=("$1: $2"); echo "  FAIL $1: $2" >&2; }

# The table's columns are separated by " | " (a regex may hold a bare "|").
table() {
    awk -F' [|] ' '/^[^#]/ && NF >= 6 {
        for (i = 1; i <= NF; i++) gsub(/^ +| +$/, "", $i)
        print $1 "\t" $2 "\t" $3 "\t" $4 "\t" $5 "\t" $6 }' "$CORPUS/cases.txt"
}

# CORPUS_ONLY=REGEX runs only the cases whose name matches (while working on them).
while IFS=$'\t' read -r name as code regex check args; do
    [ -z "${CORPUS_ONLY:-}" ] || [[ $name =~ $CORPUS_ONLY ]] || continue
    C=$CASES/$name
    O=$OUTS/$name
    args=${args//\$B/$BASE}; args=${args//\$C/$C}; args=${args//\$O/$O}; args=${args//\$S/$CORPUS}
    read -ra argv <<< "$args"          # no glob expansion: patterns reach clickseg as typed
    prefix=()
    if [ "$as" = nobody ]; then
        if [ "$NOBODY" = 0 ]; then
            echo "  skip $name: user nobody cannot reach $CLICKSEG or $BASE"
            skipped=$((skipped + 1))
            continue
        fi
        prefix=(runuser -u nobody --)
    fi
    before=$(snapshot "$BASE" "$C")
    marker="$WORKDIR/$name"
    t0=$(date +%s%N)
    rc=0
    "${prefix[@]}" env "CLICKSEG_CORPUS_CASE=$marker" \
        timeout -k 2 "$DEADLINE" mpirun -n "$NRANKS" --oversubscribe "$CLICKSEG" "${argv[@]}" \
        > "$WORKDIR/out.txt" 2> "$WORKDIR/err.txt" < /dev/null || rc=$?
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    ran=$((ran + 1))
    [ "$ms" -gt "$slowest" ] && { slowest=$ms; slowest_case=$name; }
    n0=${#failures[@]}
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        bad "$name" "still running after ${DEADLINE} s (a hang): killed"
    elif [ "$rc" -ne "$code" ]; then
        bad "$name" "exit $rc, expected $code; stderr: $(head -c 600 "$WORKDIR/err.txt")"
    fi
    # -z: the pattern may span lines (inspect prints the problem, then the verdict).
    if ! cat "$WORKDIR/out.txt" "$WORKDIR/err.txt" | grep -Ezq -- "$regex"; then
        bad "$name" "output lacks /$regex/: $(head -c 600 "$WORKDIR/err.txt") $(tail -c 400 "$WORKDIR/out.txt")"
    fi
    if [ "$code" -ne 0 ]; then
        nerr=$(grep -Ec '^clickseg [a-z]+: error: ' "$WORKDIR/err.txt" || true)
        [ "$nerr" -eq 1 ] || bad "$name" "$nerr error lines, expected exactly one"
        if [ "$check" = report-only ]; then
            # A failed import keeps only its account of why: import.json and rejects.csv.
            [ "$(ls "$O" 2>/dev/null | tr '\n' ' ')" = "import.json rejects.csv " ] ||
                bad "$name" "expected only import.json and rejects.csv in $O: $(ls "$O" 2>&1)"
            grep -q '"status": "too_many_rejects"' "$O/import.json" 2>/dev/null ||
                bad "$name" "import.json lacks status too_many_rejects"
        else
            [ ! -e "$O" ] || bad "$name" "a failed run left $O"
        fi
    fi
    left=$(find "$OUTS" "$C" "$BASE" -name '*.tmp.*' 2>/dev/null | head -3)
    [ -z "$left" ] || bad "$name" "temporary output left behind: $left"
    [ "$(snapshot "$BASE" "$C")" = "$before" ] || bad "$name" "an input changed"
    procs=$(leftovers "$marker")
    [ -z "$procs" ] || bad "$name" "processes left after mpirun returned: $procs"
    if [[ "$check" == import:* ]]; then
        $PY "$CORPUS/check_import.py" "$O" "$C" "${check#import:}" > /dev/null 2> "$WORKDIR/chk.txt" ||
            bad "$name" "$(cat "$WORKDIR/chk.txt")"
    fi
    if [[ "$check" == rejected=* ]]; then
        $PY - "$O/report.json" "${check#rejected=}" <<'PY' || bad "$name" "report.json: rejected rows not as planted"
import json, sys
t = json.load(open(sys.argv[1]))["totals"]
want = int(sys.argv[2])
assert t["rejected_events"] == want, (t["rejected_events"], want)
assert t["rows_read"] == t["events"] + t["late_events"] + t["rejected_events"], t
PY
    fi
    [ "${#failures[@]}" -eq "$n0" ] && echo "  ok   $name (exit $rc, ${ms} ms)"
done < <(table)

[ -n "${CORPUS_ONLY:-}" ] || [ "$ran" -ge 40 ] || fail "only $ran corpus cases ran; the corpus needs at least 40"
echo "corpus: $ran cases run, $skipped skipped, ${#failures[@]} failed; slowest $slowest_case ${slowest} ms ($NRANKS ranks)"
if [ "${#failures[@]}" -gt 0 ]; then
    printf '  %s\n' "${failures[@]}" >&2
    fail "${#failures[@]} corpus case(s) failed"
fi
echo "test_corpus: ok ($NRANKS ranks)"
