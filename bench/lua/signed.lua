-- Replays pre-signed requests (bench/policy-server.sh) in turn and prints a one-line JSON summary at
-- the end. Arguments after "--": files of one request a line, "path TAB Authorization TAB body"
-- (written by dev.matrixpolicy.bench.PolicyServerFixtures). Each wrk thread starts at another line.
-- PACE_MS=<mean ms> in the environment paces each connection, as in post.lua.
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "replay.lua")

function init(args)
  seed_this_thread()
  for _, name in ipairs(args) do
    for line in io.lines(name) do
      local path, authorization, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
      assert(path, "not a request line in " .. name)
      local headers = { ["Content-Type"] = "application/json", ["Authorization"] = authorization }
      table.insert(requests_list, wrk.format("POST", path, headers, body))
    end
  end
  counter = math.random(#requests_list) - 1
end
