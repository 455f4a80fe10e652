"""cc_dist: one static archive, the headers and the link flags of C++ libraries.

Bazel 4.2.3 has no cc_static_library. cc_dist walks the CcInfo of its deps:

  * every object file of every library of this workspace they link
    (transitively) goes into ONE archive, lib<name>.a. The PIC objects are
    taken when there are any (always in fastbuild; in opt too, built for the
    purpose), since Debian's GCC links position-independent executables by
    default. Objects are renamed after their path (backend/hash.o and
    mvcc/hash.o would clash as archive members otherwise).
  * every header of this workspace they compile with is listed, one path a
    line, in <name>.hdrs; the headers are the target's runfiles.
  * the link flags of the external libraries they link (the linkopts of
    @system//:absl, @system//:xxhash, ...), one a line, in <name>.linkopts,
    in link order, each once.

It fails the build when a library or header comes from a package of
forbidden_packages, or a link flag is in forbidden_link_flags: what the
archive must never hold (bench/, tests/, LMDB).
"""

load("@bazel_tools//tools/cpp:toolchain_utils.bzl", "find_cpp_toolchain")

def _forbidden(label, packages):
    if label.workspace_name != "":
        return False
    for p in packages:
        if label.package == p or label.package.startswith(p + "/"):
            return True
    return False

def _member_name(f):
    # backend/_objs/backend/hash.pic.o (package, target, source) ->
    # backend_backend_hash.pic.o
    return f.short_path.replace("/_objs/", "/").replace("/", "_")

def _cc_dist_impl(ctx):
    objects = []
    members = {}
    link_flags = []
    headers = []
    seen_headers = {}
    for dep in ctx.attr.deps:
        cc = dep[CcInfo]
        for li in cc.linking_context.linker_inputs.to_list():
            if _forbidden(li.owner, ctx.attr.forbidden_packages):
                fail("%s links %s, which the archive must not hold" % (dep.label, li.owner))
            for flag in li.user_link_flags:
                if flag in ctx.attr.forbidden_link_flags:
                    fail("%s links %s (from %s), which the archive must not need" %
                         (dep.label, flag, li.owner))
                if flag not in link_flags:
                    link_flags.append(flag)
            if li.owner.workspace_name != "":
                # An external library (@system//...): linked by its flags.
                if li.libraries:
                    fail("%s: external library %s brings files, not only link flags" %
                         (dep.label, li.owner))
                continue
            for lib in li.libraries:
                objs = lib.pic_objects or lib.objects
                if lib.static_library or lib.pic_static_library:
                    if not objs:
                        fail("%s: no object files for %s" % (dep.label, li.owner))
                for o in objs:
                    name = _member_name(o)
                    if name in members:
                        if members[name] == o:
                            continue
                        fail("archive member %s twice: %s and %s" % (name, members[name].path, o.path))
                    members[name] = o
                    objects.append(o)
        for h in cc.compilation_context.headers.to_list():
            if h.owner.workspace_name != "" or h.short_path in seen_headers:
                continue
            if _forbidden(h.owner, ctx.attr.forbidden_packages):
                fail("%s: header %s comes from a forbidden package" % (dep.label, h.short_path))
            seen_headers[h.short_path] = True
            headers.append(h)

    if not objects:
        fail("no object files: nothing to archive")

    cc_toolchain = find_cpp_toolchain(ctx)
    archive = ctx.actions.declare_file("lib%s.a" % ctx.attr.library_name)
    objects_list = ctx.actions.declare_file("%s.objects" % ctx.attr.library_name)
    ctx.actions.write(
        objects_list,
        "".join(["%s %s\n" % (o.path, _member_name(o)) for o in objects]),
    )
    ctx.actions.run_shell(
        outputs = [archive],
        inputs = objects + [objects_list],
        tools = cc_toolchain.all_files,
        command = """
set -eu
ar="$1"; list="$2"; out="$3"
case "$ar" in /*) ;; *) ar="$PWD/$ar" ;; esac
dir="$out.d"
rm -rf "$dir" "$out"
mkdir -p "$dir"
names=()
while read -r path name; do
  cp "$path" "$dir/$name"
  names+=("$name")
done < "$list"
(cd "$dir" && "$ar" rcsD "$OLDPWD/$out" "${names[@]}")
rm -rf "$dir"
""",
        arguments = [cc_toolchain.ar_executable, objects_list.path, archive.path],
        mnemonic = "CcDistArchive",
        progress_message = "Archiving %d objects into %s" % (len(objects), archive.short_path),
    )

    hdrs_list = ctx.actions.declare_file("%s.hdrs" % ctx.attr.library_name)
    ctx.actions.write(hdrs_list, "".join([h.short_path + "\n" for h in headers]))
    linkopts = ctx.actions.declare_file("%s.linkopts" % ctx.attr.library_name)
    ctx.actions.write(linkopts, "".join([f + "\n" for f in link_flags]))

    outputs = [archive, hdrs_list, linkopts]
    return [DefaultInfo(
        files = depset(outputs),
        runfiles = ctx.runfiles(files = outputs + headers),
    )]

cc_dist = rule(
    implementation = _cc_dist_impl,
    attrs = {
        "deps": attr.label_list(providers = [CcInfo], mandatory = True),
        "library_name": attr.string(mandatory = True),
        "forbidden_packages": attr.string_list(),
        "forbidden_link_flags": attr.string_list(),
        "_cc_toolchain": attr.label(default = Label("@bazel_tools//tools/cpp:current_cc_toolchain")),
    },
    incompatible_use_toolchain_transition = True,
    toolchains = ["@bazel_tools//tools/cpp:toolchain_type"],
)
