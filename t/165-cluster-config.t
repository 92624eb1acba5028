# The shared configuration of several gateways on one Redis
# (docs/cluster.md, "Shared configuration"): a gateway with an empty
# database joins and serves A's accounts; an account added on A serves
# chats on B; a setting changed on A applies on B; an API key created on
# A works on B and, revoked on A, stops on B; cookies renewed on A are
# the ones B sends; secrets are sealed in Redis; Redis restarted empty
# gets the configuration back; a gateway with another secret key says so
# and neither applies nor publishes anything.

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

my $SECRET = 'test-admin-secret-cluster-165';
$ENV{ADMIN_SECRET_KEY} = $SECRET;

# every gateway of a cluster has the same key for the secrets at rest
my $KEY = 'c0ffee' x 10 . 'abcd';
$ENV{API_KEY_ENCRYPTION_KEY} = $KEY;

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
    my ($gw) = @_;
    my $j = admin($gw, 'GET', '/api/accounts') or return {};
    return { map { $_->{name} => $_ } @{ $j->{accounts} || [] } };
}

sub chat_on {
    my ($url, $text, $key) = @_;
    return $http->post($url, {
        headers => {'Content-Type' => 'application/json',
                    $key ? (Authorization => "Bearer $key") : ()},
        content => $J->encode({messages => [{role => 'user',
                                             content => $text}]}),
    });
}

# a second server of each gateway where /v1 needs an API key
sub keyed {
    my $port = GeminiPool::Redis::free_port();
    return ($port, http => "    server {\n"
        . "        listen 127.0.0.1:$port;\n"
        . "        location /v1/ { gemini_pool_api; gemini_pool_api_keys on; }\n"
        . "    }\n");
}

# (scripts/test --valgrind: the gateways under valgrind, every wait longer)
GeminiPool::Valgrind::wrap('165');
my $S = $GeminiPool::Valgrind::SLOW;
my %nospare = (settings => {spare_sessions => ['int', 0]},
               GeminiPool::Valgrind::options());
my $redis = GeminiPool::Redis->new(name => '165')->start;

mock_post('/__mock/reset');
my ($mock) = grep { $_->{name} eq 'acc4' } @{ mock_get('/__mock/accounts') };
ok($mock, 'the mock has acc4');

