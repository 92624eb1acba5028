# Re-login in Test::Nginx blocks (so that the helper's checks, a login
# attempt and the admin routes also run under valgrind with the rest of
# the Test::Nginx suites); t/100-relogin.t tests them in depth.

use lib 't/lib';
BEGIN { $ENV{ADMIN_SECRET_KEY} = 'blocks-admin-secret-0123456789' }
use Test::Nginx::Socket 'no_plan';
use GeminiPool;

no_long_string();
log_level('info');
run_tests();

__DATA__

=== TEST 1: a check marks the account with a 401 expired, not the one with a 500
--- gp_setup
setting('cookie_check_interval', 'int', '1');
mock_post('/__mock/inject', [
    {account => 'acc2', endpoint => 'getoxsrf', times => -1,
     action => {expired => JSON::PP::true}},
    {account => 'acc3', endpoint => 'getoxsrf', times => -1,
     action => {status => 500, body => 'oops'}}]);
--- config
    location /api/ { gemini_pool_admin; }
--- more_headers
X-Admin-Token: blocks-admin-secret-0123456789
--- request eval
["GET /api/relogin", "GET /api/accounts"]
--- wait: 8
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/"next_check":\d+/,
 qr/"name":"acc1"[^}]*"cookie_expired":false.*"name":"acc2"[^}]*"cookie_expired":true.*"state":"expired".*"name":"acc3"[^}]*"cookie_expired":false/]


=== TEST 2: an expired account with a mailbox gets a login; its record
--- gp_setup
setting('auto_refresh_cookies', 'bool', 'true');
sql("UPDATE accounts SET cookie_expired = 1, tempmail_name = 'box2', "
    . "tempmail_url = 'https://mail.test/?jwt=eyJhbGciOiJIUzI1NiJ9."
    . "eyJhZGRyZXNzIjoiYm94MkBtYWlsLnRlc3QifQ.c2ln' WHERE name = 'acc2'");
sql("DELETE FROM relogin_history");
--- config
    location /api/ { gemini_pool_admin; }
--- more_headers
X-Admin-Token: blocks-admin-secret-0123456789
--- request eval
["GET /api/accounts", "GET /api/relogin/history", "GET /api/relogin",
 "POST /api/accounts/2/refresh-cookie", "POST /api/accounts/1/refresh-cookie",
 "GET /api/accounts"]
--- wait: 1
--- error_code eval
[200, 200, 200, 400, 202, 200]
--- response_body_like eval
[qr/"mailbox":\{"set":true,"name":"box2","address":"box2\@mail.test"\}/,
 qr/^\{"history":\[\{"id":1,"account_id":2,"account":"acc2",.*"status":"no_browser".*"manual":false\}\],"total":1\}$/,
 qr/"browser":\{"ok":false,"error":"no browser configured \(the gemini_pool_browser directive\)"/,
 qr/"code":"no_mailbox"/,
 qr/"ok":true,"queued":true,"id":2/,
 qr/"name":"acc2".*"relogin":\{"state":"(queued|failed)"/]


=== TEST 3: pasted cookies are checked before they are saved
--- gp_setup
sql("UPDATE accounts SET cookie_expired = 1 WHERE name = 'acc2'");
mock_post('/__mock/accounts', {name => 'acc2', csesidx => '1404564702',
    team_id => 'd2d3798a-46bc-5389-9ff4-4ec2b3e213dd',
    secure_c_ses => 'CSE.acc2-new', host_c_oses => 'COS.acc2-new'});
--- config
    location /api/ { gemini_pool_admin; }
--- more_headers
X-Admin-Token: blocks-admin-secret-0123456789
--- request eval
["POST /api/accounts/1/cookies\n{\"secure_c_ses\":\"bogus\",\"csesidx\":\"1404564702\"}",
 "POST /api/accounts/1/cookies\n{\"secure_c_ses\":\"CSE.acc2-new\",\"host_c_oses\":\"COS.acc2-new\",\"csesidx\":\"1404564702\"}",
 "GET /api/accounts"]
--- error_code eval
[422, 200, 200]
--- response_body_like eval
[qr/"code":"cookies_refused"/, qr/"saved":true/,
 qr/"name":"acc2"[^}]*"cookie_expired":false/]
