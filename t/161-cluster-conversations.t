# Several gateways on one Redis: a conversation started on gateway A
# continues on gateway B in the same upstream session (by its history and
# by conversation_id); B asks Redis once, on its local miss, and not again
# for the next turn (the zone caches it); a first turn never asks; Redis
# down, the follow-up on B starts a new session (the history replayed)
# and is served.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use GeminiPool ':plain';
use GeminiPool::Redis;
use Digest::SHA ();

my $http = HTTP::Tiny->new(timeout => 20);
my $J = $GeminiPool::JSON;

my $redis = GeminiPool::Redis->new(name => '161')->start;
my %gw = (settings => {spare_sessions => ['int', 0]},
          server => 'location /v1/ {
                         add_header X-Conversation $gemini_pool_conversation;
                         gemini_pool_api;
                     }
                     location = /health { gemini_pool_health; }');
my $A = $redis->gateway(name => '161-a', %gw);
my $B = $redis->gateway(name => '161-b', %gw);
ok(wait_for(5, sub { ($B->health->{cluster} || {})->{up}
                     && ($A->health->{cluster} || {})->{up} }), 'up');

sub turn {
    my ($gw, $body) = @_;
    my $res = $http->post($gw->url('/v1/chat/completions'), {
        headers => {'Content-Type' => 'application/json'},
        content => $J->encode($body)});
    my $d = eval { $J->decode($res->{content}) } || {};
    return ($res->{status}, $res->{headers}{'x-conversation'} // '',
            $d->{choices}[0]{message}{content} // '');
}

sub gets { ($redis->cli('INFO', 'commandstats') =~ /cmdstat_get:calls=(\d+)/)[0] // 0 }

sub sessions {
    return [map { [$_->{account}, $_->{session}] }
            @{ mock_requests('streamAssist') }];
}

# by its history
mock_post('/__mock/reset');
my @m = ({role => 'user', content => 'first question'});
my ($st, $conv, $answer) = turn($A, {messages => \@m});
is($st, 200, 'A: the first turn');
is($conv, 'new', 'A: a new conversation');
my $g0 = gets();
is(scalar(() = $redis->cli('KEYS', 'gp:b:*') =~ /gp:b:/g), 1,
   'Redis: one binding');
cmp_ok($redis->cli('TTL', ($redis->cli('KEYS', 'gp:b:*'))[0]), '>', 0,
       '... with an expiry');

push @m, {role => 'assistant', content => $answer},
         {role => 'user', content => 'second question'};
($st, $conv) = turn($B, {messages => \@m});
is($st, 200, 'B: the follow-up turn');
is($conv, 'follow-up', 'B: a follow-up, not a replay');
my $s = sessions();
is(scalar @$s, 2, 'two turns upstream');
is_deeply($s->[1], $s->[0], 'B: the same account and upstream session as A')
    or diag $J->encode($s);
is(mock_stats()->{counts}{createSession}
   ? (values %{ mock_stats()->{counts}{createSession} })[0] : 0, 1,
   'one createSession for both turns');
is(gets() - $g0, 1, 'B: one GET, on its local miss');
like($redis->cli('KEYS', 'gp:b:*'), qr/^gp:b:[0-9a-f]{32}$/m,
     'Redis: bindings by key, in hex');

# the next turn on B again: from B's zone, no GET
my ($st3, $conv3, $a2);
mock_post('/__mock/reset');
my @m2 = ({role => 'user', content => 'q1'});
(undef, undef, $a2) = turn($A, {messages => \@m2});
push @m2, {role => 'assistant', content => $a2}, {role => 'user', content => 'q2'};
(undef, undef, $a2) = turn($B, {messages => \@m2});
my $g1 = gets();
push @m2, {role => 'assistant', content => $a2}, {role => 'user', content => 'q3'};
($st3, $conv3) = turn($B, {messages => \@m2});
is($st3, 200, 'B: a third turn');
is($conv3, 'follow-up', '... a follow-up');
is(gets() - $g1, 0, '... without asking Redis (the zone has it)');
$s = sessions();
is(scalar(keys %{{ map { $_->[1] => 1 } @$s }}), 1,
   'the three turns in one upstream session');

# a first turn never asks
$g1 = gets();
turn($B, {messages => [{role => 'user', content => 'brand new'}]});
is(gets() - $g1, 0, 'a first turn: no GET');

# by conversation_id
mock_post('/__mock/reset');
turn($A, {conversation_id => 'c-161', messages => [{role => 'user',
                                                     content => 'one'}]});
($st, $conv) = turn($B, {conversation_id => 'c-161', messages => [
    {role => 'user', content => 'one'}, {role => 'assistant',
     content => 'paraphrased'}, {role => 'user', content => 'two'}]});
is($st, 200, 'conversation_id: B serves the second turn');
$s = sessions();
is_deeply($s->[1], $s->[0], 'conversation_id: same account and session')
    or diag $J->encode($s);

# the Responses API: previous_response_id names a response made on A
sub respond {
    my ($gw, $body) = @_;
    my $res = $http->post($gw->url('/v1/responses'), {
        headers => {'Content-Type' => 'application/json'},
        content => $J->encode($body)});
    return ($res->{status}, eval { $J->decode($res->{content}) } || {},
            $res->{headers}{'x-conversation'} // '');
}
mock_post('/__mock/reset');
my ($rs, $r1) = respond($A, {model => 'gemini-2.5-flash', input => 'turn one'});
is($rs, 200, 'Responses on A: turn one');
my ($rs2, $r2, $rconv) = respond($B, {model => 'gemini-2.5-flash',
                                      input => 'turn two',
                                      previous_response_id => $r1->{id}});
is($rs2, 200, 'B: previous_response_id of a response made on A')
    or diag $J->encode($r2);
is($rconv, 'follow-up', '... a follow-up');
$s = sessions();
is_deeply($s->[1], $s->[0], '... in the same account and session');
my ($rs3, $r3) = respond($B, {model => 'gemini-2.5-flash', input => 'x',
                              previous_response_id => 'resp_' . '0' x 32});
is($rs3, 400, 'an unknown previous_response_id: still 400');
is($r3->{error}{code}, 'previous_response_not_found',
   '... previous_response_not_found');

# an API key has another row id on each gateway (here a key made on D
# first): its conversations are still found on the other gateway (the
# conversation key names the API key by its hash, not its id)
my $KEYHASH = Digest::SHA::sha256_hex('sk-gp-key-161');
my $ins = "INSERT INTO api_keys (name, key_hash, prefix) VALUES ";
my %kgw = (%gw, server => 'location /v1/ {
                         add_header X-Conversation $gemini_pool_conversation;
                         gemini_pool_api_keys on;
                         gemini_pool_api;
                     }
                     location = /health { gemini_pool_health; }');
my $C = $redis->gateway(name => '161-c', %kgw,
                        sql => ["${ins}('k161', '$KEYHASH', 'sk-gp-')"]);
my $D = $redis->gateway(name => '161-d', %kgw,
    sql => ["${ins}('other', '" . Digest::SHA::sha256_hex('sk-gp-other')
            . "', 'sk-gp-')", "${ins}('k161', '$KEYHASH', 'sk-gp-')"]);
ok(wait_for(5, sub { ($C->health->{cluster} || {})->{up}
                     && ($D->health->{cluster} || {})->{up} }), 'C, D up');
my $kid = sub { GeminiPool::Redis::sqlite($_[0]{gp_db},
    "SELECT id FROM api_keys WHERE name = 'k161'") };
isnt($kid->($C), $kid->($D),
     'the key has another id on each gateway');

sub kturn {
    my ($gw, $body) = @_;
    my $res = $http->post($gw->url('/v1/chat/completions'), {
        headers => {'Content-Type' => 'application/json',
                    Authorization => 'Bearer sk-gp-key-161'},
        content => $J->encode($body)});
    my $d = eval { $J->decode($res->{content}) } || {};
    return ($res->{status}, $res->{headers}{'x-conversation'} // '',
            $d->{choices}[0]{message}{content} // '');
}

mock_post('/__mock/reset');
my @mk = ({role => 'user', content => 'keyed question'});
my ($kst, $kconv, $kans) = kturn($C, {messages => \@mk});
is($kst, 200, 'C: a first turn with the key');
push @mk, {role => 'assistant', content => $kans},
          {role => 'user', content => 'keyed follow-up'};
($kst, $kconv) = kturn($D, {messages => \@mk});
is($kst, 200, 'D: the follow-up with the same key');
is($kconv, 'follow-up', 'D: a follow-up, though the key\'s id differs');
$s = sessions();
is_deeply($s->[1], $s->[0], 'D: the same account and session as C')
    or diag $J->encode($s);
$C->stop;
$D->stop;

# Redis down: B replays, and serves
mock_post('/__mock/reset');
my @m3 = ({role => 'user', content => 'before the fault'});
(undef, undef, $a2) = turn($A, {messages => \@m3});
$redis->kill;
ok(wait_for(3, sub { !($B->health->{cluster} || {up => 1})->{up} }),
   'Redis killed');
push @m3, {role => 'assistant', content => $a2},
          {role => 'user', content => 'after'};
($st, $conv) = turn($B, {messages => \@m3});
is($st, 200, 'Redis down: B serves the follow-up');
is($conv, 'replay', '... in a new session, the history replayed');

$A->stop;
$B->stop;
done_testing;
