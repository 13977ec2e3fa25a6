-- The light wrk script of `npm run bench:envoy` (the "light" row): one static request, built
-- once by wrk itself, and no Lua per request or response, so wrk spends the least CPU on the
-- core it shares with Envoy. The same POST as load.lua, with the token of BENCH_TOKENS' first
-- line. Statuses are not counted one by one: wrk counts every answer that is not 2xx/3xx.
local line = io.open(os.getenv("BENCH_TOKENS")):read("*l")
local token = line:match("^[^\t]+\t(.+)$")
wrk.method = "POST"
wrk.path = "/openai/v1/chat/completions"
wrk.body = '{"model":"gpt-3.5-turbo","messages":[{"role":"user","content":"Say hi"}]}'
wrk.headers["Host"] = "llm-gateway.example.com"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"
wrk.headers["User-Agent"] = "OpenAI/Python 1.51.0"
wrk.headers["Authorization"] = "Bearer " .. token

function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"durationUs":%d,"statuses":{"200":%d,"other":%d},"samples":0,"samplesOk":0,'
      .. '"late":0,"maxLateUs":0,'
      .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
      .. '"p50Us":%d,"p90Us":%d,"p99Us":%d,"p999Us":%d,"maxUs":%d,"meanUs":%.1f}\n',
    summary.requests, summary.duration, summary.requests - e.status, e.status,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean))
end
