#!/usr/bin/env bash
# Train the experiment priors of the paper's Tables 4-6 one at a time (resumable: re-run to continue).
# Same budget for every prior so comparisons are fair: width 1024, batch 256, dropout 0, the whole
# cosine schedule of a $STEPS-step run (STOP < STEPS stops every prior early at the same step, for a
# quick interim set), then exported from that checkpoint (k-means initial poses + held-out quality).
#   nohup bash scripts/paper_priors_queue.sh > runs/exp-queue.log 2>&1 &
#   nohup bash scripts/paper_priors_queue.sh cmu-sm-bl > runs/exp-queue-bl.log 2>&1 &   (another core)
# Bandai-derived priors (exp-bandai-sm, exp-mixed-sm) are CC BY-NC 4.0: never commit them.
set -u
cd "$(dirname "$0")/.."
STEPS=${STEPS:-4000}
STOP=${STOP:-$STEPS}
COMMON="--steps $STEPS --batch-size 256 --width 1024 --dropout 0 --warmup 500 --checkpoint-every 250 --eval-every 500 --threads 1"
step_of() { python -c "import json,sys; print(json.load(open(sys.argv[1]))['step'])" "$1/checkpoint/state.json" 2>/dev/null || echo 0; }
train() {  # name, sources..., extra args
  local name=$1; shift
  local run="runs/exp-$name"
  if [ -f "$run/done" ]; then echo "$(date -u +%T) skip $name (done)"; return; fi
  if [ "$(step_of "$run")" -lt "$STOP" ]; then
    echo "$(date -u +%T) train $name $*"
    python scripts/train_prior.py --run "$run" $COMMON --name "exp-$name" "$@" >> "$run.log" 2>&1 &
    local pid=$!
    while kill -0 "$pid" 2>/dev/null; do
      if [ "$(step_of "$run")" -ge "$STOP" ]; then kill "$pid"; wait "$pid" 2>/dev/null; break; fi
      sleep 3
    done
  fi
  echo "$(date -u +%T) export $name at step $(step_of "$run")"
  local src=(); for a in "$@"; do [ "$a" = "--rotation-augmentation" ] && break; [ "$a" = "--schedule" ] && break
    [ "$a" = "--bone-length-std" ] && break; src+=("$a"); done
  python scripts/train_prior.py --run "$run" "${src[@]}" --name "exp-$name" --threads 1 \
    --note "$NOTE" \
    --export "$run/prior" > "$run.export.log" 2>&1 && touch "$run/done"
  echo "$(date -u +%T) end $name"
}
if [ "$STOP" -lt "$STEPS" ]; then
  NOTE="INTERIM experiment prior: cosine schedule of $STEPS steps stopped at step $STOP (same for all)"
else
  NOTE="experiment prior: full cosine schedule of $STEPS steps (same budget for all)"
fi
mkdir -p runs
declare -A RECIPES=(
  [cmu-sm]="--sources cmu-train"
  [cmu-sm-ra]="--sources cmu-train --rotation-augmentation"
  [cmu-ddpm]="--sources cmu-train --schedule ddpm"
  [bandai-sm]="--sources bandai"
  [mixed-sm]="--sources cmu-train bandai"
  # bone-length augmentation, std = the spread of per-bone log length ratios between the three
  # permissive training skeletons (0.15 DeepMimic vs CMU, 0.23 climbing vs CMU)
  [cmu-sm-bl]="--sources cmu-train --bone-length-std 0.15"
)
# Arguments name the priors to train (e.g. a second queue on the other core); default: all, in order.
for name in "${@:-cmu-sm cmu-sm-ra cmu-ddpm bandai-sm mixed-sm cmu-sm-bl}"; do
  for n in $name; do
    # shellcheck disable=SC2086
    train "$n" ${RECIPES[$n]}
  done
done
echo "$(date -u +%T) queue done"
