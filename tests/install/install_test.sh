#!/usr/bin/env bash
# //:install, as a C++ team without Bazel uses it: installs into a temporary
# prefix, checks what was installed (files, archive contents, headers that
# compile on their own), then builds examples/cmake with the host's CMake
# (find_package(revkv) against -DCMAKE_PREFIX_PATH) and once more with a
# plain compiler line from pkg-config, and runs both programs.
#
# Needs cmake, pkg-config and a C++20 compiler on the host (tools/setup.sh
# installs them). Each step is a test case of the JUnit file Bazel reads.
set -uo pipefail

runfiles="${TEST_SRCDIR:?}/revkv"
tmp="${TEST_TMPDIR:?}"
prefix="$tmp/prefix"
example="$runfiles/examples/cmake"
CXX="${CXX:-c++}"
export PATH="$PATH:/usr/bin:/bin"

names=()
times=()
results=()  # "" passed, else the failure message

write_xml() {
  [ -n "${XML_OUTPUT_FILE:-}" ] || return 0
  local failures=0 i
  for i in "${!results[@]}"; do [ -z "${results[$i]}" ] || failures=$((failures + 1)); done
  {
    echo '<?xml version="1.0" encoding="UTF-8"?>'
    echo "<testsuites tests=\"${#names[@]}\" failures=\"$failures\" errors=\"0\">"
    echo "<testsuite name=\"InstallTest\" tests=\"${#names[@]}\" failures=\"$failures\" errors=\"0\">"
    for i in "${!names[@]}"; do
      echo -n "<testcase name=\"${names[$i]}\" status=\"run\" time=\"${times[$i]}\" classname=\"InstallTest\">"
      [ -z "${results[$i]}" ] || echo -n "<failure message=\"${results[$i]}\"></failure>"
      echo "</testcase>"
    done
    echo "</testsuite></testsuites>"
  } > "$XML_OUTPUT_FILE"
}

# step NAME FUNCTION: runs FUNCTION; at its first failure, records it and
# stops the test (the later steps need the earlier ones).
step() {
  local name="$1" start end rc
  shift
  echo "=== $name"
  start=$(date +%s%N)
  "$@"
  rc=$?
  end=$(date +%s%N)
  local ms=$(((end - start) / 1000000))
  names+=("$name")
  times+=("$((ms / 1000)).$(printf '%03d' $((ms % 1000)))")
  if [ $rc -ne 0 ]; then
    results+=("$name failed (exit $rc)")
    echo "FAILED: $name (exit $rc)" >&2
    write_xml
    exit 1
  fi
  results+=("")
  echo "--- $name: ok (${times[-1]} s)"
}

fail() {
  echo "$*" >&2
  return 1
}

install_into_prefix() {
  "$runfiles/install" --prefix="$prefix" || return 1
  # The installer resolves a relative prefix against the directory bazel
  # ran in; here, the current one.
  (cd "$tmp" && BUILD_WORKING_DIRECTORY="$tmp" "$runfiles/install" --prefix=relative) || return 1
  [ -f "$tmp/relative/lib/librevkv.a" ] || fail "--prefix=relative did not install in $tmp/relative"
}

check_files() {
  local f
  for f in include/revkv/db.h include/kvstore/store.h include/kvstore/revkv_store.h \
      include/kvstore/config.h include/kvstore/kv_pair.h include/kvstore/errors.h \
      include/mvcc/store.h include/backend/backend.h include/btree/env.h \
      include/util/status_payload.h lib/librevkv.a lib/pkgconfig/revkv.pc \
      lib/cmake/revkv/revkvConfig.cmake lib/cmake/revkv/revkvConfigVersion.cmake; do
    [ -f "$prefix/$f" ] || fail "not installed: $f" || return 1
  done
  "$prefix/bin/revkv" version | grep -q '^revkv version: ' || fail "bin/revkv does not run" || return 1
  # Only project headers of the installed libraries: nothing from the tests,
  # the benchmarks or the CLI.
  for f in tests bench cmd gtest gmock benchmark; do
    [ ! -e "$prefix/include/$f" ] || fail "installed: include/$f" || return 1
  done
  # Every header an installed header includes is installed (or a system one).
  local missing
  missing=$(cd "$prefix/include" && grep -rho '#include "[^"]*"' . | sort -u |
    sed 's/#include "\(.*\)"/\1/' | while read -r h; do
      [ -f "$h" ] || [ -f "/usr/include/$h" ] || echo "$h"
    done)
  [ -z "$missing" ] || fail "included but not installed: $missing" || return 1
  # The archive: the project's object files, no program, no LMDB, no test or
  # benchmark library.
  nm -A "$prefix/lib/librevkv.a" > "$tmp/nm.txt" 2>/dev/null || fail "nm failed" || return 1
  grep -q ' T _ZN5revkv2DB4OpenE' "$tmp/nm.txt" || fail "librevkv.a lacks revkv::DB::Open" || return 1
  grep -q ' T _ZN5revkv7kvstore10RevkvStore4OpenE' "$tmp/nm.txt" ||
    fail "librevkv.a lacks revkv::kvstore::RevkvStore::Open" || return 1
  ! grep -E ' T main$| U mdb_| U _ZN7testing| U _ZN9benchmark' "$tmp/nm.txt" ||
    fail "librevkv.a defines main or needs LMDB, GoogleTest or Benchmark" || return 1
  # shellcheck disable=SC2016  # ${libdir} is pkg-config's, not the shell's
  grep -q '^Libs: -L${libdir} -lrevkv .*-labsl_status ' "$prefix/lib/pkgconfig/revkv.pc" ||
    fail "revkv.pc: no -labsl_status in Libs" || return 1
  grep -q 'INTERFACE_COMPILE_FEATURES "cxx_std_20"' "$prefix/lib/cmake/revkv/revkvConfig.cmake" ||
    fail "revkvConfig.cmake: no cxx_std_20" || return 1
}

