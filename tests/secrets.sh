# shellcheck shell=bash
# The search for recorded test passwords in mailwire's output, shared by tests/e2e.sh and
# tests/report.sh. Sourced, not run; expects the repository root as working directory.

# secret_forms_absent FILE...: looks in the files for every form of each password in
# pcaps/secrets.txt: the password itself, its base64, and the base64 of the AUTH PLAIN
# blobs "\0USER\0PASSWORD" and "USER\0USER\0PASSWORD" for the users alice@example.test
# and alice (base64 without '=' padding). Prints a line for each form found; returns 0
# when none is.
secret_forms_absent() { # files...
    local found=0 pw f user
    while IFS= read -r pw; do
        [ -n "$pw" ] || continue
        local forms=("$pw" "$(printf '%s' "$pw" | base64 -w0 | tr -d '=')")
        for user in alice@example.test alice; do
            forms+=("$(printf '\0%s\0%s' "$user" "$pw" | base64 -w0 | tr -d '=')")
            forms+=("$(printf '%s\0%s\0%s' "$user" "$user" "$pw" | base64 -w0 | tr -d '=')")
        done
        for f in "${forms[@]}"; do
            if grep -aqF -- "$f" "$@"; then echo "secret form '$f' found"; found=1; fi
        done
    done <pcaps/secrets.txt
    [ "$found" -eq 0 ]
}
