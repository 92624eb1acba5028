# The e-mail-code re-login end to end, with a real Chromium: nginx with a
# master process (the helper is a real process), the upstream mock, its
# fake of Google's login pages over HTTPS with a test CA
# (GeminiPool::Login, Chromium maps *.gemini.google to it) and the fake
# temp-mail worker.  An account's cookies stop working at the mock; the
# helper notices, logs in through the pages, reads the code in the
# mailbox, verifies and saves the new cookies; a chat then succeeds.
# Then: a refused code and a resend, the code limit, every code refused,
# the worker API down, a challenge, the helper killed with SIGKILL and a
# reload in the middle of a login (no Chromium left behind), Chromium
# missing, a recipe that does not parse.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use JSON::PP;
use Time::HiRes qw(sleep time);
use GeminiPool ':plain';
use GeminiPool::Server;
use GeminiPool::Login;
use GeminiPool::Chromium;
use IO::Socket::INET;

my $CHROMIUM = GeminiPool::Chromium::find_binary();
plan skip_all => 'chromium is not installed' unless $CHROMIUM;

my $login = GeminiPool::Login->start(accounts => ['acc1'])
    or plan skip_all => "the login pages: $@";

my $SECRET = 'test-admin-secret-0123456789';
$ENV{ADMIN_SECRET_KEY} = $SECRET;

my $json = JSON::PP->new->utf8->canonical;
my $http = HTTP::Tiny->new(timeout => 20, max_redirect => 0);
my $ROOT = $GeminiPool::ROOT;

# the shipped recipe, with the fake's home page (it keeps its port) and
# short waits
sub write_recipe {
    my ($file, %extra) = @_;
    my $home = $login->home_url;
    my $text = GeminiPool::slurp("$ROOT/scripts/signin.recipe");
    $text =~ s{^login_page .*$}{login_page {login_url}/login?continueUrl=$home/}m
        or die "no login_page";
    $text =~ s{^home_page .*$}{home_page $home/}m or die "no home_page";
    my %t = (mail_poll => '1s', timeout_mail => '40s',
             timeout_challenge => '3s', timeout_login => '3m', %extra);
    for my $k (sort keys %t) {
        $text =~ s/^\Q$k\E .*\n//mg;
        $text .= "$k $t{$k}\n";
    }
    open my $fh, '>', $file or die "$file: $!";
    print $fh $text;
    close $fh;
    return $file;
}

mkdir "$ROOT/t/tmp";
my $RECIPE = write_recipe("$ROOT/t/tmp/102-signin.recipe");

my $args = join ' ', map { "\"arg=$_\"" } @{ $login->chromium_args };

sub http_conf {
    my (%o) = @_;
    my $browser = $o{browser} // $CHROMIUM;
    my $mode = $o{mode} // 'headless';
    my $recipe = $o{recipe} // $RECIPE;
    return "    gemini_pool_login_url " . $login->login_url . ";\n"
         . "    gemini_pool_browser $browser $mode $args;\n"
         . "    gemini_pool_signin_recipe $recipe;\n";
}

my $server = <<'END';
    location /api/ { gemini_pool_admin; }
    location /v1/ { gemini_pool_api; }
    location = /health { gemini_pool_health; }
END

my $srv;

sub start_server {
    my (%o) = @_;
    $srv = GeminiPool::Server->new(name => 'signin', server => $server,
                                   master => 1, workers => 1,
                                   http => http_conf(%o));
    $srv->start;
}

sub req {
    my ($method, $path, $body, %h) = @_;
    my $res = $http->request($method, $srv->url($path), {
        headers => { 'Content-Type' => 'application/json', %h },
        (defined $body ? (content => ref $body ? $json->encode($body) : $body)
                       : ()),
    });
    my $data = eval { $json->decode($res->{content}) };
    return ($res->{status}, $data, $res);
}

sub admin { req(@_[0 .. 2], 'X-Admin-Token' => $SECRET) }

sub account {
    my (undef, $d) = admin('GET', '/api/accounts');
    my ($a) = grep { $_->{name} eq 'acc1' } @{ $d->{accounts} || [] };
    return $a || {};
}

sub history {
    my (undef, $d) = admin('GET', '/api/relogin/history');
    return $d->{history} || [];
}

# the newest attempt once there are n
sub attempt {
    my ($n, $secs) = @_;
    my $h = wait_for($secs // 90, sub { my $h = history();
                                        @$h >= $n ? $h : undef });
    return $h ? $h->[0] : {};
}

sub chat_ok {
    my ($st, $d) = req('POST', '/v1/chat/completions',
                       {model => 'gemini-2.5-flash',
                        messages => [{role => 'user', content => 'hi'}]});
    return $st == 200 && $d->{choices} && $d->{choices}[0]{message}{content};
}

