# The admin API's answers the console's login page and key form rely on
# (issue 15, "Smaller"): GET /api/auth/login says, without a login,
# whether a password is set (the page opens on the mode that can work);
# POST /api/keys refuses a key without a name, naming the field.  In
# Test::Nginx blocks, so that they also run under valgrind.

use lib 't/lib';
BEGIN { $ENV{ADMIN_SECRET_KEY} = 'small-admin-secret-0123456789' }
use Test::Nginx::Socket 'no_plan';
use GeminiPool;

no_long_string();
log_level('info');
run_tests();

__DATA__

=== TEST 1: the login page asks whether a password is set: not yet, then yes
--- gp_setup
sql("DELETE FROM admin WHERE key = 'password_hash'");
--- config
    location /api/ { gemini_pool_admin; }
--- request eval
["GET /api/auth/login",
 "POST /api/auth/login\n{\"password\":\"whatever 1\"}",
 "PUT /api/auth/password\n{\"password\":\"small password 1\"}",
 "GET /api/auth/login",
 "POST /api/auth/login\n{\"password\":\"small password 1\"}"]
--- more_headers eval
["", "", "X-Admin-Token: small-admin-secret-0123456789", "", ""]
--- error_code eval
[200, 403, 200, 200, 200]
--- response_body_like eval
[qr/^\{"password_set":false\}$/,
 qr/"code":"no_password"/,
 qr/^\{"success":true\}$/,
 qr/^\{"password_set":true\}$/,
 qr/^\{"success":true,"token":"/]
--- no_error_log
[alert]
[crit]


=== TEST 2: the answer needs no login and gives nothing else away
--- gp_setup
sql("DELETE FROM admin WHERE key = 'password_hash'");
--- config
    location /api/ { gemini_pool_admin; }
--- request
GET /api/auth/login
--- more_headers
Cookie: gp_admin=forged.value
--- error_code: 200
--- response_headers
Content-Type: application/json
--- response_body chomp
{"password_set":false}


=== TEST 3: a key without a name is refused, the field named; nothing stored
--- gp_setup
sql("DELETE FROM api_keys");
--- config
    location /api/ { gemini_pool_admin; }
--- more_headers
X-Admin-Token: small-admin-secret-0123456789
--- request eval
["POST /api/keys\n{}",
 "POST /api/keys\n{\"name\":\"\"}",
 "POST /api/keys\n{\"name\":\"  \\t \"}",
 "POST /api/keys\n{\"name\":null,\"rpm\":5}",
 "POST /api/keys\n{\"name\":7}",
 "GET /api/keys",
 "POST /api/keys\n{\"name\":\"named\"}",
 "GET /api/keys"]
--- error_code eval
[400, 400, 400, 400, 400, 200, 201, 200]
--- response_body_like eval
[qr/^\{"error":\{"message":"\\"name\\" is required: a key needs a name","code":"missing_field"\}\}$/,
 qr/^\{"error":\{"message":"\\"name\\" is required: a key needs a name","code":"missing_field"\}\}$/,
 qr/^\{"error":\{"message":"\\"name\\" is required: a key needs a name","code":"missing_field"\}\}$/,
 qr/"code":"(?:missing_field|invalid_value)"/,
 qr/"code":"invalid_value"/,
 qr/^\{"keys":\[\]\}$/,
 qr/^\{"success":true,"id":\d+,"key":"sk-gp-\w+","name":"named"\}$/,
 qr/^\{"keys":\[\{"id":\d+,"name":"named",/]
--- no_error_log
[alert]
[crit]
