#!/usr/bin/env python3
"""Counts GoogleTest cases in Bazel's test.xml files.

Usage: count_tests.py TESTLOGS_DIR TARGET...
Prints "passed failed" for the given test targets (//pkg:name). A target whose
test.xml is missing counts as one failure, so a test that never ran is seen.
"""
import os
import sys
import xml.etree.ElementTree as ET


def xml_path(testlogs, target):
    pkg, _, name = target.lstrip("/").partition(":")
    return os.path.join(testlogs, pkg, name, "test.xml")


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
        p, f = count(xml_path(testlogs, t))
        passed += p
        failed += f
    print(passed, failed)


if __name__ == "__main__":
    main()
