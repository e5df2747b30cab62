-- bench.lua -- wrk script for bench/run.sh (wrk 4, LuaJIT).
--
--   wrk ... -s bench.lua URL -- get  PATH STATUS [KEYS-FILE]
--   wrk ... -s bench.lua URL -- buy  NUMBERS-FILE THREADS
--
-- get: GET PATH, with "Authorization: Bearer KEY" rotating over the keys
-- in KEYS-FILE (one a line) when given; a reply other than STATUS counts
-- as an error.
-- buy: POST /api/user/phone-numbers/purchase, every request a distinct
-- number: NUMBERS-FILE holds "KEY NUMBER" lines, each number offered to
-- that key's account by a search made before the run; thread t of THREADS
-- takes lines t+1, t+1+THREADS, ... so no two requests buy the same number.
-- A reply other than 201 counts as an error; when a thread runs out of
-- numbers it buys its last one again (a 400, counted) and says so.
--
-- done() prints one line for run.sh: BENCH key=value ...

local threads = {}
local counter = 0

function setup(thread)
	thread:set("id", counter)
	counter = counter + 1
	table.insert(threads, thread)
end

local function lines(path)
	local t = {}
	for l in io.lines(path) do
		if l ~= "" then t[#t + 1] = l end
	end
	return t
end

function init(args)
	mode = args[1]
	bad = 0
	exhausted = 0
	sample = ""
	if mode == "get" then
		path = args[2]
		want = tonumber(args[3])
		keys = {}
		if args[4] then keys = lines(args[4]) end
		k = id
		if #keys == 0 then
			fixed = wrk.format("GET", path)
		end
	else
		want = 201
		local all = lines(args[2])
		local n = tonumber(args[3])
		buys = {}
		for i = id + 1, #all, n do
			local key, num = all[i]:match("^(%S+)%s+(%S+)$")
			buys[#buys + 1] = wrk.format("POST", "/api/user/phone-numbers/purchase", {
				["Authorization"] = "Bearer " .. key,
				["Content-Type"] = "application/json",
			}, '{"phone_number":"' .. num .. '"}')
		end
		next_buy = 0
	end
end

function request()
	if mode == "get" then
		if fixed then return fixed end
		k = k % #keys + 1
		return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. keys[k] })
	end
	next_buy = next_buy + 1
	if next_buy > #buys then
		exhausted = exhausted + 1
		return buys[#buys]
	end
	return buys[next_buy]
end

function response(status, headers, body)
	if status ~= want then
		bad = bad + 1
		if sample == "" then sample = status .. " " .. string.sub(body or "", 1, 160) end
	end
end

function done(summary, latency, requests)
	local b, e, s = 0, 0, ""
	for _, t in ipairs(threads) do
		b = b + t:get("bad")
		e = e + t:get("exhausted")
		if s == "" then s = t:get("sample") end
	end
	local er = summary.errors
	io.write(string.format(
		"BENCH requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d bad=%d exhausted=%d socket_errors=%d\n",
		summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
		latency:percentile(99), latency.max, b, e,
		er.connect + er.read + er.write + er.timeout))
	if s ~= "" then
		io.write("BENCH_SAMPLE " .. s:gsub("\n", " ") .. "\n")
	end
end
