# Configuration export and import in Test::Nginx blocks (so that the
# import and export paths also run under valgrind with the other
# Test::Nginx suites); t/082-migration.t has the full story.

use lib 't/lib';
BEGIN { $ENV{ADMIN_SECRET_KEY} = 'migration-blocks-secret-0123456789' }
use Test::Nginx::Socket 'no_plan';
use GeminiPool;

our ($REF_DB, $REF_JSON);

BEGIN {
    my $fix = "$GeminiPool::ROOT/t/fixtures/reference";
    my $db = "$GeminiPool::ROOT/t/tmp/084_geminibusiness.db";
    unlink $db;
    system("sqlite3 '$db' < '$fix/geminibusiness.sql'") == 0
        or die "sqlite3 cannot build $db\n";
    for ([\$REF_DB, $db], [\$REF_JSON, "$fix/business_gemini_session.json"])
    {
        open my $fh, '<:raw', $_->[1] or die "$_->[1]: $!";
        local $/;
        ${ $_->[0] } = <$fh>;
    }
    unlink $db;
}

no_long_string();
log_level('info');
run_tests();

__DATA__

=== TEST 1: the export leaves secrets out unless asked, the import needs the admin
--- config
    location /api/ { gemini_pool_admin; }
--- request eval
["GET /api/config/export", "GET /api/config/export?secrets=1",
 "GET /api/config/export", "POST /api/config/import\n{\"accounts\":[]}"]
--- more_headers eval
["X-Admin-Token: migration-blocks-secret-0123456789",
 "X-Admin-Token: migration-blocks-secret-0123456789", "", ""]
--- error_code eval
[200, 200, 401, 401]
--- response_body_like eval
[qr/^\{"format":"ngx_gemini_pool","version":1,"schema":\d+,"exported_at":\d+,"secrets":false,"accounts":\[\{"name":"acc1",(?!.*CSE\.acc).*"secure_c_ses_set":true/,
 qr/^\{"format":"ngx_gemini_pool",.*"secrets":true,.*"secure_c_ses":"CSE\.acc1-/,
 qr/"code":"unauthorized"/, qr/"code":"unauthorized"/]
--- response_headers_like eval
["Content-Disposition: attachment; filename=\"gemini-pool-config-\\d{8}-\\d{6}\\.json\"",
 "Content-Disposition: attachment; filename=\"gemini-pool-config-\\d{8}-\\d{6}-secrets\\.json\"",
 "", ""]
--- no_error_log
[alert]
[crit]


=== TEST 2: business_gemini_session.json: accounts that chat
--- config
    location /api/ { gemini_pool_admin; }
    location /v1/ {
        add_header X-Account $gemini_pool_account;
        gemini_pool_api;
    }
--- request eval
["POST /api/config/import\n$::REF_JSON",
 "GET /api/accounts",
 "POST /v1/chat/completions\n{\"model\":\"gemini-enterprise\",\"messages\":[{\"role\":\"user\",\"content\":\"migrated\"}]}"]
--- more_headers
X-Admin-Token: migration-blocks-secret-0123456789
--- error_code eval
[200, 200, 200]
--- response_body_like eval
[qr/^\{"format":"reference-json","dry_run":false,"imported":\{"accounts":2,"models":1,"settings":\d+,"api_keys":0\},"updated":\[.*\],"skipped":\[.*"admin_secret_key: not imported/,
 qr/"name":"ref7\@mail\.example\.test".*"total":5\}$/,
 qr/echo: migrated/]
--- no_error_log
[alert]
[crit]


=== TEST 3: geminibusiness.db: its API keys work
--- config
    location /api/ { gemini_pool_admin; }
    location /v1/ { gemini_pool_api_keys on; gemini_pool_api; }
--- request eval
["POST /api/config/import?dry_run=1\n$::REF_DB",
 "GET /v1/models",
 "POST /api/config/import\n$::REF_DB",
 "GET /v1/models"]
--- more_headers eval
["X-Admin-Token: migration-blocks-secret-0123456789\nContent-Type: application/x-sqlite3\nContent-Length: " . length($::REF_DB),
 "Authorization: Bearer 8f14e45f-ceea-467f-a0e6-3f8e1c2b9d01",
 "X-Admin-Token: migration-blocks-secret-0123456789\nContent-Type: application/octet-stream\nContent-Length: " . length($::REF_DB),
 "Authorization: Bearer 8f14e45f-ceea-467f-a0e6-3f8e1c2b9d01"]
--- error_code eval
[200, 401, 200, 200]
--- response_body_like eval
[qr/^\{"format":"reference-db","dry_run":true,"imported":\{"accounts":4,"models":6,"settings":7,"api_keys":3\}/,
 qr/"code":"invalid_api_key"/,
 qr/^\{"format":"reference-db","dry_run":false,"imported":\{"accounts":4,"models":6,"settings":7,"api_keys":3\}/,
 qr/"id":"gemini-business-pro"/]
--- no_error_log
[alert]
[crit]


=== TEST 4: bad files: a clear error, nothing changed
--- config
    location /api/ { client_max_body_size 64k; gemini_pool_admin; }
--- more_headers
X-Admin-Token: migration-blocks-secret-0123456789
--- request eval
["POST /api/config/import\n{\"accounts\":",
 "POST /api/config/import\n{\"accounts\":[{\"team_id\":\"t\",\"csesidx\":\"1\",\"secure_c_ses\":\"s\"},{\"csesidx\":\"2\",\"secure_c_ses\":\"s\"}]}",
 "POST /api/config/import\n{\"format\":\"ngx_gemini_pool\",\"version\":1,\"settings\":{\"show_thoughts\":3}}",
 "POST /api/config/import\nSQLite format 3\x00" . ("\x00" x 200),
 "POST /api/config/import\n" . ("x" x 70000),
 "GET /api/accounts"]
--- error_code eval
[400, 400, 400, 400, 413, 200]
--- response_body_like eval
[qr/"message":"the body is not JSON \(line 1, column \d+: [^"]+\) nor an SQLite database; nothing was changed","code":"invalid_import"/,
 qr/"message":"accounts\[1\]\.team_id: missing; nothing was changed"/,
 qr/"message":"settings\.show_thoughts: must be true or false; nothing was changed"/,
 qr/"code":"invalid_import"/,
 qr/^\{"error":\{"message":"request body too large: the limit is 65536 bytes; raise client_max_body_size in the nginx location of gemini_pool_admin","code":"request_too_large"\}\}$/,
 qr/^\{"accounts":\[.*\],"total":3\}$/]
--- no_error_log
[alert]
[crit]
