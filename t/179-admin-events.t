# The admin API's live state (issue 15, item 4): GET /api/events is a
# stream of server-sent events for an admin session (401 without one):
# a hello, the rows of accounts whose state changed (enabled, a cooldown
# from a 429, a test's result), the counters, the progress of a bulk test,
# a re-login's steps, a heartbeat comment while nothing happens; a worker
# keeps a bounded number of streams; a reload closes the streams at once
# and the old worker exits (the streams do not hold it).

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use IO::Socket::INET;
use IO::Select;
use JSON::PP;
use Time::HiRes qw(sleep time);
use GeminiPool ':plain';
use GeminiPool::Server;
use GeminiPool::Network;
use GeminiPool::Login;

my $SECRET = 'events-admin-secret-0123456789';
$ENV{ADMIN_SECRET_KEY} = $SECRET;

my $http = HTTP::Tiny->new(timeout => 10);
my $json = JSON::PP->new->utf8->canonical;

GeminiPool::set_accounts(4);
GeminiPool::mock_post('/__mock/reset');

# a password of 1,000 PBKDF2 iterations ("blocks password 1"): a session
GeminiPool::sql("INSERT OR REPLACE INTO admin (key, value) VALUES "
    . "('password_hash', 'pbkdf2_sha256\$1000\$00112233445566778899aabbccddeeff\$"
    . "fc53a38d0035508cefef756b5d4b63b04b7c0f0bb395d93578ce5b94edd95afc')");

my $srv = GeminiPool::Server->new(
    name => 'admin-events', master => 1, workers => 1,
    port => GeminiPool::Network::free_port(),
    server => <<'END');
    location /api/ { gemini_pool_admin; }
    location /v1/ { gemini_pool_api; }
END
$srv->start;

sub req {
    my ($method, $path, $body, %h) = @_;
    my $res = $http->request($method, $srv->url($path), {
        headers => { 'Content-Type' => 'application/json', %h },
        (defined $body ? (content => $json->encode($body)) : ()),
    });
    return ($res->{status}, eval { $json->decode($res->{content}) }, $res);
}

sub admin { req(@_[0 .. 2], 'X-Admin-Token' => $SECRET) }

# an event stream on a socket; the text read so far in $s->{buf}
sub open_stream {
    my (%h) = @_;
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                     PeerPort => $srv->port, Proto => 'tcp')
        or die "connect: $!";
    print $sock "GET /api/events HTTP/1.1\r\nHost: localhost\r\n"
                . join('', map { "$_: $h{$_}\r\n" } sort keys %h)
                . "Accept: text/event-stream\r\n\r\n";
    return { sock => $sock, buf => '', eof => 0 };
}

