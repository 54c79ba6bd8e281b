-- JSON Lines parsing into Lua tables: data.jsonl(FILE) read line by line, each line parsed
-- into a table, records counted and one field touched (as Benchmarks/peers_data.py does in
-- Python). Prints MB/s (file bytes / wall seconds), best of 3 runs.
--
--   swift build -c release --product moonlab
--   python3 Benchmarks/make_data.py            # -> /tmp/moonlab_bench_200mb.jsonl
--   .build/release/moonlab run Benchmarks/data_parse.lua /tmp/moonlab_bench_200mb.jsonl
local path = arg[1] or "/tmp/moonlab_bench_200mb.jsonl"
local f = assert(io.open(path, "rb"))
local size = f:seek("end")
f:close()
print(string.format("file: %s (%.1f MB)", path, size / 1e6))

local function pass()
  local n, total = 0, 0
  for r in data.jsonl(path):each() do
    n = n + 1
    total = total + #r.completion
  end
  return n, total
end

local function count_only()
  return data.jsonl(path):count(), 0
end

local function bench(name, fn)
  local n = 0
  local _, best = timeit(function() collectgarbage(); n = fn() end, {runs = 3, warmup = 0})
  print(string.format("%-22s %d records  %7.3f s  %7.1f MB/s", name, n, best, size / best / 1e6))
end

bench("moonlab each+field", pass)
bench("moonlab count", count_only)
