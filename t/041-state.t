# The helper role in both process models, its respawn after kill -9, and
# the pool's state across "nginx -s reload" and a full restart.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use JSON::PP;
use Time::HiRes qw(sleep time);
use POSIX ();
use GeminiPool ':plain';
use GeminiPool::Server;

my $http = HTTP::Tiny->new(timeout => 10);
my $json = JSON::PP->new->utf8;

sub chat_req {
    my ($srv, $text) = @_;
    my $res = $http->post($srv->url('/v1/chat/completions'), {
        content => $json->encode({messages => [{role => 'user',
                                                content => $text}]}),
    });
    return $res->{status};
}

my $server = <<'END';
    location /v1/ { gemini_pool_api; }
    location = /health { gemini_pool_health; }
END

# 1. master_process off: the single process is the helper

{
    my $srv = GeminiPool::Server->new(name => 'state-single',
                                      server => $server);
    $srv->start;

    my $h = wait_for(3, sub { my $h = $srv->health;
                              $h->{helper}{ticks} ? $h : undef });
    is($h->{helper}{pid}, $srv->pid,
       'single process: the helper role runs in the nginx process');
    my $t1 = $h->{helper}{ticks};
    # (waited for, not slept: a loaded machine may delay a tick)
    my $t2 = wait_for(5, sub { my $t = $srv->health->{helper}{ticks};
                               $t > $t1 ? $t : undef })
             // $srv->health->{helper}{ticks};
    cmp_ok($t2, '>', $t1, 'and it ticks');

    $srv->stop;
}

# 2. master and two workers: nginx's helper process, respawned and replaced

GeminiPool::mock_post('/__mock/reset');
GeminiPool::set_accounts(3);

my $srv = GeminiPool::Server->new(name => 'state-master', server => $server,
                                  master => 1, workers => 2);
$srv->start;

my $h = wait_for(3, sub { my $h = $srv->health;
                          $h->{helper}{ticks} ? $h : undef });
my $helper = $h->{helper}{pid};
my $pids = $srv->pids;

ok($helper && grep({ $_ == $helper } @{$pids->{helpers}}),
   "the helper role runs in nginx's helper process ($helper)");
ok(!grep({ $_ == $helper } @{$pids->{workers}}), 'not in a worker');

kill 'KILL', $helper;

my $new = wait_for(5, sub { my $p = $srv->health->{helper}{pid};
                            $p && $p != $helper ? $p : undef });
