-- Sends pre-built HTTP requests (each used once: distinct tokens and ids), stops after a fixed count of
-- responses and writes the raw latency histogram for the harness to summarise.
-- Arguments: <requests file> <responses to wait for>. The result goes to $BENCH_WRK_RESULT.

local prepared = {}
local limit = 0
local sent = 0
local received = 0

function init(args)
  local file = assert(io.open(args[1], "rb"))
  while true do
    local length = file:read("*l")
    if not length then break end
    prepared[#prepared + 1] = file:read(tonumber(length))
  end
  file:close()
  limit = tonumber(args[2])
end

function request()
  sent = sent + 1
  return prepared[((sent - 1) % #prepared) + 1]
end

function response(status, headers, body)
  received = received + 1
  if received == limit then
    wrk.thread:stop()
    -- wrk's main thread sleeps out the whole --duration: the harness interrupts it once this file exists.
    local marker = assert(io.open(os.getenv("BENCH_WRK_DONE"), "w"))
    marker:close()
  end
end

function done(summary, latency, requests)
  local out = assert(io.open(os.getenv("BENCH_WRK_RESULT"), "w"))
  local errors = summary.errors
  out:write(string.format("requests %d\n", summary.requests))
  out:write(string.format("duration_us %d\n", summary.duration))
  out:write(string.format("errors %d %d %d %d %d\n", errors.connect, errors.read, errors.write,
    errors.status, errors.timeout))
  for index = 1, #latency do
    local value, count = latency(index)
    out:write(string.format("latency %d %d\n", value, count))
  end
  out:close()
end
