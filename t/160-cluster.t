# Several gateways on one Redis (docs/cluster.md): the directive (its
# errors, the password never logged), no connection without it, the
# connections of each process, the state in /health, /api/status and the
# metrics, a 429 on gateway A that cools the account on gateway B, the
# re-read of a gateway that joins later, Redis down at start and killed
# and back (logged once each way), with chats served throughout.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use Time::HiRes qw(time sleep);
use GeminiPool ':plain';
use GeminiPool::Server;
use GeminiPool::Redis;

my $SECRET = 'test-admin-secret-cluster-160';
$ENV{ADMIN_SECRET_KEY} = $SECRET;

my $http = HTTP::Tiny->new(timeout => 20);
my $J = $GeminiPool::JSON;

sub chat_on {
    my ($gw, $text) = @_;
    my $res = $http->post($gw->url('/v1/chat/completions'), {
        headers => {'Content-Type' => 'application/json'},
        content => $J->encode({messages => [{role => 'user',
                                             content => $text}]}),
    });
    return $res;
}

sub cluster_of { $_[0]->health->{cluster} }

sub summary {
    my ($gw) = @_;
    return pool_summary($http->get($gw->url('/health?detail=1'))->{content});
}

sub clients {
    my ($redis) = @_;
    my @l = grep { !/cmd=client/ } split /\n/, $redis->cli('CLIENT', 'LIST');
    return scalar @l;
}

my $redis = GeminiPool::Redis->new(name => '160')->start;

# the directive's errors are configuration errors naming the problem,
# and none of them shows the password
my $bad_port = GeminiPool::Redis::free_port();
for my $case (
    ['http://127.0.0.1:6379', qr/must be redis:\/\/.*or unix:\/path/],
    ['redis://:s3cret-pw\@127.0.0.1:6379/x', qr/must be a database number/],
    ['unix:relative.sock', qr/must be absolute/],
    ['redis://127.0.0.1:6379 bogus=1', qr/unknown parameter "bogus=1"/],
    ['redis://:s3cret-pw@127.0.0.1:6379 password_env=GP_NONE',
     qr/give the password once/],
    ['redis://127.0.0.1:6379 password_env=GP_160_UNSET',
     qr/"GP_160_UNSET" is not set/],
    ['redis://127.0.0.1:6379 password_file=/nonexistent/pw',
     qr/cannot read the password_file/],
    ['redis://127.0.0.1:6379 prefix=a\\ b', qr/printable ASCII/],
    ['redis://no-such-host.invalid:6379', qr/host not found/],
) {
    my ($arg, $re) = @$case;
    my $srv = GeminiPool::Server->new(
        name => 'cluster-160-bad', port => $bad_port,
        http => "    gemini_pool_cluster $arg;\n",
        server => 'location /v1/ { gemini_pool_api; }');
    eval { $srv->start };
    my $err = $@;
    like($err, qr/gemini_pool_cluster: .*/, "refused: $arg");
    like($err, $re, '... naming the problem');
    unlike($srv->error_log_text, qr/s3cret-pw/, '... without the password');
    $srv->stop;
}

# without the directive: no connection at all, nothing in /health
my $alone = $redis->gateway(name => '160-alone', no_cluster => 1);
is(chat_on($alone, 'alone')->{status}, 200, 'alone: a chat');
sleep 0.5;
is(clients($redis), 0, 'alone: no connection to Redis');
ok(!exists $alone->health->{cluster}, 'alone: no "cluster" in /health');
unlike($http->get($alone->url('/metrics'))->{content}, qr/cluster/,
       'alone: no cluster metrics');
$alone->stop;

# two gateways: each worker and helper, two connections
# (no spare sessions: each turn's createSession is seen on the mock)
my %nospare = (settings => {spare_sessions => ['int', 0]});
my $A = $redis->gateway(name => '160-a', %nospare);
my $B = $redis->gateway(name => '160-b', %nospare);

ok(wait_for(5, sub { clients($redis) == 8 }),
   'A and B: two connections per worker and per helper (8)')
    or diag $redis->cli('CLIENT', 'LIST');
ok(wait_for(5, sub { (cluster_of($A) || {})->{up} }), 'A: up in /health');
is(cluster_of($A)->{last_error}, '', 'A: no error');
like($A->error_log_text, qr/\[notice\].*gemini pool: Redis at 127\.0\.0\.1:\d+ is up/,
     'A: "up" logged');
my $st = $J->decode($http->get($A->url('/api/status'),
                    {headers => {'X-Admin-Token' => $SECRET}})->{content});
is_deeply([$st->{cluster}{configured}, $st->{cluster}{up}],
          [JSON::PP::true, JSON::PP::true], '/api/status: up');
like($http->get($A->url('/metrics'))->{content},
     qr/^gemini_pool_cluster_up 1$/m, 'metrics: gemini_pool_cluster_up 1');