ok($new, "after kill -9 a new helper runs (pid " . ($new // 'none') . ")");
ok($new && kill(0, $new), 'and it is alive');
my $t1 = $srv->health->{helper}{ticks};
my $t2 = wait_for(5, sub { my $t = $srv->health->{helper}{ticks};
                           $t > $t1 ? $t : undef })
         // $srv->health->{helper}{ticks};
cmp_ok($t2, '>', $t1, 'and it ticks');
like($srv->error_log_text,
     qr/gemini pool helper started, pid $new \(helper process\)/,
     'its start is logged');

# state: a cooldown (a daily quota 429) on acc1, an expired cookie (401) on
# acc2

GeminiPool::mock_post('/__mock/inject', {account => 'acc1',
    endpoint => 'streamAssist',
    action => {status => 429, body => 'daily quota exceeded'}});
GeminiPool::mock_post('/__mock/inject', {account => 'acc2',
    endpoint => 'getoxsrf', action => {expired => JSON::PP::true}});

is(chat_req($srv, 'one'), 200, 'a request that fails over twice succeeds');

$h = $srv->health;
my $cool = pool_account($h, 'acc1')->{cooldown_until}{text};
ok($cool > time + 60, 'acc1 cools down after its 429');
ok(pool_account($h, 'acc2')->{cookie_expired}, 'acc2 is marked cookie-expired');

# reload: the zone keeps the state, accounts are read again

GeminiPool::sql("INSERT INTO accounts (name, team_id, csesidx, secure_c_ses) "
                . "VALUES ('acc9', 't', '1', 'x')");

kill 'HUP', $srv->pid;

$h = wait_for(5, sub { my $h = $srv->health;
                       $h->{accounts}{total} == 4 ? $h : undef });
ok($h, 'a reload loads the accounts from the database');
is(pool_account($h, 'acc1')->{cooldown_until}{text}, $cool,
   'the cooldown survives the reload');
ok(pool_account($h, 'acc2')->{cookie_expired}, 'so does the expired flag');

my $after = wait_for(5, sub { my $p = $srv->health->{helper}{pid};
                              $p && $p != $new ? $p : undef });
ok($after, 'the reload replaced the helper process');

# restart: the helper persisted the state to SQLite

# a helper tick or more (waited for in the database, where the stopped
# server's state is checked below)
wait_for(10, sub {
    (GeminiPool::sql("SELECT cooldown_text FROM account_state s JOIN "
                     . "accounts a ON a.id = s.account_id "
                     . "WHERE a.name = 'acc1'") // '') eq $cool });
$srv->stop;
ok(!$srv->running, 'nginx stopped');

is(GeminiPool::sql("SELECT cooldown_text FROM account_state s JOIN accounts a "
                   . "ON a.id = s.account_id WHERE a.name = 'acc1'"),
   $cool, 'the cooldown is in the database');

$srv->start;
$h = wait_for(3, sub { my $h = $srv->health; $h->{pool} ? $h : undef });
is(pool_account($h, 'acc1')->{cooldown_until}{text}, $cool,
   'the cooldown survives a restart');
ok(pool_account($h, 'acc2')->{cookie_expired},
   'so does the expired flag');
ok(!pool_account($h, 'acc3')->{cookie_expired}
   && !pool_account($h, 'acc3')->{cooldown_until}{text},
   'the healthy account stays healthy');
unlike($srv->error_log_text, qr/\[(alert|emerg|crit)\]/, 'no alerts');

$srv->stop;

# 3. the helper refreshes JWTs ahead of time: no request waits for one

GeminiPool::mock_post('/__mock/reset');
GeminiPool::set_accounts(1);
# the cookie checks' getoxsrf calls are not counted here
GeminiPool::setting('cookie_check_interval', 'int', '0');

$srv = GeminiPool::Server->new(name => 'state-jwt', server => $server,
                               master => 1, workers => 2,
                               http => 'gemini_pool_jwt_refresh 4s;');
$srv->start;

is(chat_req($srv, 'first'), 200, 'a first request fetches the JWT');

# from now on getoxsrf answers slowly
GeminiPool::mock_post('/__mock/inject', {endpoint => 'getoxsrf', times => -1,
                                         action => {delay_ms => 1000}});
sleep 4.6;

my $t0 = time;
is(chat_req($srv, 'later'), 200, 'a request after the refresh period');
my $took = time - $t0;
cmp_ok($took, '<', 0.8,
       sprintf('did not wait for getoxsrf (%.3f s)', $took));
is(GeminiPool::mock_stats()->{counts}{getoxsrf}{acc1}, 2,
   'the helper fetched the next JWT ahead of time');

$srv->stop;

# 4. concurrent requests with no JWT yet: one getoxsrf for all of them

GeminiPool::mock_post('/__mock/reset');
GeminiPool::set_accounts(1);
GeminiPool::mock_post('/__mock/inject', {endpoint => 'getoxsrf', times => -1,
                                         action => {delay_ms => 500}});

$srv = GeminiPool::Server->new(name => 'state-jwt-once', server => $server,
                               master => 1, workers => 2);
$srv->start;

my @kids;
for my $i (1 .. 12) {
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        POSIX::_exit(chat_req($srv, "concurrent $i") == 200 ? 0 : 1);
    }
    push @kids, $pid;
}

my $fails = 0;
for my $pid (@kids) {
    waitpid $pid, 0;
    $fails++ if $?;
}

is($fails, 0, '12 concurrent requests on two workers all succeed');
is(GeminiPool::mock_stats()->{counts}{getoxsrf}{acc1}, 1,
   'with a single getoxsrf between them');

$srv->stop;

done_testing();
