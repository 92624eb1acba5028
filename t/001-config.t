# Configuration: bad directives fail "nginx -t" with a clear line, and the
# database is created with its versioned schema on first start.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use File::Temp qw(tempdir);
use GeminiPool::Config;

my $dir = tempdir(CLEANUP => 1);

sub nginx_t {
    my ($http, $server) = @_;
    return GeminiPool::Config::nginx_t($dir, $http, $server // '');
}

my ($ok, $out);

($ok, $out) = nginx_t("gemini_pool_zone bad;");
ok(!$ok, 'zone without size is refused');
like($out, qr/\[emerg\].*invalid zone "bad", expected name:size/,
     'and the error names the value');

($ok, $out) = nginx_t("gemini_pool_zone z:4k;");
ok(!$ok, 'a tiny zone is refused');
like($out, qr/zone "z:4k" is too small, at least \d+k/, 'and says how big');

($ok, $out) = nginx_t("", "location /v1/ { gemini_pool_api; }");
ok(!$ok, 'gemini_pool_api without a zone is refused');
like($out, qr/"gemini_pool_api" needs "gemini_pool_zone" in the http block/,
     'and says what is missing');

($ok, $out) = nginx_t("gemini_pool_zone z:1m;\n"
                      . "gemini_pool_database $dir/a.db;\n"
                      . "gemini_pool_api_url ftp://example.com;");
ok(!$ok, 'a non-http upstream URL is refused');
like($out, qr/invalid URL "ftp:\/\/example\.com": expected http:\/\/ or https:\/\//,
     'and the error names it');

($ok, $out) = nginx_t("gemini_pool_zone z:1m;\n"
                      . "gemini_pool_database /nonexistent/dir/x.db;");
ok(!$ok, 'an unusable database path is refused');
like($out, qr/cannot (?:open database|write the admin secret to) "\/nonexistent\/dir\/x\.db/,
     'and the error names the path');

my $db = "$dir/fresh.db";
($ok, $out) = nginx_t("gemini_pool_zone z:1m;\ngemini_pool_database $db;",
                      "location /v1/ { gemini_pool_api; }");
ok($ok, 'a good configuration passes') or diag $out;
like($out, qr/database schema migrated to version 1/,
     'the schema is created on first start');

# the newest schema version: the number of steps in store.c, each headed
# by its "/* version N" comment (counted, not read: parallel branches
# number their steps apart until they are merged)
my $latest = () =
    (do { local (@ARGV, $/) = ('ngx_gemini_pool_module/ngx_http_gemini_pool_store.c'); <> })
    =~ m{/\* version (\d+)}g;
is(sqlite($db, 'PRAGMA user_version'), $latest, "schema version is $latest");
is(sqlite($db, "SELECT group_concat(name, ',') FROM (SELECT name FROM "
               . "sqlite_master WHERE type = 'table' AND name NOT LIKE "
               . "'sqlite_%' ORDER BY name)"),
   'account_state,accounts,admin,admin_sessions,api_keys,call_logs,chat_messages,chats,config_changes,config_meta,files,models,relogin_history,settings',
   'tables');
is(sqlite($db, "SELECT type || ':' || value FROM settings "
               . "WHERE key = 'show_thoughts'"),
   'bool:false', 'settings are typed, with defaults');
is(sqlite($db, "SELECT count(*) FROM models WHERE name IN "
               . "('gemini-auto', 'gemini-image', 'gemini-video')"),
   '3', 'default models');

# call logs and history live in the database: its owner's only
is(sprintf('%04o', (stat $db)[2] & 07777), '0600',
   'the database is created mode 0600');

($ok, $out) = nginx_t("gemini_pool_zone z:1m;\ngemini_pool_database $db;");
ok($ok, 'a second start reuses the database');
unlike($out, qr/migrated/, 'without migrating it again');

chmod 0644, $db or die $!;
open my $jfh, '>', "$db-journal" or die $!;
close $jfh;
chmod 0664, "$db-journal" or die $!;
($ok, $out) = nginx_t("gemini_pool_zone z:1m;\ngemini_pool_database $db;");
ok($ok, 'a database readable by others still starts');
is(sprintf('%04o', (stat $db)[2] & 07777), '0600',
   'its mode is tightened to 0600');
like($out, qr/\[notice\].*"\Q$db\E" was mode 0644, now 0600/,
     'with a notice');
ok(!-e "$db-journal" || ((stat "$db-journal")[2] & 077) == 0,
   'a companion file too');

sqlite($db, "UPDATE settings SET value = 'true' WHERE key = 'show_thoughts'");
($ok, $out) = nginx_t("gemini_pool_zone z:1m;\ngemini_pool_database $db;");
is(sqlite($db, "SELECT value FROM settings WHERE key = 'show_thoughts'"),
   'true', 'an operator\'s setting survives a restart');

# an older database is migrated step by step
sqlite($db, (join '', map { "DROP TRIGGER $_; " }
                 sqlite($db, "SELECT name FROM sqlite_master "
                             . "WHERE type = 'trigger'") =~ /(\S+)/g)
            . 'DROP TABLE config_changes; DROP TABLE config_meta; '
            . 'DROP INDEX accounts_uid; ALTER TABLE accounts DROP COLUMN uid; '
            . 'DROP TABLE account_state; ALTER TABLE accounts DROP COLUMN proxy; '
            . 'DROP TABLE api_keys; DROP TABLE admin; DROP TABLE admin_sessions; '
            . 'DROP TABLE call_logs; DROP TABLE files; '
            . 'DROP TABLE relogin_history; '
            . 'DROP TABLE chat_messages; DROP TABLE chats; '
            . 'ALTER TABLE models DROP COLUMN aliases; '
            . 'PRAGMA user_version = 1');
($ok, $out) = nginx_t("gemini_pool_zone z:1m;\ngemini_pool_database $db;");
ok($ok, 'a version 1 database is accepted');
like($out, qr/${\ join '.*', map { "migrated to version $_" } 2 .. $latest}/s,
     'and migrated');
unlike($out, qr/migrated to version 1\b/, 'from where it was');
is(sqlite($db, "SELECT count(*) FROM sqlite_master WHERE name = 'account_state'"),
   '1', 'the new table exists');

sqlite($db, 'PRAGMA user_version = 99');
($ok, $out) = nginx_t("gemini_pool_zone z:1m;\ngemini_pool_database $db;");
ok(!$ok, 'a database from a newer version is refused');
like($out, qr/the database has schema version 99, newer than this module's $latest/,
     'with a clear reason');

($ok, $out) = nginx_t("gemini_pool_zone z:1m;\n"
                      . "gemini_pool_database $dir/b.db;\n"
                      . "gemini_pool_ssl_verify off;");
ok($ok, 'TLS verification can be turned off');
like($out, qr/\[warn\].*gemini_pool_ssl_verify is off/, 'with a warning');

($ok, $out) = nginx_t("gemini_pool_zone z:1m;\n"
                      . "gemini_pool_database $dir/c.db;\n"
                      . "gemini_pool_proxy ftp://user:s3cret\@proxy.example:21;");
ok(!$ok, 'a proxy URL of an unknown scheme is refused');
like($out, qr/invalid proxy "ftp:\/\/\*\*\*\@proxy\.example:21"/,
     'and the error names it with its credentials masked');
unlike($out, qr/s3cret/, 'the password never reaches the log');

($ok, $out) = nginx_t("gemini_pool_zone z:1m;\n"
                      . "gemini_pool_database $dir/c.db;\n"
                      . "gemini_pool_fetch_allow 10.0.0.0/8 ::1 images.internal;\n"
                      . "gemini_pool_fetch_max_size 5m;\n"
                      . "gemini_pool_fetch_timeout 10s;");
ok($ok, 'the fetch directives: addresses, networks, hosts') or diag $out;

($ok, $out) = nginx_t("gemini_pool_zone z:1m;\n"
                      . "gemini_pool_database $dir/c.db;\n"
                      . "gemini_pool_fetch_allow 10.0.0.0/8 http://evil/;");
ok(!$ok, 'a fetch exception that is no address, network or host is refused');
like($out, qr{invalid address, network or host "http://evil/"},
     'and the error names it');

($ok, $out) = nginx_t("gemini_pool_zone z:1m;\n"
                      . "gemini_pool_database $dir/c.db;\n"
                      . "gemini_pool_proxy socks5h://127.0.0.1:1080;");
ok($ok, 'a socks5h proxy is accepted') or diag $out;

# secrets at rest: a wrong key is a clear start-up error; rotation works

my $KA = 'a' x 64;
my $KB = 'b' x 64;
my $kdb = "$dir/keys.db";
my $conf = "gemini_pool_zone z:1m;\ngemini_pool_database $kdb;";

{
    local $ENV{API_KEY_ENCRYPTION_KEY} = $KA;
    ($ok, $out) = nginx_t($conf);
    ok($ok, 'a database under key A') or diag $out;
}
sqlite($kdb, "INSERT INTO accounts (team_id, csesidx, secure_c_ses) "
             . "VALUES ('t', '1', 'CSE.plain-secret')");
{
    local $ENV{API_KEY_ENCRYPTION_KEY} = $KA;
    ($ok, $out) = nginx_t($conf);
    ok($ok, 'a plain-text cookie is accepted');
    like($out, qr/1 value\(s\) of accounts\.secure_c_ses encrypted/,
         'and encrypted in place');
}
like(sqlite($kdb, 'SELECT secure_c_ses FROM accounts'), qr/^enc:v1:/,
     'the database holds it encrypted');
{
    local $ENV{API_KEY_ENCRYPTION_KEY} = $KB;
    ($ok, $out) = nginx_t($conf);
    ok(!$ok, 'another key cannot start');
    like($out, qr/cannot decrypt accounts\.secure_c_ses of row 1: the encryption key/,
         'and says why');
}
{
    local $ENV{API_KEY_ENCRYPTION_KEY} = $KB;
    local $ENV{API_KEY_ENCRYPTION_KEY_OLD} = $KA;
    ($ok, $out) = nginx_t($conf);
    ok($ok, 'with the old key given the key is rotated') or diag $out;
}
{
    local $ENV{API_KEY_ENCRYPTION_KEY} = $KB;
    ($ok, $out) = nginx_t($conf);
    ok($ok, 'after rotation the new key alone works') or diag $out;
}
{
    local $ENV{API_KEY_ENCRYPTION_KEY} = 'short';
    ($ok, $out) = nginx_t($conf);
    ok(!$ok, 'a malformed key is refused');
    like($out, qr/API_KEY_ENCRYPTION_KEY is not 64 hex characters/, 'clearly');
}

# the admin password check's thread pool
($ok, $out) = nginx_t("gemini_pool_zone z:1m;\ngemini_pool_database $dir/pool.db;\n"
                      . "gemini_pool_admin_thread_pool nope;",
                      "location /api/ { gemini_pool_admin; }");
ok(!$ok, 'an admin thread pool that is not declared is refused');
like($out, qr/unknown thread pool "nope"/, 'nginx names it');
($ok, $out) = nginx_t("gemini_pool_zone z:1m;\ngemini_pool_database $dir/pool.db;\n"
                      . "gemini_pool_admin_thread_pool off;",
                      "location /api/ { gemini_pool_admin; }");
ok($ok, 'gemini_pool_admin_thread_pool off: checked in the event loop')
    or diag $out;

done_testing();

sub sqlite {
    my ($file, $sql) = @_;
    open my $fh, '-|', 'sqlite3', '-batch', $file, $sql or die $!;
    local $/;
    my $v = <$fh> // '';
    close $fh;
    $v =~ s/\s+\z//;
    return $v;
}