# The archive was compiled with the flags of this test's configuration: a
# sanitizer build needs its runtime at link time.
sanitizer_flags() {
  local flags=""
  grep -q ' U __asan_' "$tmp/nm.txt" && flags="$flags -fsanitize=address"
  grep -q ' U __ubsan_' "$tmp/nm.txt" && flags="$flags -fsanitize=undefined"
  grep -q ' U __tsan_' "$tmp/nm.txt" && flags="$flags -fsanitize=thread"
  echo "$flags"
}

# Every installed header parses, all in one translation unit, with the
# warnings Bazel builds the same code with (.bazelrc). The public headers that
# no source file of theirs includes first (revkv/db.h, kvstore/store.h and
# kvstore/revkv_store.h are, in the Bazel build) compile on their own too.
headers_compile() {
  local h all="$tmp/all_headers.cc"
  (cd "$prefix/include" && find . -name '*.h' | sort | sed 's|^\./\(.*\)|#include "\1"|') > "$all"
  echo "$all" > "$tmp/hdr_list"
  for h in kvstore/config.h kvstore/kv_pair.h kvstore/errors.h; do
    echo "#include \"$h\"" > "$tmp/hdr_${h//\//_}.cc"
    echo "$tmp/hdr_${h//\//_}.cc" >> "$tmp/hdr_list"
  done
  xargs -P 2 -I{} "$CXX" -std=c++20 -Wall -Wextra -Werror -Wno-sign-compare \
    -Wno-unused-parameter -fsyntax-only -I"$prefix/include" {} < "$tmp/hdr_list"
}

run_example() {
  local bin="$1" data="$2" out
  mkdir -p "$data"
  out=$("$bin" "$data")
  local rc=$?
  echo "$out"
  [ $rc -eq 0 ] || fail "$bin exited $rc" || return 1
  for want in "db: greeting at revision 2 = hello" \
      "db: txn at revision 4 wrote 2 keys: fruit/apple=red@4 fruit/banana=yellow@4" \
      "db: reopened read-only at revision 4" \
      "kv: config/name = revkv (index 2)" \
      "revkv example: OK"; do
    grep -qxF "$want" <<< "$out" || fail "missing output line: $want" || return 1
  done
  [ -f "$data/data/member/snap/db" ] || fail "no data file in $data" || return 1
}

cmake_build() {
  local san
  san=$(sanitizer_flags)
  cmake -S "$example" -B "$tmp/build" -DCMAKE_PREFIX_PATH="$prefix" \
      -DCMAKE_CXX_COMPILER="$(command -v "$CXX")" \
      -DCMAKE_EXE_LINKER_FLAGS="$san" -DCMAKE_CXX_FLAGS="$san" || return 1
  grep -q "^revkv_DIR:PATH=$prefix/lib/cmake/revkv$" "$tmp/build/CMakeCache.txt" ||
    fail "find_package(revkv) did not find $prefix/lib/cmake/revkv" || return 1
  cmake --build "$tmp/build" -j 2 -- VERBOSE=1 || return 1
}

cmake_run() {
  run_example "$tmp/build/revkv_example" "$tmp/data_cmake"
}

pkgconfig_build() {
  local flags
  flags=$(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags --libs revkv) || return 1
  echo "pkg-config --cflags --libs revkv: $flags"
  # The line docs/install.md and examples/cmake/README.md give.
  # shellcheck disable=SC2046,SC2086  # flag lists: split on purpose
  "$CXX" -std=c++20 $(sanitizer_flags) -o "$tmp/revkv_example_pc" "$example/main.cc" $flags
}

pkgconfig_run() {
  run_example "$tmp/revkv_example_pc" "$tmp/data_pkgconfig"
}

for tool in cmake pkg-config nm "$CXX"; do
  command -v "$tool" > /dev/null || { echo "missing $tool: run tools/setup.sh" >&2; exit 1; }
done

step Install install_into_prefix
step InstalledFiles check_files
step HeadersCompile headers_compile
step CMakeBuild cmake_build
step CMakeRun cmake_run
step PkgConfigBuild pkgconfig_build
step PkgConfigRun pkgconfig_run
write_xml
echo "PASS"
