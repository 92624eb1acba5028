# The accounts at scale (issue 15, item 3): GET /api/accounts with q,
# state, sort, order, offset, limit and ids=1 answers one page of the
# matching accounts with their number, and names a bad parameter;
# without parameters it answers as before.  POST /api/accounts/bulk runs
# enable, disable, delete or test on many accounts and answers per id; a
# test's result and the last error show with their time, and the error
# goes after a recovery.  In Test::Nginx blocks, so that they also run
# under valgrind.

use lib 't/lib';
BEGIN { $ENV{ADMIN_SECRET_KEY} = 'accounts-page-secret-0123456789' }
use Test::Nginx::Socket 'no_plan';
use GeminiPool;

no_long_string();
log_level('info');
timeout(30) if $ENV{TEST_NGINX_USE_VALGRIND};   # a loaded machine
run_tests();

__DATA__

=== TEST 1: without parameters the list is as before (all, "total")
--- gp_setup
set_accounts(8);
--- config
    location /api/ { gemini_pool_admin; }
--- more_headers
X-Admin-Token: accounts-page-secret-0123456789
--- request
GET /api/accounts
--- error_code: 200
--- response_body_like chomp
^\{"accounts":\[\{"index":0,"id":1,"name":"acc1",.*"name":"acc8",.*\],"total":8\}$
--- no_error_log
[alert]
[crit]


=== TEST 2: a page: offset and limit, the number that match and of all,
the states
--- gp_setup
set_accounts(8);
--- config
    location /api/ { gemini_pool_admin; }
--- more_headers
X-Admin-Token: accounts-page-secret-0123456789
--- request
GET /api/accounts?offset=2&limit=3
--- error_code: 200
--- response_body_like chomp
^\{"accounts":\[\{"index":2,"id":3,"name":"acc3",[^\]]*"name":"acc4",[^\]]*"id":5,"name":"acc5",[^\]]*\],"total":8,"all":8,"offset":2,"limit":3,"states":\{"available":8,"cooling":0,"expired":0,"disabled":0\},"sort":"index","order":"asc"\}$
--- no_error_log
[alert]
[crit]


=== TEST 3: search by name, team id and last error; sorted by name
descending; the ids of all matches
--- gp_setup
set_accounts(8);
sql("UPDATE accounts SET name = 'Zeta-' || name WHERE id IN (2, 6)");
sql("UPDATE accounts SET team_id = 'team-zeta' WHERE id = 7");
--- config
    location /api/ { gemini_pool_admin; }
--- more_headers
X-Admin-Token: accounts-page-secret-0123456789
--- request eval
["GET /api/accounts?q=zeta&sort=name&order=desc&ids=1&limit=2",
 "GET /api/accounts?q=TEAM-ZETA",
 "GET /api/accounts?q=nothing+like+it&ids=1"]
