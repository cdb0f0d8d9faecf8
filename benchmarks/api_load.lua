-- wrk script of benchmarks/api.py: one request kind per run, every upload with its own sample UUID.
--
--   wrk -t2 -c16 -d8s -s benchmarks/api_load.lua URL -- KIND RUN_PREFIX COLLECTED_AT [TOKEN]
--
-- KIND: upload (POST /samples), bare-insert (POST /bare), items (GET producers, limit=10, rotating offsets),
-- bare-select (GET /bare). RUN_PREFIX: 8 hex digits, new each run; a sample's UUID is the prefix, the thread's
-- number and the thread's counter, so ids never repeat (a repeat would be an idempotent replay, not an upload).
-- done() prints one JSON line: requests, seconds, p50/p99 in ms, and the count of each HTTP status.

local threads = {}
local counter = 0

function setup(thread)
    thread:set("number", #threads + 1)
    table.insert(threads, thread)
end

function init(args)
    kind = args[1]
    prefix = args[2]
    collected_at = args[3]
    statuses = {}
    wrk.headers["Content-Type"] = "application/json"
    if args[4] and args[4] ~= "" then
        wrk.headers["Authorization"] = "Bearer " .. args[4]
    end
end

function request()
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
    statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
    local merged = {}
    for _, thread in ipairs(threads) do
        for status, n in pairs(thread:get("statuses")) do
            merged[status] = (merged[status] or 0) + n
        end
    end
    local parts = {}
    for status, n in pairs(merged) do
        table.insert(parts, string.format('"%d":%d', status, n))
    end
    io.write(string.format(
        '{"requests":%d,"seconds":%.3f,"p50_ms":%.3f,"p99_ms":%.3f,"socket_errors":%d,"statuses":{%s}}\n',
        summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
        summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
        table.concat(parts, ",")))
end
