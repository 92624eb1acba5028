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
[qr/"max_attempts":\{"type":"int","value":2,"default":3,"min":0,"group":"pool","unit":"accounts"\}.*"selection_strategy":\{"type":"choice","value":"least_in_flight","default":"round_robin","group":"pool","allowed":\["round_robin","least_in_flight"\]\}/,
 qr/"key":"sk-gp-[A-Za-z0-9]{40}"/,
 qr/"name":"k","prefix":"sk-gp-[A-Za-z0-9]{4}","enabled":true/,
 qr/"code":"invalid_api_key"/,
 qr/"accounts":\{"total":3,"usable":3\}/]
--- no_error_log
[alert]
[crit]


=== TEST 5: a live test of an account's cookies, and its quota
--- gp_setup
mock_post('/__mock/inject', {account => 'acc2', endpoint => 'getoxsrf', action => {expired => \1}});
--- config
    location /api/ { gemini_pool_admin; }
--- more_headers
X-Admin-Token: blocks-admin-secret-0123456789
--- request eval
["POST /api/accounts/0/test", "POST /api/accounts/1/test", "GET /api/accounts/0/quota",
 "POST /api/accounts/9/test"]
--- error_code eval
[200, 200, 200, 404]
--- response_body_like eval
[qr/^\{"ok":true,"status":200\}$/,
 qr/^\{"ok":false,"status":401,"error":"getoxsrf answered 401: Session has expired\."\}$/,
 qr/^\{"id":1,"cookie_expired":false,"quota":\{"text":\{"until":0,"seconds":0\}/,
 qr/"code":"not_found"/]


=== TEST 6: models: add, use, list, pin, delete
--- config
    location /api/ { gemini_pool_admin; }
    location /v1/ { gemini_pool_api; }
--- request eval
["POST /api/models\n{\"name\":\"my-flash\",\"model_id\":\"gemini-2.5-flash\",\"description\":\"mine\"}",
 "GET /v1/models/my-flash",
 "POST /v1/chat/completions\n{\"model\":\"my-flash\",\"messages\":[{\"role\":\"user\",\"content\":\"custom model\"}]}",
 "PUT /api/models/my-flash\n{\"account_id\":2,\"kind\":\"text\"}",
 "GET /api/models",
 "POST /api/models\n{\"name\":\"bad\",\"kind\":\"audio\"}",
 "DELETE /api/models/my-flash",
 "GET /v1/models/my-flash",
 "DELETE /api/models/my-flash"]
--- more_headers
X-Admin-Token: blocks-admin-secret-0123456789
--- error_code eval
[200, 200, 200, 200, 200, 400, 200, 404, 404]
--- response_body_like eval
[qr/"success":true/, qr/"id":"my-flash"/, qr/echo: custom model/, qr/"success":true/,
 qr/\{"name":"my-flash","model_id":"gemini-2\.5-flash","kind":"text","account_id":2,"enabled":true,"position":0,"description":"mine","aliases":\[\]\}/,
 qr/"code":"invalid_value"/, qr/"success":true/, qr/"code":"model_not_found"/, qr/"code":"not_found"/]


=== TEST 7: chat history: texts go through the zone to the database and back
--- gp_setup
sql("INSERT INTO settings (key, type, value) VALUES ('history_enabled', 'bool', 'true')");
--- config
    location /api/ { gemini_pool_admin; }
    location /v1/ { gemini_pool_api; }
--- more_headers
X-Admin-Token: blocks-admin-secret-0123456789
--- request eval
["POST /v1/chat/completions\n{\"model\":\"gemini-auto\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"history one\"}]}",
 "POST /v1/chat/completions\n{\"model\":\"gemini-auto\",\"messages\":[{\"role\":\"user\",\"content\":\"history two\"}]}",
 "POST /v1/chat/completions\n{\"model\":\"gemini-auto\",\"messages\":[{\"role\":\"user\",\"content\":\"MOCK:delay=1500 let the helper drain\"}]}",
 "GET /api/history?q=history+t&limit=1",
 "GET /api/history?q=history+one",
 "DELETE /api/history"]
--- error_code eval
[200, 200, 200, 200, 200, 200]
--- response_body_like eval
[qr/echo: history one/, qr/echo: history two/, qr/let the helper drain/,
 qr/^\{"items":\[\{.*"prompt_preview":"history two","answer_preview":"echo: history two\\n-- mock tail.*\],"total":1,"limit":1,"offset":0\}$/,
 qr/"prompt_preview":"history one","answer_preview":"echo: history one\\n/,
 qr/^\{"ok":true,"deleted":[23]\}$/]
--- no_error_log
[alert]
[crit]


=== TEST 8: an oversize body is a JSON 413 naming the limit, and changes nothing
--- config
    location /api/ { client_max_body_size 200; gemini_pool_admin; }
--- more_headers
X-Admin-Token: blocks-admin-secret-0123456789
--- request eval
["POST /api/accounts\n{\"name\":\"big\",\"team_id\":\"t\",\"csesidx\":\"7\",\"secure_c_ses\":\"" . ("x" x 1000) . "\"}",
 "PUT /api/settings\n{\"proxy\":\"http://" . ("y" x 300) . "\"}",
 "GET /api/accounts"]
--- error_code eval
[413, 413, 200]
--- response_body_like eval
[qr/^\{"error":\{"message":"request body too large: the limit is 200 bytes; raise client_max_body_size in the nginx location of gemini_pool_admin","code":"request_too_large"\}\}$/,
 qr/"code":"request_too_large"/,
 qr/"total":3\}$/]
--- no_error_log
[alert]
[crit]


=== TEST 9: every route but login needs the admin
--- config
    location /api/ { gemini_pool_admin; }
--- request eval
my @r = ("POST /api/auth/logout", "PUT /api/auth/password\n{}", "GET /api/auth/status",
         "GET /api/accounts", "POST /api/accounts\n{}", "PUT /api/accounts/0\n{}",
         "PATCH /api/accounts/0\n{}", "DELETE /api/accounts/0", "POST /api/accounts/0/toggle",
         "POST /api/accounts/0/test", "GET /api/accounts/0/quota", "GET /api/models",
         "POST /api/models\n{}", "PUT /api/models/x\n{}", "DELETE /api/models/x",
         "GET /api/settings", "PUT /api/settings\n{}", "POST /api/settings\n{}",
         "GET /api/keys", "POST /api/keys\n{}", "POST /api/keys/1/revoke", "DELETE /api/keys/1",
         "GET /api/status", "POST /api/proxy/test\n{}", "GET /api/logs", "GET /api/keys/1/logs",
         "GET /api/keys/1/stats", "GET /api/history", "GET /api/history/1",
         "DELETE /api/history", "DELETE /api/history/1", "GET /api/config/export",
         "POST /api/config/import\n{}");
\@r
--- error_code eval
[(401) x 33]
--- response_body_like eval
[(qr/"code":"unauthorized"/) x 33]


=== TEST 10: the admin secret logs in too, and only the right one
--- config
    location /api/ { gemini_pool_admin; }
--- request eval
["POST /api/auth/login\n{}", "POST /api/auth/login\n{\"secret\":7}",
 "POST /api/auth/login\n{\"secret\":\"blocks-admin-secret-0123456788\"}",
 "POST /api/auth/login\n{\"secret\":\"blocks-admin-secret-0123456789\"}"]
--- error_code eval
[400, 400, 401, 200]
--- response_body_like eval
[qr/^\{"error":\{"message":"\\"password\\" or \\"secret\\" \(a string\) is required","code":"invalid_value"\}\}$/,
 qr/"code":"invalid_value"/,
 qr/^\{"error":\{"message":"wrong admin secret","code":"unauthorized"\}\}$/,
 qr/^\{"success":true,"token":"[0-9a-f]{32}\.[^"]+","expires_at":\d+\}$/]
--- no_error_log
[alert]
[crit]


=== TEST 11: a bad query argument or path segment names itself in the error
--- config
    location /api/ { gemini_pool_admin; }
--- more_headers
X-Admin-Token: blocks-admin-secret-0123456789
--- request eval
["GET /api/logs?limit=0", "GET /api/logs?limit=10&before=x",
 "GET /api/logs?key_id=-1", "GET /api/keys/zz/logs",
 "GET /api/history?limit=501", "GET /api/history?offset=-3",
 "GET /api/history?key_id=k", "DELETE /api/history?before=soon",
 "DELETE /api/history/abc", "POST /api/keys/abc/revoke",
 "POST /api/accounts/nobody/toggle", "GET /api/logs?limit=1000&before=1"]
--- error_code eval
[400, 400, 400, 404, 400, 400, 400, 400, 404, 404, 404, 200]
--- response_body eval
['{"error":{"message":"\"limit\" must be 1 to 1000","code":"invalid_value"}}',
 '{"error":{"message":"\"before\" must be a log id","code":"invalid_value"}}',
 '{"error":{"message":"\"key_id\" must be a number","code":"invalid_value"}}',
 '{"error":{"message":"no API key \"zz\"","code":"not_found"}}',
 '{"error":{"message":"\"limit\" must be 1 to 500","code":"invalid_value"}}',
 '{"error":{"message":"\"offset\" must be a number, 0 or more","code":"invalid_value"}}',
 '{"error":{"message":"\"key_id\" must be a number","code":"invalid_value"}}',
 '{"error":{"message":"\"before\" must be a unix time","code":"invalid_value"}}',
 '{"error":{"message":"no history entry \"abc\"","code":"not_found"}}',
 '{"error":{"message":"no API key \"abc\"","code":"not_found"}}',
 '{"error":{"message":"no account \"nobody\"","code":"not_found"}}',
 '{"logs":[]}']
--- no_error_log
[alert]
[crit]


=== TEST 12: a password login is checked in the thread pool (valgrind runs it)
A stored hash of 1,000 iterations keeps the check short under valgrind; the
password is checked in a thread of a pool of two declared with thread_pool,
and the attempt limit counts the wrong ones: with login_attempts 2 the
third is refused unchecked, even the right password.
--- main_config
thread_pool gp_admin threads=2;
--- http_config
gemini_pool_admin_thread_pool gp_admin;
--- timeout: 10
--- gp_setup
sql("INSERT OR REPLACE INTO admin (key, value) VALUES ('password_hash', "
    . "'pbkdf2_sha256\$1000\$00112233445566778899aabbccddeeff\$"
    . "fc53a38d0035508cefef756b5d4b63b04b7c0f0bb395d93578ce5b94edd95afc')");
--- config
    location /api/ { gemini_pool_admin; }
--- request eval
["POST /api/auth/login\n{\"password\":\"blocks password 1\"}",
 "POST /api/auth/login\n{\"password\":\"blocks password 2\"}",
 "PUT /api/settings\n{\"login_attempts\":2}",
 "POST /api/auth/login\n{\"password\":\"blocks password 3\"}",
 "POST /api/auth/login\n{\"password\":\"blocks password 1\"}",
 "PUT /api/settings\n{\"login_attempts\":0}"]
--- more_headers eval
["", "", "X-Admin-Token: blocks-admin-secret-0123456789", "", "",
 "X-Admin-Token: blocks-admin-secret-0123456789"]
--- error_code eval
[200, 401, 200, 401, 429, 400]
--- response_body_like eval
[qr/^\{"success":true,"token":"[0-9a-f]{32}\.[^"]+","expires_at":\d+\}$/,
 qr/^\{"error":\{"message":"wrong password","code":"unauthorized"\}\}$/,
 qr/"login_attempts":\{[^}]*"value":2/,
 qr/^\{"error":\{"message":"wrong password","code":"unauthorized"\}\}$/,
 qr/^\{"error":\{"message":"too many failed logins from this address; try again in \d+ s","code":"too_many_attempts"\}\}$/,
 qr/"login_attempts\\": must be an integer from 1 to 1000/]
--- no_error_log
[alert]
[crit]