# a 429 on A cools the account on B (whichever account A picks: each
# gateway's round robin starts at a random account)
sub cooling {
    my ($gw) = @_;
    return join ',', summary($gw) =~ /^(\S+) expired=0 text=~\d+/mg;
}
mock_post('/__mock/reset');
mock_post('/__mock/inject', {endpoint => 'streamAssist',
    action => {status => 429, body => {error => {code => 429,
               message => 'quota', status => 'RESOURCE_EXHAUSTED'}}}});
is(chat_on($A, 'cool it')->{status}, 200, 'A: a chat over a 429');
my $cool = cooling($A);
like($cool, qr/^acc\d$/, "A: $cool cools");
my $t0 = time;
ok(wait_for(2, sub { cooling($B) eq $cool }), "B: $cool cools too")
    or diag summary($B);
cmp_ok(time - $t0, '<', 1, '... within a second');
like($redis->cli('HGETALL', 'gp:cooldowns'), qr/^\Q$cool\E\/0\n\d+$/m,
     'Redis: the cooldown in gp:cooldowns');
mock_post('/__mock/reset');
is(chat_on($B, 'on B')->{status}, 200, 'B: a chat') for 1 .. 3;
is(mock_stats()->{counts}{streamAssist}{$cool}, undef,
   "B: nothing sent to the cooling $cool");

# an expired account on A is expired on B
my ($exp) = grep { $_ ne $cool } qw(acc1 acc2 acc3);
mock_post('/__mock/inject', {account => $exp, endpoint => 'createSession',
    times => -1, action => {status => 401, body => {error => {code => 401,
               message => 'expired', status => 'UNAUTHENTICATED'}}}});
# (round robin: its turn on A comes within two chats)
for (1 .. 2) {
    chat_on($A, 'expire it');
    last if summary($A) =~ /^$exp expired=1/m;
}
like(summary($A), qr/^$exp expired=1/m, "A: $exp expired after a 401");
ok(wait_for(2, sub { summary($B) =~ /^$exp expired=1/m }),
   "B: $exp expired after a 401 on A")
    or diag summary($A), summary($B), $J->encode(mock_stats()->{counts});

mock_post('/__mock/reset');

# a gateway that joins later reads what was set before
my $C = $redis->gateway(name => '160-c');
ok(wait_for(3, sub { cooling($C) eq $cool }),
   "C (joined later): $cool cools (the re-read)") or diag summary($C);
like(summary($C), qr/^$exp expired=1/m, "C: $exp expired");
$C->stop;

# the operator gives A new cookies for it: the shared flag goes too (a
# gateway joining later must not find it expired again)
like($redis->cli('HKEYS', 'gp:cooldowns'), qr/^\Q$exp\E\/expired$/m,
     "Redis: $exp/expired");
my ($erow) = grep { $_->{name} eq $exp } @{ $J->decode($http->get(
    $A->url('/api/accounts'),
    {headers => {'X-Admin-Token' => $SECRET}})->{content})->{accounts} };
my $eres = $http->request('PUT', $A->url("/api/accounts/id:$erow->{id}"), {
    headers => {'X-Admin-Token' => $SECRET,
                'Content-Type' => 'application/json'},
    content => $J->encode({secure_c_ses => "CSE.new-$exp-0123456789",
                           csesidx => $erow->{csesidx}})});
is($eres->{status}, 200, "A: new cookies for $exp") or diag $eres->{content};
ok(wait_for(2, sub { $redis->cli('HKEYS', 'gp:cooldowns')
                     !~ /^\Q$exp\E\/expired$/m }),
   "Redis: $exp/expired gone with them");

# Redis killed: chats go on, the state shows it, logged once
$redis->kill;
ok(wait_for(3, sub { !(cluster_of($A) || {up => 1})->{up} }),
   'Redis killed: A shows it down');
is(chat_on($A, 'no redis')->{status}, 200, 'A: a chat without Redis');
is(chat_on($B, 'no redis')->{status}, 200, 'B: a chat without Redis');
like(cluster_of($A)->{last_error}, qr/\S/, 'A: the last error is there');
like($http->get($A->url('/metrics'))->{content},
     qr/^gemini_pool_cluster_up 0$/m, 'metrics: gemini_pool_cluster_up 0');
sleep 1.5;    # a few reconnection attempts
my @down = $A->error_log_text =~ /(Redis at \S+ is down)/g;
is(scalar @down, 1, 'A: "down" logged once, not per attempt');

# back: up again, logged once, shared again
$redis->start;
ok(wait_for(8, sub { (cluster_of($A) || {})->{up}
                     && (cluster_of($B) || {})->{up} }),
   'Redis back: A and B up again');
my @up = $A->error_log_text =~ /(Redis at \S+ is up)/g;
is(scalar @up, 2, 'A: "up" logged once more');
mock_post('/__mock/reset');
my ($last) = grep { $_ ne $cool && $_ ne $exp } qw(acc1 acc2 acc3);
mock_post('/__mock/inject', {account => $last, endpoint => 'streamAssist',
    action => {status => 429, body => {error => {code => 429,
               message => 'quota', status => 'RESOURCE_EXHAUSTED'}}}});
