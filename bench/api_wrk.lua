-- wrk script of bench/api.py: each request is a random line of the URL list the bench wrote (a filtered
-- findings page, a device, or a device's findings), with the bench's API token; done() prints the latency
-- percentiles and error counts as one JSON line for the bench to parse.
-- usage: wrk -c 20 -t 2 -d 30s -s bench/api_wrk.lua http://127.0.0.1:PORT -- URLS_FILE TOKEN

local paths = {}
local count = 0
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("seed", threads)
end

function init(args)
  for line in io.lines(args[1]) do
    count = count + 1
    paths[count] = line
  end
  wrk.headers["Authorization"] = "Bearer " .. args[2]
  -- a different sequence per thread: every thread's Lua state would draw the same numbers otherwise
  math.randomseed(os.time() * 100 + seed)
end

function request()
  return wrk.format("GET", paths[math.random(count)])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"p50_us":%d,"p95_us":%d,"p99_us":%d,"max_us":%d,'
      .. '"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
