-- The baseline: the cheapest route (one read of the log's head), measured in the same run.
package.path = os.getenv("LOADTEST_DIR") .. "/?.lua;" .. package.path
require("report")
-- With HEALTHZ_PAUSE_MS, the connection waits that long after an answer (a probe rather than a load).
local pause = tonumber(os.getenv("HEALTHZ_PAUSE_MS") or "0")
if pause > 0 then delay = function() return pause end end
done = function(summary, latency, requests) report("healthz", summary, latency) end
