# The admin API: authentication, accounts (and the remote-sync receiver),
# settings, API keys on /v1, status.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use JSON::PP;
use GeminiPool ':plain';
use GeminiPool::Server;
use GeminiPool::Network;
use Digest::SHA ();

my $SECRET = 'test-admin-secret-0123456789';
$ENV{ADMIN_SECRET_KEY} = $SECRET;

my $json = JSON::PP->new->utf8->canonical;
my $http = HTTP::Tiny->new(timeout => 10, max_redirect => 0);

my $srv = GeminiPool::Server->new(
    name => 'admin', master => 1, workers => 2,
    server => <<'END');
    location /api/ { gemini_pool_admin; }
    location /v1/ { gemini_pool_api_keys on; gemini_pool_api; }
    location /open/v1/ { gemini_pool_api; }
    location = /health { gemini_pool_health; }
    location = /metrics { gemini_pool_metrics; }
END
$srv->start;

sub req {
    my ($method, $path, $body, %h) = @_;
    my $res = $http->request($method, $srv->url($path), {
        headers => {%h},
        (defined $body ? (content => ref $body ? $json->encode($body) : $body)
                       : ()),
    });
    my $data = eval { $json->decode($res->{content}) };
    return ($res->{status}, $data, $res);
}

sub admin { req(@_[0 .. 2], 'X-Admin-Token' => $SECRET) }

my ($st, $d, $res);

# authentication

($st, $d) = req('GET', '/api/accounts');
is($st, 401, 'no credentials: 401');
is($d->{error}{code}, 'unauthorized', 'a JSON error');

($st) = req('GET', '/api/accounts', undef, 'X-Admin-Token' => 'wrong');
is($st, 401, 'a wrong X-Admin-Token: 401');

($st, $d, $res) = admin('GET', '/api/accounts');
is($st, 200, 'the admin secret as X-Admin-Token lists the accounts');
is($d->{total}, 3, 'three accounts');
is($d->{accounts}[0]{name}, 'acc1', 'by position');
ok($d->{accounts}[0]{secure_c_ses_set}, 'it says the cookie is set');
unlike($res->{content}, qr/CSE\.acc|COS\.acc/, 'but never returns cookies');

($st, $d) = admin('GET', '/api/nothing');
is($st, 404, 'unknown path: 404');
($st, $d) = admin('DELETE', '/api/settings');
is($st, 405, 'wrong method: 405');

# accounts: add, bad input, update, toggle, delete

($st, $d) = admin('POST', '/api/accounts', '{"team_id": ');
is($st, 400, 'not JSON: 400');
is($d->{error}{code}, 'invalid_json', 'invalid_json');

($st, $d) = admin('POST', '/api/accounts',
                  {team_id => 't', csesidx => '12a', secure_c_ses => 's'});
is($st, 400, 'csesidx with a letter: 400');
like($d->{error}{message}, qr/csesidx/, 'names the field');

($st, $d) = admin('POST', '/api/accounts', {csesidx => '1', secure_c_ses => 's'});
is($st, 400, 'no team_id: 400');

($st, $d) = admin('POST', '/api/accounts',
                  {team_id => 't', csesidx => 5, secure_c_ses => 's'});
is($st, 400, 'a number where a string belongs: 400');

# account secrets are sealed as the admin API writes them: a trigger
# records what reaches SQLite before any load could seal it

GeminiPool::sql("CREATE TABLE t_acc_audit (c TEXT, h TEXT, p TEXT); "
    . "CREATE TRIGGER t_acc_i AFTER INSERT ON accounts BEGIN "
    . "INSERT INTO t_acc_audit VALUES (new.secure_c_ses, new.host_c_oses, "
    . "new.proxy); END; CREATE TRIGGER t_acc_u AFTER UPDATE ON accounts "
    . "BEGIN INSERT INTO t_acc_audit VALUES (new.secure_c_ses, "
    . "new.host_c_oses, new.proxy); END;");
($st, $d) = admin('POST', '/api/accounts', {name => 'sealed', team_id => 'ts',
                  csesidx => '77', secure_c_ses => 'CSE.clear-cookie-1',
                  host_c_oses => 'HOST.clear-cookie-2',
                  proxy => 'http://u:clear-pw-3@127.0.0.1:9'});
