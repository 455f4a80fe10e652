#!/usr/bin/env bash
# Installs revkv for builds that do not use Bazel:
#
#   bazel run //:install -- --prefix=DIR          # fastbuild (-O2 here too)
#   bazel run -c opt //:install -- --prefix=DIR   # optimized, -DNDEBUG
#
# DIR/bin/revkv                           the command line (etcdctl-compatible,
#                                          with `revkv bench`)
# DIR/include/...                         the public headers (revkv/db.h,
#                                          kvstore/store.h, ...) and every
#                                          project header they include
# DIR/lib/librevkv.a                      one static archive, position-
#                                          independent code
# DIR/lib/pkgconfig/revkv.pc              pkg-config: revkv
# DIR/lib/cmake/revkv/revkvConfig.cmake   find_package(revkv): revkv::revkv
# DIR/lib/cmake/revkv/revkvConfigVersion.cmake
#
# A relative DIR is taken from the directory bazel was run in. DESTDIR, when
# set, is prepended to every path written (for packaging); the files name
# DIR. Installing over an older install overwrites its files but removes
# none. See docs/install.md.
set -euo pipefail

usage() {
  echo "usage: bazel run //:install -- --prefix=DIR" >&2
  exit 2
}

prefix=""
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix=*) prefix="${1#--prefix=}" ;;
    --prefix) [ $# -ge 2 ] || usage; prefix="$2"; shift ;;
    -h|--help) usage ;;
    *) echo "install: unknown argument: $1" >&2; usage ;;
  esac
  shift
done
[ -n "$prefix" ] || { echo "install: --prefix=DIR is required" >&2; usage; }
case "$prefix" in
  /*) ;;
  *) prefix="${BUILD_WORKING_DIRECTORY:-$PWD}/$prefix" ;;
esac
prefix="${prefix%/}"
[ -n "$prefix" ] || prefix="/"

# The files to install are this binary's runfiles: under `bazel run`, next
# to it (BUILD_WORKSPACE_DIRECTORY is set, the current directory is the
# runfiles tree); in a test, under TEST_SRCDIR.
runfiles=""
for d in "${RUNFILES_DIR:-}" "${TEST_SRCDIR:-}" "$0.runfiles" "$PWD/.."; do
  if [ -n "$d" ] && [ -f "$d/revkv/tools/install/revkv.hdrs" ]; then
    runfiles=$(cd "$d/revkv" && pwd)
    break
  fi
done
[ -n "$runfiles" ] || { echo "install: cannot find the runfiles of $0" >&2; exit 1; }
dist="$runfiles/tools/install"

version=$(sed -n 's/.*kVersion\[\] = "\([^"]*\)".*/\1/p' "$runfiles/version.h")
[ -n "$version" ] || { echo "install: no kVersion in version.h" >&2; exit 1; }

# Link flags (-lfoo, one a line) for pkg-config; library names for CMake.
pc_libs=""
cmake_libs=""
while read -r flag; do
  [ -n "$flag" ] || continue
  pc_libs="$pc_libs $flag"
  case "$flag" in
    -l*) cmake_libs="$cmake_libs;${flag#-l}" ;;
    *) cmake_libs="$cmake_libs;$flag" ;;
  esac
done < "$dist/revkv.linkopts"
cmake_libs="${cmake_libs#;}"

# cp and chmod, not install(1): this binary is itself named install, and
# a PATH holding "." (the runfiles tree) would find it.
put() {
  mkdir -p "$(dirname "$2")"
  cp -f "$1" "$2"
  chmod 0644 "$2"
}

dest="${DESTDIR:-}$prefix"
mkdir -p "$dest/bin" "$dest/include" "$dest/lib/pkgconfig" "$dest/lib/cmake/revkv"
put "$runfiles/cmd/revkv/revkv" "$dest/bin/revkv"
chmod 0755 "$dest/bin/revkv"

# The headers, in one cp (the runfiles are symlinks: copy what they point to).
n=$(grep -c . "$dist/revkv.hdrs")
(cd "$runfiles" && grep . "$dist/revkv.hdrs" | xargs cp -fL --parents -t "$dest/include")
(cd "$dest/include" && grep . "$dist/revkv.hdrs" | xargs chmod 0644)

put "$dist/librevkv.a" "$dest/lib/librevkv.a"

# $1, escaped for the replacement of sed's s|||.
sed_escape() {
  printf '%s' "$1" | sed -e 's/[&|\\]/\\&/g'
}
prefix_sed=$(sed_escape "$prefix")

subst() {
  sed -e "s|@PREFIX@|$prefix_sed|g" \
      -e "s|@VERSION@|$version|g" \
      -e "s|@PC_LIBS@|${pc_libs# }|g" \
      -e "s|@CMAKE_LIBS@|$cmake_libs|g" \
      -e "s|@SIZEOF_VOID_P@|$(($(getconf LONG_BIT) / 8))|g" \
      "$1" > "$2.tmp"
  put "$2.tmp" "$2"
  rm -f "$2.tmp"
}
subst "$dist/revkv.pc.in" "$dest/lib/pkgconfig/revkv.pc"
subst "$dist/revkvConfig.cmake.in" "$dest/lib/cmake/revkv/revkvConfig.cmake"
subst "$dist/revkvConfigVersion.cmake.in" "$dest/lib/cmake/revkv/revkvConfigVersion.cmake"

echo "revkv $version installed in $dest: bin/revkv, $n headers in include/, lib/librevkv.a," \
     "lib/pkgconfig/revkv.pc, lib/cmake/revkv/" >&2
