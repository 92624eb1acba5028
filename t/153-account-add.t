# POST /api/accounts names every problem of a body at once, in Test::Nginx
# blocks (so that it also runs under valgrind): all required fields
# missing, several invalid ones with the missing ones, the fields of the
# error ("message" and "code" as before, "missing" and "invalid" lists),
# and nothing is added until the body is right.

use lib 't/lib';
BEGIN { $ENV{ADMIN_SECRET_KEY} = 'addacct-admin-secret-0123456789' }
use Test::Nginx::Socket 'no_plan';
use GeminiPool;

no_long_string();
log_level('info');
run_tests();

__DATA__

=== TEST 1: every missing field at once
--- config
    location /api/ { gemini_pool_admin; }
--- more_headers
X-Admin-Token: addacct-admin-secret-0123456789
--- request eval
["POST /api/accounts\n{}",
 "POST /api/accounts\n{\"name\":\"half\",\"csesidx\":\"12\",\"host_c_oses\":\"h\"}",
 "POST /api/accounts\n{\"team_id\":\"\",\"csesidx\":null,\"secure_c_ses\":\"s\"}",
 "GET /api/accounts"]
--- error_code eval
[400, 400, 400, 200]
--- response_body_like eval
[qr/^\{"error":\{"message":"\\"team_id\\", \\"csesidx\\" and \\"secure_c_ses\\" are required","code":"missing_field","missing":\["team_id","csesidx","secure_c_ses"\],"invalid":\[\]\}\}$/,
 qr/^\{"error":\{"message":"\\"team_id\\" and \\"secure_c_ses\\" are required","code":"missing_field","missing":\["team_id","secure_c_ses"\],"invalid":\[\]\}\}$/,
 qr/^\{"error":\{"message":"\\"team_id\\" and \\"csesidx\\" are required","code":"missing_field","missing":\["team_id","csesidx"\],"invalid":\[\]\}\}$/,
 qr/"total":3\}$/]
--- no_error_log
[alert]
[crit]


=== TEST 2: every invalid field at once, with the missing ones
--- config
    location /api/ { gemini_pool_admin; }
--- more_headers
X-Admin-Token: addacct-admin-secret-0123456789
--- request eval
["POST /api/accounts\n{\"csesidx\":\"12a\",\"proxy\":\"ftp://p\",\"enabled\":\"yes\",\"name\":7}",
 "PATCH /api/accounts/0\n{\"csesidx\":\"x\",\"user_agent\":[]}",
 "GET /api/accounts"]
--- error_code eval
[400, 400, 200]
--- response_body_like eval
[qr/^\{"error":\{"message":"\\"name\\" must be a string; \\"csesidx\\" must be digits; \\"proxy\\" must be \\"direct\\" or an http:\/\/, https:\/\/, socks5:\/\/ or socks5h:\/\/ URL; \\"enabled\\" must be true or false; \\"team_id\\" and \\"secure_c_ses\\" are required","code":"invalid_value","missing":\["team_id","secure_c_ses"\],"invalid":\["name","csesidx","proxy","enabled"\]\}\}$/,
 qr/^\{"error":\{"message":"\\"csesidx\\" must be digits; \\"user_agent\\" must be a string","code":"invalid_value","missing":\[\],"invalid":\["csesidx","user_agent"\]\}\}$/,
 qr/^\{"accounts":\[\{"index":0,"id":1,"name":"acc1",.*"total":3\}$/]
--- no_error_log
[alert]
[crit]


=== TEST 3: the body made right is added
--- config
    location /api/ { gemini_pool_admin; }
--- more_headers
X-Admin-Token: addacct-admin-secret-0123456789
--- request eval
["POST /api/accounts\n{\"name\":\"half\",\"csesidx\":\"12\"}",
 "POST /api/accounts\n{\"name\":\"half\",\"csesidx\":\"12\",\"team_id\":\"t12\",\"secure_c_ses\":\"s12\"}",
 "GET /api/accounts"]
--- error_code eval
[400, 201, 200]
--- response_body_like eval
[qr/"missing":\["team_id","secure_c_ses"\]/,
 qr/"success":true,"id":4/,
 qr/"name":"half","team_id":"t12","csesidx":"12".*"total":4\}$/]
