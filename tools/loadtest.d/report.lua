-- Shared by the load test's wrk scripts: one JSON line with throughput, latency and errors.
function report(name, summary, latency)
  local seconds = summary.duration / 1e6
  io.write(string.format(
    'JSON {"name":"%s","requests":%d,"seconds":%.2f,"perSecond":%.1f,"p50Ms":%.3f,"p99Ms":%.3f,"maxMs":%.3f,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
    name, summary.requests, seconds, summary.requests / seconds, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status,
    summary.errors.timeout))
end
