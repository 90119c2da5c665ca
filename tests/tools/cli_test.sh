#!/usr/bin/env bash
# Tests of the `kiln` command line as a user types it: exit codes (0 ok, 1 failed, 2 usage),
# messages that list what is valid, --json fields, and the README's commands.
set -u
kiln="$1"
fails=0; passes=0
check() {  # check NAME EXPECTED_EXIT COMMAND... ; output in $out
  local name="$1" want="$2"; shift 2
  out=$("$@" 2>&1); local got=$?
  if [ "$got" -ne "$want" ]; then
    echo "FAIL $name: exit $got, want $want"; echo "$out" | head -20; fails=$((fails+1))
  else passes=$((passes+1)); fi
}
contains() {  # contains NAME TEXT
  if ! grep -qF -- "$2" <<<"$out"; then
    echo "FAIL $1: output lacks '$2'"; echo "$out" | head -20; fails=$((fails+1))
  else passes=$((passes+1)); fi
}

check list 0 "$kiln" sim list;                      contains list "leveldb-crash"
check bugs 0 "$kiln" sim bugs;                      contains bugs "simfs-crash-loses-synced"
contains bugs "leveldb-crash-ack-unsynced"
check run-json 0 "$kiln" sim run --scenario leveldb-crash --seed 42 --json
contains run-json '"ok":true'; contains run-json '"trace_hash"'; contains run-json '"fault_counts"'
contains run-json '"commit"'; contains run-json '"replay"'
h1=$(grep -o '"trace_hash":"[0-9a-f]*"' <<<"$out")
check run-json-again 0 "$kiln" sim run --scenario leveldb-crash --seed 42 --json
h2=$(grep -o '"trace_hash":"[0-9a-f]*"' <<<"$out")
[ "$h1" = "$h2" ] && passes=$((passes+1)) || { echo "FAIL same seed, different hash"; fails=$((fails+1)); }
check run-43 0 "$kiln" sim run --scenario leveldb-crash --seed 43 --json
h3=$(grep -o '"trace_hash":"[0-9a-f]*"' <<<"$out")
[ "$h1" != "$h3" ] && passes=$((passes+1)) || { echo "FAIL seeds 42 and 43 share a hash"; fails=$((fails+1)); }
check run-none 0 "$kiln" sim run --scenario leveldb-crash --seed 5 --faults none --json
contains run-none '"fault_counts":{}'; contains run-none '"faults":"none"'
check run-kinds 0 "$kiln" sim run --scenario leveldb-crash --seed 42 --faults crash,lost,torn,io-sync=0.01
contains run-kinds "faults: crash=20,lost,torn,io-sync=0.01"
check run-text 0 "$kiln" sim run --scenario leveldb-crash --seed 5
contains run-text "SEED=5"; contains run-text "replay: build/kiln sim run --scenario leveldb-crash --seed 5 --faults"
check bug-caught 1 "$kiln" sim run --scenario leveldb-crash --seed 1 --faults crash --bug simfs-crash-loses-synced
contains bug-caught "FAILED"; contains bug-caught "--bug simfs-crash-loses-synced"
check unknown-scenario 2 "$kiln" sim run --scenario nope --seed 1; contains unknown-scenario "leveldb-crash"
check bad-seed 2 "$kiln" sim run --scenario leveldb-crash --seed abc
check unknown-fault 2 "$kiln" sim run --scenario leveldb-crash --seed 1 --faults crash,meteor
contains unknown-fault "io-write"
check unknown-bug 2 "$kiln" sim run --scenario leveldb-crash --seed 1 --bug nope
check bad-level 2 "$kiln" sim run --scenario leveldb-crash --seed 1 --log-level loud
check log 0 "$kiln" sim run --scenario leveldb-crash --seed 2 --log-level info; contains log "[t="
check until 0 "$kiln" sim run --scenario leveldb-crash --seed 2 --until-step 100
contains until "stopped at step 100"
trace="${TMPDIR:-/tmp}/kiln-cli-trace.json"
check trace 0 "$kiln" sim run --scenario leveldb-crash --seed 42 --trace "$trace"
contains trace "timeline: $trace"
[ "$(head -c 1 "$trace")" = "{" ] && passes=$((passes+1)) || { echo "FAIL trace file"; fails=$((fails+1)); }
check trace-unwritable 2 "$kiln" sim run --scenario leveldb-crash --seed 42 --trace /nonexistent-dir/x.json
contains trace-unwritable "cannot write --trace file"
check determinism 0 "$kiln" sim check-determinism --scenario leveldb-crash --seed 9
contains determinism "deterministic"
check nondeterminism 1 "$kiln" sim check-determinism --scenario leveldb-crash --seed 9 --bug leveldb-crash-nondeterministic
contains nondeterminism "NONDETERMINISTIC"; contains nondeterminism "run 1: step"; contains nondeterminism "run 2: step"
check sweep 0 "$kiln" sim sweep --scenario all --seeds 3 --junit "${TMPDIR:-/tmp}/kiln-cli-junit.xml"
contains sweep "failures"
grep -q '<testsuite name="leveldb-crash" tests="3" failures="0"' "${TMPDIR:-/tmp}/kiln-cli-junit.xml" \
  && passes=$((passes+1)) || { echo "FAIL junit file"; fails=$((fails+1)); }
