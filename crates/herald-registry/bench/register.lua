-- Registers a new schema (hence a new version of one subject) on every request.
local counter = 0
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"schemaType":"JSON","schema":"{\\"type\\":\\"object\\",\\"properties\\":{\\"id\\":{\\"type\\":\\"string\\"},\\"f_%d_%d_%d\\":{\\"type\\":\\"string\\"}}}"}',
    tid, counter, math.random(1, 1000000000))
  return wrk.format("POST", "/subjects/bench-register/versions",
    {["Content-Type"] = "application/vnd.schemaregistry.v1+json"}, body)
end
