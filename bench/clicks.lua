-- wrk script for bench/ack_latency.py: replays Slack-signed button clicks, one per line of
-- the file named by CLICKS_FILE ("timestamp<TAB>signature<TAB>body"), cycling through them.
local requests = {}
local index = 0

function init(args)
  local file = assert(io.open(os.getenv("CLICKS_FILE"), "r"))
  for line in file:lines() do
    local stamp, signature, body = line:match("^([^\t]+)\t([^\t]+)\t(.*)$")
    requests[#requests + 1] = wrk.format("POST", "/slack/events", {
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["X-Slack-Request-Timestamp"] = stamp,
      ["X-Slack-Signature"] = signature,
    }, body)
  end
  file:close()
  -- Each wrk thread starts at a different place, so threads click for different people.
  index = math.random(#requests)
end

function request()
  index = index % #requests + 1
  return requests[index]
end

function response(status, headers, body)
  if status ~= 200 then
    io.stderr:write("status " .. status .. "\n")
  end
end
