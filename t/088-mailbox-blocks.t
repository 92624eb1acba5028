# The temp-mail client and remote sync in Test::Nginx blocks, so that they
# also run under valgrind with the other Test::Nginx suites: a mailbox
# read (list, detail, failures), a wait that finds a code, a wait cut
# short by the end of the test's request, and pushes to ourselves and to
# a peer that is down.

use lib 't/lib';
BEGIN { $ENV{ADMIN_SECRET_KEY} = 'blocks-admin-secret-mailbox-01' }
use Test::Nginx::Socket 'no_plan';
use GeminiPool;
use HTTP::Tiny;
use JSON::PP;
use POSIX ();

our ($TM, $TM_PID, $BOX);
my $json = JSON::PP->new->utf8->canonical;

{
    pipe(my $r, my $w) or die "pipe: $!";
    $TM_PID = fork() // die "fork: $!";
    if (!$TM_PID) {
        close $r;
        open STDOUT, '>&', $w or die;
        { exec '/usr/bin/python3', "$GeminiPool::ROOT/t/mock/tempmail.py",
               '--port', '0' }
        POSIX::_exit(127);
    }
    close $w;
    my $line = <$r>;
    die "tempmail.py did not start\n" unless $line && $line =~ /^READY (\d+)/;
    $TM = "http://127.0.0.1:$1";
}
END { if ($TM_PID) { kill 'TERM', $TM_PID; waitpid $TM_PID, 0; } }

sub fake {
    my ($method, $path, $body) = @_;
    my $res = HTTP::Tiny->new(timeout => 10)->request($method, "$TM$path", {
        (defined $body ? (content => $json->encode($body)) : ()),
    });
    die "fake $method $path: $res->{status}\n" unless $res->{success};
    return $json->decode($res->{content});
}

$BOX = fake('POST', '/__fake/mailbox', {address => 'blk7mq2z@mail.test'});

sub check { "POST /api/mailbox/check\n" . $json->encode({@_}) }

# the mailbox's JWT with another signature
sub forged {
    my ($h, $p, $s) = split /\./, $BOX->{jwt};
    substr($s, 5, 1) = substr($s, 5, 1) eq 'A' ? 'B' : 'A';
    return "$h.$p.$s";
}

# delivers a mail once the worker API has had n calls since the reset
# (the baseline is then read): in time, also under valgrind
sub deliver_after {
    my ($n, %mail) = @_;
    # a grandchild, so that no zombie is left for the harness to see
    my $pid = fork() // die "fork: $!";
    if (!$pid) {
        POSIX::_exit(0) if fork();
        for (1 .. 600) {
            last if @{fake('GET', '/__fake/requests')->{requests}} >= $n;
            select(undef, undef, undef, 0.1);
        }
        eval { fake('POST', '/__fake/deliver', \%mail) };
        POSIX::_exit(0);
    }
    waitpid $pid, 0;
}

no_long_string();
log_level('info');
run_tests();

__DATA__

=== TEST 1: a mailbox read: list, detail, code; HTML, 503 and a bad JWT
--- config
    location /api/ { gemini_pool_admin; }
--- gp_setup
main::fake('POST', '/__fake/reset');
main::fake('POST', '/__fake/config', {list_raw => JSON::PP::false});
main::fake('POST', '/__fake/deliver', {address => 'blk7mq2z@mail.test',
    subject => 'code', html => '<p>Your one-time verification code is: '
    . '<b>TJE5R8</b></p>', qp => JSON::PP::true});
--- more_headers
X-Admin-Token: blocks-admin-secret-mailbox-01
--- request eval
[main::check(tempmail_url => $main::BOX->{url}),
 main::check(tempmail_url => "$main::TM/"),
 main::check(tempmail_url => $main::BOX->{url},
             tempmail_worker_url => 'http://127.0.0.1:1'),
 main::check(tempmail_url => "$main::TM/?jwt=" . main::forged())]
--- error_code eval
[200, 400, 200, 200]
--- response_body_like eval
[qr/^\{"ok":true,.*"newest":\{"id":1,"subject":"code","code":"TJE5R8"\}\}$/,
 qr/"code":"invalid_mailbox"/,
 qr/^\{"ok":false,.*"error":"the worker did not answer: /,
 qr/"error":"the worker refused the mailbox's jwt \(HTTP 401\)"/]


=== TEST 2: a wait finds the code of a mail that arrives
--- config
    location /api/ { gemini_pool_admin; }
--- gp_setup
main::fake('POST', '/__fake/reset');
main::fake('POST', '/__fake/deliver', {address => 'blk7mq2z@mail.test',
    subject => 'old', text => 'verification code is: OLD1X1'});
main::deliver_after(2, address => 'blk7mq2z@mail.test', subject => 'new',
    text => "\x{60a8}\x{7684}\x{4e00}\x{6b21}\x{6027}\x{9a8c}\x{8bc1}"
            . "\x{7801}\x{4e3a}\x{ff1a} VACBHW");
--- more_headers
X-Admin-Token: blocks-admin-secret-mailbox-01
--- request eval
["PUT /api/settings\n{\"tempmail_poll_interval\":1}",
 main::check(tempmail_url => $main::BOX->{url}, wait => 15)]
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/"tempmail_poll_interval"/, qr/^\{"ok":true,.*"code":"VACBHW"\}$/]
--- timeout: 20


=== TEST 3: a client that leaves during a wait and during a transfer
--- config
    location /api/ { gemini_pool_admin; }
--- gp_setup
main::fake('POST', '/__fake/reset');
main::fake('POST', '/__fake/config', {delay_ms => 1500});
--- more_headers
X-Admin-Token: blocks-admin-secret-mailbox-01
--- request eval
[main::check(tempmail_url => $main::BOX->{url}, wait => 30),
 main::check(tempmail_url => $main::BOX->{url})]
--- timeout: 1
--- abort
--- ignore_response
--- no_error_log
[alert]


=== TEST 4: push all to ourselves by name; a peer that is down is owed
--- config
    location /api/ { gemini_pool_admin; }
--- more_headers
X-Admin-Token: blocks-admin-secret-mailbox-01
--- request eval
my $me = 'http://127.0.0.1:' . Test::Nginx::Socket::server_port();
["PUT /api/settings\n{\"remote_sync_url\":\"$me\","
 . "\"remote_sync_api_key\":\"blocks-admin-secret-mailbox-01\"}",
 "POST /api/remote-sync/test",
 "POST /api/sync-all-to-remote",
 "PUT /api/settings\n{\"remote_sync_url\":\"http://127.0.0.1:1\"}",
 "POST /api/sync-all-to-remote",
 "GET /api/remote-sync",
 "PUT /api/settings\n{\"remote_sync_url\":\"\"}"]
--- error_code eval
[200, 200, 200, 200, 200, 200, 200]
--- response_body_like eval
[qr/remote_sync_url/, qr/"ok":true,"status":200/,
 qr/^\{"success":true,"total":3,"synced":3,"skipped":false\}$/,
 qr/remote_sync_url/,
 qr/"synced":0/,
 qr/"pending":\[\{"account":0,.*"attempts":1,.*"last_status":0/,
 qr/remote_sync_url/]
