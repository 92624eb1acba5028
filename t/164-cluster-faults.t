# Several gateways on one Redis, the faults and the spread: Redis killed
# under load from wrk (two gateways behind a stock nginx "upstream" block)
# loses no chat request, and the gateways converge again when it returns
# (a cooldown and a conversation shared again); a Redis that stops
# answering (SIGSTOP) delays no chat beyond the command timeout and is
# dropped by the health check, then rejoined; round robin across three
# gateways spreads the turns evenly (each account within the bound of one
# per gateway of the mean).

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use Time::HiRes qw(sleep time);
use GeminiPool ':plain';
use GeminiPool::Server;
use GeminiPool::Redis;

my $J = $GeminiPool::JSON;
my $http = HTTP::Tiny->new(timeout => 20);

plan skip_all => 'wrk is not installed' unless -x '/usr/bin/wrk';

my $redis = GeminiPool::Redis->new(name => '164')->start;
my %gw = (settings => {spare_sessions => ['int', 0]},
          server => 'location /v1/ {
                         add_header X-Conversation $gemini_pool_conversation;
                         gemini_pool_api;
                     }
                     location = /health { gemini_pool_health; }');
my $A = $redis->gateway(name => '164-a', workers => 2, %gw);
my $B = $redis->gateway(name => '164-b', workers => 2, %gw);
ok(wait_for(5, sub { ($A->health->{cluster} || {})->{up}
                     && ($B->health->{cluster} || {})->{up} }), 'up');

# a stock nginx in front: its upstream block over A and B
my $front = GeminiPool::Server->new(
    name => 'cluster-164-front', gp_http => 0, master => 1, workers => 1,
    port => GeminiPool::Redis::free_port(),
    http => "    upstream gateways {\n"
            . "        server 127.0.0.1:" . $A->port . ";\n"
            . "        server 127.0.0.1:" . $B->port . ";\n    }\n",
    server => 'location / { proxy_pass http://gateways; }');
$front->start;

sub chat_on {
    my ($srv, $messages) = @_;
    my $res = $http->post($srv->url('/v1/chat/completions'), {
        headers => {'Content-Type' => 'application/json'},
        content => $J->encode({messages => $messages})});
    my $d = eval { $J->decode($res->{content}) } || {};
    return ($res->{status}, $res->{headers}{'x-conversation'} // '',
            $d->{choices}[0]{message}{content} // '');
}

# wrk: 8 connections for 6 s; Redis killed after 1.5 s, back after 3.5 s
my $lua = "$GeminiPool::ROOT/t/tmp/164-wrk.lua";
open my $fh, '>', $lua or die;
print $fh <<'END';
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"messages":[{"role":"user","content":"under load"}]}'
END
close $fh;

mock_post('/__mock/reset');
my $wrk_out = "$GeminiPool::ROOT/t/tmp/164-wrk.out";
my $wrk = fork // die;
if (!$wrk) {
    open STDOUT, '>', $wrk_out;
    open STDERR, '>&', \*STDOUT;
    exec('wrk', '-t', '2', '-c', '8', '-d', '6s', '--timeout', '10s',
         '-s', $lua, $front->url('/v1/chat/completions'))
        or POSIX::_exit(127);
}
sleep 1.5;
$redis->kill;
sleep 2;
my $down_seen = !($A->health->{cluster} || {up => 1})->{up};
$redis->start;
waitpid $wrk, 0;
my $out = GeminiPool::slurp($wrk_out);
my ($n) = $out =~ /(\d+) requests in/;
ok($down_seen, 'Redis was down during the run');
cmp_ok($n // 0, '>', 50, "wrk: $n requests") or diag $out;
unlike($out, qr/Non-2xx or 3xx responses/, 'every answer a 200')
    or diag $out;
unlike($out, qr/Socket errors/, 'no socket errors') or diag $out;
my $served = 0;
$served += () = $_->access_log_text =~ /"POST \/v1\/chat\/completions HTTP\/1\.[01]" 200 /g
    for $A, $B;
cmp_ok($served, '>=', $n, 'the gateways answered every one with 200');

# converged: up again, a cooldown and a conversation shared again
ok(wait_for(8, sub { ($A->health->{cluster} || {})->{up}
                     && ($B->health->{cluster} || {})->{up} }),
   'Redis back: both up');
mock_post('/__mock/reset');
mock_post('/__mock/inject', {account => 'acc1', endpoint => 'streamAssist',
    times => 2, action => {status => 429, body => {error => {code => 429,
               message => 'quota', status => 'RESOURCE_EXHAUSTED'}}}});
chat_on($A, [{role => 'user', content => 'x'}]) for 1 .. 3;
ok(wait_for(2, sub { pool_summary($http->get($B->url('/health?detail=1'))
                     ->{content}) =~ /^acc1 expired=0 text=~\d+/m }),
   'after the return: a 429 on A cools acc1 on B');
mock_post('/__mock/reset');
my @m = ({role => 'user', content => 'after the storm'});
my (undef, undef, $answer) = chat_on($A, \@m);
push @m, {role => 'assistant', content => $answer},
         {role => 'user', content => 'and then'};
my ($st, $conv) = chat_on($B, \@m);
is($conv, 'follow-up', 'after the return: A\'s conversation goes on on B');

# a Redis that stops answering
$redis->pause;
my $t0 = time;
($st) = chat_on($B, [@m, {role => 'assistant', content => 'x'},
                     {role => 'user', content => 'paused'}]);
my $took = time - $t0;
is($st, 200, 'Redis paused: a follow-up served');
cmp_ok($took, '<', 2, '... without waiting for Redis (the command timeout)');
ok(wait_for(6, sub { !($A->health->{cluster} || {up => 1})->{up} }),
   'the health check drops a Redis that does not answer');
like($A->health->{cluster}{last_error}, qr/did not answer a PING/,
     '... and says why');
$redis->resume;
ok(wait_for(8, sub { ($A->health->{cluster} || {})->{up} }),
   'resumed: up again');

$front->stop;
$A->stop;
$B->stop;

# round robin across three gateways: 90 turns, each to a random gateway
# (a Redis without the cooldowns above)
$redis->cli('FLUSHALL');
my @gws = map { $redis->gateway(name => "164-rr$_", %gw) } 1 .. 3;
ok(wait_for(5, sub { !grep { !($_->health->{cluster} || {})->{up} } @gws }),
   'three gateways up');
mock_post('/__mock/reset');
srand(164);
chat_on($gws[int rand 3], [{role => 'user', content => "rr $_"}])
    for 1 .. 90;
my $c = mock_stats()->{counts}{streamAssist};
my @per = map { $c->{"acc$_"} // 0 } 1 .. 3;
diag "turns per account over three gateways: @per";
ok(!grep({ $_ < 27 || $_ > 33 } @per),
   'each account within 30 +- 3 (one per gateway)');
$_->stop for @gws;

done_testing;
