-- purchase-retry.lua -- bench/slow.sh's clients past the purchase slots:
-- the load of peer-bench's lua/purchase-team.lua (a distinct number per
-- request, the product's key from $BENCH_KEY), from clients that do what
-- a 503's Retry-After asks: wait that many seconds before the next
-- purchase.
-- usage: BENCH_KEY=pur_... wrk ... -s purchase-retry.lua URL -- OFFSET
local threads = {}
local counter = 0
local wait = 0

function setup(thread)
   thread:set("tid", #threads)
   table.insert(threads, thread)
end

function init(args)
   offset = tonumber(args[1] or "0")
   key = os.getenv("BENCH_KEY")
   if key == nil or key == "" then error("purchase-retry.lua: set BENCH_KEY") end
   if tid > 4 then error("purchase-retry.lua supports at most 5 wrk threads") end
end

function request()
   local n = offset + counter
   counter = counter + 1
   local body = string.format('{"phone_number":"+1415%d%06d"}', tid + 5, n)
   return wrk.format("POST", nil, {
      ["Content-Type"]  = "application/json",
      ["Authorization"] = "Bearer " .. key,
   }, body)
end

local seen = {}

function response(status, headers, body)
   seen[status] = (seen[status] or 0) + 1
   statuses = ""
   for k, v in pairs(seen) do statuses = statuses .. k .. ":" .. v .. " " end
   if status == 503 then
      wait = 1000 * tonumber(headers["Retry-After"] or "1")
   end
end

function delay()
   local d = wait
   wait = 0
   return d
end

-- The statuses the clients saw, "201:N 503:M", on wrk's output.
function done(summary, latency, requests)
   for _, t in ipairs(threads) do
      io.write("statuses: ", t:get("statuses") or "", "\n")
   end
end
