-- wrk script of benchmarks/api.py: one request kind per run, every upload with its own sample UUID.
--
--   wrk -t16 -c16 -d8s -s benchmarks/api_load.lua URL -- KIND RUN_PREFIX COLLECTED_AT [TOKEN]
--
-- KIND: upload (POST /samples), bare-insert (POST /bare), items (GET producers, limit=10, rotating offsets),
-- bare-select (GET /bare). RUN_PREFIX: 8 hex digits, new each run; a sample's UUID is the prefix, the thread's
-- number and the thread's counter, so ids never repeat (a repeat would be an idempotent replay, not an upload).
-- done() prints one JSON line: requests, seconds, p50/p99/max/mean of the measured latencies in ms, wrk's own
-- p99 (see below), and the count of each HTTP status.

local threads = {}
local counter = 0

-- Raw latencies, measured here: wrk's own histogram is "corrected" for coordinated omission (stats_correct adds
-- synthetic samples for every request slower than twice the mean, as if the clients sent at a fixed rate), which
-- for these closed-loop clients inflates p99 several-fold (a mean latency of 65 ms at 1,553 req/s from 16
-- connections, where Little's law gives 10 ms). Run with one connection per thread (-tN -cN), so request() and
-- response() alternate in each thread and the time between them is the request's latency.
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } gi_timespec;
int clock_gettime(int clk_id, gi_timespec *tp);
]]
local ts = ffi.new("gi_timespec")
local function now_us()
    ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
    return tonumber(ts.tv_sec) * 1e6 + tonumber(ts.tv_nsec) / 1e3
end
local sent_at = nil
local answered = false

function setup(thread)
    thread:set("number", #threads + 1)
    table.insert(threads, thread)
end

function init(args)
    kind = args[1]
    prefix = args[2]
    collected_at = args[3]
    statuses = {}
    latencies = {}
    wrk.headers["Content-Type"] = "application/json"
    if args[4] and args[4] ~= "" then
        wrk.headers["Authorization"] = "Bearer " .. args[4]
    end
end

function request()
    sent_at = now_us()
    counter = counter + 1
    local i = counter
    if kind == "upload" then
        local id = string.format("%s-%04x-4%03x-8%03x-%012x", prefix, number, 0, 0, i)
        local body = string.format(
            '{"id":"%s","product":"xihu-longjing","collected_at":"%s","x":%.6f,"y":%.6f,"gps_accuracy_m":5}',
            id, collected_at, 120.1138 + ((number * 997 + i) % 1000) * 1e-5, 30.2402 + ((number * 991 + i) % 1000) * 1e-5)
        return wrk.format("POST", "/samples", nil, body)
    elseif kind == "bare-insert" then
        return wrk.format("POST", "/bare", nil, '{"x":120.1138,"y":30.2402}')
    elseif kind == "items" then
        return wrk.format("GET", string.format("/collections/producers/items?limit=10&offset=%d", (number * 7 + i) % 200))
    else
        return wrk.format("GET", "/bare")
    end
end

function response(status, headers, body)
    if sent_at and answered then
        latencies[#latencies + 1] = now_us() - sent_at
    end
    -- (the first answer of each connection is not timed: all 16 connections open and send at the same instant,
    -- and that burst, 0.1-0.45 s on this machine, is the start of the run, not its steady state)
    answered = true
    sent_at = nil
    statuses[status] = (statuses[status] or 0) + 1
end

local function mean(values)
    local total = 0
    for _, v in ipairs(values) do
        total = total + v
    end
    return #values > 0 and total / #values / 1000 or -1
end

function done(summary, latency, requests)
    local merged = {}
    local raw = {}
    for _, thread in ipairs(threads) do
        for _, us in ipairs(thread:get("latencies")) do
            raw[#raw + 1] = us
        end
        for status, n in pairs(thread:get("statuses")) do
            merged[status] = (merged[status] or 0) + n
        end
    end
    local parts = {}
    for status, n in pairs(merged) do
        table.insert(parts, string.format('"%d":%d', status, n))
    end
    table.sort(raw)
    local function pct(p)
        if #raw == 0 then return -1 end
        return raw[math.max(1, math.ceil(#raw * p / 100))] / 1000
    end
    io.write(string.format(
        '{"requests":%d,"seconds":%.3f,"p50_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,"mean_ms":%.3f,'
            .. '"wrk_p99_ms":%.3f,"socket_errors":%d,"statuses":{%s}}\n',
        summary.requests, summary.duration / 1e6, pct(50), pct(99), pct(100), mean(raw),
        latency:percentile(99) / 1000,
        summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
        table.concat(parts, ",")))
end
