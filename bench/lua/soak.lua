-- The soak test's traffic (bench/soak.py): a mix of spam-checker questions from ever-new users and
-- rooms, so that anything keyed by user, room or event would grow, and one malformed request in a
-- hundred. Arguments after "--": a bearer token. PACE_MS paces each connection as in post.lua.
local token
local counter = 0
statuses = {}  -- answers by status (a global, which done() reads through thread:get); a 503 of the requests in flight's bound counted apart
local threads = {}
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "pace.lua")

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  seed_this_thread()
  token = args[1]
end

local function post(path, body)
  return wrk.format("POST", path, { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }, body)
end

function request()
  counter = counter + 1
  local user = string.format("@user%d-%d:example.com", math.random(1, 1000000000), counter)
  local room = string.format("!room%d:example.com", math.random(1, 1000000000))
  local kind = counter % 100
  if kind == 0 then
    return post("/v1/spam_checker/user_may_invite", '{"inviter": "' .. user .. '", "invitee":')  -- malformed
  elseif kind < 40 then
    return post("/v1/spam_checker/user_may_invite",
      '{"inviter":"' .. user .. '","invitee":"@bob:example.org","room_id":"' .. room .. '"}')
  elseif kind < 70 then
    return post("/v1/spam_checker/check_event_for_spam", string.format(
      '{"event":{"event_id":"$e%d","sender":"%s","room_id":"%s","type":"m.room.message","origin_server_ts":1700000000000,"content":{"msgtype":"m.text","body":"hello %d"}}}',
      counter, user, room, counter))
  elseif kind < 85 then
    return post("/v1/spam_checker/user_may_join_room", '{"user":"' .. user .. '","room":"' .. room .. '","is_invited":false}')
  else
    return post("/v1/spam_checker/user_may_create_room", '{"user_id":"' .. user .. '"}')
  end
end

function response(status, headers, body)
  local key = tostring(status)
  if status == 503 and body:find("M_LIMIT_EXCEEDED", 1, true) then
    key = "503 M_LIMIT_EXCEEDED"
  end
  statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
  local e = summary.errors
  local total = {}
  for _, thread in ipairs(threads) do
    for key, n in pairs(thread:get("statuses")) do
      total[key] = (total[key] or 0) + n
    end
  end
  local counts = {}
  for key, n in pairs(total) do
    table.insert(counts, string.format('"%s": %d', key, n))
  end
  table.sort(counts)
  io.write(string.format('{"requests": %d, "errors": %d, "non_2xx": %d, "connect": %d, "read": %d, "write": %d, "timeout": %d, "statuses": {%s}}\n',
    summary.requests, e.connect + e.read + e.write + e.timeout, e.status, e.connect, e.read, e.write, e.timeout,
    table.concat(counts, ", ")))
end
