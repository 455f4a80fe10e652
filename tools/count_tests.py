#!/usr/bin/env python3
"""Counts GoogleTest cases in Bazel's test.xml files.

Usage: count_tests.py TESTLOGS_DIR TARGET...
Prints "passed failed" for the given test targets (//pkg:name). A sharded
target (shard_count) has a test.xml per shard, in shard_K_of_N directories;
their cases are summed. A target (or shard) whose test.xml is missing counts
as one failure, so a test that never ran is seen.
"""
import glob
import os
import sys
import xml.etree.ElementTree as ET


def xml_paths(testlogs, target):
    pkg, _, name = target.lstrip("/").partition(":")
    base = os.path.join(testlogs, pkg, name)
    single = os.path.join(base, "test.xml")
    if os.path.exists(single):
        return [single]
    shard_dirs = sorted(glob.glob(os.path.join(base, "shard_*_of_*")))
    if shard_dirs:
        return [os.path.join(d, "test.xml") for d in shard_dirs]
    return [single]


def count(path):
    passed = failed = 0
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return 0, 1
    for case in root.iter("testcase"):
        if case.get("status") == "notrun" or case.get("result") == "skipped":
            continue
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        else:
            passed += 1
    if passed == 0 and failed == 0:
        # Not a GoogleTest file (or an empty one): judge by the suite attributes.
        if root.get("failures", "0") != "0" or root.get("errors", "0") != "0":
            failed = 1
    return passed, failed


def main():
    testlogs, targets = sys.argv[1], sys.argv[2:]
    passed = failed = 0
    for t in targets:
        for path in xml_paths(testlogs, t):
            p, f = count(path)
            passed += p
            failed += f
    print(passed, failed)


if __name__ == "__main__":
    main()