is($st, 201, 'an account with secrets is added');
my $sealed = $d->{id};
($st) = admin('PUT', "/api/accounts/id:$sealed",
              {secure_c_ses => 'CSE.clear-cookie-4'});
is($st, 200, 'and its cookie updated');
my $acc_audit = GeminiPool::sql("SELECT group_concat(c || ' ' || h || ' ' "
                                . "|| p, ' | ') FROM t_acc_audit");
unlike($acc_audit, qr/clear-(cookie|pw)/,
       'no cookie or proxy reached SQLite in clear');
like($acc_audit, qr/^enc:v1:/, 'they were written sealed');
GeminiPool::sql("DROP TRIGGER t_acc_i; DROP TRIGGER t_acc_u; "
                . "DROP TABLE t_acc_audit");
($st) = admin('DELETE', "/api/accounts/id:$sealed");
is($st, 200, 'and deleted');

($st, $d) = admin('POST', '/api/accounts', {name => 'acc4', team_id => 't4',
                  csesidx => '1404564704', secure_c_ses => 'CSE.x',
                  proxy => 'socks5://u:pw@127.0.0.1:9'});
is($st, 201, 'an account is added');
my $acc4 = $d->{id};

($st, $d, $res) = admin('GET', '/api/accounts');
is($d->{total}, 4, 'and listed at once, by every worker');
is($d->{accounts}[3]{proxy}, 'socks5://***@127.0.0.1:9',
   'its proxy credentials are masked');
unlike($res->{content}, qr/pw\@/, 'never shown');

($st, $d) = admin('POST', "/api/accounts/id:$acc4/toggle");
is($st, 200, 'toggle by a stable id');
($st, $d) = admin('GET', '/api/accounts');
ok(!$d->{accounts}[3]{enabled}, 'the account is disabled');

($st, $d) = admin('PUT', '/api/accounts/3', {name => 'renamed'});
is($st, 200, 'a partial update by position');
($st, $d) = admin('GET', '/api/accounts');
is($d->{accounts}[3]{name}, 'renamed', 'changes the field');
is($d->{accounts}[3]{team_id}, 't4', 'and leaves the others');

($st, $d) = admin('DELETE', "/api/accounts/id:$acc4");
is($st, 200, 'delete');
($st, $d) = admin('DELETE', "/api/accounts/id:$acc4");
is($st, 404, 'deleting it again: 404');
($st, $d) = admin('PUT', '/api/accounts/zz', {name => 'x'});
is($st, 404, 'a malformed account reference: 404');

# the remote-sync receiver (reference-shaped push)

GeminiPool::mock_post('/__mock/inject', {account => 'acc1',
    endpoint => 'getoxsrf', action => {expired => JSON::PP::true}});
($st) = req('POST', '/open/v1/chat/completions',
            {messages => [{role => 'user', content => 'x'}]});
is($st, 200, 'a chat that finds acc1 expired fails over');

($st, $d) = req('GET', '/health?detail=1');
ok($d->{pool}[0]{cookie_expired}, 'acc1 is cookie-expired');

my $acc = GeminiPool::accounts_file()->[0];
($st, $d) = admin('PUT', '/api/accounts/0', {
    team_id => $acc->{team_id}, secure_c_ses => $acc->{secure_c_ses},
    host_c_oses => $acc->{host_c_oses}, csesidx => $acc->{csesidx},
    user_agent => 'Mozilla/5.0'});
is($st, 200, 'a reference-shaped sync push with X-Admin-Token is accepted');
ok($d->{renewed}, 'and renews the expired account');
($st, $d) = req('GET', '/health?detail=1');
ok(!$d->{pool}[0]{cookie_expired}, 'acc1 is back in rotation');

($st, $d) = admin('PUT', '/api/accounts/5', {
    team_id => 'team-5', secure_c_ses => 'CSE.5', csesidx => '5'});
is($st, 200, 'a push past the end');
($st, $d) = admin('GET', '/api/accounts');
is($d->{total}, 6, 'appends placeholders up to the position');
ok(!$d->{accounts}[4]{enabled} && $d->{accounts}[4]{cookie_expired},
   'placeholders are disabled and expired');
