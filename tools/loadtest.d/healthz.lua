-- The baseline: the cheapest route (one read of the log's head), measured in the same run.
package.path = os.getenv("LOADTEST_DIR") .. "/?.lua;" .. package.path
require("report")
done = function(summary, latency, requests) report("healthz", summary, latency) end
