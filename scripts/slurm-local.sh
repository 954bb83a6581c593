#!/usr/bin/env bash
# A real, single-node Slurm cluster on this machine, for the tests of `cotrain sweep --launcher slurm` (and for trying
# it by hand): Debian's slurm-wlm (slurmctld + slurmd, munge authentication), one partition "debug" with this
# machine's cores. Idempotent: does nothing when Slurm already answers here.
#   scripts/slurm-local.sh          install (apt, when missing) and start
#   scripts/slurm-local.sh stop     stop the daemons this script started
# Needs root (or passwordless sudo) for apt, /etc/slurm and the daemons; exits 3 with a reason when it cannot.
# State, logs and spool: /var/tmp/cotrain-slurm.
set -euo pipefail
state=/var/tmp/cotrain-slurm
as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; elif sudo -n true 2>/dev/null; then sudo -n "$@"; else
    echo "slurm-local: needs root or passwordless sudo for: $*" >&2; exit 3; fi
}

if [[ "${1:-start}" == stop ]]; then
  for pidfile in "$state"/slurmd.pid "$state"/slurmctld.pid; do
    [[ -f $pidfile ]] && as_root kill "$(cat "$pidfile")" 2>/dev/null || true
  done
  exit 0
fi

if command -v sinfo >/dev/null && timeout 10 sinfo -h -o %T 2>/dev/null | grep -q .; then
  exit 0 # a Slurm answers already
fi

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  echo "slurm-local: installing Debian's slurm-wlm and munge" >&2
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get install -y -q slurm-wlm munge >/dev/null 2>&1 \
    || { as_root apt-get update -q >/dev/null 2>&1 && as_root apt-get install -y -q slurm-wlm munge >/dev/null; } \
    || { echo "slurm-local: apt-get could not install slurm-wlm" >&2; exit 3; }
fi

# munge: Slurm's authentication, with the key the package made (or a new one)
as_root mkdir -p /run/munge /var/log/munge /var/lib/munge /etc/munge
[[ -f /etc/munge/munge.key ]] || as_root mungekey -c
as_root chown -R munge:munge /run/munge /var/log/munge /var/lib/munge /etc/munge
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  as_root runuser -u munge -- /usr/sbin/munged
  for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
fi

host=$(hostname -s)
as_root mkdir -p "$state"/spool "$state"/state /etc/slurm
as_root tee /etc/slurm/slurm.conf >/dev/null <<EOF
# written by cotrain's scripts/slurm-local.sh: one node, this machine
ClusterName=cotrain-local
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
StateSaveLocation=$state/state
SlurmdSpoolDir=$state/spool
SlurmctldLogFile=$state/slurmctld.log
SlurmdLogFile=$state/slurmd.log
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
ReturnToService=2
MpiDefault=none
KillWait=30
MinJobAge=5
NodeName=$host CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
as_root slurmctld
as_root slurmd
for _ in $(seq 100); do
  if timeout 5 sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
    echo "slurm-local: up ($(sinfo -h -o '%P %D nodes %c CPUs %T'))" >&2
    exit 0
  fi
  sleep 0.2
done
echo "slurm-local: the daemons did not come up; see $state/slurmctld.log and $state/slurmd.log" >&2
exit 3
