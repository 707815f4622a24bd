#!/bin/bash
# cost: 25
# Bad input of any kind gets one clear message naming the problem, a
# non-zero exit (the documented code), no output under the final name, and
# no rank left hanging (every mpirun runs under a deadline).
set -euo pipefail
source "${SRCDIR:?}/lib/common.sh"
export MPI_TIMEOUT=60
R() { mpi "$NRANKS" "$CLICKSEG" run "$@"; }

mpi 1 "$CLICKSEG" generate -o arch -n 5000 -d 1 -f 2 > /dev/null
for v in bad-overflow no-events unequal; do
    $PY "$SRCDIR/lib/make_edge_archive.py" "$v" --variant "$v" > /dev/null
done

# Flags and usage (exit 2).
expect_fail 2 "unknown option '--bogus'" R --bogus
expect_fail 2 "no input" R -o out
expect_fail 2 "is not a count" R -i arch -o out --window-events many
expect_fail 2 "--quiet and --verbose" R -i arch -o out -q -v
"$CLICKSEG" run --help | grep "usage: mpirun -n N clickseg run" > /dev/null || fail "run --help"
"$CLICKSEG" --help | grep "commands:" > /dev/null || fail "clickseg --help"
expect_fail 2 "unknown command" "$CLICKSEG" frobnicate
# Each flag named as written: a value glued to a short flag (getopt named
# the argument before it), a long prefix of several, a long flag without
# its value (named by its internal letter before); empty paths named.
expect_fail 2 "unknown option '-=' in '-q=1'" mpi 1 "$CLICKSEG" generate -o g --force -q=1
expect_fail 2 "unknown option '--s' \(or the start of several" R --s x
# ... a cluster without '=' gets no hint about '='; a seed is named as one.
expect_fail 2 "unknown option '-z' in '-qz' \(see --help\)" mpi 1 "$CLICKSEG" generate -o g -qz
expect_fail 2 "--seed: 'abc' is not a seed" mpi 1 "$CLICKSEG" generate -o g --seed abc
# config takes --set as run does: the effective value printed, an override
# that breaks a cross-key check named as an override, --keys with one refused.
"$CLICKSEG" config --set session.gap=600 --set report.currency=EUR > eff.cfg
grep -q '^  gap = 600;' eff.cfg && grep -q '^  currency = "EUR";' eff.cfg ||
    fail "config --set: the overrides are not in the effective config: $(grep -E 'gap|currency' eff.cfg)"
"$CLICKSEG" config eff.cfg > eff2.cfg && cmp -s eff.cfg eff2.cfg || fail "config: the effective config does not load back to itself"
expect_fail 3 "--set: key 'rank.ordinary_score': must be at most" "$CLICKSEG" config --set rank.ordinary_score=999999
expect_fail 3 "--set: key 'import.csv.delimiter': must be one character" mpi 1 "$CLICKSEG" import --format csv -o imp --set import.csv.delimiter=ab x.csv
expect_fail 2 "--keys lists the keys; it checks no override" "$CLICKSEG" config -k --set a=b
expect_fail 2 "--html needs a value" "$CLICKSEG" report rep --html
expect_fail 2 "--input: empty" R -i "" -o out
expect_fail 2 "--config: empty" R -c "" -i arch -o out
expect_fail 2 "an input: empty" mpi 1 "$CLICKSEG" import --format csv -o imp ""
expect_fail 2 "an input: empty" "$CLICKSEG" inspect ""
expect_fail 2 "a report directory: empty" mpi 1 "$CLICKSEG" merge -o m arch ""
# generate holds a 2-hour slot in memory: too many events for the days is
# a usage error naming them (it was "out of memory ... lower memory_per_rank",
# a key generate does not have).
expect_fail 2 "--events 100000000000 over --days 30: .*give more --days \(249 or more\)" \
    mpi 1 "$CLICKSEG" generate -o big -n 1e11 -d 30
