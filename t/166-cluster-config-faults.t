# The shared configuration through faults and conflicts (docs/cluster.md,
# "Shared configuration"): models, deletions and an import on A reach B;
# Redis down: each gateway changes and serves from its own SQLite, even
# restarted; Redis back (restarted empty): the changes made meanwhile on
# either side reach the other, a deletion is not undone by the other
# gateway's copy of the record; the last writer wins.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use Time::HiRes qw(time sleep);
use GeminiPool ':plain';
use GeminiPool::Server;
use GeminiPool::Redis;
use GeminiPool::Valgrind;

my $SECRET = 'test-admin-secret-cluster-166';
$ENV{ADMIN_SECRET_KEY} = $SECRET;
$ENV{API_KEY_ENCRYPTION_KEY} = '5eed' x 16;

my $http = HTTP::Tiny->new(timeout => 20);
my $J = $GeminiPool::JSON;
my %ADMIN = ('X-Admin-Token' => $SECRET,
             'Content-Type' => 'application/json');

sub admin {
    my ($gw, $method, $path, $body) = @_;
    my $res = $http->request($method, $gw->url($path), {
        headers => \%ADMIN,
        defined $body ? (content => $J->encode($body)) : (),
    });
    my $j = eval { $J->decode($res->{content}) };
    return wantarray ? ($res->{status}, $j) : $j;
}

sub accounts {
    my $j = admin($_[0], 'GET', '/api/accounts') or return {};
    return { map { $_->{name} => $_ } @{ $j->{accounts} || [] } };
}

sub models {
    my $j = admin($_[0], 'GET', '/api/models') or return {};
    my $l = ref $j eq 'ARRAY' ? $j : $j->{models} || [];
    return { map { $_->{name} => $_ } @$l };
}

sub setting {
    my ($gw, $k) = @_;
    my $j = admin($gw, 'GET', '/api/settings') or return undef;
    return $j->{settings}{$k}{value};
}

sub chat_on {
    my ($gw, $text) = @_;
    return $http->post($gw->url('/v1/chat/completions'), {
        headers => {'Content-Type' => 'application/json'},
        content => $J->encode({messages => [{role => 'user',
                                             content => $text}]}),
    });
}

# (scripts/test --valgrind: the gateways under valgrind, every wait longer)
GeminiPool::Valgrind::wrap('166');
my $S = $GeminiPool::Valgrind::SLOW;
my %nospare = (settings => {spare_sessions => ['int', 0]},
               GeminiPool::Valgrind::options());
my $redis = GeminiPool::Redis->new(name => '166')->start;
mock_post('/__mock/reset');
my %mock = map { $_->{name} => $_ } @{ mock_get('/__mock/accounts') };

my $A = $redis->gateway(name => '166-a', %nospare);
my $B = $redis->gateway(name => '166-b', accounts => 0, %nospare);
ok(wait_for(8 * $S, sub { keys %{ accounts($B) } == 3 }), 'B: A\'s accounts')
    or diag $B->error_log_text;

# a model made and changed on A, with aliases and a pin
my ($st) = admin($A, 'POST', '/api/models', {name => 'shared-model',
    model_id => 'gemini-2.5-pro', kind => 'text', enabled => JSON::PP::true,
    aliases => ['gpt-shared*'], account_id => accounts($A)->{acc2}{id}});
ok($st == 200 || $st == 201, 'A: a model made');
ok(wait_for(5 * $S, sub { models($B)->{'shared-model'} }), 'B: the model');
my $m = models($B)->{'shared-model'};
is($m->{model_id}, 'gemini-2.5-pro', 'B: its model_id');
is($m->{account_id}, accounts($B)->{acc2}{id},
   'B: pinned to its own acc2 (ids differ between gateways)');

# a deletion on A
is((admin($A, 'DELETE', '/api/models/shared-model'))[0], 200,
   'A: the model deleted');
