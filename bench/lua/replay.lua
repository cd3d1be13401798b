-- Shared by post.lua and signed.lua: the requests their init puts in requests_list, sent in turn;
-- pacing (pace.lua); and the one-line JSON summary the bench scripts read from wrk's output.
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "pace.lua")
requests_list = {}
counter = 0

function request()
  counter = counter + 1
  return requests_list[(counter % #requests_list) + 1]
end

function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "errors": %d, "non2xx": %d, "p50_us": %d, "p99_us": %d, "p999_us": %d}\n',
    summary.requests, summary.duration / 1e6, errors, summary.errors.status,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9)))
end
