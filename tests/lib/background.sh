# Helpers for tests that act on a clickseg job while it runs (sourced after
# common.sh): start it in the background, wait for a line it prints, stop
# its ranks with SIGSTOP where the test must do something mid-run (a stop,
# not a sleep, so no machine is too fast or too slow for the test).

# start_bg LOG N args...: mpirun -n N clickseg args... in the background,
# its stdout and stderr in LOG.out and LOG.err; its pid in $BG.
start_bg() {
    local log=$1 n=$2; shift 2
    mpirun -n "$n" --oversubscribe "$CLICKSEG" "$@" > "$log.out" 2> "$log.err" &
    BG=$!
}

# wait_for FILE PATTERN SECONDS: polls until FILE holds PATTERN; fails when
# the job ends first or the time is up.
wait_for() {
    local deadline=$((SECONDS + $3))
    until grep -q -- "$2" "$1" 2> /dev/null; do
        [ $SECONDS -lt $deadline ] || { cat "$1" >&2; fail "no '$2' in $1 within $3 s"; }
        kill -0 "$BG" 2> /dev/null || { cat "$1" >&2; fail "the run ended before '$2'"; }
        sleep 0.02
    done
}

# wait_rc: waits for $BG with a deadline (a hang, not a speed: checkpoints
# after every window take 0.4-0.9 s each under ctest -j2); its exit status
# in $RC.
wait_rc() {
    local deadline=$((SECONDS + 180))
    while kill -0 "$BG" 2> /dev/null; do
        [ $SECONDS -lt $deadline ] || { kill -KILL "$BG"; fail "run did not end in 180 s"; }
        sleep 0.05
    done
    RC=0; wait "$BG" || RC=$?
}
