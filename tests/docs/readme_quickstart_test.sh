#!/usr/bin/env bash
# The README's C++ quick start is examples/quickstart/quickstart.cc, which
# CI builds and runs: the first ```cpp block of the README must equal it.
set -euo pipefail
readme=$1
source=$2
block=$(awk '/^```cpp$/ {inside=1; next} /^```$/ && inside {exit} inside {print}' "$readme")
if [ "$block" != "$(cat "$source")" ]; then
  echo "FAIL: README.md's C++ quick start differs from $source:" >&2
  diff <(echo "$block") "$source" >&2 || true
  exit 1
fi
echo "ok: README.md quotes $source"
