#!/usr/bin/env python3
"""Print 'N passed, N failed, N skipped' over meson testlog.json files.

Exit 1 when anything failed, when a log is missing, or when nothing ran,
so that a run that tested nothing cannot look green.
"""
import json
import sys

passed = failed = skipped = 0
missing = False
for path in sys.argv[1:]:
    try:
        with open(path) as f:
            lines = [line for line in f if line.strip()]
    except OSError as e:
        print(f"count-tests: {e}", file=sys.stderr)
        missing = True
        continue
    for line in lines:
        result = json.loads(line)["result"]
        if result in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif result == "SKIP":
            skipped += 1
        else:
            failed += 1

print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed or missing or passed == 0 else 0)
