#!/usr/bin/env bash
# Where innsynd's CPU goes in one ingest mode. Runs innsyn-bench against a
# real innsynd (detection on, the simulated clinics' traffic) under `perf
# record`, keeps the samples of innsynd alone, not of the benchmark's
# clients, and sums them by what the code does: gRPC, protobuf, RocksDB's memtables, the
# rest of RocksDB, hashing, sealing, the allocator, copies and compares, the
# ledger's own code, detection, the kernel's network, disk and scheduling.
# Prints the benchmark's figures and the table: a row per kind, its share
# of innsynd's samples (its start and stop included), and that share of
# innsynd's CPU time while the benchmark sent (as the benchmark reports it)
# divided by the events acknowledged. Needs `perf` (linux-perf).
# Usage: [KEEP=DIR] scripts/profile-ingest.sh unary|batch|stream [EVENTS] [INNSYND]
#   (default 30000 events, build/daemon/innsynd; KEEP keeps perf.data and
#   the kinds of every symbol there, kinds.txt, for a closer look)
set -euo pipefail
mode=${1:?usage: $0 unary|batch|stream [EVENTS] [INNSYND]}
events=${2:-30000}
# Paths given relative to where the script is called from.
innsynd=$(realpath "${3:-$(dirname "$0")/../build/daemon/innsynd}")
keep=${KEEP:+$(realpath -m "$KEEP")}
cd "$(dirname "$0")/.."
case "$mode" in
  unary) args=(--mode unary --clients 64) ;;
  batch) args=(--mode batch --batch 1000 --clients 4) ;;
  stream) args=(--mode stream --batch 1000 --clients 2 --window 8) ;;
  *) echo "unknown mode $mode" >&2; exit 2 ;;
esac
if [ -n "$keep" ]; then
  mkdir -p "$keep"
  out=$keep
else
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
fi

# perf follows the benchmark and its child innsynd from the start, so that
# no thread of innsynd is missed; the report keeps innsynd's samples alone.
perf record -q -F 999 -e cpu-clock -o "$out/perf.data" -- \
  build/bench/innsyn-bench --innsynd "$innsynd" "${args[@]}" --events "$events" \
  --json "$out/bench.json" >"$out/bench.txt" 2>&1 &
recorder=$!
# The benchmark prepares its traffic first, then starts innsynd as its child.
pid=
while kill -0 "$recorder" 2>/dev/null; do
  bench=$(pgrep -P "$recorder" | head -1 || true)
  [ -n "$bench" ] && pid=$(pgrep -P "$bench" | head -1 || true)
  [ -n "$pid" ] && break
  sleep 0.1
done
wait "$recorder" || true
if [ -z "$pid" ]; then
  cat "$out/bench.txt" >&2
  echo "innsynd did not start" >&2
  exit 1
fi
if ! grep -E "throughput|ack latency|innsynd CPU" "$out/bench.txt"; then
  cat "$out/bench.txt" >&2
  echo "the benchmark failed" >&2
  exit 1
fi
cpu_seconds=$(sed -n 's/.*innsynd CPU *\([0-9.]*\) s.*/\1/p' "$out/bench.txt")
acked=$(sed -n 's/.*acknowledged events *\([0-9]*\).*/\1/p' "$out/bench.txt")
perf report -i "$out/perf.data" --pid "$pid" --no-children --sort dso,symbol -n --stdio -g none 2>/dev/null |
  grep -v '^#' | grep '%' |
  awk -v events="$acked" -v cpu="$cpu_seconds" -v keep="$keep" '
    {
      samples = $2; dso = $3; sym = ""
      for (i = 5; i <= NF; ++i) sym = sym " " $i
      kind = "other"
      if (dso ~ /kernel/) {
        # iowrite16: the doorbell of a virtual machine to its virtio disk (a VM exit per I/O)
        if (sym ~ /iowrite|ext4|jbd2|fsync|blk_|bio_|nvme|virtblk|virtqueue|iomap|filemap|folio|page_cache|writeback/) kind = "kernel: disk (fsync, virtio)"
        else if (sym ~ /tcp|skb|sock|inet|ip_|net_|netif|napi|loopback|__dev_|sk_|sendmsg|recvmsg|copy_from_iter|copy_to_iter|fdget|check_object_size/) kind = "kernel: network (loopback)"
        else if (sym ~ /futex|schedul|switch|pvm_|wake|idle|irq|hrtimer|tick|epoll/) kind = "kernel: scheduling, futexes"
        else kind = "kernel: other"
      } else if (sym ~ /sendmsg|recvmsg|epoll/) kind = "kernel: network (loopback)"
      else if (sym ~ /fdatasync|fsync|libc_write|pwrite/) kind = "kernel: disk (fsync, virtio)"
      else if (dso ~ /grpc|gpr|address_sorting|upb|cares/ || sym ~ /grpc/) kind = "gRPC"
      else if (dso ~ /protobuf/ || sym ~ /google::protobuf|innsyn::v1::/) kind = "protobuf"
      else if (sym ~ /rocksdb::.*(MemTable|SkipList|Arena)/) kind = "RocksDB: memtable inserts"
      else if (dso ~ /rocksdb/ || sym ~ /rocksdb::/) kind = "RocksDB: other (WAL, checksums, reads, flushes)"
      else if (sym ~ /SHA256|sha256|Sha256|HashOf|LeafHash|ChainHash|NodeHash/) kind = "hashing (SHA-256)"
      else if (sym ~ /aes|gcm|GCM|AES|Cipher|Seal|Unseal|ghash/) kind = "sealing (AES-GCM)"
      else if (dso ~ /libcrypto/) kind = "OpenSSL, unnamed (hashing and sealing code)"
      else if (dso ~ /tcmalloc/ || sym ~ /malloc|free|operator new|operator delete|tc_/) kind = "allocator"
      else if (sym ~ /mem(cpy|move|cmp|set)|strlen|strcmp/) kind = "copies and compares (libc)"
      else if (sym ~ /innsyn::anomaly::/) kind = "detection"
      else if (sym ~ /innsyn::storage::/) kind = "ledger (storage/)"
      else if (dso ~ /prometheus/ || sym ~ /innsyn::daemon::|innsyn::exporters::/) kind = "daemon (services, metrics)"
      else if (dso ~ /absl_synchronization/ || sym ~ /absl::|Mutex|pthread/) kind = "Abseil, locks, threads"
      sum[kind] += samples; total += samples
      if (keep != "") printf "%s\t%s\t%s\t%s\n", samples, kind, dso, sym > keep "/kinds.txt"
    }
    END {
      printf "| where innsynd spends its CPU | share | µs per event |\n|---|---|---|\n"
      n = 0
      for (k in sum) order[++n] = k
      for (i = 1; i <= n; ++i) for (j = i + 1; j <= n; ++j)
        if (sum[order[j]] > sum[order[i]]) { t = order[i]; order[i] = order[j]; order[j] = t }
      for (i = 1; i <= n; ++i) {
        share = sum[order[i]] / total
        printf "| %s | %.1f %% | %.1f |\n", order[i], 100 * share, share * cpu * 1e6 / events
      }
      printf "| all (%d samples) | 100 %% | %.1f |\n", total, cpu * 1e6 / events
    }'
