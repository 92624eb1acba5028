# Several gateways on one Redis: an API key's limits are counted across
# the gateways, atomically (one Lua script in Redis): a key limited to 10
# requests a minute gets 10 across two gateways, not 20, sequentially and
# in concurrent bursts, with the same 429, error and Retry-After as one
# gateway gives; Redis down, each gateway counts alone (the local count)
# and says so in its metrics.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use Digest::SHA qw(sha256_hex);
use Time::HiRes qw(sleep);
use GeminiPool ':plain';
use GeminiPool::Redis;

my $J = $GeminiPool::JSON;

my %KEY = (k10 => 10, k10b => 10, k4 => 4);
my @sql = map {
    "INSERT INTO api_keys (name, key_hash, prefix, rpm) VALUES ('$_', '"
    . sha256_hex("sk-gp-$_-162") . "', 'sk-gp-', $KEY{$_})"
} sort keys %KEY;

my $redis = GeminiPool::Redis->new(name => '162')->start;
my %gw = (sql => \@sql, server => '
    location /v1/ { gemini_pool_api_keys on; gemini_pool_api; }
    location = /health { gemini_pool_health; }
    location = /metrics { gemini_pool_metrics; }');
my $A = $redis->gateway(name => '162-a', %gw);
my $B = $redis->gateway(name => '162-b', %gw);
ok(wait_for(5, sub { ($A->health->{cluster} || {})->{up}
                     && ($B->health->{cluster} || {})->{up} }), 'up');

sub chat_key {
    my ($gw, $key) = @_;
    my $res = HTTP::Tiny->new(timeout => 20)->post(
        $gw->url('/v1/chat/completions'), {
        headers => {'Content-Type' => 'application/json',
                    Authorization => "Bearer sk-gp-$key-162"},
        content => '{"messages":[{"role":"user","content":"count me"}]}'});
    return $res;
}

# a whole phase within one minute of the clock
sub fresh_minute { sleep 0.2 while time % 60 > 40 }

fresh_minute();
my (%st, $last429);
for my $i (1 .. 20) {
    my $res = chat_key($i % 2 ? $A : $B, 'k10');
    $st{$res->{status}}++;
    $last429 = $res if $res->{status} == 429;
}
is($st{200}, 10, 'rpm 10, 20 requests alternating over A and B: 10 served');
is($st{429}, 10, '... 10 refused');
my $err = eval { $J->decode($last429->{content}) } || {};
is($err->{error}{code}, 'rate_limit_exceeded', 'the 429 is rate_limit_exceeded');
like($err->{error}{message}, qr/Rate limit of this API key reached; try again in \d+ s/,
     '... with the one-gateway message');
like($last429->{headers}{'retry-after'} // '', qr/^[1-9]\d*$/,
     '... and Retry-After');
cmp_ok($last429->{headers}{'retry-after'}, '<=', 60, '... within the minute');
like($redis->cli('KEYS', 'gp:k:*'), qr/^gp:k:[0-9a-f]{64}:m:\d+$/m,
     'Redis: the minute counter, by the key\'s hash');

# concurrent bursts: 4 clients, 6 requests each, on both gateways
fresh_minute();
my @pipes;
for my $c (1 .. 4) {
    pipe(my $r, my $w) or die;
    my $pid = fork // die;
    if (!$pid) {
        close $r;
        my $ok = 0;
        $ok += chat_key(($c + $_) % 2 ? $A : $B, 'k10b')->{status} == 200
            for 1 .. 6;
        print $w "$ok\n";
        close $w;
        POSIX::_exit(0);
    }
    close $w;
    push @pipes, [$pid, $r];
}
my $served = 0;
for (@pipes) {
    my $fh = $_->[1];
    $served += <$fh>;
    waitpid $_->[0], 0;
}
is($served, 10, 'rpm 10, 24 concurrent requests on A and B: 10 served');

# Redis down: each gateway counts alone
$redis->kill;
ok(wait_for(3, sub { !($A->health->{cluster} || {up => 1})->{up}
                     && !($B->health->{cluster} || {up => 1})->{up} }),
   'Redis killed');
fresh_minute();
my %down;
$down{a} += chat_key($A, 'k4')->{status} == 200 for 1 .. 6;
$down{b} += chat_key($B, 'k4')->{status} == 200 for 1 .. 6;
is_deeply(\%down, {a => 4, b => 4},
          'Redis down, rpm 4: each gateway serves 4 (its local count)');
like(HTTP::Tiny->new->get($A->url("/metrics"))->{content},
     qr/^gemini_pool_cluster_total\{event="local"\} [1-9]\d*$/m,
     'metrics: the local decisions counted');

$A->stop;
$B->stop;
done_testing;
