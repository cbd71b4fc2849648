#!/usr/bin/env bash
# The format check of scripts/test.sh, with the repository's .clang-format (clang-format 14).
#   scripts/format.sh [--check]     every tracked C++ file must be formatted (exit 1 and the
#                                   diff of the first few files otherwise)
#   scripts/format.sh --fix FILE... format these files in place
#   scripts/format.sh --pending     the files not checked yet and how many lines each would change
#
# Files listed in scripts/format-pending.txt are not checked: they predate .clang-format and were
# being rewritten by other changes when it came in. Format one with --fix (in a commit of its
# own: whitespace only) and delete its line; the list only ever shrinks, and a listed file that
# is already formatted fails the check, so that it leaves the list.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:---check}
[[ $# -gt 0 ]] && shift

cf=""
for candidate in clang-format-14 clang-format; do
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" --version | grep -q "version 14\."; then
    cf=$candidate
    break
  fi
done
if [[ -z "$cf" ]]; then
  echo "format.sh: clang-format 14 is needed (Debian 12: apt-get install clang-format; other versions format" \
    "some constructs differently)" >&2
  exit 1
fi

pending_file=scripts/format-pending.txt
pending=()
if [[ -f "$pending_file" ]]; then
  while IFS= read -r line; do
    [[ -z "$line" || "$line" == \#* ]] && continue
    pending+=("$line")
  done <"$pending_file"
fi
is_pending() {
  local p
  for p in "${pending[@]}"; do [[ "$p" == "$1" ]] && return 0; done
  return 1
}
# Tracked C++ sources; the compile-fail tests are left as written (their first line is a regex).
files() { git ls-files '*.hpp' '*.cpp' ':!:tests/compile_fail/*'; }
changed_lines() { "$cf" --style=file "$1" | diff "$1" - | grep -c '^<' || true; }

case "$mode" in
  --fix)
    [[ $# -gt 0 ]] || { echo "format.sh: --fix needs the files to format" >&2; exit 2; }
    for f in "$@"; do
      case "$f" in
        *.hpp | *.cpp | *.h | *.cc) ;;
        *) echo "format.sh: $f is not a C++ file; nothing was formatted" >&2; exit 2 ;;
      esac
    done
    "$cf" --style=file -i "$@"
    ;;
  --pending)
    for f in "${pending[@]}"; do echo "$(changed_lines "$f") $f"; done
    ;;
  --check)
    bad=()
    checked=0
    while IFS= read -r f; do
      if is_pending "$f"; then
        if [[ "$(changed_lines "$f")" == 0 ]]; then
          echo "format.sh: $f is formatted: delete it from $pending_file" >&2
          bad+=("$f")
        fi
        continue
      fi
      checked=$((checked + 1))
      "$cf" --style=file --dry-run -Werror "$f" >/dev/null 2>&1 || bad+=("$f")
    done < <(files)
    for p in "${pending[@]}"; do
      [[ -f "$p" ]] || { echo "format.sh: $pending_file lists $p, which does not exist" >&2; bad+=("$p"); }
    done
    if [[ ${#bad[@]} -gt 0 ]]; then
      for f in "${bad[@]:0:5}"; do
        [[ -f "$f" ]] && "$cf" --style=file "$f" | diff -u "$f" - | head -n 40 >&2 || true
      done
      echo "format.sh: FAILED: ${#bad[@]} file(s) not formatted: ${bad[*]}" >&2
      echo "format.sh: run scripts/format.sh --fix FILE... (clang-format 14)" >&2
      exit 1
    fi
    echo "format.sh: $checked files formatted (${#pending[@]} pending: scripts/format.sh --pending)"
    ;;
  *)
    echo "format.sh: unknown mode '$mode' (use --check, --fix FILE... or --pending)" >&2
    exit 2
    ;;
esac
