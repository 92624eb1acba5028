# Requests in flight and the processes that hold them: a worker killed
# with kill -9 gives its accounts' in-flight counts back (issue #14,
# item 1), and "nginx -s reload" under mixed load drops no request in any
# phase (item 2).
#
# GP_RELOADS=N (default 10) sets the number of reloads of the second part;
# scripts/reload-soak runs the issue's target (50 under wrk load).

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use IO::Socket::INET;
use JSON::PP;
use Time::HiRes qw(sleep time);
use GeminiPool ':plain';
use GeminiPool::Server;

my $SECRET = 'test-admin-secret-0123456789';
$ENV{ADMIN_SECRET_KEY} = $SECRET;

my $http = HTTP::Tiny->new(timeout => 10);
my $json = JSON::PP->new->utf8;

my $server = <<'END';
    location /v1/ { gemini_pool_api; }
    location /image/ { gemini_pool_media; }
    location = /health { gemini_pool_health; }
    location = /metrics { gemini_pool_metrics; }
    location /api/ { gemini_pool_admin; }
END

# gemini_pool_in_flight and _given_back_total of /metrics
sub metrics {
    my ($srv) = @_;
    my $t = $http->get($srv->url('/metrics'))->{content} // '';
    my %m = $t =~ /^(gemini_pool_in_flight\w*) (\d+)$/mg;
    return \%m;
}

# in_flight by account name in the admin's GET /api/accounts
sub admin_in_flight {
    my ($srv) = @_;
    my $res = $http->get($srv->url('/api/accounts'),
                         {headers => {'X-Admin-Token' => $SECRET}});
    my $d = eval { $json->decode($res->{content}) } || {};
    my $list = ref $d eq 'ARRAY' ? $d : $d->{accounts} || [];
    return { map { $_->{name} => $_->{in_flight} } @$list };
}

sub in_flight {
    my ($srv) = @_;
    my $h = $srv->health;
    return { map { $_->{name} => $_->{in_flight} } @{ $h->{pool} || [] } };
}

sub in_flight_sum {
    my $f = in_flight(@_);
    my $n = 0;
    $n += $_ for values %$f;
    return $n;
}

# a streamed chat whose answer the mock holds open; the socket is returned
sub hold_stream {
    my ($srv, $text) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $srv->port, Proto => 'tcp')
        or die "connect: $!";
    my $body = $json->encode({stream => JSON::PP::true,
                              messages => [{role => 'user',
                                            content => "$text MOCK:gap=600000"}]});
    print $s "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\n"
             . "Content-Type: application/json\r\n"
             . "Content-Length: " . length($body) . "\r\n\r\n$body";
    return $s;
}

sub chat_ok {
    my ($srv, $text) = @_;
    my $res = $http->post($srv->url('/v1/chat/completions'), {
        content => $json->encode({messages => [{role => 'user',
                                                content => $text}]}),
    });
    return $res->{status} == 200 && $res->{content} =~ /echo: \Q$text\E/;
}

sub stream_counts {
    my $s = GeminiPool::mock_stats()->{counts}{streamAssist} || {};
    return $s;
}

# 1. kill -9 of a worker holding streams: the respawned worker takes its
#    process slot and gives the dead one's counts back

GeminiPool::mock_post('/__mock/reset');
GeminiPool::set_accounts(3);
GeminiPool::setting('selection_strategy', 'string', 'least_in_flight');

my $srv = GeminiPool::Server->new(name => 'reload-own', server => $server,
                                  master => 1, workers => 1);
$srv->start;

my $worker = $srv->pids->{workers}[0];

# one held stream: least_in_flight sends it to one account, which stays
# raised if the count is lost
my @held = (hold_stream($srv, 'held one'));

my $f = wait_for(5, sub { in_flight_sum($srv) == 1 ? in_flight($srv) : undef });
ok($f, 'one stream held open: in_flight 1');
my ($busy) = grep { $f->{$_} } keys %{ $f || {} };
$busy //= 'none';

kill 'KILL', $worker;

my $new = wait_for(5, sub { my $w = $srv->pids->{workers}[0];
                            $w && $w != $worker ? $w : undef });
ok($new, "kill -9 of the worker: nginx respawns one ($new)");
close $_ for @held;

