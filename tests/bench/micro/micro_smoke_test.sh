#!/bin/bash
# Usage: micro_smoke_test.sh BTREE_MICRO MVCC_MICRO HASH_MICRO
# Runs each benchmark binary for a moment and checks its exit status and that
# every expected benchmark (name/arg) appears in its output.
set -u

btree_micro=$1
mvcc_micro=$2
hash_micro=$3

export TMPDIR="${TEST_TMPDIR:-$(mktemp -d)}"
failures=0

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# run BINARY EXPECTED_NAME...
run() {
  local bin=$1
  shift
  local name out
  name=$(basename "$bin")
  out="$TMPDIR/$name.out"
  echo "== $name"
  "$bin" --benchmark_min_time=0.01 --benchmark_color=false >"$out" 2>&1
  local rc=$?
  cat "$out"
  if [[ $rc -ne 0 ]]; then
    fail "$name exited with status $rc"
    return
  fi
  for expected in "$@"; do
    if ! grep -qE "^${expected}[[:space:]]" "$out"; then
      fail "$name did not report $expected"
    fi
  done
}

run "$btree_micro" \
  BM_PageSearch/0 BM_PageSearch/1 \
  BM_PageSearchMiss/0 BM_PageSearchMiss/1 \
  BM_NodeLowerBound/0 BM_NodeLowerBound/1 \
  BM_CursorNextScan/10000 BM_CursorNextScan/100000 \
  BM_NodeSplitCommit/25 BM_NodeSplitCommit/26 BM_NodeSplitCommit/1000

run "$mvcc_micro" \
  BM_IndexGetLatest/1000 BM_IndexGetLatest/100000 BM_IndexGetMissing \
  BM_IndexRange/10 BM_IndexRange/1000 \
  BM_RevisionEncode BM_RevisionDecode \
  BM_KeyValueEncode BM_KeyValueDecode BM_KeyValueDecodeHeader

sizes=(64 4096 1048576)
run "$hash_micro" \
  "${sizes[@]/#/BM_Crc32c/}" \
  "${sizes[@]/#/BM_Crc32cPortable/}" \
  "${sizes[@]/#/BM_Xxh3/}"

# btree_micro's files live in a temp dir it must remove at exit.
if compgen -G "$TMPDIR/revkv-btree-micro-*" >/dev/null; then
  fail "btree_micro left its temp dir behind: $(echo "$TMPDIR"/revkv-btree-micro-*)"
fi

if [[ $failures -ne 0 ]]; then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "PASS"
