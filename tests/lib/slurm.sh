#!/bin/bash
# Single-node Slurm (munged + slurmctld + slurmd) on Debian 12, as root, without systemd,
# for the tests that submit jobs/*.sbatch (tests/e2e/test_slurm.sh). Installs the Debian
# packages when they are missing; starts the daemons and waits (30 s deadline) for the
# node to be idle; stops them by the PIDs in their pid files, never by name.
# (From ../shared/notes/single-node-slurm.sh, measured on this kind of machine.)
# Usage:  tests/lib/slurm.sh install | start | stop | status
# Env:    SLURM_RECIPE_DIR  where config/state/logs/pids go (default /tmp/slurm-recipe)
#         SLURM_NODE_CPUS   advertise this many CPUs instead of the real count (e.g. 8 on a
#                           2-core box so that `sbatch -n 8` can run; uses config_overrides)
# After start:  source "$SLURM_RECIPE_DIR/slurm.env"   (exports SLURM_CONF)
set -euo pipefail

BASE=${SLURM_RECIPE_DIR:-/tmp/slurm-recipe}
CONF=$BASE/etc/slurm.conf
RUN=$BASE/var/run
LOG=$BASE/var/log
MUNGE_PID=/run/munge/munged.pid
export SLURM_CONF=$CONF

install_pkgs() {
    local need=()
    command -v slurmctld >/dev/null || need+=(slurmctld)
    command -v slurmd    >/dev/null || need+=(slurmd)
    command -v sbatch    >/dev/null || need+=(slurm-client)
    command -v munged    >/dev/null || need+=(munge)
    # srun --mpi=pmix dlopen()s /usr/lib/x86_64-linux-gnu/pmix2/lib/libpmix.so, shipped only by libpmix-dev
    [ -e /usr/lib/x86_64-linux-gnu/pmix2/lib/libpmix.so ] || need+=(libpmix-dev)
    [ ${#need[@]} -eq 0 ] && return 0
    # Keep the packages' init scripts from starting daemons during install (no systemd here).
    local made_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; made_policy=1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
    [ $made_policy -eq 1 ] && rm -f /usr/sbin/policy-rc.d
    return 0
}

alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

write_conf() {
    local host; host=$(hostname -s)
    getent hosts "$host" >/dev/null || { echo "hostname $host does not resolve; add it to /etc/hosts" >&2; exit 1; }
    # slurmd -C prints the real hardware: NodeName=vm CPUs=2 Boards=1 SocketsPerBoard=1 CoresPerSocket=2 ThreadsPerCore=1 RealMemory=24105
    local CPUs SocketsPerBoard CoresPerSocket ThreadsPerCore RealMemory extra=""
    eval "$(slurmd -C | head -1 | tr ' ' '\n' | grep -E '^(CPUs|SocketsPerBoard|CoresPerSocket|ThreadsPerCore|RealMemory)=')"
    if [ -n "${SLURM_NODE_CPUS:-}" ]; then   # pretend to have more cores (oversubscription for tests)
        CPUs=$SLURM_NODE_CPUS; SocketsPerBoard=1; CoresPerSocket=$SLURM_NODE_CPUS; ThreadsPerCore=1
        extra="SlurmdParameters=config_overrides"
    fi
    mkdir -p "$BASE/etc" "$BASE/var/ctld" "$BASE/var/d" "$RUN" "$LOG"
    cat > "$CONF" <<EOF
ClusterName=local
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=pmix
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MailProg=/bin/true
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=$BASE/var/ctld
SlurmdSpoolDir=$BASE/var/d
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd.pid
SlurmctldLogFile=$LOG/slurmctld.log
SlurmdLogFile=$LOG/slurmd.log
$extra
NodeName=$host CPUs=$CPUs Sockets=$SocketsPerBoard CoresPerSocket=$CoresPerSocket ThreadsPerCore=$ThreadsPerCore RealMemory=$RealMemory State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
    echo "export SLURM_CONF=$CONF" > "$BASE/slurm.env"
}

start() {
    install_pkgs
    write_conf
    # munged must run as user munge: as root it exits with
    # "PRNG seed dir is insecure: invalid ownership of /var/lib/munge".
    if ! alive $MUNGE_PID; then
        install -d -o munge -g munge -m 0755 /run/munge
        [ -s /etc/munge/munge.key ] || runuser -u munge -- /usr/sbin/mungekey --create
        runuser -u munge -- /usr/sbin/munged          # forks; writes $MUNGE_PID
        for _ in $(seq 50); do [ -s $MUNGE_PID ] && break; sleep 0.1; done
        cp $MUNGE_PID "$RUN/munged.pid"               # stop only a munged that we started
    fi
    for _ in $(seq 50); do [ -S /run/munge/munge.socket.2 ] && break; sleep 0.1; done
    munge -n | unmunge >/dev/null                     # fails here if munge is broken

    # Both daemonize (-D would keep them in the foreground); one that fails
    # to start says why in its log only (slurmd without a cgroup mount).
    local d
    for d in slurmctld slurmd; do
        alive "$RUN/$d.pid" || $d || {
            echo "$d did not start; see $LOG" >&2; tail -n 20 "$LOG"/*.log >&2; exit 1; }
    done
    local state=""
    for _ in $(seq 150); do                            # up to 30 s
        state=$(sinfo -h -N -o %T 2>/dev/null | head -1 || true)
        [ "$state" = idle ] && break
        sleep 0.2
    done
    if [ "$state" != idle ]; then
        echo "node not idle (state='$state'); see $LOG" >&2; tail -n 20 "$LOG"/*.log >&2; exit 1
    fi
    echo "slurm up: munged=$(cat $MUNGE_PID) slurmctld=$(cat $RUN/slurmctld.pid) slurmd=$(cat $RUN/slurmd.pid)"
    sinfo
}

stop_pid() {   # stop one daemon by the PID in its pid file, wait up to 30 s, then SIGKILL
    local f=$1 pid
    [ -s "$f" ] || return 0
    pid=$(cat "$f")
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid"
    for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    echo "pid $pid ($f) still alive after 30 s; SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
}

stop() {
    # pid files are read before signalling: each daemon deletes its own on a clean exit
    stop_pid "$RUN/slurmd.pid"
    stop_pid "$RUN/slurmctld.pid"
    stop_pid "$RUN/munged.pid"; rm -f "$RUN/munged.pid"
    echo "slurm stopped"
}

status() {
    for f in "$RUN/munged.pid" "$RUN/slurmctld.pid" "$RUN/slurmd.pid"; do
        if alive "$f"; then echo "$f: running ($(cat "$f"))"; else echo "$f: not running"; fi
    done
}

case "${1:-start}" in
    install) install_pkgs ;;
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) echo "usage: $0 install|start|stop|status" >&2; exit 2 ;;
esac
