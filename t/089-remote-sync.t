# Remote sync, the push side (protocol §15): "push all", the connection
# test, the state of the pushes, a second nginx of ours as the receiver
# (accounts matched by name, the position in the path as the reference),
# and a peer that is down (retried by the helper with back-off, visible,
# then pushed once it is back).

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use JSON::PP;
use IO::Socket::INET;
use Time::HiRes qw(time sleep);
use GeminiPool ':plain';
use GeminiPool::Server;

my $SECRET = 'test-admin-secret-sync-0123456';
$ENV{ADMIN_SECRET_KEY} = $SECRET;

my $json = JSON::PP->new->utf8->canonical;
my $http = HTTP::Tiny->new(timeout => 40, max_redirect => 0);

sub free_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                  LocalPort => 0, Proto => 'tcp') or die $!;
    my $p = $s->sockport;
    close $s;
    return $p;
}

# the sender: the suite's database (acc1..acc3), a helper process
my $snd = GeminiPool::Server->new(
    name => 'sync-sender', master => 1, workers => 1,
    server => 'location /api/ { gemini_pool_admin; }');
$snd->start;

# the receiver: another nginx of ours with a database of its own
my $RDB = "$GeminiPool::ROOT/t/tmp/089-receiver.db";
unlink $RDB, "$RDB-wal", "$RDB-shm";
{
    local $ENV{GEMINI_POOL_MODULE} = $GeminiPool::MODULE;
    system("'$GeminiPool::ROOT/scripts/gemini-pool-account' --db '$RDB' "
           . "init >/dev/null") == 0 or die "cannot create $RDB\n";
}
my $MOCK = GeminiPool::mock_url();
my $rcv = GeminiPool::Server->new(
    name => 'sync-receiver', master => 1, workers => 1, gp_http => 0,
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

sub call {
    my ($srv, $method, $path, $body) = @_;
    my $res = $http->request($method, $srv->url($path), {
        headers => {'X-Admin-Token' => $SECRET},
        (defined $body ? (content => $json->encode($body)) : ()),
    });
    my $d = eval { $json->decode($res->{content}) };
    return ($res->{status}, $d);
}

sub settings { call($snd, 'PUT', '/api/settings', {@_}) }

sub rcv_accounts {
    my (undef, $d) = call($rcv, 'GET', '/api/accounts');
    return {map { $_->{name} => $_ } @{$d->{accounts}}};
}

my ($st, $d);

# no peer

($st, $d) = call($snd, 'GET', '/api/remote-sync');
is($st, 200, 'the state of the pushes');
is($d->{url}, '', 'no peer');
is_deeply($d->{pending}, [], 'nothing owed');
is($d->{last_success}, undef, 'no push yet');

($st, $d) = call($snd, 'POST', '/api/sync-all-to-remote');
is_deeply($d, {success => JSON::PP::true, total => 3, synced => 3,
               skipped => JSON::PP::true},
          'push all without a peer: skipped, counted as synced');

($st, $d) = call($snd, 'POST', '/api/remote-sync/test');
ok(!$d->{ok}, 'the connection test without a peer fails');
like($d->{error}, qr/remote_sync_url is not set/, 'it says why');

# a peer without a key

my $peer = $rcv->url('');
$peer =~ s{/$}{};
($st) = settings(remote_sync_url => "$peer/");
is($st, 200, 'remote_sync_url is set');

($st, $d) = call($snd, 'POST', '/api/sync-all-to-remote');
is($d->{synced}, 0, 'without a key nothing is pushed');
ok(!$d->{success}, 'push all fails');
($st, $d) = call($snd, 'GET', '/api/remote-sync');
is(scalar @{$d->{pending}}, 3, 'three pushes owed');
like($d->{pending}[0]{last_error}, qr/remote_sync_api_key is not set/,
     'with the reason');
is($d->{pending}[0]{attempts}, 1, 'one attempt');
ok($d->{pending}[0]{next_try} >= time + 20, 'the next try in 30 s');

# the connection test

settings(remote_sync_api_key => 'wrong-key-0123456789');
($st, $d) = call($snd, 'POST', '/api/remote-sync/test');
ok(!$d->{ok}, 'a wrong key: not ok');
is($d->{status}, 401, 'the peer answered 401');
like($d->{error}, qr/refused the key/, 'it says so');

($st, $d) = call($snd, 'POST', '/api/remote-sync/test',
                 {url => $peer, api_key => $SECRET});
ok($d->{ok}, 'a URL and key given in the body are tested');

settings(remote_sync_api_key => $SECRET);
($st, $d) = call($snd, 'POST', '/api/remote-sync/test');
ok($d->{ok}, 'the settings: ok');
is($d->{status}, 200, 'the peer answered 200');

($st, $d) = call($snd, 'POST', '/api/remote-sync/test',
                 {url => 'ftp://x'});
is($st, 400, 'a URL that is not http(s): 400');

# push all into an empty receiver

($st, $d) = call($snd, 'POST', '/api/sync-all-to-remote');
is_deeply($d, {success => JSON::PP::true, total => 3, synced => 3,
               skipped => JSON::PP::false}, 'push all: three synced');

my $r = rcv_accounts();
is_deeply([sort keys %$r], [qw(acc1 acc2 acc3)],
          'the receiver has the three accounts, by name');
my $acc = GeminiPool::accounts_file();
is($r->{acc2}{csesidx}, $acc->[1]{csesidx}, 'with their csesidx');
is($r->{acc2}{team_id}, $acc->[1]{team_id}, 'and team id');
ok($r->{acc2}{secure_c_ses_set}, 'and cookies');

($st, $d) = call($snd, 'GET', '/api/remote-sync');
is_deeply($d->{pending}, [], 'nothing owed any more');
ok($d->{last_success} && $d->{last_success} >= time - 60,
   'the last success');
ok($d->{api_key_set}, 'the key is set (not shown)');
unlike($json->encode($d), qr/\Q$SECRET\E/, 'and never returned');

like($rcv->access_log_text, qr{"PUT /api/accounts/1 HTTP}m,
     'the path names the list position, as the reference');

# the name wins over the position between two of ours

($st) = call($rcv, 'DELETE', '/api/accounts/0');
is($st, 200, 'the receiver loses acc1: the positions shift');
($st) = call($snd, 'PUT', '/api/accounts/1', {csesidx => '777000111'});
is($st, 200, 'acc2 changes on the sender');
($st, $d) = call($snd, 'POST', '/api/sync-all-to-remote');
is($d->{synced}, 3, 'pushed again');
$r = rcv_accounts();
is($r->{acc2}{csesidx}, '777000111', 'the change reached acc2 by name');
is($r->{acc3}{csesidx}, $acc->[2]{csesidx}, 'acc3 is untouched');
ok($r->{acc1}, 'acc1 came back under its name');
is(scalar keys %$r, 3, 'no account doubled');

# a peer that is down: retried by the helper with back-off, visible

settings(remote_sync_retry => 1, remote_sync_url => 'http://127.0.0.1:'
                                                   . free_port());
($st, $d) = call($snd, 'POST', '/api/sync-all-to-remote');
is($d->{synced}, 0, 'a peer that is down: nothing synced');
# the helper's retries (waited for rather than slept: about 4 s)
wait_for(15, sub {
    ($st, $d) = call($snd, 'GET', '/api/remote-sync');
    @{$d->{pending} || []} == 3 && $d->{pending}[0]{attempts} >= 2 });
($st, $d) = call($snd, 'GET', '/api/remote-sync');
is(scalar @{$d->{pending}}, 3, 'three pushes owed');
ok($d->{pending}[0]{attempts} >= 2, 'retried by the helper '
                                    . "($d->{pending}[0]{attempts} attempts)");
is($d->{pending}[0]{last_status}, 0, 'no answer');
ok(length $d->{pending}[0]{last_error}, 'the error is shown');
ok($d->{pending}[0]{next_try} > $d->{pending}[0]{last_try},
   'a next try after the last');
like($snd->error_log_text, qr/remote sync: account id \d+ failed/,
     'the failures are logged');

# acc2 (now at position 0) drifts on the receiver; the retries repair it
call($rcv, 'PUT', '/api/accounts/0', {csesidx => '1'});
settings(remote_sync_url => $peer);
my $t0 = time;
my $ok = 0;
while (time - $t0 < 20) {
    ($st, $d) = call($snd, 'GET', '/api/remote-sync');
    if (!@{$d->{pending}}) { $ok = 1; last }
    sleep 0.5;
}
ok($ok, 'the peer back: the owed pushes went through');
$r = rcv_accounts();
is($r->{acc2}{csesidx}, '777000111', 'the receiver has the pushed values');

unlike($snd->error_log_text, qr/\[(alert|crit|emerg)\]/, 'no alerts (sender)');
unlike($rcv->error_log_text, qr/\[(alert|crit|emerg)\]/,
       'no alerts (receiver)');
unlike($snd->error_log_text, qr/\Q$SECRET\E/, 'no key in the error log');

$snd->stop;
$rcv->stop;

done_testing();