# live (not zombie) processes whose command line names a profile of
# this helper
sub browsers_of {
    my ($helper) = @_;
    my @p;
    for my $dir (glob '/proc/[0-9]*') {
        open my $fh, '<', "$dir/cmdline" or next;
        local $/;
        my $cmd = <$fh> // '';
        next unless $cmd =~ /ngx_gp_chromium\.$helper\./;
        open my $st, '<', "$dir/stat" or next;
        my $stat = <$st> // '';
        next if $stat =~ /\)\s+[ZX]\s/;
        push @p, $dir =~ s{/proc/}{}r;
    }
    return @p;
}

sub profiles_of { my @p = glob "/tmp/ngx_gp_chromium.$_[0].*"; @p }

sub helper_pid {
    my ($not) = @_;
    return wait_for(20, sub {
        my ($h) = grep { !$not || $_ != $not } @{ $srv->pids->{helpers} };
        $h });
}

# the database and the settings of every run: acc1 alone, with the
# fake's mailbox; checks every 2 s
sub setup {
    mock_post('/__mock/reset');
    set_accounts(1);
    sql("DELETE FROM settings; DELETE FROM relogin_history");
    GeminiPool::setting('cookie_check_interval', 'int', '2');
    GeminiPool::setting('auto_refresh_cookies', 'bool', 'true');
    GeminiPool::setting('cookie_retry_interval', 'int', '1');
    GeminiPool::setting('tempmail_worker_url', 'string',
                        $login->tempmail_url);
    my $url = $login->mailbox('acc1')->{url};
    sql("UPDATE accounts SET tempmail_url = '$url', tempmail_name = 'box1' "
        . "WHERE name = 'acc1'");
    $login->clear_scripts;
    $login->tempmail_config({});
}

# the mock stops taking acc1's cookies: 401 until a login
sub expire_acc1 {
    mock_post('/__mock/accounts', {name => 'acc1',
                                   secure_c_ses => 'CSE.rotated-' . time});
}

my ($st, $d, $a, $h);

# a second nginx of ours, with a database of its own: the remote-sync
# receiver
sub free_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                  LocalPort => 0, Proto => 'tcp') or die $!;
    my $p = $s->sockport;
    close $s;
    return $p;
}

my $RDB = "$ROOT/t/tmp/102-receiver.db";
unlink $RDB, "$RDB-wal", "$RDB-shm";
{
    local $ENV{GEMINI_POOL_MODULE} = $GeminiPool::MODULE;
    system("'$ROOT/scripts/gemini-pool-account' --db '$RDB' init "
           . ">/dev/null") == 0 or die "cannot create $RDB\n";
}
my $MOCK = GeminiPool::mock_url();
my $rcv = GeminiPool::Server->new(
    name => 'signin-receiver', master => 1, workers => 1, gp_http => 0,
    port => free_port(),
    http => <<"END",
    gemini_pool_zone gemini_pool_receiver:4m;
    gemini_pool_database $RDB;
    gemini_pool_auth_url $MOCK;
    gemini_pool_api_url $MOCK;
    gemini_pool_helper_interval 200ms;
    gemini_pool_api_keys off;
END
    server => 'location /api/ { gemini_pool_admin; }');
$rcv->start;

sub rcv_acc1 {
    my $res = $http->request('GET', $rcv->url('/api/accounts'),
                             {headers => {'X-Admin-Token' => $SECRET}});
    my $d = eval { $json->decode($res->{content}) } || {};
    my ($a) = grep { $_->{name} eq 'acc1' } @{ $d->{accounts} || [] };
    return $a;
}

# 1. the whole way: 401 at the mock, a login in Chromium, new cookies in
# SQLite, the zone and the sync receiver, a chat

setup();
my $old = sql("SELECT secure_c_ses FROM accounts WHERE name = 'acc1'");
start_server();

my $peer = $rcv->url('');
$peer =~ s{/$}{};
($st) = admin('PUT', '/api/settings', {remote_sync_url => $peer,
                                       remote_sync_api_key => $SECRET});
is($st, 200, 'the second nginx is the remote-sync peer');

ok(chat_ok(), 'a chat works before');

# the console's "test mailbox" of an account: its stored mailbox link
($st, $d) = admin('POST', '/api/mailbox/check',
                  {account => 'id:' . account()->{id}});
is($st, 200, 'mailbox check of an account by id');
is($d->{address}, $login->mailbox('acc1')->{address}, 'its address');
($st) = admin('POST', '/api/mailbox/check', {account => 'id:999'});
is($st, 404, 'an unknown account: 404');

expire_acc1();

