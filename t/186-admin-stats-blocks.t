# GET /api/stats in Test::Nginx blocks, so that the dashboard's figures
# (read once from the call log, computed by stats.c) also run under
# valgrind (scripts/test --valgrind): in total, per model and per account,
# the hour and the day, an empty log, and the refused parameters.
# t/183-admin-stats.t checks the figures against real calls.

use lib 't/lib';
BEGIN { $ENV{ADMIN_SECRET_KEY} = 'stats-blocks-secret-0123456789' }
use Test::Nginx::Socket 'no_plan';
use GeminiPool;

no_long_string();
log_level('info');
run_tests();

__DATA__

=== TEST 1: the figures of known calls: count, errors, nearest-rank p50 and
p95, per model and per account; a call of yesterday only in the day
--- gp_setup
sql("DELETE FROM call_logs; WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL "
    . "SELECT i + 1 FROM n WHERE i < 20) INSERT INTO call_logs (time, "
    . "model, account, status, latency_ms, ttfb_ms) SELECT "
    . "strftime('%s', 'now') - 1, CASE WHEN i <= 15 THEN 'flash' ELSE "
    . "'pro' END, 'acc' || (i % 2), CASE WHEN i % 10 = 0 THEN 500 ELSE "
    . "200 END, i, CASE WHEN i <= 10 THEN i * 10 END FROM n; "
    . "INSERT INTO call_logs (time, model, account, status, latency_ms) "
    . "VALUES (strftime('%s', 'now') - 7200, 'old', 'acc9', 200, 5)");
--- config
    location /api/ { gemini_pool_admin; }
--- more_headers
X-Admin-Token: stats-blocks-secret-0123456789
--- request eval
["GET /api/stats",
 "GET /api/stats?range=hour&by=model",
 "GET /api/stats?range=day&by=account",
 "GET /api/stats?range=day"]
--- error_code eval
[200, 200, 200, 200]
--- response_body_like eval
[qr/"range":"hour".*"total":\{"count":20,"errors":2,"latency_p50":10,"latency_p95":19,"ttfb_p50":50,"ttfb_p95":100\}\}$/,
 qr/"by":"model".*"percentiles":"nearest rank","series":\[\{"name":"flash","buckets":\[.*\],"total":\{"count":15,"errors":1,"latency_p50":8,"latency_p95":15,"ttfb_p50":50,"ttfb_p95":100\}\},\{"name":"pro","buckets":\[.*\],"total":\{"count":5,"errors":1,"latency_p50":18,"latency_p95":20,"ttfb_p50":null,"ttfb_p95":null\}\}\],"others":0,/,
 qr/"by":"account".*"series":\[\{"name":"acc0",.*"total":\{"count":10,.*"name":"acc1",.*"total":\{"count":10,.*"name":"acc9",.*"total":\{"count":1,.*"others":0,/,
 qr/"bucket_seconds":1800,.*"total":\{"count":21,"errors":2,/]
--- no_error_log
[alert]
[crit]


=== TEST 2: an empty call log: empty buckets, no percentile
--- gp_setup
sql("DELETE FROM call_logs");
--- config
    location /api/ { gemini_pool_admin; }
--- more_headers
X-Admin-Token: stats-blocks-secret-0123456789
--- request eval
["GET /api/stats?by=model", "GET /api/stats?range=day"]
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/"series":\[\],"others":0,"buckets":\[\{"count":0,"errors":0,"latency_p50":null,.*"total":\{"count":0,"errors":0,"latency_p50":null,"latency_p95":null,"ttfb_p50":null,"ttfb_p95":null\}\}$/,
 qr/"bucket_seconds":1800,.*"total":\{"count":0,/]
--- no_error_log
[alert]
[crit]


=== TEST 3: a range or a break-down it does not know: a JSON error
--- config
    location /api/ { gemini_pool_admin; }
--- more_headers
X-Admin-Token: stats-blocks-secret-0123456789
--- request eval
["GET /api/stats?range=week",
 "GET /api/stats?by=key",
 "GET /api/stats?range=HOUR"]
--- error_code eval
[400, 400, 400]
--- response_body_like eval
[qr/^\{"error":\{"message":"\\"range\\" must be hour or day","code":"invalid_value"\}\}$/,
 qr/^\{"error":\{"message":"\\"by\\" must be model or account","code":"invalid_value"\}\}$/,
 qr/"\\"range\\" must be hour or day"/]
--- no_error_log
[alert]
[crit]


=== TEST 4: not without a login
--- config
    location /api/ { gemini_pool_admin; }
--- request
GET /api/stats
--- error_code: 401
--- no_error_log
[alert]
[crit]
