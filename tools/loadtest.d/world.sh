# Sourced by tools/loadtest and tools/loadtest-nodes: `make_world TPJ EVENTS DIR` writes (or finds, kept
# in DIR) a demo world of about EVENTS events, as tools/bench-projections writes it, with its projections
# up to date; sets $customers and $world (its path).
make_world() {
  local tpj="$1" events="$2" dir="$3"
  customers=$(( (events + 44) / 45 ))
  world="$dir/world-$customers.sqlite"
  if [ ! -s "$world" ]; then
    mkdir -p "$dir"
    echo "[loadtest] writing a world of $customers customers × 2 years (about $events events)" >&2
    local suffix
    for suffix in "" -wal -shm -keys -keys-wal -keys-shm -projections -projections-wal -projections-shm; do rm -f "$world.partial$suffix"; done
    "$tpj" demo --customers "$customers" --years 2 --seed 11 --db "$world.partial" >&2
    for suffix in "" -wal -shm -keys -keys-wal -keys-shm -projections -projections-wal -projections-shm; do
      if [ -e "$world.partial$suffix" ]; then mv "$world.partial$suffix" "$world$suffix"; fi
    done
  fi
  # The kept world's projections are folded once (reading one customer's moments brings them all up to
  # date), so that every run starts from them, as a server that has been running would.
  echo "[loadtest] bringing the world's projections up to date" >&2
  "$tpj" moments --db "$world" --json C-100001 >/dev/null
  for file in "$world" "$world-projections"; do sqlite3 "$file" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null; done
}
