#!/usr/bin/env python3
"""Print 'N passed, N failed[, N skipped]' from meson's testlog.json.

Exit 1 when anything failed or when nothing ran, so that a run that
tested nothing cannot look green.
"""
import json
import sys

passed = failed = skipped = 0
with open(sys.argv[1]) as f:
    for line in f:
        if not line.strip():
            continue
        result = json.loads(line)["result"]
        if result in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif result == "SKIP":
            skipped += 1
        else:
            failed += 1

print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed or passed == 0 else 0)