ok($d->{accounts}[5]{enabled} && !$d->{accounts}[5]{cookie_expired},
   'the pushed account is usable');

# login, sessions, logout

($st, $d) = req('POST', '/api/auth/login', {password => 'whatever1'});
is($st, 403, 'no password yet: login refused');
like($d->{error}{message}, qr/PUT \/api\/auth\/password/, 'says how to set one');

($st) = admin('PUT', '/api/auth/password', {password => 'short'});
is($st, 400, 'a short password is refused');
($st) = admin('PUT', '/api/auth/password', {password => 'correct horse'});
is($st, 200, 'the password is set by an authenticated admin');

is(GeminiPool::sql("SELECT value LIKE 'pbkdf2_sha256\$%' FROM admin "
                   . "WHERE key = 'password_hash'"), '1',
   'stored as a salted PBKDF2 hash');

($st) = req('POST', '/api/auth/login', {password => 'wrong horse'});
is($st, 401, 'a wrong password: 401');

($st, $d, $res) = req('POST', '/api/auth/login',
                      {password => 'correct horse'});
is($st, 200, 'the right password logs in');
my $cookie = $res->{headers}{'set-cookie'} // '';
like($cookie, qr/^gp_admin=[0-9a-f]{32}\.\d+\.[A-Za-z0-9_-]+; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Strict/,
     'the session cookie is HttpOnly and SameSite=Strict');
my ($session) = $cookie =~ /^(gp_admin=[^;]+)/;

($st) = req('GET', '/api/accounts', undef, Cookie => $session);
is($st, 200, 'the cookie authenticates reads');

my $host = '127.0.0.1:' . $srv->port;
($st, $d) = req('POST', '/api/accounts/0/toggle', undef, Cookie => $session);
is($st, 403, 'a state change by cookie without Origin is refused');
($st, $d) = req('POST', '/api/accounts/0/toggle', undef, Cookie => $session,
                Origin => 'http://evil.example');
is($st, 403, 'from another origin too');
($st, $d) = req('POST', '/api/accounts/0/toggle', undef, Cookie => $session,
                Origin => "http://$host");
is($st, 200, 'from this origin it is accepted');
admin('POST', '/api/accounts/0/toggle');

($st) = req('POST', '/api/auth/logout', undef, Cookie => $session,
            Origin => "http://$host");
is($st, 200, 'logout');
($st) = req('GET', '/api/accounts', undef, Cookie => $session);
is($st, 401, 'the session is revoked: the cookie no longer works');

# login rate limiting per client address

