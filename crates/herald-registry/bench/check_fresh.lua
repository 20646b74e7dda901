-- POSTs a compatibility check of the schema in $BENCH_SCHEMA with a description that differs
-- on every request: no request is answered from the cache of checks known to pass.
local schema = os.getenv("BENCH_SCHEMA")
local counter = 0
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

local function quote(s)
  return (s:gsub('\\', '\\\\'):gsub('"', '\\"'))
end

function request()
  counter = counter + 1
  local fresh = string.format('{"description":"fresh %d %d",', tid, counter) .. schema:sub(2)
  local body = '{"schemaType":"JSON","schema":"' .. quote(fresh) .. '"}'
  return wrk.format("POST", nil,
    {["Content-Type"] = "application/vnd.schemaregistry.v1+json"}, body)
end
