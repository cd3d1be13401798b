-- POSTs one or more JSON bodies in turn and prints a one-line JSON summary at the end.
-- Arguments after "--": a bearer token, then pairs of (path, body file).
-- PACE_MS=<mean ms> in the environment paces each connection: it waits an exponentially distributed
-- time of that mean after each answer, so the connections together send a Poisson stream of about
-- connections * 1000 / PACE_MS requests/s instead of as many as the server can take.
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "replay.lua")

function init(args)
  seed_this_thread()
  local token = args[1]
  for i = 2, #args, 2 do
    local file = assert(io.open(args[i + 1], "rb"))
    local body = file:read("*a")
    file:close()
    local headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }
    table.insert(requests_list, wrk.format("POST", args[i], headers, body))
  end
end
