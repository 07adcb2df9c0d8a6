-- wrk script for bench/bench_callback.py: cycles through pre-generated encrypted callbacks.
-- BENCH_REQUESTS names a file with one request per line: "<path?query>\t<body>".
-- Each wrk thread takes every n-th line, so threads never send the same message.

local counter = 0

function setup(thread)
   thread:set("id", counter)
   counter = counter + 1
end

function init(args)
   local path = os.getenv("BENCH_REQUESTS")
   local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")
   requests = {}
   local i = 0
   for line in io.lines(path) do
      if i % nthreads == id then
         local tab = line:find("\t", 1, true)
         local target, body = line:sub(1, tab - 1), line:sub(tab + 1)
         requests[#requests + 1] = wrk.format("POST", target, {["Content-Type"] = "text/xml"}, body)
      end
      i = i + 1
   end
   next_req = 1
end

function request()
   local r = requests[next_req]
   next_req = next_req + 1
   if next_req > #requests then next_req = 1 end
   return r
end

function done(summary, latency, requests_)
   io.write(string.format(
      'BENCH_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, ' ..
      '"mean_us": %.1f, "non2xx": %d, "err_connect": %d, "err_read": %d, "err_write": %d, "err_timeout": %d}\n',
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency.max, latency.mean, summary.errors.status, summary.errors.connect, summary.errors.read, summary.errors.write,
      summary.errors.timeout))
end
