-- Posts pre-signed webhook bodies, each once: line N of the file is "signature<TAB>body".
-- Thread K of T posts lines OFFSET+K, OFFSET+K+T... so no two requests carry the same id.
-- Arguments: the file, T (wrk's threads), the path, OFFSET (where this run starts).
local threads = {}

function setup(thread)
  thread:set("number", #threads)
  table.insert(threads, thread)
end

function init(args)
  lines = {}
  for line in io.lines(args[1]) do
    local tab = line:find("\t", 1, true)
    table.insert(lines, {line:sub(1, tab - 1), line:sub(tab + 1)})
  end
  step = tonumber(args[2])
  path = args[3]
  index = (tonumber(args[4]) or 0) + number + 1
end

function request()
  local item = lines[index]
  index = index + step
  if index > #lines then index = (index - 1) % step + 1 end
  return wrk.format("POST", path, {["Content-Type"] = "application/json",
                                   ["X-Hub-Signature-256"] = item[1]}, item[2])
end

function done(summary, latency, requests)
  local bad = summary.errors.status + summary.errors.connect + summary.errors.read
              + summary.errors.write + summary.errors.timeout
  io.write(string.format('{"requests": %d, "seconds": %f, "errors": %d, "p50_ms": %f, ' ..
                         '"p99_ms": %f}\n', summary.requests, summary.duration / 1e6, bad,
                         latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
