#!/usr/bin/env bash
# Hostile-stream memory tests (TAP): see tests/hostile.py. Usage: hostile.sh [MAILWIRE]
set -u
cd "$(dirname "$0")/.."
exec python3 tests/hostile.py "${1:-build/mailwire}"