check sweep-fail 1 "$kiln" sim sweep --scenario leveldb-crash --seeds 5 --faults crash --bug simfs-crash-loses-synced --fail-fast
contains sweep-fail "replay: build/kiln sim run"
check usage 2 "$kiln" sim

# The parallel sweep: worker processes, shards, crashes and hangs reported, not lost.
tmp="${TMPDIR:-/tmp}"
same() {  # same NAME GOT WANT
  if [ "$2" != "$3" ]; then echo "FAIL $1: got '$2', want '$3'"; fails=$((fails+1))
  else passes=$((passes+1)); fi
}
seeds_of() { grep -o '"seed":[0-9]*' <<<"$out" | cut -d: -f2 | sort -n | tr '\n' ' '; }
check sweep-jobs 0 "$kiln" sim sweep --scenario leveldb-crash --seeds 40 --jobs 2 --json \
  --junit "$tmp/kiln-cli-junit-40.xml"
contains sweep-jobs "faults injected"; contains sweep-jobs "2 jobs, shard 1/1"
same sweep-jobs-junit "$(grep -c '<testcase ' "$tmp/kiln-cli-junit-40.xml")" 40
same sweep-json-order "$(grep -o '"seed":[0-9]*' <<<"$out" | cut -d: -f2 | tr '\n' ' ')" \
  "$(seq 1 40 | tr '\n' ' ')"
check sweep-all 0 "$kiln" sim sweep --scenario leveldb-crash --seeds 25 --first-seed 100 --jobs 2 --json
all=$(seeds_of)
sharded=("$kiln" sim sweep --scenario leveldb-crash --seeds 25 --first-seed 100 --json --shard)
check sweep-shard-1 0 "${sharded[@]}" 1/2; s1=$(seeds_of)
check sweep-shard-2 0 "${sharded[@]}" 2/2; s2=$(seeds_of)
same sweep-shards-cover "$(echo $s1 $s2 | tr ' ' '\n' | sort -n | tr '\n' ' ')" "$all"
same sweep-shard-1-seeds "$(echo $s1 | cut -d' ' -f1-3)" "100 102 104"
n=$("$kiln" sim sweep --scenario leveldb-crash --seeds 5 --json 2>/dev/null | grep -vc '^{')
same sweep-json-pure "$n" 0
check bad-shard-0 2 "$kiln" sim sweep --scenario all --seeds 4 --shard 0/2
contains bad-shard-0 "I/N"
check bad-shard-3 2 "$kiln" sim sweep --scenario all --seeds 4 --shard 3/2
check bad-shard-x 2 "$kiln" sim sweep --scenario all --seeds 4 --shard x
check sweep-unknown 2 "$kiln" sim sweep --scenario nope --seeds 4
contains sweep-unknown "leveldb-crash"
check sweep-bad-fault 2 "$kiln" sim sweep --scenario all --seeds 4 --faults meteor
contains sweep-bad-fault "io-write"
check sweep-bad-bug 2 "$kiln" sim sweep --scenario all --seeds 4 --bug nope
contains sweep-bad-bug "simfs-crash-loses-synced"
# KILN_SWEEP_TEST_{CRASH,HANG}_SEED are test-only hooks of tools/sweep.cc.
check sweep-crash 1 env KILN_SWEEP_TEST_CRASH_SEED=3 "$kiln" sim sweep --scenario leveldb-crash \
  --seeds 6 --jobs 1 --junit "$tmp/kiln-cli-crash.xml"
contains sweep-crash "seed 3: crash: worker killed by signal 6 (SIGABRT)"
contains sweep-crash "replay: build/kiln sim run --scenario leveldb-crash --seed 3 --faults"
out=$(cat "$tmp/kiln-cli-crash.xml")
contains sweep-crash-junit 'tests="6" failures="1"'; contains sweep-crash-junit 'type="crash"'
check sweep-hang 1 env KILN_SWEEP_TEST_HANG_SEED=2 "$kiln" sim sweep --scenario leveldb-crash \
  --seeds 4 --jobs 2 --timeout-s 2 --json
contains sweep-hang '"failure_kind":"hang"'
contains sweep-hang "replay: build/kiln sim run --scenario leveldb-crash --seed 2 --faults"
same sweep-hang-others "$(seeds_of)" "1 2 3 4 "

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
