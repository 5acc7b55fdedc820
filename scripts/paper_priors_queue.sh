#!/usr/bin/env bash
# Train the experiment priors of the paper's Tables 4-6 one at a time (resumable: re-run to continue).
# Same budget for every prior so comparisons are fair: width 1024, batch 256, dropout 0, the cosine
# schedule of a $STEPS-step run, stopped at step $STOP for every prior (2 shared CPU cores: time),
# then exported from that checkpoint (k-means initial poses + held-out quality in the card).
#   nohup bash scripts/paper_priors_queue.sh > runs/exp-queue.log 2>&1 &
# Bandai-derived priors (exp-bandai-sm, exp-mixed-sm) are CC BY-NC 4.0: never commit them.
set -u
cd "$(dirname "$0")/.."
STEPS=${STEPS:-4000}
STOP=${STOP:-2000}
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
  local src=(); for a in "$@"; do [ "$a" = "--rotation-augmentation" ] && break; [ "$a" = "--schedule" ] && break; src+=("$a"); done
  python scripts/train_prior.py --run "$run" "${src[@]}" --name "exp-$name" --threads 1 \
    --note "experiment prior: cosine schedule of $STEPS steps stopped at step $STOP (same for all)" \
    --export "$run/prior" > "$run.export.log" 2>&1 && touch "$run/done"
  echo "$(date -u +%T) end $name"
}
mkdir -p runs
train cmu-sm --sources cmu-train
train cmu-sm-ra --sources cmu-train --rotation-augmentation
train cmu-ddpm --sources cmu-train --schedule ddpm
train bandai-sm --sources bandai
train mixed-sm --sources cmu-train bandai
echo "$(date -u +%T) queue done"
