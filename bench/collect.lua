-- wrk script of bench/ingest.py: varied collect requests, status counts, JSON summary.
--
--   wrk ... -s bench/collect.lua URL -- MODE ORIGIN SITE_KEY UA_FILE BATCH SEED VISITORS
--
-- MODE   single: one hit per POST to /api/collect
--        batch:  BATCH hits of one visitor per POST to /api/collect (a JSON array)
--        bare:   the very requests of "single", POSTed to /bare (bare ASGI endpoint)
--        nostore: the same, POSTed to /nostore (collect with a writer that stores nothing)
-- ORIGIN the Origin header sent ("-": none); it must be allowed for the site
-- UA_FILE one browser user agent a line (bench/ingest.py writes it)
--
-- Each request picks a visitor out of VISITORS.  A visitor keeps its own id, user
-- agent and client address (X-Forwarded-For in 198.18.0.0/15, the RFC 2544
-- benchmarking range: only a header value, no traffic goes there).  Pages, titles,
-- referrers, UTM tags and click ids vary per hit.  The last line printed is
-- "WRKJSON {...}": requests, statuses, socket errors and latency percentiles (us).

local mode, origin, key, batch, visitors = "single", nil, "", 100, 20000
local uas = {}
local host

local paths = {
  "/", "/pricing", "/product", "/product/crm", "/product/analytics", "/product/api",
  "/solutions/manufacturing", "/solutions/finance", "/solutions/healthcare", "/customers",
  "/customers/acme-case-study", "/blog", "/blog/b2b-lead-scoring", "/blog/gdpr-analytics",
  "/blog/account-based-marketing", "/docs", "/docs/getting-started", "/docs/api/collect",
  "/about", "/careers", "/contact", "/demo", "/integrations/salesforce",
  "/integrations/hubspot", "/resources/whitepaper-2025", "/webinars/q3-roadmap",
  "/compare/competitor-a", "/security", "/partners", "/fr/tarifs",
}
local titles = {
  "Home", "Pricing", "Product overview", "CRM integration", "Analytics", "API",
  "Manufacturing", "Finance", "Healthcare", "Customers", "ACME case study", "Blog",
  "Lead scoring for B2B", "GDPR-friendly analytics", "Account-based marketing", "Docs",
  "Getting started", "Collect API", "About us", "Careers", "Contact", "Book a demo",
  "Salesforce", "HubSpot", "Whitepaper 2025", "Q3 roadmap webinar", "Compare",
  "Security", "Partners", "Tarifs",
}
-- query strings of landing pages: campaign tags, ad click ids (on ~6 % of the hits)
local tagged = {
  "?utm_source=linkedin&utm_medium=cpc&utm_campaign=spring-launch",
  "?utm_source=newsletter&utm_medium=email&utm_campaign=2025-05",
  "?utm_source=google&utm_medium=cpc&utm_campaign=brand&utm_term=lead%20tracker",
  "?gclid=Cj0KCQjw9Kk2BhC8ARIsAB",
  "?li_fat_id=2c6e1f0a-7a5d-4c1e",
  "?ref=producthunt",
}
local referrers = {
  "", "", "", "", "",
  "https://www.google.com/", "https://www.google.fr/", "https://www.bing.com/",
  "https://duckduckgo.com/", "https://www.linkedin.com/", "https://www.linkedin.com/feed/",
  "https://t.co/abc123", "https://news.ycombinator.com/", "https://mail.google.com/",
  "https://outlook.live.com/", "https://www.reddit.com/r/sales/", "https://github.com/",
  "https://www.bench-shop.example/", "https://www.bench-shop.example/blog",
  "https://partner.example.org/resources",
}
local kinds = { "pageview", "pageview", "pageview", "pageview", "pageview", "pageview",
                "engagement", "engagement", "click", "download" }

counts = {}   -- status -> responses (global: read by done() through thread:get)
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  mode = args[1] or mode
  origin = args[2]
  if origin == "-" then origin = nil end
  key = args[3] or key
  for line in io.lines(args[4]) do
    if #line > 0 then table.insert(uas, line) end
  end
  batch = tonumber(args[5] or batch)
  math.randomseed(tonumber(args[6] or os.time()))
  visitors = tonumber(args[7] or visitors)
  host = wrk.headers["Host"]
end

local function ip_of(v)
  -- spread visitors over 198.18.0.0/15 (131,072 addresses)
  local n = (v * 7919 + 17) % 131072
  return string.format("198.%d.%d.%d", 18 + math.floor(n / 65536),
                       math.floor(n / 256) % 256, n % 256)
end

local function esc(s)
  return (s:gsub('[%c"\\]', ""))
end

local function hit(v, ts)
  local p = math.random(#paths)
  local query = (math.random() < 0.06) and tagged[math.random(#tagged)] or ""
  local url = "https://www.bench-shop.example" .. paths[p] .. query
  local kind = kinds[math.random(#kinds)]
  local parts = {
    '{"site":"', key, '","type":"', kind, '","url":"', url,
    '","ts":', string.format("%d", ts), ',"visitor":"', string.format("v%011d", v), '"',
  }
  if kind == "pageview" then
    parts[#parts + 1] = ',"referrer":"' .. referrers[math.random(#referrers)] ..
      '","title":"' .. esc(titles[p]) .. ' | Bench Shop"'
  elseif kind == "engagement" then
    parts[#parts + 1] = ',"engaged_ms":' .. math.random(500, 120000)
  elseif kind == "click" then
    parts[#parts + 1] = ',"name":"outbound","props":{"href":"https://partner.example.org/p' ..
      math.random(1, 40) .. '"}'
  else
    parts[#parts + 1] = ',"name":"download","props":{"href":"https://www.bench-shop.example/files/' ..
      "sheet-" .. math.random(1, 25) .. '.pdf"}'
  end
  parts[#parts + 1] = "}"
  return table.concat(parts)
end

function request()
  local v = math.random(0, visitors - 1)
  local now = os.time() * 1000
  local body, path
  if mode == "batch" then
    local hits = {}
    for i = 1, batch do
      -- a queued tag flush: hits of the last minutes, oldest first
      hits[i] = hit(v, now - (batch - i) * 1500)
    end
    body = "[" .. table.concat(hits, ",") .. "]"
    path = "/api/collect"
  else
    body = hit(v, now)
    path = (mode == "bare" and "/bare") or (mode == "nostore" and "/nostore") or "/api/collect"
  end
  local headers = {
    ["Host"] = host,
    ["User-Agent"] = uas[v % #uas + 1],
    ["Content-Type"] = "text/plain;charset=UTF-8",
    ["X-Forwarded-For"] = ip_of(v),
    ["Accept"] = "*/*",
    ["Accept-Language"] = "en-GB,en;q=0.9,fr;q=0.8",
  }
  if origin then headers["Origin"] = origin end
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    local c = t:get("counts")
    if c then
      for s, n in pairs(c) do total[s] = (total[s] or 0) + n end
    end
  end
  local st = {}
  for s, n in pairs(total) do st[#st + 1] = string.format('"%d":%d', s, n) end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,"statuses":{%s}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean, table.concat(st, ",")))
end
