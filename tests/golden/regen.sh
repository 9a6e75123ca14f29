#!/usr/bin/env bash
# Regenerate the expected records of tests/golden/cases.tsv from the current binary.
# Review the diff like code before committing: the golden files are the contract.
set -eu
cd "$(dirname "$0")/../.."
make -s mailwire
while IFS=$'\t' read -r name cap opts; do
    [[ -z "$name" || "$name" == \#* ]] && continue
    # shellcheck disable=SC2086
    ./mailwire -r "$cap" --json --sensor golden $opts >"tests/golden/$name.jsonl" 2>/dev/null || true
    echo "tests/golden/$name.jsonl"
done < tests/golden/cases.tsv