for my $i (1 .. 5) {
    req('POST', '/api/auth/login', {password => "bad $i"});
}
($st, $d, $res) = req('POST', '/api/auth/login', {password => 'correct horse'});
is($st, 429, 'after five failures even the right password waits');
like($res->{headers}{'retry-after'} // '', qr/^\d+$/, 'with Retry-After');

# settings

($st, $d, $res) = admin('GET', '/api/settings');
is($st, 200, 'settings are read');
is($d->{settings}{max_attempts}{value}, 3, 'typed values');
is($d->{settings}{proxy}{type}, 'secret', 'secret settings are marked');
ok(!defined $d->{settings}{proxy}{value}, 'and never returned');

($st, $d) = admin('PUT', '/api/settings', {max_attempts => 2,
                                           show_thoughts => JSON::PP::true});
is($st, 200, 'settings are updated');
is($d->{settings}{max_attempts}{value}, 2, 'int');
is($d->{settings}{show_thoughts}{value}, 1, 'bool');

($st, $d) = admin('PUT', '/api/settings', {max_attempts => 'three'});
is($st, 400, 'a wrong type: 400');
($st, $d) = admin('PUT', '/api/settings', {max_attempts => 1, nope => 1});
is($st, 400, 'an unknown setting: 400');
($st, $d) = admin('GET', '/api/settings');
is($d->{settings}{max_attempts}{value}, 2, 'and nothing changed');

($st, $d) = admin('PUT', '/api/settings', {proxy => 'http://u:secret@127.0.0.1:9'});
($st, $d, $res) = admin('GET', '/api/settings');
ok($d->{settings}{proxy}{set}, 'a secret setting reads as set');
unlike($res->{content}, qr/secret\@/, 'without its value');
($st, $d, $res) = admin('GET', '/api/status');
is($d->{proxy}{url}, 'http://***@127.0.0.1:9', 'status shows the proxy masked');
admin('PUT', '/api/settings', {proxy => ''});

# one typed table: GET says the default, the allowed values and the bounds

($st, $d) = admin('GET', '/api/settings');
is($d->{settings}{max_attempts}{default}, 3, 'an int setting shows its default');
is($d->{settings}{max_attempts}{min}, 0, 'and its lower bound');
is_deeply($d->{settings}{image_format}{allowed},
          ['markdown', 'url', 'array', 'b64_json'],
          'a choice shows its allowed values');
is($d->{settings}{image_format}{default}, 'markdown', 'and its default');
is_deeply($d->{settings}{selection_strategy}{allowed},
          ['round_robin', 'least_in_flight'], 'selection_strategy too');
is($d->{settings}{show_thoughts}{default}, JSON::PP::false, 'a bool default');
ok(!exists $d->{settings}{proxy}{allowed}, 'no allowed list for free text');

# the check the import makes: a proxy that is not a proxy URL is refused

($st, $d) = admin('PUT', '/api/settings', {proxy => 'ftp://x'});
is($st, 400, 'a proxy setting that is not a proxy URL: 400');
is($d->{error}{code}, 'invalid_value', 'invalid_value');
like($d->{error}{message}, qr/not a proxy URL/, 'saying why');
($st, $d) = admin('PUT', '/api/settings', {proxy_for => 'google,mail'});
is($st, 400, 'an unknown traffic kind in proxy_for: 400');
($st, $d) = admin('PUT', '/api/settings', {max_attempts => 5,
                                           image_format => 'gif'});
is($st, 400, 'a bad image_format: 400');
($st, $d) = admin('GET', '/api/settings');
is($d->{settings}{max_attempts}{value}, 2, 'and nothing of it changed');

# secrets are sealed as they are written, not at the next load: a
# trigger records every value the admin API writes into settings

GeminiPool::sql("CREATE TABLE IF NOT EXISTS t_audit (k TEXT, v TEXT); "
                . "CREATE TRIGGER t_audit_s AFTER UPDATE ON settings BEGIN "
                . "INSERT INTO t_audit VALUES (new.key, new.value); END;");
($st) = admin('PUT', '/api/settings',
              {proxy => 'http://u:sealed-pw@127.0.0.1:9'});
is($st, 200, 'a secret setting written');
my $audit = GeminiPool::sql("SELECT group_concat(v, ' | ') FROM t_audit "
                            . "WHERE k = 'proxy'");
unlike($audit, qr/sealed-pw/, 'the proxy never reached SQLite in clear');
like($audit, qr/^enc:v1:/, 'it was written sealed');
GeminiPool::sql("DROP TRIGGER t_audit_s; DROP TABLE t_audit");
admin('PUT', '/api/settings', {proxy => ''});

# proxy test

($st, $d) = admin('POST', '/api/proxy/test', {});
is($st, 400, 'a proxy test without any proxy: 400');
is($d->{error}{code}, 'no_proxy', 'no_proxy');
($st, $d) = admin('POST', '/api/proxy/test', {proxy => 'ftp://x'});
is($st, 400, 'a proxy test of a bad URL: 400');

{
    my $tp = GeminiPool::Network->tinyproxy;
    ($st, $d) = admin('POST', '/api/proxy/test', {proxy => $tp->url});
    is($st, 200, 'a proxy test through tinyproxy');
    ok($d->{ok}, 'reaches the upstream') or diag explain $d;
    ok($d->{status} > 0, "the upstream answered ($d->{status})");
    ok(grep({ /127\.0\.0\.1:\Q${\GeminiPool::mock_port()}\E/ }
            $tp->log_text), 'the proxy carried it');
    $tp->stop;
}

my $dead = GeminiPool::Network::dead_port();
($st, $d, $res) = admin('POST', '/api/proxy/test',
                        {proxy => "http://u:hush\@127.0.0.1:$dead"});
is($st, 200, 'a proxy test through a dead proxy answers');
ok(!$d->{ok}, 'with ok false');
like($d->{error}, qr/^proxy http:\/\/\*\*\*\@127\.0\.0\.1:$dead failed: /,
     'naming the proxy');
unlike($res->{content}, qr/hush/, 'never its password');

# API keys on /v1

($st, $d) = req('GET', '/v1/models');
is($st, 401, '/v1 without a key: 401');
is($d->{error}{code}, 'invalid_api_key', 'an OpenAI error');

($st, $d) = admin('POST', '/api/keys', {name => 'ci', rpm => 3,
                                        models => ['gemini-2.5-flash', 'gemini-auto']});
is($st, 201, 'an API key is created');
my $key = $d->{key};
like($key, qr/^sk-gp-[A-Za-z0-9]{40}$/, 'and shown once');
my $kid = $d->{id};

($st, $d, $res) = admin('GET', '/api/keys');
is($d->{keys}[0]{name}, 'ci', 'listed');
unlike($res->{content}, qr/\Q$key\E/, 'never shown again');
is(GeminiPool::sql("SELECT count(*) FROM api_keys WHERE key_hash = "
                   . "'" . unpack('H*', Digest::SHA::sha256($key)) . "'"), 1,
   'stored as its SHA-256');

($st) = req('GET', '/v1/models', undef, Authorization => 'Bearer nope');
is($st, 401, 'a wrong key: 401');
($st, $d) = req('GET', '/v1/models', undef, Authorization => "Bearer $key");
is($st, 200, 'Authorization: Bearer works (1 of 3 a minute)');
($st, $d) = req('GET', '/v1/models/gemini-auto', undef, 'X-API-Key' => $key);
is($st, 200, 'X-API-Key works (2 of 3)');
($st, $d) = req('POST', '/v1/chat/completions',
                {model => 'gemini-2.5-pro', messages => [{role => 'user', content => 'x'}]},
                'X-API-Key' => $key);
is($st, 403, 'a model outside the allow-list: 403');
is($d->{error}{code}, 'model_not_allowed', 'model_not_allowed');
($st, $d, $res) = req('POST', '/v1/chat/completions',
                      {model => 'gemini-auto', messages => [{role => 'user', content => 'x'}]},
                      'X-API-Token' => $key);
is($st, 200, 'X-API-Token works, a chat within the allow-list (3 of 3)');
($st, $d, $res) = req('GET', '/v1/models', undef, Authorization => "Bearer $key");
is($st, 429, 'the fourth request of the minute (rpm 3, across two workers): 429')
    or diag $res->{content};
is($d->{error}{code}, 'rate_limit_exceeded', 'rate_limit_exceeded');
like($res->{headers}{'retry-after'} // '', qr/^\d+$/, 'with Retry-After');

# the call log (written by the helper) and per-key stats

for (1 .. 30) {                       # the helper drains within a tick
    ($st, $d) = admin('GET', "/api/keys/$kid/logs");
    last if @{$d->{logs} || []} >= 2;
    select(undef, undef, undef, 0.1);
}
is($st, 200, "the key's call log");
is_deeply([map { $_->{status} } @{$d->{logs}}], [200, 403],
          'every chat request of the key, newest first, with its status');
is($d->{logs}[0]{model}, 'gemini-auto', 'the model');
like($d->{logs}[0]{account}, qr/^acc\d$/, 'the account that served it')
    or diag explain $d->{logs}[0];
ok($d->{logs}[0]{latency_ms} >= 0 && defined $d->{logs}[0]{ttfb_ms},
   'latency and time to first byte');
ok($d->{logs}[0]{completion_tokens} > 0, 'usage');
is($d->{logs}[1]{model}, 'gemini-2.5-pro', 'a refused request is logged too');

($st, $d) = admin('GET', '/api/logs?limit=2');
is(scalar @{$d->{logs}}, 2, 'all call logs, limited');
($st, $d) = admin('GET', '/api/logs?limit=0');
is($st, 400, 'a bad limit: 400');

($st, $d) = admin('GET', "/api/keys/$kid/stats");
is($st, 200, 'per-key stats');
is($d->{requests}, 3, 'requests counted in the zone (the refused ones not)');
is($d->{logged_calls}, 2, 'chat calls in the log');
is($d->{logged_errors}, 1, 'errors in the log');

# metrics

($st, $d, $res) = req('GET', '/metrics');
is($st, 200, 'the Prometheus endpoint');
like($res->{headers}{'content-type'}, qr{^text/plain; version=0\.0\.4},
     'in the text format');
like($res->{content}, qr/^gemini_pool_requests_total\{status="2xx"\} [1-9]\d*$/m,
     'requests by status');
like($res->{content}, qr/^gemini_pool_requests_total\{status="4xx"\} [1-9]\d*$/m,
     'errors too');
like($res->{content}, qr/^gemini_pool_errors_total\{kind="auth"\} [1-9]\d*$/m,
     'upstream failures by kind');
like($res->{content}, qr/^gemini_pool_request_duration_seconds_bucket\{le="\+Inf"\} [1-9]\d*$/m,
     'a latency histogram');
like($res->{content}, qr/^gemini_pool_ttfb_seconds_count [1-9]\d*$/m,
     'time to first byte');
like($res->{content}, qr/^gemini_pool_tokens_total\{type="completion"\} [1-9]\d*$/m,
     'usage');
like($res->{content}, qr/^gemini_pool_accounts\{state="usable"\} \d+$/m,
     'accounts by state');
like($res->{content}, qr/^gemini_pool_zone_bytes\{kind="used"\} [1-9]\d*$/m,
     'zone usage');

($st) = admin('POST', "/api/keys/$kid/revoke");
is($st, 200, 'revoke');
($st) = req('GET', '/v1/models', undef, Authorization => "Bearer $key");
is($st, 401, 'a revoked key: 401');
($st) = admin('DELETE', "/api/keys/$kid");
is($st, 200, 'delete');
($st) = admin('DELETE', "/api/keys/$kid");
is($st, 404, 'again: 404');

# the remote-sync and re-login settings; the sync key is a secret

($st, $d) = admin('PUT', '/api/settings',
                  {remote_sync_url => 'https://peer.example',
                   remote_sync_api_key => 'sync-key-XYZ-0123456789',
                   tempmail_worker_url => 'https://mail.example',
                   auto_refresh_cookies => JSON::PP::true,
                   sync_only_mode => JSON::PP::true});
is($st, 200, 'remote sync, temp-mail and refresh settings');
($st, $d, $res) = admin('GET', '/api/settings');
is($d->{settings}{remote_sync_url}{value}, 'https://peer.example',
   'the sync URL reads back');
ok($d->{settings}{remote_sync_api_key}{set}
   && !defined $d->{settings}{remote_sync_api_key}{value},
   'the sync key only says it is set') or diag explain $d->{settings}{remote_sync_api_key};
unlike($res->{content}, qr/sync-key-XYZ/, 'and is in no read');
is($d->{settings}{sync_only_mode}{value}, JSON::PP::true, 'sync-only mode');
($st, $d) = admin('PUT', '/api/settings', {remote_sync_url => 'ftp://x'});
is($st, 400, 'a sync URL that is not http(s): 400');
is($d->{error}{code}, 'invalid_value', 'invalid_value');

# secrets at rest: no cookie, proxy password or API key in clear

{
    open my $fh, '<:raw', $GeminiPool::DB or die $!;
    local $/;
    my $bytes = <$fh>;
    my $wal = -f "$GeminiPool::DB-wal" ? do {
        open my $w, '<:raw', "$GeminiPool::DB-wal" or die $!; <$w> } : '';
    my $all = $bytes . $wal;
    for my $a (@{GeminiPool::accounts_file()}[0 .. 2]) {
        unlike($all, qr/\Q$a->{secure_c_ses}\E/,
               "the cookie of $a->{name} is not in the database in clear");
    }
    unlike($all, qr/\Q$key\E/, 'nor the API key');
    unlike($all, qr/secret\@127/, 'nor a proxy password');
    unlike($all, qr/sync-key-XYZ/, 'nor the remote sync key');
    like(GeminiPool::sql("SELECT secure_c_ses FROM accounts LIMIT 1"),
         qr/^enc:v1:/, 'cookies are stored encrypted');
}

unlike($srv->error_log_text, qr/\[(alert|crit|emerg)\]/, 'no alerts');
unlike($srv->error_log_text, qr/\Q$SECRET\E|correct horse/,
       'no secret in the error log');

$srv->stop;

done_testing();