ok(wait_for(5 * $S, sub { !models($B)->{'shared-model'} }), 'B: deleted too');
like($redis->cli('HGET', 'gp:config:model', 'shared-model'),
     qr/^\d+ .*"data":null/, 'Redis: its tombstone');

# an import on A
my $doc = {format => 'ngx_gemini_pool', version => 1,
           accounts => [{name => 'acc5', team_id => $mock{acc5}{team_id},
                         csesidx => $mock{acc5}{csesidx},
                         secure_c_ses => $mock{acc5}{secure_c_ses},
                         host_c_oses => $mock{acc5}{host_c_oses}}]};
($st, my $j) = admin($A, 'POST', '/api/config/import', $doc);
is($st, 200, 'A: acc5 imported') or diag explain $j;
ok(wait_for(5 * $S, sub { accounts($B)->{acc5} }), 'B: acc5 arrives');

# an account deleted on A
my $i5 = accounts($A)->{acc5}{index};
is((admin($A, 'DELETE', "/api/accounts/$i5"))[0], 200, 'A: acc5 deleted');
ok(wait_for(5 * $S, sub { !accounts($B)->{acc5} }), 'B: acc5 gone too');

# the last writer wins
($st) = admin($A, 'PUT', '/api/settings', {cooldown_rate_limit => 61});
ok(wait_for(5 * $S, sub { (setting($B, 'cooldown_rate_limit') // 0) == 61 }),
   'B: 61 from A');
($st) = admin($B, 'PUT', '/api/settings', {cooldown_rate_limit => 62});
ok(wait_for(5 * $S, sub { (setting($A, 'cooldown_rate_limit') // 0) == 62 }),
   'A: 62 from B, written later');
sleep 0.5 * $S;
is(setting($B, 'cooldown_rate_limit'), 62, 'B: keeps 62');

# Redis down: each gateway works on its own copy
$redis->kill;
ok(wait_for(5 * $S, sub { !(($A->health->{cluster} || {up => 1})->{up}) }),
   'Redis down');
is((admin($A, 'DELETE', '/api/models/gemini-video'))[0], 200,
   'A (no Redis): gemini-video deleted');
is((admin($A, 'PUT', '/api/settings', {cooldown_network => 121}))[0], 200,
   'A (no Redis): cooldown_network 121');
is((admin($B, 'PUT', '/api/settings', {cooldown_server_error => 31}))[0],
   200, 'B (no Redis): cooldown_server_error 31');
is(chat_on($B, 'no redis')->{status}, 200, 'B (no Redis): a chat');
$B->stop;
$B->start;
is(chat_on($B, 'restarted')->{status}, 200,
   'B restarted without Redis: serves from its SQLite');
is(scalar keys %{ accounts($B) }, 3, 'B: its 3 accounts');

# Redis back, empty: both sides' changes meet
$redis->start;
ok(wait_for(10 * $S, sub { !models($B)->{'gemini-video'} }),
   'B: gemini-video deleted on A while Redis was down')
    or diag $B->error_log_text;
ok(wait_for(5 * $S, sub { (setting($B, 'cooldown_network') // 0) == 121 }),
   'B: cooldown_network 121 from A');
ok(wait_for(5 * $S, sub { (setting($A, 'cooldown_server_error') // 0) == 31 }),
   'A: cooldown_server_error 31 from B');
sleep 1 * $S;
ok(!models($A)->{'gemini-video'},
   'A: gemini-video not brought back by B\'s copy');
like($redis->cli('HGET', 'gp:config:model', 'gemini-video'),
     qr/"data":null/, 'Redis: its tombstone');
is(scalar keys %{ accounts($A) }, 3, 'A: 3 accounts');
is(scalar keys %{ accounts($B) }, 3, 'B: 3 accounts, no duplicates');
is(chat_on($B, 'after')->{status}, 200, 'B: a chat');

$A->stop;
$B->stop;
$redis->stop;

if ($GeminiPool::Valgrind::ON) {
    is(GeminiPool::Valgrind::reports(), '', 'valgrind: nothing to report');
}

done_testing();
