-- Appends one hotline call (a new event id each time) to a random customer with an ingest token.
package.path = os.getenv("LOADTEST_DIR") .. "/?.lua;" .. package.path
require("report")
local customers = tonumber(os.getenv("CUSTOMERS"))
local token = os.getenv("INGEST_TOKEN")
math.randomseed(os.time() * 7919 + tonumber(os.getenv("SEED") or "1"))

local function uuid()
  local hex = "0123456789abcdef"
  local digits = {}
  for i = 1, 32 do
    local n = math.random(1, 16)
    if i == 13 then n = 5 end                       -- version 4
    if i == 17 then n = 9 + math.random(0, 3) end   -- variant 10xx
    digits[i] = hex:sub(n, n)
  end
  local s = table.concat(digits)
  return s:sub(1, 8) .. "-" .. s:sub(9, 12) .. "-" .. s:sub(13, 16) .. "-" .. s:sub(17, 20) .. "-" .. s:sub(21, 32)
end

request = function()
  local customer = 100000 + math.random(1, customers)
  local body = string.format(
    '{"events":[{"eventId":"%s","type":"hotline.call.received","occurredAt":"2026-01-15T10:00:00+01:00",' ..
    '"caseId":"CASE-%d-LOAD","payload":{"queueWaitSeconds":30,"durationSeconds":300,"agent":"Load Test",' ..
    '"topic":"Load","abandoned":false,"solvedOnCall":true,"machineDown":false}}]}', uuid(), customer)
  return wrk.format("POST", string.format("/v1/customers/C-%d/events", customer),
    { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }, body)
end

-- With APPEND_PAUSE_MS, each connection waits that long after an answer before its next append.
local pause = tonumber(os.getenv("APPEND_PAUSE_MS") or "0")
if pause > 0 then delay = function() return pause end end

done = function(summary, latency, requests) report("append", summary, latency) end
