# Configuration export and import, and migration from the reference:
# GET /api/config/export, POST /api/config/import with an export, the
# reference's business_gemini_session.json and its geminibusiness.db
# (built here from t/fixtures/reference/geminibusiness.sql), bad files,
# and the command form (scripts/gemini-pool-account import-reference).

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use JSON::PP;
use GeminiPool ':plain';
use GeminiPool::Server;
use Digest::SHA qw(sha256_hex);

my $SECRET = 'migration-admin-secret-0123456789';
$ENV{ADMIN_SECRET_KEY} = $SECRET;

my $ROOT = $GeminiPool::ROOT;
my $TMP = "$ROOT/t/tmp";
my $FIX = "$ROOT/t/fixtures/reference";
my $SCRIPT = "$ROOT/scripts/gemini-pool-account";
$ENV{GEMINI_POOL_MODULE} = $GeminiPool::MODULE;

my $json = JSON::PP->new->utf8->canonical;
my $http = HTTP::Tiny->new(timeout => 20, max_redirect => 0);

my $base_port = $ENV{TEST_NGINX_PORT} ? $ENV{TEST_NGINX_PORT} + 1 : undef;

my $locations = <<'END';
    location /api/ { client_max_body_size 1m; gemini_pool_admin; }
    location /v1/ {
        gemini_pool_api_keys on;
        add_header X-Account $gemini_pool_account always;
        gemini_pool_api;
    }
    location /open/v1/ {
        add_header X-Account $gemini_pool_account always;
        gemini_pool_api;
    }
END

my $srv = GeminiPool::Server->new(
    name => 'migration', master => 1, workers => 2, port => $base_port,
    server => $locations);
$srv->start;

# a second server on a database of its own, for the round trip
my $fresh_db = "$TMP/082_fresh.db";
unlink $fresh_db, "$fresh_db.key", "$fresh_db.admin-secret";
system("'$SCRIPT' --db '$fresh_db' init >/dev/null") == 0
    or BAIL_OUT("cannot create $fresh_db");

(my $fresh_http = GeminiPool::http_config())
    =~ s/\Q$GeminiPool::DB\E/$fresh_db/;
$fresh_http =~ s/gemini_pool_zone gemini_pool:/gemini_pool_zone gp_fresh:/;

my $fresh = GeminiPool::Server->new(
    name => 'migration-fresh', gp_http => 0, http => $fresh_http,
    port => $base_port ? $base_port + 1 : undef, server => $locations);
$fresh->start;

sub req {
    my ($s, $method, $path, $body, %h) = @_;
    my $res = $http->request($method, $s->url($path), {
        headers => {%h},
        (defined $body ? (content => ref $body ? $json->encode($body) : $body)
                       : ()),
    });
    my $data = eval { $json->decode($res->{content}) };
    return ($res->{status}, $data, $res);
}

