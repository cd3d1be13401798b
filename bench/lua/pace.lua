-- Shared by post.lua and soak.lua: PACE_MS=<mean ms> in the environment paces each connection, which
-- waits an exponentially distributed time of that mean after each answer, so the connections together
-- send a Poisson stream of about connections * 1000 / PACE_MS requests/s.
local pace_ms = tonumber(os.getenv("PACE_MS") or "0")

if pace_ms > 0 then
  function delay()
    -- wrk waits whole milliseconds: round the exponential draw at random so the mean holds.
    local wait = -pace_ms * math.log(1 - math.random())
    local whole = math.floor(wait)
    return whole + ((math.random() < wait - whole) and 1 or 0)
  end
end

-- Each wrk thread has its own Lua state: seed each one apart (a table's address differs per state).
function seed_this_thread()
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 1000003)
end
