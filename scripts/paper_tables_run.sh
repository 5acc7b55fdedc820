#!/usr/bin/env bash
# Compute the Table 4, 5 and 6 results one after the other, each as soon as the experiment priors
# it needs are exported by scripts/paper_priors_queue.sh (polls runs/exp-*/done).
#   nohup bash scripts/paper_tables_run.sh > runs/exp-tables.log 2>&1 &
set -u
cd "$(dirname "$0")/.."
wait_for() { for n in "$@"; do while [ ! -f "runs/exp-$n/done" ]; do sleep 10; done; done; }
table() {  # name, priors...
  local name=$1; shift
  wait_for "$@"
  echo "$(date -u +%T) start $name"
  python -m "benchmarks.paper.$name" && echo "$(date -u +%T) end $name"
}
table table4 cmu-sm cmu-sm-ra
table table5 cmu-sm cmu-ddpm
table table6 cmu-sm bandai-sm mixed-sm
echo "$(date -u +%T) tables done"