$a = wait_for(20, sub { my $a = account(); $a->{cookie_expired} ? $a : undef });
ok($a, 'the helper notices the 401: acc1 expired');

$h = attempt(1);
is($h->{status}, 'ok', 'it logs in again through Chromium')
    or diag explain $h, $srv->error_log_text =~ /(gemini pool signin.*)/g;

$a = account();
ok(!$a->{cookie_expired}, 'acc1 is valid again in the zone');
is($a->{relogin}{state}, 'valid', 'its re-login state: valid');
my $new = sql("SELECT secure_c_ses FROM accounts WHERE name = 'acc1'");
like($new, qr/^enc:v1:/, 'the new cookie is sealed in SQLite');
isnt($new, $old, 'and is not the old one');

my $ev = $login->events(event => 'signed_in', account => 'acc1');
is(scalar @$ev, 1, 'the fake saw one sign-in');
my $ma = mock_get('/__mock/accounts');
$ma = $ma->{accounts} if ref $ma eq 'HASH';
my $mock = { map { $_->{name} => $_ } @$ma };
is(sql("SELECT csesidx FROM accounts WHERE name = 'acc1'"),
   $mock->{acc1}{csesidx}, 'the new csesidx from the final URL');
is(sql("SELECT team_id FROM accounts WHERE name = 'acc1'"),
   $mock->{acc1}{team_id}, 'and the team id');
ok(chat_ok(), 'a chat succeeds with the new cookies, without a reload');
my $r = wait_for(20, sub { my $r = rcv_acc1();
                           $r && $r->{csesidx} eq $mock->{acc1}{csesidx}
                           ? $r : undef });
ok($r, 'the new csesidx reached the sync receiver');
ok($r && $r->{secure_c_ses_set}, 'with the cookies');

my $log = $srv->error_log_text;
like($log, qr/gemini pool signin: enter code/, 'the steps are logged');
like($log, qr/gemini pool signin: code from the worker API/,
     'the code came from the worker API');
unlike($log, qr/\[(alert|emerg|crit)\]/, 'no alert in the log');
my $helper = helper_pid();
ok(wait_for(10, sub { !browsers_of($helper) }), 'no Chromium left');
ok(wait_for(10, sub { !profiles_of($helper) }), 'and no profile');

# 2. a refused code, then a resend and the next code

$login->script({account => 'acc1', reject => 1});
expire_acc1();
$h = attempt(2);
is($h->{status}, 'ok', 'a wrong code once: signed in after a resend')
    or diag explain $h;
my ($flow) = grep { $_->{account} && $_->{account} eq 'acc1' }
             reverse @{ $login->flows };
is($flow->{sends}, 2, 'the code was sent again') or diag explain $flow;
ok(chat_ok(), 'a chat succeeds');

# 3. the limit: the first code answers "limit exceeded"; resend, go on

$login->script({account => 'acc1', limit_now => JSON::PP::true});
expire_acc1();
$h = attempt(3);
is($h->{status}, 'ok', 'the code limit: a resend, then signed in')
    or diag explain $h;
like($srv->error_log_text, qr/the code limit is exceeded, asking for a new/,
     'the limit was read from its own text');

# 4. every code refused: code_error after the recipe's three rounds, the
# old cookies kept

$login->script({account => 'acc1', reject => 5});
expire_acc1();
$h = attempt(4, 120);
# the next login (5.) starts by itself a second after this one: the
# fakes are set for it first, before it reads the mailbox's baseline (a
# worker API that only fails after that is another case, a longer wait)
$login->clear_scripts;
$login->tempmail_config({fail => 503});
is($h->{status}, 'code_error', 'every code refused: code_error');
like($h->{reason}, qr/3 codes tried/, 'after three codes');
ok(account()->{cookie_expired}, 'acc1 stays expired');

# 5. the worker API down: the code from the temp-mail web page

$h = attempt(5, 120);
is($h->{status}, 'ok', 'the worker API down: signed in')
    or diag explain $h;
like($srv->error_log_text,
     qr/worker API failed \(.*503.*\): the code comes from its web page/,
     'the worker API failed');
like($srv->error_log_text, qr/code from mail \d+ \(the web page\)/,
     'the code came from the temp-mail web page in a second tab');
$login->tempmail_config({});
ok(chat_ok(), 'a chat succeeds');

$srv->stop;

# 6. the helper killed with SIGKILL in the middle of a login: its
# Chromium goes with it, nginx starts a new helper, the login runs again