ok(wait_for(5, sub { in_flight_sum($srv) == 0 }),
   "the dead worker's count is given back (in_flight of $busy: "
   . (in_flight($srv)->{$busy} // '?') . ')');
like($srv->error_log_text,
     qr/1 request\(s\) in flight of a process that is gone given back/,
     'the respawned worker says so in the log');
is_deeply(metrics($srv), {gemini_pool_in_flight => 0,
                          gemini_pool_in_flight_given_back_total => 1},
          '/metrics: 0 in flight, 1 given back');
is(admin_in_flight($srv)->{$busy}, 0, "GET /api/accounts: $busy has 0");

# least_in_flight spreads again: six requests one after the other reach
# every account, the one that held the stream too
GeminiPool::mock_post('/__mock/reset');
my $ok = 0;
$ok += chat_ok($srv, "after $_") ? 1 : 0 for 1 .. 6;
is($ok, 6, 'six requests after the kill answer');
my $c = stream_counts();
ok(($c->{$busy} // 0) > 0,
   "least_in_flight sends traffic to $busy again ("
   . join(', ', map { "$_: $c->{$_}" } sort keys %$c) . ')');

# 2. an old worker killed during a reload: nginx does not respawn it; the
#    helper finds its pid gone and gives its counts back

@held = (hold_stream($srv, 'held two'), hold_stream($srv, 'held three'));
ok(wait_for(5, sub { in_flight_sum($srv) == 2 }), 'two streams held open');
is(metrics($srv)->{gemini_pool_in_flight}, 2, '/metrics: 2 in flight');

my $old = $srv->pids->{workers}[0];
kill 'HUP', $srv->pid;

ok(wait_for(5, sub { my $p = $srv->pids->{workers};
                     @$p == 2 && grep { $_ == $old } @$p }),
   'after a reload the old worker stays for its streams');
is(in_flight_sum($srv), 2, 'and its streams still count');

kill 'KILL', $old;
ok(wait_for(5, sub { !grep { $_ == $old } @{ $srv->pids->{workers} } }),
   'the old worker is killed and not respawned');
close $_ for @held;

ok(wait_for(5, sub { in_flight_sum($srv) == 0 }),
   "the helper gives the old worker's 2 back");
like($srv->error_log_text,
     qr/2 request\(s\) in flight of process $old, which is gone, given back/,
     'the helper says so in the log');
is_deeply(metrics($srv), {gemini_pool_in_flight => 0,
                          gemini_pool_in_flight_given_back_total => 3},
          '/metrics: 0 in flight, 3 given back in all');

$srv->stop;

# 3. reloads under mixed load: no request fails in any phase (getoxsrf,
#    createSession, addContextFile, the media download, the stream)

my $reloads = $ENV{GP_RELOADS} || 10;

GeminiPool::mock_post('/__mock/reset');
GeminiPool::set_accounts(4);
GeminiPool::setting('selection_strategy', 'string', 'round_robin');
GeminiPool::mock_post('/__mock/inject', [
    map { {endpoint => $_, times => -1, action => {delay_ms => 150}} }
        qw(getoxsrf createSession addContextFile download)]);

$srv = GeminiPool::Server->new(name => 'reload-load', server => $server,
                               master => 1, workers => 2);
$srv->start;

my $cmd = "/usr/bin/python3 t/tools/reload_load.py --url "
          . $srv->url('') . " --master " . $srv->pid
          . " --reloads $reloads --interval 0.5 --concurrency 12";
my $out = `$cmd`;
my $r = eval { $json->decode($out) } || {};

ok($r->{requests} && $r->{requests} >= 6 * $reloads,
   "load ran: $r->{requests} requests over $r->{reloads} reloads");
is($r->{failed}, 0, "no request failed ($r->{failed}/$r->{requests} failed)")
    or diag(join "\n", @{ $r->{errors} || [] });
my @missing = grep { !$r->{by_kind}{$_}[0] } sort keys %{ $r->{by_kind} || {} };
is("@missing", '', 'every kind of request ran (stream, plain, followup, '
                   . 'upload, image-in, image-out)');
unlike($srv->error_log_text, qr/open socket #\d+ left in connection/,
       'no worker exited with an open connection');
ok(wait_for(5, sub { in_flight_sum($srv) == 0 }),
   'after the load every in_flight is 0');
ok(wait_for(10, sub { @{ $srv->pids->{workers} } == 2 }),
   'and every old worker has exited (no request left holding one)');

GeminiPool::mock_post('/__mock/reset');
$srv->stop;

done_testing();
