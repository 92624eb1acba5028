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

=== TEST 1: the login page asks whether a password is set: not yet
--- gp_setup
sql("DELETE FROM admin WHERE key = 'password_hash'");
--- config
    location /api/ { gemini_pool_admin; }
--- request eval
["GET /api/auth/login",
 "POST /api/auth/login\n{\"password\":\"whatever 1\"}"]
--- error_code eval
[200, 403]
--- response_body_like eval
[qr/^\{"password_set":false\}$/,
 qr/"code":"no_password"/]
--- no_error_log
[alert]
[crit]


=== TEST 2: once one is set, it says so (a hash of 1,000 iterations, quick
under valgrind), and the password logs in
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
["GET /api/auth/login",
 "POST /api/auth/login\n{\"password\":\"blocks password 1\"}"]
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/^\{"password_set":true\}$/,
 qr/^\{"success":true,"token":"/]
--- no_error_log
[alert]
[crit]


=== TEST 3: the answer needs no login and gives nothing else away
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


=== TEST 4: a key without a name is refused, the field named; nothing stored
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