--- error_code eval
[200, 200, 200]
--- response_body_like eval
[qr/^\{"accounts":\[\{"index":5,"id":6,"name":"Zeta-acc6",.*"id":2,"name":"Zeta-acc2",.*\],"total":3,"all":8,"offset":0,"limit":2,.*"sort":"name","order":"desc","ids":\[6,2,7\]\}$/,
 qr/^\{"accounts":\[\{"index":6,"id":7,"name":"acc7",[^\]]*\],"total":1,.*\}$/,
 qr/^\{"accounts":\[\],"total":0,"all":8,.*"ids":\[\]\}$/]
--- no_error_log
[alert]
[crit]


=== TEST 4: sorted by state (disabled last), by requests; filtered by
state
--- gp_setup
set_accounts(4);
sql("UPDATE accounts SET enabled = 0 WHERE id = 1");
--- config
    location /api/ { gemini_pool_admin; }
--- more_headers
X-Admin-Token: accounts-page-secret-0123456789
--- request eval
["GET /api/accounts?sort=state",
 "GET /api/accounts?sort=state&order=desc&limit=1",
 "GET /api/accounts?state=disabled",
 "GET /api/accounts?sort=cooldown&order=desc&limit=1"]
--- error_code eval
[200, 200, 200, 200]
--- response_body_like eval
[qr/^\{"accounts":\[\{"index":1,"id":2,.*"id":3,.*"id":4,.*"id":1,"name":"acc1",.*"state":"disabled".*\],"total":4,.*"states":\{"available":3,"cooling":0,"expired":0,"disabled":1\},.*\}$/,
 qr/^\{"accounts":\[\{"index":0,"id":1,[^\]]*\],"total":4,/,
 qr/^\{"accounts":\[\{"index":0,"id":1,[^\]]*\],"total":1,/,
 qr/^\{"accounts":\[\{"index":0,"id":1,[^\]]*\],"total":4,"all":4,"offset":0,"limit":1,.*"sort":"cooldown"/]
--- no_error_log
[alert]
[crit]


=== TEST 5: bad parameters are named
--- config
    location /api/ { gemini_pool_admin; }
--- more_headers
X-Admin-Token: accounts-page-secret-0123456789
--- request eval
["GET /api/accounts?sort=colour",
 "GET /api/accounts?order=up",
 "GET /api/accounts?limit=0",
 "GET /api/accounts?limit=1001",
 "GET /api/accounts?offset=-1",
 "GET /api/accounts?state=sleepy",
 "GET /api/accounts?ids=yes",
 "GET /api/accounts?q=" . ("x" x 129)]
--- error_code eval
[400, 400, 400, 400, 400, 400, 400, 400]
--- response_body_like eval
[qr/"message":"\\"sort\\" must be one of index, name, state, requests, failures, last_used, cooldown"/,
 qr/"\\"order\\" must be asc or desc"/,
 qr/"\\"limit\\" must be 1 to 1000"/,
 qr/"\\"limit\\" must be 1 to 1000"/,
 qr/"\\"offset\\" must be a number, 0 or more"/,
 qr/"\\"state\\" must be one of available, cooling, expired, disabled"/,
 qr/"\\"ids\\" must be 0 or 1"/,
 qr/"\\"q\\" must be at most 128 bytes"/]
--- no_error_log
[alert]
[crit]


=== TEST 6: bulk disable, enable and delete answer per id (an unknown id
is named, the others done in one go)
--- gp_setup
set_accounts(5);
--- config
    location /api/ { gemini_pool_admin; }
--- more_headers
X-Admin-Token: accounts-page-secret-0123456789
--- request eval
["POST /api/accounts/bulk\n{\"action\":\"disable\",\"ids\":[1,3,99,3]}",
 "GET /api/accounts?state=disabled&ids=1",
 "POST /api/accounts/bulk\n{\"action\":\"enable\",\"ids\":[3]}",
 "GET /api/accounts?state=disabled&ids=1",
 "POST /api/accounts/bulk\n{\"action\":\"delete\",\"ids\":[4,5]}",
 "GET /api/accounts?ids=1"]
--- error_code eval
[200, 200, 200, 200, 200, 200]
--- response_body_like eval
[qr/^\{"action":"disable","results":\[\{"id":1,"ok":true\},\{"id":3,"ok":true\},\{"id":99,"ok":false,"error":"not_found"\}\],"ok":2,"failed":1\}$/,
 qr/"total":2,.*"ids":\[1,3\]\}$/,
 qr/^\{"action":"enable","results":\[\{"id":3,"ok":true\}\],"ok":1,"failed":0\}$/,
 qr/"total":1,.*"ids":\[1\]\}$/,
 qr/^\{"action":"delete","results":\[\{"id":4,"ok":true\},\{"id":5,"ok":true\}\],"ok":2,"failed":0\}$/,
 qr/"total":3,"all":3,.*"ids":\[1,2,3\]\}$/]
--- no_error_log
[alert]
[crit]


=== TEST 7: bad bulk bodies are named
--- config
    location /api/ { gemini_pool_admin; }
--- more_headers
X-Admin-Token: accounts-page-secret-0123456789
--- request eval
["POST /api/accounts/bulk\n{\"action\":\"explode\",\"ids\":[1]}",
 "POST /api/accounts/bulk\n{\"ids\":[1]}",
 "POST /api/accounts/bulk\n{\"action\":\"enable\",\"ids\":[]}",
 "POST /api/accounts/bulk\n{\"action\":\"enable\",\"ids\":\"1,2\"}",
 "POST /api/accounts/bulk\n{\"action\":\"enable\",\"ids\":[1,\"two\"]}",
 "POST /api/accounts/bulk\n{\"action\":\"enable\",\"ids\":[1,0]}"]
--- error_code eval
[400, 400, 400, 400, 400, 400]
--- response_body_like eval
[qr/"\\"action\\" must be one of enable, disable, delete, test"/,
 qr/"\\"action\\" must be one of enable, disable, delete, test"/,
 qr/"\\"ids\\" must be a list of 1 to 10000 account ids"/,
 qr/"\\"ids\\" must be a list of 1 to 10000 account ids"/,
 qr/"\\"ids\\"\[1\] is not an account id \(a number above 0\)"/,
 qr/"\\"ids\\"\[1\] is not an account id \(a number above 0\)"/]
--- no_error_log
[alert]
[crit]


=== TEST 8: a bulk test answers per id (a failure with its status and
error, an unknown id); the results and the last error show on the rows
with their time; a success clears the error
--- gp_setup
set_accounts(3);
mock_post('/__mock/reset');
mock_post('/__mock/inject', {account => 'acc2', endpoint => 'getoxsrf',
                             action => {expired => JSON::PP::true}});
--- config
    location /api/ { gemini_pool_admin; }
--- timeout: 20
--- more_headers
X-Admin-Token: accounts-page-secret-0123456789
--- request eval
["POST /api/accounts/bulk\n{\"action\":\"test\",\"ids\":[1,2,3,77]}",
 "GET /api/accounts?q=acc2",
 "POST /api/accounts/bulk\n{\"action\":\"test\",\"ids\":[2]}",
 "GET /api/accounts?q=acc2"]
--- error_code eval
[200, 200, 200, 200]
--- response_body_like eval
[qr/^\{"action":"test","results":\[\{"id":1,"ok":true,"status":200\},\{"id":2,"ok":false,"status":401,"error":"[^"]*401[^"]*"\},\{"id":3,"ok":true,"status":200\},\{"id":77,"ok":false,"error":"not_found"\}\],"ok":2,"failed":2\}$/,
 qr/"last_error":"[^"]*401[^"]*",.*"last_error_at":[1-9]\d+,"test":\{"at":[1-9]\d+,"ok":false,"status":401\}/,
 qr/^\{"action":"test","results":\[\{"id":2,"ok":true,"status":200\}\],"ok":1,"failed":0\}$/,
 qr/"last_error":"",.*"last_error_at":[1-9]\d+,"test":\{"at":[1-9]\d+,"ok":true,"status":200\}/]
--- no_error_log
[alert]
[crit]


=== TEST 9: the last error and its time come back from SQLite at a start
--- gp_setup
set_accounts(2);
sql("INSERT INTO account_state (account_id, last_error, last_error_at) "
    . "VALUES (2, 'streamAssist answered 503: busy', 1700000000)");
--- config
    location /api/ { gemini_pool_admin; }
--- more_headers
X-Admin-Token: accounts-page-secret-0123456789
--- request
GET /api/accounts?q=busy
--- error_code: 200
--- response_body_like chomp
"id":2,.*"last_error":"streamAssist answered 503: busy",.*"last_error_at":1700000000,"test":null
--- no_error_log
[alert]
[crit]
