#!/usr/bin/env bash
# Runs every `build/kiln ...` line inside the ```sh blocks of README.md and docs/*.md, with the
# built binary, so the documents never show a command that does not work. A line ending in
# "# exits N" must exit N; any other must exit 0. Lines with <placeholders> are skipped.
set -u
kiln="$1"; root="$2"
fails=0; passes=0
for doc in "$root"/README.md "$root"/docs/*.md; do
  in_sh=0
  while IFS= read -r line; do
    case "$line" in
      '```sh'*) in_sh=1; continue ;;
      '```'*) in_sh=0; continue ;;
    esac
    [ "$in_sh" -eq 1 ] || continue
    case "$line" in build/kiln*) ;; *) continue ;; esac
    case "$line" in *'<'*'>'*) continue ;; esac
    want=0
    if [[ "$line" =~ \#\ exits\ ([0-9]+) ]]; then want="${BASH_REMATCH[1]}"; fi
    cmd="${line%%#*}"
    cmd="${cmd/build\/kiln/$kiln}"
    tmp=$(mktemp -d)
    (cd "$tmp" && eval "$cmd") > "$tmp/out" 2>&1
    got=$?
    if [ "$got" -ne "$want" ]; then
      echo "FAIL $(basename "$doc"): '$line' exited $got, want $want"; head -5 "$tmp/out"
      fails=$((fails+1))
    else
      passes=$((passes+1))
    fi
    rm -rf "$tmp"
  done < "$doc"
done
echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ] && [ "$passes" -gt 0 ]
