# The admin API in Test::Nginx blocks (so that it also runs under valgrind
# with the rest of the Test::Nginx suites).

use lib 't/lib';
BEGIN { $ENV{ADMIN_SECRET_KEY} = 'blocks-admin-secret-0123456789' }
use Test::Nginx::Socket 'no_plan';
use GeminiPool;

no_long_string();
log_level('info');
run_tests();

__DATA__

=== TEST 1: reads need the admin secret
--- config
    location /api/ { gemini_pool_admin; }
--- request eval
["GET /api/accounts", "GET /api/accounts"]
--- more_headers eval
["", "X-Admin-Token: blocks-admin-secret-0123456789"]
--- error_code eval
[401, 200]
--- response_body_like eval
[qr/^\{"error":\{"message":"log in first, or send X-Admin-Token","code":"unauthorized"\}\}$/,
 qr/^\{"accounts":\[\{"index":0,"id":1,"name":"acc1",.*"secure_c_ses_set":true,.*\],"total":3\}$/]


=== TEST 2: bad input is a JSON error and changes nothing
--- config
    location /api/ { gemini_pool_admin; }
--- more_headers
X-Admin-Token: blocks-admin-secret-0123456789
--- request eval
["POST /api/accounts\n{\"team_id\":", "POST /api/accounts\n[1,2]",
 "POST /api/accounts\n{\"team_id\":\"t\",\"csesidx\":\"x1\",\"secure_c_ses\":\"s\"}",
 "PUT /api/settings\n{\"max_attempts\":\"many\"}",
 "PUT /api/settings\n{\"no_such_setting\":1}",
 "DELETE /api/accounts/99", "GET /api/accounts"]
--- error_code eval
[400, 400, 400, 400, 400, 404, 200]
--- response_body_like eval
[qr/"code":"invalid_json"/, qr/"code":"invalid_json"/, qr/csesidx/,
 qr/"code":"invalid_type"/, qr/"code":"unknown_setting"/, qr/"code":"not_found"/,
 qr/"total":3\}$/]


=== TEST 3: add, update, toggle and delete an account
--- config
    location /api/ { gemini_pool_admin; }
--- more_headers
X-Admin-Token: blocks-admin-secret-0123456789
--- request eval
["POST /api/accounts\n{\"name\":\"n4\",\"team_id\":\"t4\",\"csesidx\":\"4\",\"secure_c_ses\":\"s4\"}",
 "PUT /api/accounts/3\n{\"name\":\"n4b\"}",
 "POST /api/accounts/3/toggle",
 "GET /api/accounts",
 "DELETE /api/accounts/3",
 "GET /api/accounts"]
--- error_code eval
[201, 200, 200, 200, 200, 200]
--- response_body_like eval
[qr/"success":true,"id":4/, qr/"success":true/, qr/"success":true/,
 qr/"name":"n4b",.*"enabled":false/, qr/"success":true/, qr/"total":3\}$/]


=== TEST 4: settings and API keys
--- config
    location /api/ { gemini_pool_admin; }
    location /v1/ { gemini_pool_api_keys on; gemini_pool_api; }
--- more_headers
X-Admin-Token: blocks-admin-secret-0123456789
--- request eval
["PUT /api/settings\n{\"max_attempts\":2,\"selection_strategy\":\"least_in_flight\"}",
 "POST /api/keys\n{\"name\":\"k\",\"rpm\":5,\"models\":[\"gemini-auto\"]}",
 "GET /api/keys",
 "GET /v1/models",
 "GET /api/status"]
--- error_code eval
[200, 201, 200, 401, 200]
--- response_body_like eval
[qr/"max_attempts":\{"type":"int","value":2\}.*"selection_strategy":\{"type":"string","value":"least_in_flight"\}/,
 qr/"key":"sk-gp-[A-Za-z0-9]{40}"/,
 qr/"name":"k","prefix":"sk-gp-[A-Za-z0-9]{4}","enabled":true/,
 qr/"code":"invalid_api_key"/,
 qr/"accounts":\{"total":3,"usable":3\}/]
--- no_error_log
[alert]
[crit]
