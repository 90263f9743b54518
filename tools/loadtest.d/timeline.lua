-- Reads the timeline of a random customer C-100001 … C-(100000 + CUSTOMERS) with a staff token.
package.path = os.getenv("LOADTEST_DIR") .. "/?.lua;" .. package.path
require("report")
local customers = tonumber(os.getenv("CUSTOMERS"))
local token = os.getenv("STAFF_TOKEN")
math.randomseed(os.time())

request = function()
  local path = string.format("/v1/customers/C-%d/timeline", 100000 + math.random(1, customers))
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. token })
end

done = function(summary, latency, requests) report("timeline", summary, latency) end
