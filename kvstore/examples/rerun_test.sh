#!/usr/bin/env bash
# Runs each example given twice; both runs must succeed and print the same.
set -uo pipefail
rc=0
for example in "$@"; do
  first=$("$example") || { echo "FAIL: $example exited $?" >&2; rc=1; continue; }
  second=$("$example") || { echo "FAIL: $example exited $? on its second run" >&2; rc=1; continue; }
  if [ "$first" != "$second" ]; then
    echo "FAIL: $example printed differently on its second run" >&2
    diff <(echo "$first") <(echo "$second") >&2
    rc=1
  elif [ -z "$first" ]; then
    echo "FAIL: $example printed nothing" >&2
    rc=1
  else
    echo "ok: $(basename "$example")"
  fi
done
exit $rc
