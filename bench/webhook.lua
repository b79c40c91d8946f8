-- wrk script: POST pre-generated, signed LINE webhook bodies, each once.
-- Usage: wrk ... -s bench/webhook.lua URL -- BODIES_FILE THREADS
-- BODIES_FILE holds one "signature<TAB>body" per line; thread k sends lines k, k+T, k+2T, ...
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
end

function init(args)
  local threads = tonumber(args[2])
  bodies, signatures = {}, {}
  local n = 0
  for line in io.lines(args[1]) do
    if n % threads == id then
      local tab = line:find("\t", 1, true)
      signatures[#signatures + 1] = line:sub(1, tab - 1)
      bodies[#bodies + 1] = line:sub(tab + 1)
    end
    n = n + 1
  end
  index = 0
end

function request()
  index = index + 1
  if index > #bodies then
    -- Out of fresh bodies: repeats would be cheap dedupe hits, so the harness sizes the file to avoid this.
    index = 1
  end
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["X-Line-Signature"] = signatures[index],
  }, bodies[index])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "status_errors": %d, "socket_errors": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99)))
end
