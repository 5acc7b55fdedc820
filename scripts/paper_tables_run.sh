#!/usr/bin/env bash
# Recompute every paper experiment (benchmarks/results/paper_*.json) one after the other, each as
# soon as the experiment priors it needs are exported by scripts/paper_priors_queue.sh (it polls
# runs/exp-*/done). The experiments on the bundled default prior go first. One torch thread each,
# so this can share the machine with one training queue.
#   nohup bash scripts/paper_tables_run.sh > runs/exp-tables.log 2>&1 &
#   bash scripts/paper_tables_run.sh table1 table6     # only these
set -u
cd "$(dirname "$0")/.."
declare -A NEEDS=(
  [table2]="" [table3]="" [table7]="" [figure5]="" [failures]=""
  [table1]="cmu-sm cmu-sm-bl"
  [table4]="cmu-sm cmu-sm-ra"
  [table5]="cmu-sm cmu-ddpm"
  [table6]="cmu-sm bandai-sm mixed-sm cmu-sm-bl"
)
wait_for() { for n in "$@"; do while [ ! -f "runs/exp-$n/done" ]; do sleep 10; done; done; }
for name in ${@:-table2 table3 table7 figure5 failures table1 table4 table5 table6}; do
  # shellcheck disable=SC2086
  wait_for ${NEEDS[$name]}
  echo "$(date -u +%T) start $name"
  python -m "benchmarks.paper.$name" && echo "$(date -u +%T) end $name"
done
echo "$(date -u +%T) tables done"