# the last usable account is chosen: the others cool or are expired
chat_on($A, 'after') for 1 .. 2;
ok(wait_for(2, sub { summary($B) =~ /^$last expired=0 text=~\d+/m }),
   'B: a cooldown set on A after the return arrives')
    or diag summary($A), summary($B);

$A->stop;
$B->stop;

# Redis down at start: the gateway starts and serves, then joins
my $late = GeminiPool::Redis->new(name => '160-late');
$late->{port} = GeminiPool::Redis::free_port();
my $D = $late->gateway(name => '160-d');
is(chat_on($D, 'no redis yet')->{status}, 200,
   'Redis down at start: a chat');
ok(wait_for(3, sub { my $c = cluster_of($D);
                     $c && !$c->{up} && $c->{last_error} =~ /refused/ }),
   'D: down, "Connection refused"');
is($D->health->{status}, 'ok', 'D: /health stays ok');
$late->start;
ok(wait_for(8, sub { (cluster_of($D) || {})->{up} }),
   'D: up once Redis starts');
$D->stop;
$late->stop;

# a password: from the environment, never logged
my $pw = GeminiPool::Redis->new(name => '160-pw', password => 'pw-160-x9')
         ->start;
{
    local $ENV{GP_160_PW} = 'pw-160-x9';
    my $url = "redis://127.0.0.1:" . $pw->port;
    my $E = GeminiPool::Server->new(
        name => 'cluster-160-e', port => GeminiPool::Redis::free_port(),
        master => 1, workers => 1, log_level => 'debug',
        main => 'env GP_160_PW;',
        http => "    gemini_pool_cluster $url password_env=GP_160_PW;\n",
        server => 'location = /health { gemini_pool_health; }');
    $E->start;
    ok(wait_for(5, sub { (cluster_of($E) || {})->{up} }),
       'password_env: up with AUTH');
    $E->stop;
    unlike($E->error_log_text, qr/pw-160-x9/,
           'the password is not in the log at debug level');

    my $F = GeminiPool::Server->new(
        name => 'cluster-160-f', port => GeminiPool::Redis::free_port(),
        master => 1, workers => 1,
        http => "    gemini_pool_cluster redis://:wrong-pw-160\@127.0.0.1:"
                . $pw->port . ";\n",
        server => 'location = /health { gemini_pool_health; }');
    $F->start;
    ok(wait_for(5, sub { my $c = cluster_of($F);
                         $c && $c->{last_error} =~ /^AUTH: / }),
       'a wrong password: down, "AUTH: ..."')
        or diag $J->encode(cluster_of($F));
    ok(!cluster_of($F)->{up}, '... not up');
    $F->stop;
    unlike($F->error_log_text, qr/wrong-pw-160/, '... and not logged');
}
$pw->stop;

# a Unix socket, a database number, a prefix; a reload keeps it working
my $ux = GeminiPool::Redis->new(name => '160-ux', unixsocket => 1)->start;
my $G = $ux->gateway(name => '160-g', address => 'unix:' . $ux->socket,
                     cluster => 'prefix=t160: db=3');
my $H = $ux->gateway(name => '160-h',
                     address => 'redis://127.0.0.1:' . $ux->port . '/3',
                     cluster => 'prefix=t160:');
ok(wait_for(5, sub { (cluster_of($G) || {})->{up}
                     && (cluster_of($H) || {})->{up} }),
   'unix:/path and redis://host:port/3: up');
mock_post('/__mock/reset');
mock_post('/__mock/inject', {endpoint => 'streamAssist',
    action => {status => 429, body => {error => {code => 429,
               message => 'quota', status => 'RESOURCE_EXHAUSTED'}}}});
chat_on($G, 'over the socket');
my $gcool = cooling($G);
ok($gcool && wait_for(2, sub { cooling($H) eq $gcool }),
   'a cooldown from G (socket) reaches H (TCP)');
like($ux->cli('-n', '3', 'HGETALL', 't160:cooldowns'),
     qr/^\Q$gcool\E\/0$/m, 'in database 3, under the prefix');
is($ux->cli('-n', '0', 'DBSIZE'), 0, 'nothing in database 0');
my $before = clients($ux);
kill 'HUP', $G->pid;
ok(wait_for(10, sub { my $g = $G->pids->{workers};
                      clients($ux) == $before && @$g == 1 }),
   'reload: the old processes\' connections gone, the new ones there')
    or diag $ux->cli('CLIENT', 'LIST');
ok(wait_for(5, sub { (cluster_of($G) || {})->{up} }), 'reload: up');
mock_post('/__mock/reset');
mock_post('/__mock/inject', {endpoint => 'streamAssist',
    action => {status => 429, body => {error => {code => 429,
               message => 'quota', status => 'RESOURCE_EXHAUSTED'}}}});
chat_on($G, 'after the reload');
my $gcool2 = cooling($G);
ok(length($gcool2) > length($gcool)
   && wait_for(2, sub { cooling($H) eq $gcool2 }),
   'reload: shared as before') or diag summary($G), summary($H);
$G->stop;
$H->stop;
$ux->stop;

done_testing;
