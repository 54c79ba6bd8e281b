-- wrk script for the serving benchmark (BENCHMARKS.md, "Serving"): every request POSTs the
-- same 64-row OpenRLHF body, read from the file named by $BODY (Benchmarks/make_serve_body.py);
-- at the end prints rows/s and the latency quantiles as one JSON line.
local f = assert(io.open(os.getenv("BODY") or "/tmp/moonlab_serve_body.json", "rb"))
wrk.method = "POST"
wrk.body = f:read("a")
f:close()
wrk.headers["Content-Type"] = "application/json"
local ROWS = tonumber(os.getenv("ROWS") or "64")

function done(summary, latency, requests)
  local s = summary.duration / 1e6
  io.write(string.format('{"requests": %d, "non2xx": %d, "errors": %d, "rows_per_s": %.0f, "p50_ms": %.2f, "p99_ms": %.2f}\n',
    summary.requests, summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.requests * ROWS / s, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
