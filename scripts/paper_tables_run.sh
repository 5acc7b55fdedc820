#!/usr/bin/env bash
# Compute the Table 4, 5 and 6 results one after the other, each as soon as the experiment priors
# it needs are exported by scripts/paper_priors_queue.sh (polls runs/exp-*/done). Table 6 is
# computed row by row as its priors finish (--partial keeps the rows already stored).
#   nohup bash scripts/paper_tables_run.sh > runs/exp-tables.log 2>&1 &
set -u
cd "$(dirname "$0")/.."
wait_for() { for n in "$@"; do while [ ! -f "runs/exp-$n/done" ]; do sleep 10; done; done; }
table() {  # name, args, priors...
  local name=$1 args=$2; shift 2
  wait_for "$@"
  echo "$(date -u +%T) start $name $args"
  python -m "benchmarks.paper.$name" $args && echo "$(date -u +%T) end $name"
}
[ -f benchmarks/results/paper_table4.json ] || table table4 "" cmu-sm cmu-sm-ra
[ -f benchmarks/results/paper_table5.json ] || table table5 "" cmu-sm cmu-ddpm
table table6 --partial cmu-sm
table table6 --partial bandai-sm
table table6 --partial mixed-sm
echo "$(date -u +%T) tables done"