setup();
start_server();
$login->script({account => 'acc1', no_mail => JSON::PP::true});
expire_acc1();
ok(wait_for(60, sub { (account()->{relogin}{step} // '') eq 'wait for code' }),
   'a login waits for its code');
$helper = helper_pid();
ok(scalar browsers_of($helper), "helper $helper runs a Chromium");
kill 'KILL', $helper;
ok(wait_for(5, sub { !browsers_of($helper) }),
   'SIGKILL of the helper: no Chromium of it left');
my $helper2 = helper_pid($helper);
ok($helper2 && $helper2 != $helper, 'nginx started a new helper');
$login->clear_scripts;
$h = attempt(1, 120);
is($h->{status}, 'ok', 'the login runs again and succeeds') or diag explain $h;
ok(!profiles_of($helper), "the killed helper's profile is gone");
ok(chat_ok(), 'a chat succeeds');

# 7. a reload in the middle of a login

my $before = scalar @{ history() };
$login->script({account => 'acc1', no_mail => JSON::PP::true});
expire_acc1();
ok(wait_for(60, sub { (account()->{relogin}{step} // '') eq 'wait for code' }),
   'a login waits for its code');
$helper = helper_pid();
ok(scalar browsers_of($helper), "helper $helper runs a Chromium");
kill 'HUP', $srv->pid;
ok(wait_for(15, sub { !browsers_of($helper) }),
   'reload: no Chromium of the old helper left');
$login->clear_scripts;
$h = wait_for(120, sub { my $h = history();
                         @$h > $before && $h->[0]{status} eq 'ok'
                         ? $h->[0] : undef });
ok($h, 'the new helper logs in');
ok(!account()->{cookie_expired}, 'acc1 is valid again');
ok(chat_ok(), 'a chat succeeds');

$srv->stop;
ok(!browsers_of($helper) && !browsers_of($helper2),
   'nginx stopped: no Chromium');
$rcv->stop;

# 8. a challenge that nobody solves

setup();
start_server();
$login->script({challenge => JSON::PP::true, challenge_ms => 0});
expire_acc1();
$h = attempt(1, 60);
is($h->{status}, 'challenge', 'a challenge nobody solves: "challenge"');
like($srv->error_log_text, qr/a challenge is shown, waiting for a person/,
     'the wait is logged');
$srv->stop;

# 9. Chromium missing: a clear error in the log and the login's reason

setup();
start_server(browser => '/nonexistent/chromium');
expire_acc1();
$h = attempt(1, 30);
is($h->{status}, 'no_browser', 'Chromium missing: no_browser');
like($h->{reason}, qr{Chromium not found: "/nonexistent/chromium"},
     'the reason names the path');
like($srv->error_log_text,
     qr{\[error\].*Chromium not found: "/nonexistent/chromium" is not an executable file},
     'and the log');
(undef, $d) = admin('GET', '/api/relogin');
like($d->{browser}{error}, qr/Chromium not found/,
     'GET /api/relogin says why the browser is not usable');
$srv->stop;

# 10. headless or headed: FORCE_HEADED beats FORCE_HEADLESS, which beats
# the directive (nginx passes them through its "env" directive)

sub start_mode {
    my ($mode, $env) = @_;
    $srv = GeminiPool::Server->new(name => 'signin', server => $server,
                                   master => 1, workers => 1, main => $env,
                                   http => http_conf(mode => $mode));
    $srv->start;
}

setup();
start_mode('headed', "env FORCE_HEADLESS=1;\nenv FORCE_HEADED;\n"
                     . "env DISPLAY;\n");
expire_acc1();
$h = attempt(1, 90);
like($srv->error_log_text, qr/gemini pool signin of "acc1" as \S+ started \(headless\)/,
     'FORCE_HEADLESS=1 beats "headed" in the directive');
is($h->{status}, 'ok', 'and the login works headless');
$srv->stop;

setup();
start_mode('headless', "env FORCE_HEADLESS=1;\nenv FORCE_HEADED=1;\n"
                       . "env DISPLAY;\n");
expire_acc1();
ok(wait_for(30, sub { $srv->error_log_text
                      =~ /gemini pool signin of "acc1" as \S+ started \(headed\)/ }),
   'FORCE_HEADED=1 beats FORCE_HEADLESS=1 and "headless"');
$srv->stop;

# 11. a recipe that does not parse is a configuration error with its line

my $bad = write_recipe("$ROOT/t/tmp/102-bad.recipe");
{
    open my $fh, '>>', $bad or die;
    print $fh "emial_input #email\n";
}
my $lines = () = GeminiPool::slurp($bad) =~ /\n/g;
$srv = GeminiPool::Server->new(name => 'signin', server => $server,
                               http => http_conf(recipe => $bad));
eval { $srv->start };
like($@, qr/invalid sign-in recipe in \Q$bad\E:$lines: unknown key "emial_input"/,
     'nginx refuses a bad recipe, naming the file and line');

done_testing();