# A report written among its inputs: the next run over them would read its
# customers.h5 as a profile table. The archive is left as it was.
ls arch > before.txt
expect_fail 2 "--output arch holds the input arch/events-0000.h5: .*another directory" R -i arch -o arch/
expect_fail 2 "--output \\./arch holds the input" R -i arch/events-0001.h5 -o ./arch
ls arch | cmp -s - before.txt || fail "a refused run changed the archive's directory: $(ls arch)"
# ... and a report's customers.h5 put among the inputs is named as such.
R -q -i arch -o rep1
mkdir withrep && cp arch/*.h5 rep1/customers.h5 withrep/
expect_fail 4 "withrep/customers.h5: the customers table of a clickseg report .*remove it from the inputs" R -i withrep -o out
# A profile table of a CRM with a score and a tier of its own is no report.
mkdir withcrm && cp arch/events-*.h5 withcrm/
$PY -c '
import h5py, numpy as np
with h5py.File("withcrm/crm.h5", "w") as f:
    g = f.create_group("customers")
    g["user_id"] = np.arange(50, dtype="u8")
    for c in ("score", "tier", "rfm_segment"):
        g[c] = (np.arange(50) % 5).astype("i2")'
R -q -i withcrm -o crmrun || fail "a profile table with score, tier and rfm_segment columns was refused"

# Configs (exit 3), naming file and line.
# `clickseg config FILE` checks FILE and prints the effective configuration,
# as -c FILE does.
printf 'session = { gap = 900; };\nmax_reject_share = "5%%";\n' > ok.cfg
"$CLICKSEG" config ok.cfg > bare.txt || fail "clickseg config FILE refused a good file"
"$CLICKSEG" config -c ok.cfg > dashc.txt || fail "clickseg config -c FILE refused a good file"
cmp -s bare.txt dashc.txt || fail "config FILE and config -c FILE differ"
grep -Eq "^ *gap = 900;" bare.txt && grep -Eq "^max_reject_share = 0.05;" bare.txt ||
    fail "clickseg config FILE did not print the file's values: $(grep -E 'gap|reject' bare.txt)"
printf 'session: { gap = 1800; colour = 3; };\n' > unknown.cfg
expect_fail 3 "unknown.cfg:1: .*colour" R -c unknown.cfg -i arch -o out
printf 'session: {\n  gap = 4294969096;\n};\n' > wrap.cfg   # libconfig 1.5 would read 1800
expect_fail 3 "wrap.cfg:2: key 'session.gap': 4294969096 does not fit in a 32-bit integer" R -c wrap.cfg -i arch -o out
printf 'session: {\n  gap = "long";\n};\n' > type.cfg
expect_fail 3 "type.cfg:2: .*session.gap" R -c type.cfg -i arch -o out
printf 'memory_per_rank = "12X";\n' > size.cfg
expect_fail 3 "size.cfg:1: .*memory_per_rank" R -c size.cfg -i arch -o out
printf 'session: { gap = 1800 \n' > syntax.cfg
expect_fail 3 "syntax.cfg:[0-9]+: syntax error" R -c syntax.cfg -i arch -o out
printf 'rules = ( { segment = "x"; when = ( "nonsense >= 1" ); }, { segment = "y"; } );\n' > rule.cfg
expect_fail 3 "rule.cfg:1: .*nonsense" R -c rule.cfg -i arch -o out
expect_fail 3 "missing.cfg: cannot read config file" R -c missing.cfg -i arch -o out
expect_fail 3 "session.gap" R -i arch -o out --set session.gap=-5

# Inputs (exit 4), naming file and dataset.
expect_fail 4 "nothing.h5: no such file" R -i nothing.h5 -o out
expect_fail 4 "pattern matches nothing" R -i 'nope/*.h5' -o out
mkdir -p emptydir
expect_fail 4 "emptydir: directory holds no .h5 files" R -i emptydir -o out
printf 'garbage' > junk.h5
expect_fail 4 "junk.h5: not an HDF5 file" R -i junk.h5 -o out
head -c 3000 arch/events-0000.h5 > trunc.h5
expect_fail 4 "trunc.h5" R -i trunc.h5 -o out
expect_fail 4 "no /events group" R -i no-events -o out
# Two archives of the same day (split by source, not by time): the second
# one read is late, half the rows, past max_late_share (5%): no report,
# and the run stops early (a checkpoint every window: resumable). Resumed
# and let through, it equals an uninterrupted run that lets them through.
mpi 1 "$CLICKSEG" generate -q -o src2 -n 5000 -d 1 -f 1 --seed 99
rm -f src2/profiles.h5
expect_fail 4 "of the first [0-9]+ rows are late .*more than max_late_share \(5%\) already, of all 10000 rows.*add --resume" \
    R -q -i arch -i src2 -o late1 --window-events 500 --set checkpoint.every=1
[ ! -e late1 ] || fail "a run refused for its late rows left its output"
R -q -i arch -i src2 -o late1 --window-events 500 --set checkpoint.every=1 --set max_late_share=1 --resume
R -q -i arch -i src2 -o late2 --set max_late_share=0.5
$PY "$SRCDIR/lib/compare.py" --same late1 late2 > /dev/null || fail "the resumed late run differs"
$PY -c 'import json, sys; t = json.load(open("late2/report.json"))["totals"]; sys.exit(not 4000 < t["late_events"] <= 5000)' ||
    fail "expected about half the rows late: $(grep -o '"late_events": [0-9]*' late2/report.json)"
expect_fail 4 "has [0-9]+ rows but /events/ts has" R -i unequal -o out
expect_fail 4 "category_id rows .* does not fit in uint32" R -i bad-overflow -o out --sessions
expect_fail 4 "named twice" R -i arch -i arch/events-0000.h5 -o out
expect_fail 4 "only profile tables" R -i arch/profiles.h5 -o out
[ ! -e out ] || fail "a failed run left an output directory"
ls -d out.tmp.* 2>/dev/null && fail "a failed run left a temporary directory"

# A checkpoint directory that cannot be written is found before the first
# window, not at the first checkpoint (a read-only file system gives the
# same; a file in the path is what a test as root can make).
: > plainfile
expect_fail 5 "checkpoint directory plainfile/ck cannot be written \(plainfile: not a directory\)" \
    R -i arch -o out --set checkpoint.dir=plainfile/ck
[ ! -e out ] || fail "a refused run left an output"

# Outputs: an existing report is kept unless --force (exit 5).
R -q -i arch -o done
expect_fail 5 "output exists; use --force" R -i arch -o done
R -q -i arch -o done --force
# A forced rerun that writes fewer files removes the earlier run's others:
# no sessions.h5 from the last run beside a report that did not write one.
R -q -i arch -o done --force --sessions
[ -e done/sessions.h5 ] || fail "--sessions wrote no sessions.h5"
: > done/notes.txt   # not an output: left alone
R -q -i arch -o done --force
[ ! -e done/sessions.h5 ] || fail "a forced rerun without --sessions left the last sessions.h5"
# A directory of an output's name: never removed. A run that does not
# write that file goes on; one that does is refused before the job (a file
# cannot be renamed over it: the commit would stop half done, some outputs
# new and some old).
mkdir done/sessions.h5
R -q -i arch -o done --force
[ -d done/sessions.h5 ] || fail "a forced rerun removed a directory"
before=$(stat -c %Y done/report.json)
expect_fail 5 "done/sessions.h5: a directory where an output file goes \(--force replaces files only\)" \
    R -q -i arch -o done --force --sessions
[ -d done/sessions.h5 ] || fail "a refused rerun removed a directory"
[ "$(stat -c %Y done/report.json)" = "$before" ] || fail "a refused rerun replaced report.json"
ls -d done.tmp.* 2>/dev/null && fail "a refused rerun left its temporary directory"
rmdir done/sessions.h5
[ -e done/notes.txt ] || fail "a forced rerun removed a file that is not an output"
# A directory found only when the outputs move in (generate's names are a
# pattern): nothing moves, the earlier archive stays whole.
mpi 1 "$CLICKSEG" generate -q -o g2 -n 2000 -d 1 -f 2 > /dev/null
cp g2/events-0000.h5 g2-first.h5
rm g2/events-0001.h5
mkdir g2/events-0001.h5
expect_fail 5 "g2/events-0001.h5: a directory where an output file goes" \
    mpi 1 "$CLICKSEG" generate -q -o g2 -n 3000 -d 1 -f 2 --force
cmp -s g2/events-0000.h5 g2-first.h5 || fail "a refused commit replaced g2/events-0000.h5"
[ -d g2/events-0001.h5 ] || fail "a refused commit removed a directory"
ls -d g2.tmp.* 2>/dev/null && fail "a refused commit left its temporary directory"
# The same for an archive: any .h5 in the directory is read as part of it.
mpi 1 "$CLICKSEG" generate -o regen -n 3000 -d 1 -f 3 > /dev/null
expect_fail 5 "regen/events-0000.h5: output exists" mpi 1 "$CLICKSEG" generate -o regen -n 1000 -d 1 -f 1
out=$(mpi 1 "$CLICKSEG" generate -q -o regen -n 1000 -d 1 -f 1 --force)
[ -z "$out" ] || fail "generate -q printed: $out"
[ "$(ls regen | grep -c '^events-')" = 1 ] || fail "generate --force left the earlier archive's files: $(ls regen)"
# Another .h5 beside an archive is not generate's to remove, but run would
# read it with the archive: refused, even with --force, and kept.
: > regen/mine.h5
expect_fail 5 "regen/mine.h5: not a file of a generated archive" \
    mpi 1 "$CLICKSEG" generate -o regen -n 1000 -d 1 --force
[ -e regen/mine.h5 ] && [ -e regen/events-0000.h5 ] || fail "a refused generate removed files: $(ls regen)"
# report --html over the report.h5 it reads (the page replaced the report,
# exit 0) or over a file that is no page: refused, the report intact.
R -q -i arch -o rep
expect_fail 2 "--html rep/report.h5: that is the report.h5 being read" "$CLICKSEG" report rep --html rep/report.h5
expect_fail 2 "--html arch/events-0000.h5: it exists and is not an HTML page" \
    "$CLICKSEG" report rep --html arch/events-0000.h5
"$CLICKSEG" report -q rep --html page.html && "$CLICKSEG" report -q rep --html page.html ||
    fail "report --html over a page written before"
"$CLICKSEG" report rep > /dev/null || fail "the report was damaged by a refused --html"
# merge --force into one of the reports it merges replaced that input.
$PY "$SRCDIR/lib/split_archive.py" arch mdays --by day > mdays.txt
mapfile -t MD < <(awk '{print $1}' mdays.txt)
if [ "${#MD[@]}" -ge 2 ]; then
    for d in "${MD[@]:0:2}"; do R -q --set session.split=day -i "mdays/$d" -o "md-$d"; done
    expect_fail 2 "--output md-${MD[0]} is the report md-${MD[0]} being merged" \
        mpi "$NRANKS" "$CLICKSEG" merge --force --set session.split=day -o "md-${MD[0]}" "md-${MD[0]}" "md-${MD[1]}"
    expect_fail 2 "--output md-${MD[0]}/m is inside the report md-${MD[0]} being merged" \
        mpi "$NRANKS" "$CLICKSEG" merge --set session.split=day -o "md-${MD[0]}/m" "md-${MD[0]}" "md-${MD[1]}"
    "$CLICKSEG" report "md-${MD[0]}" > /dev/null || fail "a refused merge damaged its input"
fi
echo "test_errors: ok ($NRANKS ranks)"