# A with three accounts publishes its configuration
my ($pa, %ka) = keyed();
my $A = $redis->gateway(name => '165-a', %nospare, %ka);
ok(wait_for(5 * $S, sub { ($redis->cli('HLEN', 'gp:config:account') // 0) == 3 }),
   'A: its 3 accounts in Redis') or diag $A->error_log_text;
like($redis->cli('GET', 'gp:config:epoch'), qr/^[0-9a-f]{32}$/,
     'Redis: the epoch');
cmp_ok($redis->cli('GET', 'gp:config:version'), '>=', 3,
       'Redis: the version counter');
my $all = $redis->cli('HGETALL', 'gp:config:account');
like($all, qr/"secure_c_ses":"enc:v1:/, 'Redis: cookies sealed');
my $acc1 = (grep { $_->{name} eq 'acc1' }
            @{ GeminiPool::accounts_file() })[0];
unlike($all, qr/\Q$acc1->{secure_c_ses}\E/, 'Redis: no cookie in clear');

# B, with an empty database, joins and serves A's accounts
my ($pb, %kb) = keyed();
my $B = $redis->gateway(name => '165-b', accounts => 0, %nospare, %kb);
ok(wait_for(5 * $S, sub { keys %{ accounts($B) } == 3 }),
   'B (empty database): A\'s 3 accounts') or diag $B->error_log_text;
is(chat_on($B->url('/v1/chat/completions'), 'on B')->{status}, 200,
   'B: serves a chat with them');
like($B->error_log_text, qr/joining the shared configuration in Redis/,
     'B: its joining logged');

# an account added through A's admin API serves chats on B
my ($st, $j) = admin($A, 'POST', '/api/accounts', {
    name => 'acc4', team_id => $mock->{team_id},
    csesidx => $mock->{csesidx}, secure_c_ses => $mock->{secure_c_ses},
    host_c_oses => $mock->{host_c_oses}});
is($st, 201, 'A: acc4 added') or diag explain $j;
ok(wait_for(5 * $S, sub { accounts($B)->{acc4} }), 'B: acc4 arrives');

# only acc4 left enabled (disabled on A): B's chat goes to acc4
for my $n (qw(acc1 acc2 acc3)) {
    my $i = accounts($A)->{$n}{index};
    is((admin($A, 'POST', "/api/accounts/$i/toggle"))[0], 200,
       "A: $n disabled");
}
ok(wait_for(5 * $S, sub { my $a = accounts($B);
                     !$a->{acc1}{enabled} && !$a->{acc2}{enabled}
                     && !$a->{acc3}{enabled} }),
   'B: acc1..acc3 disabled too');
mock_post('/__mock/reset');
is(chat_on($B->url('/v1/chat/completions'), 'acc4 on B')->{status}, 200,
   'B: a chat');
is_deeply([keys %{ mock_stats()->{counts}{streamAssist} || {} }], ['acc4'],
          'B: served by acc4, the account added on A');

# a setting changed on A applies on B
($st) = admin($A, 'PUT', '/api/settings', {cooldown_server_error => 77});
is($st, 200, 'A: cooldown_server_error 77');
ok(wait_for(5 * $S, sub { (admin($B, 'GET', '/api/settings') || {})
                     ->{settings}{cooldown_server_error}{value} == 77 }),
   'B: cooldown_server_error 77');

# an API key created on A works on B; revoked on A, it stops on B
($st, $j) = admin($A, 'POST', '/api/keys', {name => 'shared'});
is($st, 201, 'A: a key made');
my ($key, $kid) = ($j->{key}, $j->{id});
is(chat_on("http://127.0.0.1:$pb/v1/chat/completions", 'no key')
   ->{status}, 401, 'B: /v1 needs a key');
ok(wait_for(5 * $S, sub { chat_on("http://127.0.0.1:$pb/v1/chat/completions",
                             'keyed', $key)->{status} == 200 }),
   'B: the key made on A works');
like($redis->cli('HGETALL', 'gp:config:key'), qr/"name":"shared"/,
     'Redis: the key\'s record (its hash, never the key)');
unlike($redis->cli('HGETALL', 'gp:config:key'), qr/\Q$key\E/,
       '... not the key itself');
is((admin($A, 'POST', "/api/keys/$kid/revoke"))[0], 200, 'A: key revoked');
ok(wait_for(5 * $S, sub { chat_on("http://127.0.0.1:$pb/v1/chat/completions",
                             'revoked', $key)->{status} == 401 }),
   'B: the key revoked on A stops');

# cookies renewed on A (a login made by hand) are the ones B sends
my $new = 'renewed-' . $mock->{secure_c_ses};
mock_post('/__mock/accounts', {%$mock, secure_c_ses => $new});
my $i4 = accounts($A)->{acc4}{index};
($st, $j) = admin($A, 'POST', "/api/accounts/$i4/cookies", {
    secure_c_ses => $new, csesidx => $mock->{csesidx},
    host_c_oses => $mock->{host_c_oses}});
is($st, 200, 'A: acc4\'s new cookies saved') or diag explain $j;
my $b4 = accounts($B)->{acc4}{index};
my $tested;
ok(wait_for(5 * $S, sub {
       $tested = admin($B, 'POST', "/api/accounts/$b4/test");
       $tested && $tested->{ok} }),
   'B: acc4 passes getoxsrf with the new cookies') or diag explain $tested;
my ($x) = (grep { ($_->{account} // '') eq 'acc4' }
           @{ mock_requests('getoxsrf') })[-1];
my ($cookie) = map { $_->[1] } grep { lc $_->[0] eq 'cookie' }
               @{ $x->{headers} || [] };
like($cookie // '', qr/__Secure-C_SES=\Q$new\E/, 'B: sends the new cookie');

# Redis restarted empty: the gateways publish their configuration again
my $epoch = $redis->cli('GET', 'gp:config:epoch');
$redis->stop;
$redis->start;
ok(wait_for(10 * $S, sub { ($redis->cli('HLEN', 'gp:config:account') // 0) == 4 }),
   'Redis restarted empty: the 4 accounts again');
isnt($redis->cli('GET', 'gp:config:epoch'), $epoch, '... in a new epoch');
like($redis->cli('HGET', 'gp:config:setting', 'cooldown_server_error'),
     qr/"value":"77"/, '... with the setting');
like($A->error_log_text . $B->error_log_text,
     qr/a new shared configuration in Redis/, '... logged');

# a gateway with an empty database joins the restarted Redis and serves
my $C = $redis->gateway(name => '165-c', accounts => 0, %nospare);
ok(wait_for(5 * $S, sub { accounts($C)->{acc4} }), 'C (empty database): acc4');
is(chat_on($C->url('/v1/chat/completions'), 'on C')->{status}, 200,
   'C: a chat');
$C->stop;

# another secret key: said, nothing applied, nothing published
my $version = $redis->cli('GET', 'gp:config:version');
my $D;
{
    local $ENV{API_KEY_ENCRYPTION_KEY} = 'ab' x 32;
    $D = $redis->gateway(name => '165-d', accounts => 0, %nospare);
}
ok(wait_for(5 * $S, sub { $D->error_log_text
                     =~ /is sealed with another secret key .*every gateway of a cluster needs the same key/ }),
   'D (another key): the mismatch logged') or diag $D->error_log_text;
is(scalar keys %{ accounts($D) }, 0, 'D: no account applied');
sleep 0.6 * $S;
is($redis->cli('GET', 'gp:config:version'), $version,
   'D: published nothing');
$D->stop;

$A->stop;
$B->stop;
$redis->stop;

if ($GeminiPool::Valgrind::ON) {
    is(GeminiPool::Valgrind::reports(), '', 'valgrind: nothing to report');
}

done_testing();
