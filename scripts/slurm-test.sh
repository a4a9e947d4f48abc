#!/usr/bin/env bash
# End-to-end test of crmo-map on Slurm (scripts/test.sh runs it; CI too): installs Debian's
# slurm-wlm and munge once, starts a one-node cluster on the loopback address (munged,
# slurmctld, slurmd, all under a temporary folder and private ports), builds a BIDS dataset
# of 12 phantoms with one broken subject, submits scripts/slurm/participant.sbatch as a
# 4-task array and scripts/slurm/group.sbatch after it, checks the tasks' exit states and the
# cohort table, fixes the broken input, resubmits and checks that the array resumes (only the
# fixed subject is mapped) and the cohort is complete. Everything is stopped and removed at
# the end.
#
#   scripts/slurm-test.sh [CRMO_MAP_BINARY]     (default: target/debug/crmo-map, built if missing)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$(realpath "${1:-$root/target/debug/crmo-map}")"
[ -x "$bin" ] || (cd "$root" && cargo build --quiet)
export CRMO_MAP="$bin"

say() { printf 'slurm-test: %s\n' "$*" >&2; }
fail() { say "FAILED: $*"; exit 1; }

# --- install once -------------------------------------------------------------------------
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  say "installing slurm-wlm and munge (apt)"
  ($sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge) >&2
fi
# slurmd must be root to start jobs: without root, run the rest under sudo when it is there.
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || fail "slurmd must run as root to start jobs (run as root, or install sudo)"
  exec sudo -E bash "$0" "$bin"
fi

# --- a one-node cluster on 127.0.0.1 ------------------------------------------------------
w="$(mktemp -d /tmp/crmo-slurm.XXXXXX)"
chmod 755 "$w"
cleanup() {
  for p in slurmd slurmctld munged; do
    [ -f "$w/$p.pid" ] && kill "$(cat "$w/$p.pid")" 2>/dev/null || true
  done
  sleep 0.5
  rm -rf "$w"
}
trap cleanup EXIT
mkdir -p "$w/state" "$w/spool" "$w/logs"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
ctl_port=$(free_port); d_port=$(free_port)

dd if=/dev/urandom of="$w/munge.key" bs=1024 count=1 status=none
chmod 600 "$w/munge.key"
munged --force --key-file="$w/munge.key" --socket="$w/munge.sock" --pid-file="$w/munged.pid" \
  --log-file="$w/munged.log" --seed-file="$w/munged.seed"

cpus=$(nproc)
cat > "$w/slurm.conf" <<CONF
ClusterName=crmotest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$ctl_port
SlurmdPort=$d_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$w/munge.sock
CredType=cred/munge
StateSaveLocation=$w/state
SlurmdSpoolDir=$w/spool
SlurmctldPidFile=$w/slurmctld.pid
SlurmdPidFile=$w/slurmd.pid
SlurmctldLogFile=$w/slurmctld.log
SlurmdLogFile=$w/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
MinJobAge=3600
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$w/slurm.conf"
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF" -N localhost
for _ in $(seq 1 50); do
  sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)' && break
  sleep 0.2
done
sinfo -h -o '%T' | grep -qE '^idle' || { cat "$w"/slurm*.log >&2; fail "the node did not come up"; }
say "cluster up (slurmctld :$ctl_port, slurmd :$d_port, $cpus CPUs)"

# --- the dataset --------------------------------------------------------------------------
ds="$w/ds"; out="$w/out"
bash "$root/scripts/make_bids_cohort.sh" "$ds" 12 07

# The tasks' states as "task state exit" lines, sorted by task.
states() { scontrol show job -o "$1" | sed -E 's/.*ArrayTaskId=([0-9]+).*JobState=([A-Z]+).*ExitCode=([0-9]+):.*/\1 \2 \3/' | sort -n; }

submit_round() {
  local job
  job=$(sbatch --parsable --array=0-3 --cpus-per-task=1 --output="$w/logs/%A_%a.log" \
    "$root/scripts/slurm/participant.sbatch" "$ds" "$out")
  # Wait for the group job, which runs after every task whatever their ends.
  sbatch --parsable --wait --dependency="afterany:$job" --output="$w/logs/group-%j.log" \
    "$root/scripts/slurm/group.sbatch" "$ds" "$out" >/dev/null || { cat "$w"/logs/group-*.log >&2; fail "the group job failed"; }
  echo "$job"
}

start=$(date +%s)
job=$(submit_round)
got=$(states "$job")
want=$'0 COMPLETED 0\n1 COMPLETED 0\n2 FAILED 1\n3 COMPLETED 0'
[ "$got" = "$want" ] || { cat "$w"/logs/*.log >&2; fail "first round: task states '$got', expected '$want'"; }
grep -q "1 of 3 units failed: sub-07" "$w/logs/${job}_2.log" || fail "task 2's log does not name sub-07"
ok=$(awk -F'\t' 'NR > 1 && $4 == "ok"' "$out/group_scans.tsv" | wc -l)
[ "$ok" = 11 ] || fail "first round: $ok scans ok in group_scans.tsv, expected 11"
grep -qP '^sub-07\t07\tn/a\tfailed: ' "$out/group_scans.tsv" || fail "group_scans.tsv does not list sub-07 as failed"
say "round 1: tasks 0, 1, 3 completed, task 2 failed on sub-07; cohort table 11 ok + 1 failed"

# Fix the broken subject and resubmit the same array: it resumes.
bash "$root/scripts/make_bids_cohort.sh" "$w/fixed" 7 none
cp "$w/fixed/sub-07/anat/sub-07_acq-STIR_T2w.nii.gz" "$ds/sub-07/anat/"
job=$(submit_round)
got=$(states "$job")
want=$'0 COMPLETED 0\n1 COMPLETED 0\n2 COMPLETED 0\n3 COMPLETED 0'
[ "$got" = "$want" ] || { cat "$w"/logs/*.log >&2; fail "second round: task states '$got', expected '$want'"; }
grep -q "nothing to do: all 3 units are up to date" "$w/logs/${job}_0.log" || fail "task 0 did not skip its finished subjects"
grep -q "3 units: 1 mapped, 0 failed, 2 up to date" "$w/logs/${job}_2.log" || fail "task 2 did not map only sub-07"
ok=$(awk -F'\t' 'NR > 1 && $4 == "ok"' "$out/group_scans.tsv" | wc -l)
[ "$ok" = 12 ] || fail "second round: $ok scans ok in group_scans.tsv, expected 12"
say "round 2: every task completed, only sub-07 was mapped; cohort table 12 ok"
say "passed in $(( $(date +%s) - start )) s of jobs"