# reads until re matches the text after pos (its match), or secs pass
sub wait_text {
    my ($s, $re, $secs) = @_;
    my $end = time + $secs;
    my $sel = IO::Select->new($s->{sock});

    while (1) {
        if (substr($s->{buf}, $s->{pos} // 0) =~ $re) {
            my $m = $&;
            $s->{pos} = ($s->{pos} // 0) + $+[0];
            return $m;
        }
        my $left = $end - time;
        return undef if $left <= 0 || $s->{eof};
        next unless $sel->can_read($left);
        my $n = sysread($s->{sock}, my $chunk, 65536);
        if (!$n) { $s->{eof} = 1; next }
        $s->{buf} .= $chunk;
    }
}

# the data of the next event of that name whose data matches re
sub wait_event {
    my ($s, $name, $re, $secs) = @_;
    my $end = time + $secs;
    while (time < $end) {
        my $m = wait_text($s, qr/event: \Q$name\E\ndata: ([^\n]*)\n\n/,
                          $end - time) // return undef;
        my ($data) = $m =~ /data: ([^\n]*)/;
        return $json->decode($data) if !$re || $data =~ $re;
    }
    return undef;
}

# 1. authentication

my ($st, $d) = req('GET', '/api/events');
is($st, 401, 'no session: 401');
is($d->{error}{code}, 'unauthorized', 'a JSON error');

my $res;
($st, $d, $res) = req('POST', '/api/auth/login',
                      {password => 'blocks password 1'});
is($st, 200, 'logged in');
my ($cookie) = ($res->{headers}{'set-cookie'} // '') =~ /^(gp_admin=[^;]+)/;
ok($cookie, 'a session cookie');

my $s = open_stream(Cookie => $cookie);
my $head = wait_text($s, qr/\r\n\r\n/, 5) && substr($s->{buf}, 0, $s->{pos});
like($head // '', qr{^HTTP/1.1 200 }, 'the session opens a stream');
like($head // '', qr{\r\nContent-Type: text/event-stream\r\n}i,
     'text/event-stream');
like($head // '', qr{\r\nCache-Control: no-cache\r\n}i, 'not cached');
my $hello = wait_event($s, 'hello', undef, 5);
is($hello && $hello->{tick}, 1000, 'hello: it looks each second');
my $c = wait_event($s, 'counters', undef, 3);
is_deeply($c && $c->{accounts}, {total => 4, available => 4, cooling => 0,
                                 expired => 0, disabled => 0},
          'the counters: 4 accounts, all available');

# 2. a change: an account disabled

my $t0 = time;
($st) = admin('POST', '/api/accounts/id:2/toggle', {});
is($st, 200, 'acc2 disabled');
my $e = wait_event($s, 'accounts', qr/"id":2,/, 4);
ok($e, sprintf('its row arrives (%.1f s)', time - $t0));
my ($row) = grep { $_->{id} == 2 } @{ $e->{accounts} || [] };
is($row && $row->{state}, 'disabled', 'as disabled');
is(scalar @{ $e->{accounts} || [] }, 1, 'only the changed row');
$c = wait_event($s, 'counters', qr/"disabled":1/, 3);
ok($c, 'the counters follow: 1 disabled');

# 3. a cooldown from a 429 of the upstream

GeminiPool::mock_post('/__mock/inject', {account => 'acc1',
    endpoint => 'streamAssist',
    action => {status => 429, body => 'daily quota exceeded'}});
for (1 .. 2) {
    $http->post($srv->url('/v1/chat/completions'), {
        headers => {'Content-Type' => 'application/json'},
        content => $json->encode({messages => [{role => 'user',
                                                content => "hi $_"}]})});
}
$e = wait_event($s, 'accounts', qr/"name":"acc1".*"state":"cooling"/, 4);
($row) = grep { $_->{name} eq 'acc1' } @{ $e->{accounts} || [] };
ok($row && $row->{cooldown_until}{text} > time, 'acc1 cools down, live');
like($row && $row->{last_error}, qr/429/, 'with its last error');
ok($row && $row->{last_error_at} >= int($t0), 'and its time');
my $at = $row && $row->{last_error_at};
ok(wait_for(5, sub { GeminiPool::sql("SELECT last_error_at FROM "
                                     . "account_state WHERE account_id = 1")
                     eq ($at // '') }),
   'the helper keeps the error\'s time in SQLite (a restart keeps it)');

# 4. a bulk test: its progress and the rows' results

GeminiPool::mock_post('/__mock/inject', {account => 'acc3',
    endpoint => 'getoxsrf', action => {expired => JSON::PP::true}});
my $mark = $s->{pos};
($st, $d) = admin('POST', '/api/accounts/bulk',
                  {action => 'test', ids => [3, 4]});
is($st, 200, 'a bulk test of acc3 and acc4');
my $p = wait_event($s, 'progress', qr/"done":2/, 4);
is_deeply($p && [@$p{qw(kind total done ok failed)}], ['test', 2, 2, 1, 1],
          'its progress: 2 of 2 done, 1 ok, 1 failed');
ok($p && $p->{finished}, 'and finished');
$s->{pos} = $mark;
$e = wait_event($s, 'accounts', qr/"id":3,/, 4);
($row) = grep { $_->{id} == 3 } @{ $e->{accounts} || [] };
is($row && $row->{test} && $row->{test}{status}, 401,
   'acc3 shows its failed test');

# 5. a re-login's steps: queued by an operator, it fails (no browser here)

my $login = GeminiPool::Login->start(accounts => [qw(acc4)]);
ok($login, 'the fake temp-mail worker starts');
($st) = admin('PATCH', '/api/accounts/id:4',
              {tempmail_url => $login->mailbox('acc4')->{url}});
is($st, 200, 'acc4 has a mailbox');
$mark = $s->{pos};
($st) = admin('POST', '/api/accounts/id:4/refresh-cookie', {});
is($st, 202, 'its re-login is queued');
my @seen;
for (1 .. 10) {
    $e = wait_event($s, 'accounts', qr/"id":4,/, 5) or last;
    ($row) = grep { $_->{id} == 4 } @{ $e->{accounts} || [] };
    push @seen, $row->{relogin}{state} if $row && $row->{relogin};
    last if @seen && $seen[-1] eq 'failed';
}
ok(@seen && $seen[-1] eq 'failed',
   'its row follows the re-login: ' . join(' -> ', @seen));
like($row && $row->{relogin}{last_failure}{reason} // '', qr/browser/,
     'with the reason of the failure');

# 6. a heartbeat while nothing happens

$t0 = time;
ok(wait_text($s, qr/^: heartbeat\n\n/m, 8),
   sprintf('a heartbeat comment after a silence (%.1f s)', time - $t0));

# 7. at most 16 streams per worker

my @more = map { open_stream('X-Admin-Token' => $SECRET) } 1 .. 15;
ok(wait_text($more[-1], qr/event: hello/, 5), '16 streams are open');
my $over = open_stream('X-Admin-Token' => $SECRET);
my $h = wait_text($over, qr/\r\n\r\n.*"code":"too_many_streams"[^\n]*/s, 5);
like($h // '', qr/"message":"this worker has 16 event streams open/,
     'a 17th is refused: 503 too_many_streams');
like($over->{buf}, qr{^HTTP/1.1 503 }, 'with the status 503');
close $_->{sock} for @more, $over;

# a closed stream frees its place
sleep 0.5;
my $again = open_stream('X-Admin-Token' => $SECRET);
ok(wait_text($again, qr/event: hello/, 5), 'closed streams free their places');

# 8. a reload closes the streams at once; the old worker goes

my $old = $srv->pids->{workers}[0];
$t0 = time;
kill 'HUP', $srv->pid;
wait_text($s, qr/\A\z/, 5);
ok($s->{eof}, sprintf('the reload closes the stream (%.1f s)', time - $t0));
wait_text($again, qr/\A\z/, 2);
ok($again->{eof}, 'every stream');
ok(wait_for(5, sub { my $w = $srv->pids->{workers};
                     @$w == 1 && $w->[0] != $old }),
   sprintf('the old worker exits (%.1f s)', time - $t0));

my $s2 = open_stream(Cookie => $cookie);
ok(wait_event($s2, 'hello', undef, 5), 'the new worker streams');
close $s2->{sock};

unlike($srv->error_log_text, qr/\[(?:alert|crit|emerg)\]/,
       'no alert in the error log');

$srv->stop;

done_testing;
