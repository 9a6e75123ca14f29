# shellcheck shell=bash
# The search for recorded test passwords in mailwire's output, shared by tests/e2e.sh and
# tests/report.sh. Sourced, not run; expects the repository root as working directory.

# secret_forms_absent FILE...: looks in the files for every form of each password in
# $SECRET_LIST (default pcaps/secrets.txt), as tests/secret_forms.py lists them: plain,
# base64 with and without padding and inside a larger blob, the AUTH PLAIN blobs for the
# users alice@example.test and alice, hex, URL, HTML and JSON \u escapes, quoted-printable.
# The search ignores case (case-folded forms) and runs a second time over the files with
# all whitespace removed (a form split across lines). Prints a line for each form found;
# returns 0 when none is.
secret_forms_absent() { # files...
    local found=0 pw f joined
    joined=$(mktemp)
    cat "$@" | tr -d ' \t\r\n' >"$joined"
    while IFS= read -r pw; do
        [ -n "$pw" ] || continue
        while IFS= read -r f; do
            if grep -aqiF -- "$f" "$@"; then echo "secret form '$f' found"; found=1
            elif grep -aqiF -- "$f" "$joined"; then echo "secret form '$f' found split"; found=1
            fi
        done < <(python3 tests/secret_forms.py "$pw" alice@example.test alice)
    done <"${SECRET_LIST:-pcaps/secrets.txt}"
    rm -f "$joined"
    [ "$found" -eq 0 ]
}