sub admin { my $s = shift; req($s, @_[0 .. 2], 'X-Admin-Token' => $SECRET,
                               @_[3 .. $#_]) }

sub import_body {
    my ($s, $body, $type, $query) = @_;
    return admin($s, 'POST', '/api/config/import' . ($query // ''), $body,
                 'Content-Type' => $type // 'application/json');
}

sub slurp_bin {
    my ($f) = @_;
    open my $fh, '<:raw', $f or die "$f: $!";
    local $/;
    return scalar <$fh>;
}

# everything an import may change, to check that a refused one did not
sub fingerprint {
    my ($s) = @_;
    my (undef, $e) = admin($s, 'GET', '/api/config/export?secrets=1');
    delete $e->{exported_at};
    # usage counters move on their own (the helper writes them)
    delete @$_{qw(requests last_used_at)} for @{ $e->{api_keys} };
    return $json->encode($e);
}

# a query on a database a running nginx writes too: wait for its locks
sub dbq {
    my ($db, $q) = @_;
    my $out = `sqlite3 -cmd '.timeout 5000' '$db' "$q"`;
    $out =~ s/\s+\z//;
    return $out;
}

sub account_names {
    my ($s) = @_;
    my (undef, $d) = admin($s, 'GET', '/api/accounts');
    return join ',', map { $_->{name} } @{ $d->{accounts} };
}

my ($st, $d, $res);

# authentication

($st, $d) = req($srv, 'GET', '/api/config/export');
is($st, 401, 'export without credentials: 401');
($st, $d) = req($srv, 'POST', '/api/config/import',
                '{"accounts":[{"team_id":"t","csesidx":"1",'
                . '"secure_c_ses":"s"}]}');
is($st, 401, 'import without credentials: 401');
is($d->{error}{code}, 'unauthorized', 'a JSON error');
is(account_names($srv), 'acc1,acc2,acc3', 'and nothing was imported');

# something to carry: a global proxy, an account proxy, a pin, a key

($st) = admin($srv, 'PUT', '/api/settings',
              {proxy => 'http://puser:ppass@127.0.0.1:3128',
               proxy_enabled => JSON::PP::false, max_attempts => 2});
is($st, 200, 'settings set');
($st) = admin($srv, 'PUT', '/api/accounts/2',
              {proxy => 'socks5://auser:apass@127.0.0.1:1080'});
is($st, 200, 'an account proxy set');
($st, $d) = admin($srv, 'GET', '/api/accounts');
my $acc2_id = $d->{accounts}[1]{id};
($st) = admin($srv, 'PUT', '/api/models/gemini-2.5-pro',
              {account_id => $acc2_id, aliases => ['gpt-4o', 'claude-*']});
is($st, 200, 'gemini-2.5-pro pinned to acc2, with aliases');
($st, $d) = admin($srv, 'POST', '/api/keys', {name => 'carried', rpm => 7});
is($st, 201, 'an API key');
my $our_key = $d->{key};

# the export, without and with secrets

($st, $d, $res) = admin($srv, 'GET', '/api/config/export');
is($st, 200, 'export: 200');
like($res->{headers}{'content-disposition'},
     qr/^attachment; filename="gemini-pool-config-\d{8}-\d{6}\.json"$/,
     'as an attachment');
is($res->{headers}{'cache-control'}, 'no-store', 'not cached');
is($d->{format}, 'ngx_gemini_pool', 'our format');
is($d->{version}, 1, 'version 1');
ok($d->{schema} >= 5, 'the schema version');
ok(!$d->{secrets}, 'it says it has no secrets');
is(scalar @{ $d->{accounts} }, 3, 'three accounts');
ok($d->{accounts}[0]{secure_c_ses_set}, 'whether a cookie is set');
ok(!exists $d->{accounts}[0]{secure_c_ses}, 'but not the cookie');
ok($d->{accounts}[2]{proxy_set} && !exists $d->{accounts}[2]{proxy},
   'nor the account proxy');
ok(!exists $d->{settings}{proxy}, 'nor the proxy setting');
is($d->{settings}{max_attempts}, 2, 'settings are typed: int');
ok(!$d->{settings}{proxy_enabled}, 'bool');
my ($m) = grep { $_->{name} eq 'gemini-2.5-pro' } @{ $d->{models} };
is($m->{account}, 1, 'a pin is the position of its account');
is($m->{aliases}, 'gpt-4o,claude-*', 'the aliases');
is($d->{api_keys}[0]{name}, 'carried', 'key metadata');
is($d->{api_keys}[0]{rpm}, 7, 'with its limits');
ok(!exists $d->{api_keys}[0]{key_hash}, 'without its hash');
unlike($res->{content}, qr/CSE\.acc|COS\.acc|ppass|apass|enc:v1/,
       'no secret in the body, clear or sealed');
unlike($res->{content}, qr/\Q${\ sha256_hex($our_key)}\E/,
       'no key hash in the body');
my $plain_export = $res->{content};

($st, $d) = admin($srv, 'GET', '/api/config/export?secrets=2');
is($st, 400, 'secrets=2: 400');

($st, $d, $res) = admin($srv, 'GET', '/api/config/export?secrets=1');
is($st, 200, 'export with secrets: 200');
like($res->{headers}{'content-disposition'}, qr/-secrets\.json"$/,
     'the file name says so');
ok($d->{secrets}, 'the document says so');
like($d->{accounts}[0]{secure_c_ses}, qr/^CSE\.acc1-/, 'cookies in clear');
is($d->{accounts}[2]{proxy}, 'socks5://auser:apass@127.0.0.1:1080',
   'the account proxy');
is($d->{settings}{proxy}, 'http://puser:ppass@127.0.0.1:3128',
   'the proxy setting');
is($d->{api_keys}[0]{key_hash}, sha256_hex($our_key), 'the key hash');
my $secret_export = $res->{content};

# round trip into a fresh database

is(account_names($fresh), '', 'the fresh server has no account');
my $fresh_before = fingerprint($fresh);

($st, $d) = import_body($fresh, $plain_export);
is($st, 400, 'an export without secrets cannot create accounts');
like($d->{error}{message},
     qr/^accounts\[0\]\.secure_c_ses: missing .*secrets=1.*; nothing was changed$/,
     'it says which field and why');
is(fingerprint($fresh), $fresh_before, 'nothing changed');

($st, $d) = import_body($fresh, $secret_export);
is($st, 200, 'the export with secrets imports');
is_deeply($d->{imported},
          {accounts => 3, models => 8, api_keys => 1,
           settings => scalar keys %{ $json->decode($secret_export)
                                      ->{settings} }},
          'everything counted');
is($d->{format}, 'ngx_gemini_pool', 'recognised as ours');

my (undef, $a) = admin($srv, 'GET', '/api/config/export?secrets=1');
my (undef, $b) = admin($fresh, 'GET', '/api/config/export?secrets=1');
delete $_->{exported_at} for $a, $b;
$_->{requests} = $_->{last_used_at} = 0 for @{ $a->{api_keys} },
                                            @{ $b->{api_keys} };
is_deeply($b, $a, 'exported again: the same document');

($st) = req($fresh, 'GET', '/v1/models', undef,
            Authorization => "Bearer $our_key");
is($st, 200, 'the carried API key works on the fresh server');
($st, $d, $res) = req($fresh, 'POST', '/open/v1/chat/completions',
                      '{"model":"gemini-2.5-pro","messages":'
                      . '[{"role":"user","content":"hi"}]}');
is($st, 200, 'and the carried accounts chat');
is($res->{headers}{'x-account'}, 'acc2', 'the pin carried over');
($st, $d, $res) = req($fresh, 'POST', '/open/v1/chat/completions',
                      '{"model":"claude-opus-4","messages":'
                      . '[{"role":"user","content":"hi"}]}');
is($st, 200, 'and the aliases');
is($res->{headers}{'x-account'}, 'acc2', 'of the pinned model');
my $raw = slurp_bin($fresh_db);
unlike($raw, qr/CSE\.acc|ppass|apass/, 'secrets sealed in the fresh db');

{
    my $doc = $json->decode($plain_export);
    $doc->{accounts} = [];
    $doc->{models} = [{ name => 'bad-aliases', aliases => 'gpt 4o,x' }];
    ($st, $d) = import_body($fresh, $json->encode($doc));
    is($st, 400, 'aliases with a blank are refused');
    like($d->{error}{message}, qr/^models\[0\]\.aliases: names and prefixes/,
         'naming the field');
}

($st, $d) = import_body($fresh, $plain_export);
is($st, 200, 'an export without secrets updates existing accounts');
is(scalar @{ $d->{updated} }, 3 + 8, 'three accounts and eight models '
   . 'updated');
ok((grep { /^api_keys\[0\]: no key_hash/ } @{ $d->{skipped} }),
   'a key without its hash is skipped');
like($d->{updated}[0], qr/^accounts\[0\]: updated account \d+ \(same team_id and csesidx\)$/,
     'and says so');
is(account_names($fresh), 'acc1,acc2,acc3', 'no duplicate');
($st) = req($fresh, 'POST', '/open/v1/chat/completions',
            '{"messages":[{"role":"user","content":"hi"}]}');
is($st, 200, 'the cookies were kept');

my $long = ('m' x 100) . '@mail.example.test';
($st, $d) = import_body($fresh, $json->encode({accounts => [
    {team_id => 't-long', csesidx => '5', secure_c_ses => 's',
     tempmail_name => $long}]}));
is($st, 200, 'a mailbox name too long for a name imports');
like(account_names($fresh), qr/,account-\d+$/, 'shown by its id');
is(dbq($fresh_db, "SELECT tempmail_name FROM accounts WHERE "
       . "team_id = 't-long'"), $long, 'the mailbox kept whole');

# the reference's JSON file

($st) = admin($srv, 'DELETE', "/api/accounts/0") for 1 .. 3;
is(account_names($srv), '', 'the accounts are gone');

my $ref_json = slurp_bin("$FIX/business_gemini_session.json");
($st, $d) = import_body($srv, $ref_json);
is($st, 200, 'business_gemini_session.json imports');
is($d->{format}, 'reference-json', 'recognised');
is($d->{imported}{accounts}, 2, 'two accounts');
is($d->{imported}{models}, 1, 'a model');
ok((grep { /^admin_secret_key: not imported/ } @{ $d->{skipped} }),
   'the admin secret is not taken over');
ok((grep { /^admin_password_hash: / } @{ $d->{skipped} }),
   'nor the password hash');
my $names = account_names($srv);
like($names, qr/^ref7\@mail\.example\.test,account-\d+$/,
     'named by their mailbox, or by id');

my %served;
for (1 .. 4) {
    ($st, $d, $res) = req($srv, 'POST', '/open/v1/chat/completions',
                          '{"model":"gemini-enterprise","messages":'
                          . '[{"role":"user","content":"hello"}]}');
    is($st, 200, "chat $_ with the imported accounts");
    $served{ $res->{headers}{'x-account'} // '' }++;
}
is(join(',', sort keys %served), join(',', sort split /,/, $names),
   'both imported accounts served');
like($d->{choices}[0]{message}{content}, qr/\S/, 'an answer');

($st, $d) = import_body($srv, $ref_json);
is($st, 200, 'imported again');
is(scalar(grep { /updated account/ } @{ $d->{updated} }), 2,
   'the two accounts are updated');
is(account_names($srv), $names, 'not duplicated');

# the reference's database

my $ref_db = "$TMP/082_geminibusiness.db";
unlink $ref_db;
system("sqlite3 '$ref_db' < '$FIX/geminibusiness.sql'") == 0
    or BAIL_OUT('sqlite3 cannot build the reference database');
my $ref_bytes = slurp_bin($ref_db);
($st, $d) = admin($srv, 'GET', '/api/settings');
my $has_image_base_url = exists $d->{settings}{image_base_url};

my $before = fingerprint($srv);
($st, $d) = import_body($srv, $ref_bytes, 'application/octet-stream',
                        '?dry_run=1');
is($st, 200, 'a dry run of geminibusiness.db');
ok($d->{dry_run}, 'says so');
# image_base_url counts when this version has the setting
my $ref_settings = 6 + ($has_image_base_url ? 1 : 0);

is_deeply($d->{imported}, {accounts => 4, models => 6,
                           settings => $ref_settings,
                           api_keys => 3}, 'with what it would import');
is(fingerprint($srv), $before, 'and changes nothing');

($st, $d) = import_body($srv, $ref_bytes, 'application/x-sqlite3');
is($st, 200, 'geminibusiness.db imports');
is($d->{format}, 'reference-db', 'recognised');
is_deeply($d->{imported}, {accounts => 4, models => 6,
                           settings => $ref_settings,
                           api_keys => 3}, 'counted');
ok((grep { /^accounts\[2\]: no credentials/ } @{ $d->{notes} }),
   'the placeholder is noted');
ok((grep { /^api_tokens: legacy plain-text tokens/ } @{ $d->{skipped} }),
   'legacy tokens are not imported');
ok((grep { /^log_level: / } @{ $d->{skipped} }), 'nor the log level');
ok((grep { /^image_base_url: no such setting/ } @{ $d->{skipped} })
   == ($has_image_base_url ? 0 : 1), 'image_base_url as this version has it');
ok((grep { /^models\[\d\]: replaced model "gemini-2\.5-flash"$/ }
    @{ $d->{updated} }), 'an existing model is replaced');

($st, $d) = admin($srv, 'GET', '/api/accounts');
is($d->{total}, 6, 'two accounts from the JSON file and four from the db');
my @acc = @{ $d->{accounts} };
is($acc[2]{name}, 'ref4@mail.example.test', 'account 1 by its mailbox');
ok($acc[2]{enabled} && $acc[3]{enabled}, 'available accounts enabled');
ok(!$acc[4]{enabled} && $acc[4]{cookie_expired} && $acc[4]{team_id} eq '',
   'the placeholder is disabled and expired');
ok(!$acc[5]{enabled}, 'an unavailable account is disabled');

($st, $d) = admin($srv, 'GET', '/api/models');
my %models = map { $_->{name} => $_ } @{ $d->{models} };
is($models{'gemini-business-pro'}{model_id}, 'gemini-2.5-pro',
   'api_model_id is the upstream model');
is($models{'gemini-business-pro'}{account_id}, $acc[3]{id},
   'account_index 1 pins the second account of the db');
is($models{'gemini-enterprise'}{account_id}, undef, '-1 is no pin');
is($models{'gemini-veo'}{kind}, 'video', 'a video model by its name');
is($models{'gemini-veo'}{model_id}, '', '"null" is no model id');
is($models{'gemini-image'}{kind}, 'image', 'gemini-image is image');
ok(!$models{'gemini-old'}{enabled}, 'a disabled model stays disabled');
is($models{'gemini-2.5-flash'}{description}, 'fast answers', 'replaced');

($st, $d) = admin($srv, 'GET', '/api/settings');
ok($d->{settings}{proxy}{set}, 'the proxy setting is set');
ok($d->{settings}{remote_sync_api_key}{set}, 'the remote sync key is set');
is($d->{settings}{remote_sync_url}{value}, 'https://peer.example.test',
   'the remote sync URL');
ok(!$d->{settings}{proxy_enabled}{value}, 'proxy_enabled "False" is false');

my %key = (active  => '8f14e45f-ceea-467f-a0e6-3f8e1c2b9d01',
           revoked => 'c9f0f895-fb98-4b91-9d5e-3a7e2c1d4b02',
           expired => '45c48cce-2e2d-4fbd-aa1c-0e9f8a7b6c03');
($st, $d) = req($srv, 'GET', '/v1/models', undef,
                Authorization => "Bearer $key{active}");
is($st, 200, 'an API key of the reference works on /v1/models');
ok((grep { $_->{id} eq 'gemini-business-pro' } @{ $d->{data} }),
   'which lists the imported models');
($st) = req($srv, 'GET', '/v1/models', undef, 'X-API-Key' => $key{active});
is($st, 200, 'also as X-API-Key');
($st, $d) = req($srv, 'GET', '/v1/models', undef,
                Authorization => "Bearer $key{revoked}");
is($st, 401, 'a revoked one does not');
is($d->{error}{code}, 'invalid_api_key', 'invalid_api_key');
($st) = req($srv, 'GET', '/v1/models', undef,
            Authorization => "Bearer $key{expired}");
is($st, 401, 'nor an expired one');
($st) = req($srv, 'GET', '/v1/models', undef,
            Authorization => 'Bearer legacy-plain-token-0001');
is($st, 401, 'nor a legacy plain token');
($st, $d, $res) = req($srv, 'POST', '/v1/chat/completions',
                      '{"model":"gemini-business-pro","messages":'
                      . '[{"role":"user","content":"hi"}]}',
                      Authorization => "Bearer $key{active}");
is($st, 200, 'the old key chats');
is($res->{headers}{'x-account'}, "account-$acc[3]{id}",
   'on the pinned account');

($st, $d) = admin($srv, 'GET', '/api/keys');
my ($k) = grep { $_->{name} eq 'team laptop' } @{ $d->{keys} };
ok($k && $k->{enabled}, 'the key keeps its name');
ok($k->{requests} >= 17, 'and its usage count');
($k) = grep { $_->{name} eq 'expired one' } @{ $d->{keys} };
is($k->{expires_at}, 1764232320, 'its expiry, from UTC');

$raw = slurp_bin($GeminiPool::DB);
unlike($raw, qr/CSE\.acc[45678]|127\.0\.0\.1:9\b|peer-admin-secret/,
       'imported cookies, proxy and sync key are sealed in the database');
like(dbq($GeminiPool::DB, "SELECT secure_c_ses FROM accounts ORDER BY id "
                         . "LIMIT 1"), qr/^enc:v1:/, 'enc:v1 values');
is(join(' ', glob("$TMP/*.import-*")), '', 'no temporary file left');

($st, $d) = import_body($srv, $ref_bytes, 'application/x-sqlite3');
is($st, 200, 'the db imported again');
is(scalar(grep { /updated (account|API key)/ } @{ $d->{updated} }), 3 + 3,
   'updates its accounts and keys');
($st, $d) = admin($srv, 'GET', '/api/accounts');
is($d->{total}, 7, 'only a placeholder is added again');

# bad files: a clear error, nothing changed

$before = fingerprint($srv);

my $valid = '{"team_id":"t-new","csesidx":"77","secure_c_ses":"s-new"}';
my $trunc = substr($ref_bytes, 0, 12288);
my $nodb = "$TMP/082_other.db";
unlink $nodb;
system("sqlite3 '$nodb' 'CREATE TABLE foo (x); INSERT INTO foo VALUES (1)'")
    == 0 or die;
my $badkey = "$TMP/082_badkey.db";
unlink $badkey;
system("sqlite3 '$badkey' < '$FIX/geminibusiness.sql' && sqlite3 '$badkey' "
       . "\"UPDATE api_keys SET key_hash = 'not-a-hash' WHERE id = 2\"")
    == 0 or die;

my @bad = (
    ['not JSON', '{"accounts": [', undef,
     qr/^the body is not JSON \(line \d+, column \d+: .*\) nor an SQLite database; nothing was changed$/],
    ['a JSON array', '[1,2]', undef, qr/must be a JSON object/],
    ['no accounts or models', '{"proxy":""}', undef,
     qr/^accounts: missing/],
    ['accounts of the wrong type', '{"accounts":{}}', undef,
     qr/^accounts: must be an array/],
    ['a bad second account after a good one',
     "{\"accounts\":[$valid,{\"team_id\":5,\"csesidx\":\"1\"}]}", undef,
     qr/^accounts\[1\]\.team_id: must be a string/],
    ['a missing team_id', "{\"accounts\":[$valid,$valid,"
     . '{"csesidx":"1","secure_c_ses":"s"}]}', undef,
     qr/^accounts\[2\]\.team_id: missing/],
    ['a csesidx with letters', '{"accounts":[{"team_id":"t","csesidx":'
     . '"12a","secure_c_ses":"s"}]}', undef,
     qr/^accounts\[0\]\.csesidx: must be digits/],
    ['a model without id', "{\"accounts\":[$valid],\"models\":[{\"name\":"
     . '"x"}]}', undef, qr/^models\[0\]\.id: missing/],
    ['available not a boolean', '{"accounts":[{"team_id":"t","csesidx":"1",'
     . '"secure_c_ses":"s","available":"yes"}]}', undef,
     qr/^accounts\[0\]\.available: must be true or false/],
    ['a bad proxy', "{\"accounts\":[$valid],\"proxy\":\"ftp://x\"}", undef,
     qr/^proxy: not a proxy URL/],
    ['our format, a setting of the wrong type',
     '{"format":"ngx_gemini_pool","version":1,"accounts":[' . $valid
     . '],"settings":{"max_attempts":"many"}}', undef,
     qr/^settings\.max_attempts: must be a non-negative integer/],
    ['our format, an image_format PUT /api/settings refuses too',
     '{"format":"ngx_gemini_pool","version":1,"accounts":[' . $valid
     . '],"settings":{"image_format":"gif"}}', undef,
     qr/^settings\.image_format: must be markdown, url, array or b64_json/],
    ['our format, an image_base_url that is not http(s)',
     '{"format":"ngx_gemini_pool","version":1,"accounts":[' . $valid
     . '],"settings":{"image_base_url":"ftp://x/"}}', undef,
     qr/^settings\.image_base_url: must be empty or an http/],
    ['our format, an unknown traffic kind in proxy_for',
     '{"format":"ngx_gemini_pool","version":1,"accounts":[' . $valid
     . '],"settings":{"proxy_for":"google,mail"}}', undef,
     qr/^settings\.proxy_for: must list google/],
    ['our format, a null setting',
     '{"format":"ngx_gemini_pool","version":1,"settings":{"proxy":null}}',
     undef, qr/^settings\.proxy: must not be null/],
    ['our format, a newer version', '{"format":"ngx_gemini_pool",'
     . '"version":99}', undef, qr/^version: 99 is newer/],
    ['another format', '{"format":"other","accounts":[]}', undef,
     qr/^format: must be "ngx_gemini_pool"/],
    ['an empty body', '', undef, qr/^the body is empty/],
    ['not a database', 'hello, world', 'application/x-sqlite3',
     qr/^the body is not an SQLite database/],
    ['a truncated database', $trunc, 'application/x-sqlite3',
     qr/^the (body is not a usable|SQLite database is damaged)/],
    ['a database without the tables', slurp_bin($nodb),
     'application/octet-stream',
     qr/^the database has no table "accounts": not a reference geminibusiness\.db/],
    ['a database of this module', slurp_bin($fresh_db),
     'application/x-sqlite3',
     qr/^table accounts: column "available" missing/],
    ['a bad key hash after good rows', slurp_bin($badkey),
     'application/x-sqlite3',
     qr/^api_keys\[1\]\.key_hash: must be a SHA-256/],
);

for my $t (@bad) {
    my ($what, $body, $type, $re) = @$t;
    ($st, $d) = import_body($srv, $body, $type);
    is($st, 400, "$what: 400");
    is($d->{error}{code}, 'invalid_import', "$what: invalid_import");
    like($d->{error}{message}, $re, "$what: the message says what");
    like($d->{error}{message}, qr/; nothing was changed$/,
         "$what: and that nothing changed");
}

is(fingerprint($srv), $before, 'after all of them, nothing changed');
is(join(' ', glob("$TMP/*.import-*")), '', 'no temporary file left');

($st, $d, $res) = import_body($srv, 'x' x (1024 * 1024 + 10),
                              'application/x-sqlite3');
is($st, 413, 'a body over client_max_body_size: 413');
is($d->{error}{code}, 'request_too_large', 'a JSON error');
like($d->{error}{message}, qr/1048576 bytes; raise client_max_body_size/,
     'that names the limit');
is(fingerprint($srv), $before, 'nothing changed');

# the command form

my $cli_db = "$TMP/082_cli.db";
unlink $cli_db, "$cli_db.key", "$cli_db.admin-secret";
system("'$SCRIPT' --db '$cli_db' init >/dev/null") == 0 or die;

sub cli {
    my (@args) = @_;
    my $cmd = join ' ', "'$SCRIPT'", '--db', "'$cli_db'",
                        map { "'$_'" } @args;
    my $out = `$cmd 2>$TMP/082_cli.err`;
    my $rc = $? >> 8;
    return ($rc, $out, scalar(eval { local $/; open my $f, '<',
                                     "$TMP/082_cli.err"; <$f> }) // '');
}

sub cli_sql { dbq($cli_db, @_) }

my ($rc, $out, $err) = cli('import-reference', $ref_db);
is($rc, 0, 'import-reference of geminibusiness.db: exit 0');
$d = eval { $json->decode($out) };
is_deeply($d && $d->{imported}, {accounts => 4, models => 6,
                                 settings => $ref_settings,
                                 api_keys => 3}, 'prints what it imported');
like($err, qr/reload nginx/, 'and to reload');
is(cli_sql('SELECT count(*) FROM accounts'), 4, 'four accounts');
is(cli_sql("SELECT count(*) FROM api_keys WHERE key_hash = '"
           . sha256_hex($key{active}) . "'"), 1, 'the key hash');
$raw = slurp_bin($cli_db);
unlike($raw, qr/CSE\.acc4|127\.0\.0\.1:9\b/, 'no secret in clear in the file');
like(cli_sql('SELECT secure_c_ses FROM accounts WHERE id = 1'),
     qr/^enc:v1:/, 'sealed');

($rc, $out, $err) = cli('import', "$FIX/business_gemini_session.json");
is($rc, 0, 'import detects business_gemini_session.json');
is(cli_sql('SELECT count(*) FROM accounts'), 6, 'two accounts more');

my $cli_dump = `sqlite3 '$cli_db' .dump`;
my $trunc_file = "$TMP/082_trunc.db";
open my $tf, '>:raw', $trunc_file or die;
print $tf $trunc;
close $tf;

($rc, $out, $err) = cli('import-reference', $trunc_file);
isnt($rc, 0, 'a truncated database: exit non-zero');
like($err, qr/^gemini-pool-account: the (body is not a usable|SQLite database is damaged).*nothing was changed/m,
     'with the error');
($rc, $out, $err) = cli('import-reference', "$FIX/geminibusiness.sql");
isnt($rc, 0, 'an SQL text file: exit non-zero');
like($err, qr/not JSON/, 'with the error');
($rc, $out, $err) = cli('import-reference', "$TMP/082_nothing_here");
isnt($rc, 0, 'a missing file: exit non-zero');
is(`sqlite3 '$cli_db' .dump`, $cli_dump, 'the database is unchanged');

($rc, $out, $err) = cli('import-reference', $ref_db, '--dry-run');
is($rc, 0, '--dry-run');
like($out, qr/"dry_run":true/, 'says so');
is(`sqlite3 '$cli_db' .dump`, $cli_dump, 'and changes nothing');

($rc, $out) = cli('export');
is($rc, 0, 'export');
$d = eval { $json->decode($out) };
is(scalar @{ $d->{accounts} || [] }, 6, 'with the accounts');
unlike($out, qr/CSE\.acc|enc:v1/, 'without secrets');
($rc, $out) = cli('export', '--secrets');
like($out, qr/CSE\.acc4-9be4a35a/, '--secrets: with them');

# the account-array import is still the old one

my $arr = "$TMP/082_array.json";
open my $af, '>', $arr or die;
print $af '[{"team_id":"t9","csesidx":"9","secure_c_ses":"s9","name":"n9"}]';
close $af;
($rc) = cli('import', $arr);
is($rc, 0, 'import of an account array');
is(cli_sql("SELECT count(*) FROM accounts WHERE name = 'n9'"), 1, 'added');

unlink $ref_db, $nodb, $badkey, $trunc_file, $arr, "$TMP/082_cli.err";

$fresh->stop;
$srv->stop;

done_testing();
