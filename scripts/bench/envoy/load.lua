-- The wrk script of `npm run bench:envoy`: POSTs an LLM call to /openai with a bearer token
-- from BENCH_TOKENS (lines "sub<TAB>token", cycled), every BENCH_SAMPLE_EVERY-th request with
-- x-bench-sample: <sub> (Envoy routes those to the echo upstream), counts every status code,
-- and, when BENCH_RATE > 0, paces requests evenly at that rate (see delay below).
-- Configured through the environment because wrk decides whether `delay` exists before init().
local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]])
local ts = ffi.new("bench_timespec")
local function now_us()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1e6 + tonumber(ts.tv_nsec) / 1e3
end

local path = "/openai/v1/chat/completions"
local body = '{"model":"gpt-3.5-turbo","messages":[{"role":"user","content":"Say hi"}]}'
local rate = tonumber(os.getenv("BENCH_RATE") or "0")
local think_ms = tonumber(os.getenv("BENCH_THINK_MS") or "0")
local sample_every = tonumber(os.getenv("BENCH_SAMPLE_EVERY") or "1000")

local requests, subs, tokens = {}, {}, {}
local n, i = 0, 0
-- Globals: done() reads them from each thread with thread:get.
statuses, samples, samples_ok = {}, 0, 0

local function headers(token, sub)
  local h = {
    ["host"] = "llm-gateway.example.com",
    ["content-type"] = "application/json",
    ["accept"] = "application/json",
    ["user-agent"] = "OpenAI/Python 1.51.0",
    ["authorization"] = "Bearer " .. token,
  }
  if sub ~= nil then h["x-bench-sample"] = sub end
  return h
end

-- Every request is built once here, so a request costs wrk a table lookup whatever the token.
function init(args)
  for line in io.lines(os.getenv("BENCH_TOKENS")) do
    local sub, token = line:match("^([^\t]+)\t(.+)$")
    n = n + 1
    subs[n], tokens[n] = sub, token
    requests[n] = wrk.format("POST", path, headers(token), body)
  end
end

function request()
  i = i + 1
  local k = i % n + 1
  if i % sample_every == 0 then
    samples = samples + 1
    return wrk.format("POST", path, headers(tokens[k], subs[k]), body)
  end
  return requests[k]
end

local direct = '{"ok":true}' -- Envoy's direct_response; anything else came from the echo
function response(status, _, response_body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 200 and response_body ~= direct then samples_ok = samples_ok + 1 end
end

-- Paced: the thread hands out send times 1/rate apart, each to the next connection that is
-- free, so requests leave evenly spaced whatever the latency (open loop). wrk's timers are in
-- whole milliseconds: a request leaves on the millisecond tick at or just before its slot.
-- A slot claimed more than 1 ms after it was due (every connection busy) is counted as late:
-- its latency is measured from when it left, not from when it was due (coordinated omission).
late, max_late_us = 0, 0
if rate > 0 then
  local period = 1e6 / rate
  local next_slot = nil
  function delay()
    local now = now_us()
    next_slot = next_slot or now
    local slot = next_slot
    next_slot = next_slot + period
    local wait = slot - now
    if wait < -1000 then
      late = late + 1
      if -wait > max_late_us then max_late_us = -wait end
    end
    if wait <= 0 then return 0 end
    return math.floor(wait / 1000)
  end
end

-- Closed loop with think time: each connection waits think_ms after an answer before it sends
-- its next request (an interactive client or an agent), so the rate follows the latency.
if think_ms > 0 then
  function delay()
    return think_ms
  end
end

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

function done(summary, latency, _)
  local codes, sent, sent_ok, lates, max_late = {}, 0, 0, 0, 0
  for _, t in ipairs(threads) do
    for code, count in pairs(t:get("statuses")) do
      codes[code] = (codes[code] or 0) + count
    end
    sent = sent + t:get("samples")
    sent_ok = sent_ok + t:get("samples_ok")
    lates = lates + t:get("late")
    max_late = math.max(max_late, t:get("max_late_us"))
  end
  local parts = {}
  for code, count in pairs(codes) do
    table.insert(parts, string.format('"%d":%d', code, count))
  end
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"durationUs":%d,"statuses":{%s},"samples":%d,"samplesOk":%d,"late":%d,'
      .. '"maxLateUs":%d,'
      .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
      .. '"p50Us":%d,"p90Us":%d,"p99Us":%d,"p999Us":%d,"maxUs":%d,"meanUs":%.1f}\n',
    summary.requests, summary.duration, table.concat(parts, ","), sent, sent_ok, lates, max_late,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean))
end
