#!/usr/bin/env python3
"""The helper crates (cli/, fuzz/, bench/kafka-floor, chaos/rdcheck) share target/ with the
extension; a helper whose Cargo.lock resolves a shared dependency to another version than the
root Cargo.lock makes cargo build that crate again (librdkafka's C build: about 2 minutes of
make test). Fails, naming each package, when a helper pins a version the root lock lacks.
Fix: copy the root's versions (cargo update -p NAME --precise VERSION in the helper)."""
import pathlib
import sys
import tomllib

ROOT = pathlib.Path(__file__).resolve().parent.parent
HELPERS = ["cli", "fuzz", "bench/kafka-floor", "chaos/rdcheck"]


def versions(lock_path):
    found = {}
    for package in tomllib.loads(lock_path.read_text())["package"]:
        found.setdefault(package["name"], set()).add(package["version"])
    return found


root = versions(ROOT / "Cargo.lock")
drift = []
for helper in HELPERS:
    lock = ROOT / helper / "Cargo.lock"
    if not lock.exists():
        continue
    for name, helper_versions in sorted(versions(lock).items()):
        if name in root and not helper_versions <= root[name]:
            drift.append(f"{helper}/Cargo.lock: {name} {sorted(helper_versions)}, Cargo.lock has {sorted(root[name])}")
for line in drift:
    print(line, file=sys.stderr)
if drift:
    sys.exit(1)
print(f"lock files: the helpers' shared dependencies match Cargo.lock ({', '.join(HELPERS)})")
