#!/usr/bin/env bash
# Evaluates the cleaner on the benchmark's dev pages and cross-checks the Rust
# metric against the benchmark's own scorer.
#   scripts/eval.sh [DEV.jsonl]
# The dev data is read where it lives; it is never copied into the repository.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEV="${1:-$ROOT/../shared/eval-data/dev.jsonl}"
SCORER="$(dirname "$DEV")/score.py"
PRED="$(mktemp /tmp/cleaner-pred.XXXXXX.jsonl)"
cd "$ROOT"
cargo run -q --release --example eval -- eval "$DEV" "$PRED"
if [[ -f "$SCORER" ]]; then
  echo "score.py:"
  python3 "$SCORER" "$PRED" "$DEV"
fi
echo "ablation (one stage off at a time):"
cargo run -q --release --example eval -- ablation "$DEV"
