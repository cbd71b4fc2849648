-- wrk script for scripts/service-load.sh: a mixed read/write workload for several orgs, with
-- every response body checked for rows of another org.
--
-- Each wrk thread works for ONE org (set in setup from LOAD_CONFIG, round robin), so everything a
-- thread receives must belong to that org: every "org_id" in a body must be the thread's org id,
-- and every alias name starts with the thread's org slug (the workload names them so). Anything
-- else counts as cross-org. Acknowledged alias creations (201) are written to LOAD_RESULT so the
-- script can check that none was lost.
local cfg = dofile(os.getenv("LOAD_CONFIG"))
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  local o = cfg.orgs[((counter - 1) % #cfg.orgs) + 1]
  thread:set("slug", o.slug)
  thread:set("org_id", o.id)
  thread:set("token", o.token)
  thread:set("toolset", o.toolset)
  thread:set("tid", counter)
  thread:set("domain", cfg.domain)
  table.insert(threads, thread)
end

function init(args)
  n = 0
  cross = 0
  checked = 0
  statuses = {}
  acked = {}
  host = slug .. "." .. domain
  auth = "Bearer " .. token
  math.randomseed(tid * 7919 + os.time())
end

function request()
  n = n + 1
  local r = math.random(100)
  local h = { ["Host"] = host, ["Authorization"] = auth }
  if r <= 35 then
    return wrk.format("GET", "/api/aliases?page_size=20", h)
  elseif r <= 50 then
    return wrk.format("GET", "/api/tokens?page_size=10", h)
  elseif r <= 65 then
    return wrk.format("GET", "/api/toolsets", h)
  elseif r <= 75 then
    return wrk.format("GET", "/api/orgs/current", h)
  elseif r <= 95 then
    h["Content-Type"] = "application/json"
    return wrk.format("POST", "/api/aliases", h,
      string.format('{"alias":"%s-t%d-%d","repo":"r/%s","filename":"f.gguf"}', slug, tid, n, slug))
  else
    h["Content-Type"] = "application/json"
    return wrk.format("PUT", "/api/toolsets/" .. toolset, h, string.format('{"api_key":"key-%s-%d-xyzw"}', slug, n))
  end
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  checked = checked + 1
  for id in string.gmatch(body, '"org_id":"([0-9a-f%-]+)"') do
    if id ~= org_id then cross = cross + 1 end
  end
  local prefix = slug .. "-"
  for a in string.gmatch(body, '"alias":"([^"]*)"') do
    if string.sub(a, 1, #prefix) ~= prefix then cross = cross + 1 end
  end
  for s in string.gmatch(body, '"slug":"([^"]*)"') do
    if s ~= slug and s ~= "exa" then cross = cross + 1 end
  end
  if status == 201 then
    local a = string.match(body, '"alias":"([^"]*)"')
    if a then acked[#acked + 1] = a end
  end
end

function done(summary, latency, requests)
  local out = io.open(os.getenv("LOAD_RESULT"), "w")
  local cross_total, checked_total, st = 0, 0, {}
  for _, t in ipairs(threads) do
    cross_total = cross_total + t:get("cross")
    checked_total = checked_total + t:get("checked")
    for code, c in pairs(t:get("statuses")) do st[code] = (st[code] or 0) + c end
    local s = t:get("slug")
    for _, a in ipairs(t:get("acked")) do out:write(string.format("ack %s %s\n", s, a)) end
  end
  out:write(string.format("requests %d\n", summary.requests))
  out:write(string.format("duration_us %d\n", summary.duration))
  out:write(string.format("rps %.1f\n", summary.requests / (summary.duration / 1e6)))
  out:write(string.format("p50_ms %.2f\n", latency:percentile(50) / 1000))
  out:write(string.format("p99_ms %.2f\n", latency:percentile(99) / 1000))
  out:write(string.format("max_ms %.2f\n", latency.max / 1000))
  out:write(string.format("errors_connect %d\nerrors_read %d\nerrors_write %d\nerrors_timeout %d\n",
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout))
  out:write(string.format("non_2xx %d\n", summary.errors.status))
  out:write(string.format("checked %d\n", checked_total))
  out:write(string.format("cross_org %d\n", cross_total))
  for code, c in pairs(st) do out:write(string.format("status %d %d\n", code, c)) end
  out:close()
end
