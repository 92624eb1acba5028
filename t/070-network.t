# The network edge (issue 6), against the mock over HTTPS with a test CA
# and real proxies from Debian, all on 127.0.0.1 (GeminiPool::Network):
#
#   1. the global proxy from gemini_pool_proxy: HTTP CONNECT (tinyproxy);
#      an invalid "proxy" setting is reported and the directive applies;
#   2. the "proxy" setting over the directive: SOCKS5 (dante); an HTTPS
#      proxy (a TLS front on tinyproxy), and one from an unknown CA;
#   3. a per-account proxy beside the global one, each proxy's log showing
#      only its account's traffic; "direct" for one account (set with
#      scripts/gemini-pool-account add --proxy direct);
#   4. proxy_enabled false, and proxy_for without "google": direct;
#   5. a dead proxy: failover, a network cooldown, a clear warn line;
#   6. credentials in proxy URLs: they work and never reach a log;
#   7. a certificate from an unknown CA is refused (host and reason logged);
#   8. gemini_pool_ssl_verify off accepts it, with a warning at start;
#      a proxy URL of an unknown scheme stops start-up;
#   9. the per-call timeout directives;
#  10. a stream through a stock nginx proxy_pass arrives unbuffered.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use GeminiPool ':plain';
use GeminiPool::Server;
use GeminiPool::Network;

use HTTP::Tiny;
use IO::Select;
use IO::Socket::INET;
use JSON::PP;
use POSIX ();
use Time::HiRes qw(time sleep);

my $T0 = time;
my $JSON = JSON::PP->new->utf8->canonical;
my $http = HTTP::Tiny->new(timeout => 30);

my $pki = GeminiPool::Network::pki();
my $mock = GeminiPool::Network->tls_mock;
my $TARGET = $mock->target;                       # 127.0.0.1:<port>
my $SECRET = "Pr0xy-s3cret-$$";
my $tp = GeminiPool::Network->tinyproxy(connect_ports => [$mock->port]);
my $tpa = GeminiPool::Network->tinyproxy(connect_ports => [$mock->port],
                                         auth => ['gpuser', $SECRET]);
my $socks = GeminiPool::Network->dante;
my $https = GeminiPool::Network->tls_front(backend => $tp->port);
my $https_other = GeminiPool::Network->tls_front(backend => $tp->port,
                                                 cert => $pki->{other_cert},
                                                 key => $pki->{other_key});

diag(sprintf 'TLS mock %d, tinyproxy %d, tinyproxy+auth %d, dante %d '
             . '(set-up %.1f s)', $mock->port, $tp->port, $tpa->port,
             $socks->port, time - $T0);

my $LOCATIONS = <<'END';
        location /v1/ { gemini_pool_api; }
        location = /health { gemini_pool_health; }
END

my $srv;

# ---------------------------------------------------------------- helpers

# a fresh start: the mock reset, two accounts, the settings and account
# proxies given, then nginx (gp_http off: the module talks to the TLS mock)
#   name, settings => [[key, type, value], ..], proxies => {acc => url},
#   ca => file ('' for none), http => more http-level lines,
#   accounts => how many of the mock's (2), setup => code run before nginx
sub scenario {
    my (%o) = @_;

    $srv->stop if $srv;
    $mock->reset;
    GeminiPool::set_accounts($o{accounts} // 2);
    $o{setup}->() if $o{setup};
    GeminiPool::sql('DELETE FROM settings');
    GeminiPool::setting(@$_) for @{ $o{settings} || [] };
    for my $acc (sort keys %{ $o{proxies} || {} }) {
        GeminiPool::sql("UPDATE accounts SET proxy = '$o{proxies}{$acc}' "
                        . "WHERE name = '$acc'");
    }

    # ephemeral ports: other suites running at the same time use 19851-9
    $srv = GeminiPool::Server->new(
        name    => "net-$o{name}",
        port    => GeminiPool::Network::free_port(),
        gp_http => 0,
        http    => GeminiPool::Network::http_config($mock,
                       (exists $o{ca} ? (ca => $o{ca}) : ()),
                       extra => $o{http} // ''),
        server  => $LOCATIONS,
    );
    my $ok = eval { $srv->start; 1 };
    unless ($ok) {
        fail("$o{name}: nginx starts");
        diag($@);
        return 0;
    }
    return 1;
}

# CONNECTs (tinyproxy) and sessions (dante) to the mock so far
sub counts {
    return { http  => $tp->connect_count($TARGET),
             auth  => $tpa->connect_count($TARGET),
             socks => $socks->session_count($TARGET) };
}

sub growth {
    my ($before) = @_;
    sleep 0.1;          # the proxies log on their own threads/processes
    my $now = counts();
    return { map { $_ => $now->{$_} - $before->{$_} } keys %$now };
}

# a chat completion: {status, raw (body), text (the answer), accounts =>
# [the account of each streamAssist of this prompt at the mock],
# ok_accounts => [those answered 200]}
sub chat_once {
    my ($prompt) = @_;
    my $res = $http->post($srv->url('/v1/chat/completions'), {
        headers => { 'Content-Type' => 'application/json' },
        content => $JSON->encode({ messages => [{ role => 'user',
                                                  content => $prompt }] }),
    });
    my $body = eval { $JSON->decode($res->{content}) } || {};
    my @recs = grep { index($_->{query_text} // '', $prompt) >= 0 }
                    @{ $mock->requests('streamAssist') };
    return {
        status   => $res->{status},
        raw      => $res->{content},
        text     => eval { $body->{choices}[0]{message}{content} } // '',
        accounts => [ map { $_->{account} // '?' } @recs ],
        ok_accounts => [ map { $_->{account} // '?' }
                         grep { ($_->{status} // 0) == 200 } @recs ],
    };
}

# the module's own lines of the error log
sub gp_lines {
    return join '', grep { /gemini|proxy|TLS|certificate|SSL/i }
                    split /^/m, $srv->error_log_text;
}

sub tail {
    my ($text, $n) = @_;
    my @l = split /\n/, $text // '';
    @l = @l[-$n .. -1] if @l > $n;
    return join '', map { "    $_\n" } @l;
}

sub explain_failure {
    diag("error log (module lines):\n" . tail(gp_lines(), 15));
    diag("tinyproxy log:\n" . tail(join("\n", grep { /CONNECT|auth|Refused/i }
                                       split /\n/, $tp->log_text), 6));
    diag("dante log:\n" . tail(join("\n", grep { m{tcp/connect|block} }
                                   split /\n/, $socks->log_text), 6));
}

sub served {
    my ($r, $name) = @_;
    is($r->{status}, 200, "$name: 200") or diag($r->{raw});
    like($r->{text}, qr/^echo: /, "$name: the answer came from the mock");
}

# --------------------------------------- 1. HTTP CONNECT, from the directive

if (scenario(name => 'http', http => '    gemini_pool_proxy ' . $tp->url
                                     . ";\n")) {
    my $c = counts();
    my $r = chat_once('net-1 through tinyproxy');
    served($r, 'HTTP CONNECT proxy');
    my $g = growth($c);
    cmp_ok($g->{http}, '>=', 1,
           "tinyproxy logged CONNECT $TARGET ($g->{http})")
        or explain_failure();
    is($g->{socks} + $g->{auth}, 0, 'no other proxy was used');
    is_deeply($r->{ok_accounts}, [ $r->{accounts}[0] // 'none' ],
              'one streamAssist at the mock');
}

# ------------- 1b. an invalid proxy setting: reported, the directive applies

if (scenario(name => 'bad-setting',
             http => '    gemini_pool_proxy ' . $tp->url . ";\n",
             settings => [[proxy => string =>
                           "ftp://gpuser:SettingPw-$$\@127.0.0.1:21"]])) {
    # nginx loaded the settings at start: the report is there already
    my $at_start = $srv->error_log_text;
    like($at_start, qr/setting "proxy"/,
         'the invalid setting is reported when nginx loads it')
        or diag(tail($at_start, 5));
    my $c = counts();
    my $r = chat_once('net-1b invalid proxy setting');
    served($r, 'an invalid proxy setting');
    my $g = growth($c);
    cmp_ok($g->{http}, '>=', 1, 'the directive applies instead')
        or explain_failure();
    unlike($srv->error_log_text, qr/SettingPw/,
           'its password is in no log line')
        or diag(tail(join("\n", grep { /SettingPw/ }
                                split /\n/, $srv->error_log_text), 2));
    unlike($r->{raw}, qr/SettingPw/, 'nor in the response')
        or diag($r->{raw});
}

# ------------------------- 2. SOCKS5, from the setting over the directive

if (scenario(name => 'socks',
             http => '    gemini_pool_proxy ' . $tp->url . ";\n",
             settings => [[proxy => string => $socks->url]])) {
    my $c = counts();
    my $r = chat_once('net-2 through dante');
    served($r, 'SOCKS5 proxy');
    my $g = growth($c);
    cmp_ok($g->{socks}, '>=', 1,
           "dante logged a session to $TARGET ($g->{socks})")
        or explain_failure();
    is($g->{http}, 0, 'the proxy setting replaces the directive')
        or explain_failure();
}

# ----------- 2b. an HTTPS proxy (TLS to the proxy, verified by the test CA)

if (scenario(name => 'https-proxy',
             settings => [[proxy => string => $https->url]])) {
    my $c = counts();
    my $front = $https->accept_count;
    my $r = chat_once('net-2b through an HTTPS proxy');
    served($r, 'HTTPS proxy');
    my $g = growth($c);
    cmp_ok($https->accept_count - $front, '>=', 1,
           'the TLS front of the proxy accepted the connection');
    cmp_ok($g->{http}, '>=', 1, "and tinyproxy behind it CONNECTed "
                                . "to $TARGET ($g->{http})")
        or explain_failure();
}

# ------- 2c. an HTTPS proxy whose certificate comes from an unknown CA

if (scenario(name => 'https-proxy-unknown-ca',
             settings => [[proxy => string => $https_other->url]])) {
    my $c = counts();
    my $r = chat_once('net-2c HTTPS proxy, unknown CA');
    is($r->{status}, 502, 'an HTTPS proxy with an unknown CA: 502')
        or diag($r->{raw});
    my $g = growth($c);
    is($g->{http}, 0, 'no CONNECT went through it') or explain_failure();
    my ($line) = grep { /proxy/i && /failed/ && /certificate|SSL|TLS/i }
                 split /\n/, $srv->error_log_text;
    ok($line, 'the error log says the proxy failed its TLS verification')
        or explain_failure();
    like($line // '', qr/127\.0\.0\.1:${\ $https_other->port}/,
         'naming the proxy host:port');
    diag("  $line") if $line;
}

# ------------- 3. per-account proxy: acc1 global tinyproxy, acc2 own dante

if (scenario(name => 'per-account',
             settings => [[proxy => string => $tp->url]],
             proxies  => { acc2 => $socks->url(scheme => 'socks5h') })) {
    my (%seen, $clean);
    $clean = 1;
    for my $i (1, 2) {
        my $c = counts();
        my $r = chat_once("net-3 request $i");
        served($r, "per-account proxies, request $i");
        my $g = growth($c);
        my ($acc) = @{ $r->{ok_accounts} };
        $acc //= 'none';
        $seen{$acc}++;
        is(scalar @{ $r->{accounts} }, 1,
           "request $i: one attempt at the mock ($acc)");
        if ($acc eq 'acc1') {
            cmp_ok($g->{http}, '>=', 1,
                   "request $i served by acc1: tinyproxy has its CONNECT")
                or $clean = 0;
            is($g->{socks}, 0, "request $i: dante saw nothing")
                or $clean = 0;
        } elsif ($acc eq 'acc2') {
            cmp_ok($g->{socks}, '>=', 1,
                   "request $i served by acc2: dante has its session")
                or $clean = 0;
            is($g->{http}, 0, "request $i: tinyproxy saw nothing")
                or $clean = 0;
        } else {
            fail("request $i: served by $acc");
            $clean = 0;
        }
    }
    is_deeply([sort keys %seen], [qw(acc1 acc2)],
              'the two requests went to acc1 and acc2')
        or $clean = 0;
    explain_failure() unless $clean;
}

# --------------- 3b. "direct" bypasses the global proxy for one account

my $ACCOUNT_TOOL = "$GeminiPool::ROOT/scripts/gemini-pool-account";

# adds the mock's acc2 with the tool; its exit status
sub add_acc2 {
    my (@proxy) = @_;
    my $a = $JSON->decode(GeminiPool::slurp(
        "$GeminiPool::ROOT/t/mock/accounts.json"))->[1];
    local $ENV{GEMINI_POOL_MODULE} = $GeminiPool::MODULE;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', '/dev/null';
        { no warnings 'exec';
          exec {$ACCOUNT_TOOL} $ACCOUNT_TOOL, '--db', $GeminiPool::DB, 'add',
               '--name', $a->{name}, '--team-id', $a->{team_id},
               '--csesidx', $a->{csesidx}, '--secure-c-ses', $a->{secure_c_ses},
               '--host-c-oses', $a->{host_c_oses}, @proxy; }
        POSIX::_exit(127);
    }
    waitpid $pid, 0;
    return $? >> 8;
}

if (scenario(name => 'direct', accounts => 1,
             settings => [[proxy => string => $tp->url]],
             setup => sub {
                 isnt(add_acc2('--proxy', 'ftp://127.0.0.1:21'), 0,
                      'gemini-pool-account add refuses an ftp:// proxy');
                 is(add_acc2('--proxy', 'direct'), 0,
                    'gemini-pool-account add --proxy direct');
             })) {
    like(GeminiPool::sql("SELECT name || '=' || proxy FROM accounts "
                         . "ORDER BY id"), qr/\Aacc1=\nacc2=enc:v1:\S+\z/,
         'the proxy column holds it, encrypted at rest');
    my (%seen, $clean);
    $clean = 1;
    for my $i (1, 2) {
        my $c = counts();
        my $r = chat_once("net-3b request $i");
        served($r, "direct account, request $i");
        my $g = growth($c);
        my ($acc) = @{ $r->{ok_accounts} };
        $acc //= 'none';
        $seen{$acc}++;
        if ($acc eq 'acc1') {
            cmp_ok($g->{http}, '>=', 1,
                   "request $i served by acc1: through the global proxy")
                or $clean = 0;
        } else {
            is($g->{http} + $g->{socks} + $g->{auth}, 0,
               "request $i served by $acc: no proxy saw it")
                or $clean = 0;
        }
    }
    is_deeply([sort keys %seen], [qw(acc1 acc2)],
              'the two requests went to acc1 and acc2')
        or $clean = 0;
    explain_failure() unless $clean;
}

# ----------------------- 4. switch off, or "google" not in proxy_for: direct

for my $case (
    [ 'switch-off', 'proxy_enabled false',
      [[proxy => string => $socks->url], [proxy_enabled => bool => 'false']] ],
    [ 'proxy-for', 'proxy_for "images,sync"',
      [[proxy => string => $socks->url],
       [proxy_for => string => 'images,sync']] ],
) {
    my ($name, $what, $settings) = @$case;
    next unless scenario(name => $name, settings => $settings,
                         http => '    gemini_pool_proxy ' . $tp->url
                                 . ";\n");
    my $c = counts();
    my $r = chat_once("net-4 $name");
    served($r, "$what");
    my $g = growth($c);
    is($g->{http} + $g->{socks} + $g->{auth}, 0,
       "$what: a direct connection (neither proxy log grew)")
        or explain_failure();
}

# ------------------------------------------ 5. a dead proxy for acc1

my $dead = GeminiPool::Network::dead_port();
my $DEADPW = "DeadPw-$$";

if (scenario(name => 'dead-proxy',
             proxies => {
                 acc1 => "http://deaduser:$DEADPW\@127.0.0.1:$dead" })) {
    # round robin over two accounts: one of two requests starts on acc1
    my @r = map { chat_once("net-5 request $_") } 1, 2;
    served($r[$_ - 1], "dead proxy for acc1, request $_") for 1, 2;
    is_deeply([ map { @{ $_->{ok_accounts} } } @r ], [qw(acc2 acc2)],
              'both were served by acc2');
    is(scalar(grep { $_ eq 'acc1' } map { @{ $_->{accounts} } } @r), 0,
       'acc1 never reached the upstream');

    my $h = $srv->health;
    my $left = (pool_account($h, 'acc1')->{cooldown_until}{text} // 0) - time;
    ok($left > 100 && $left <= 121,
       sprintf('acc1 cools down for the network cooldown (%.0f s left)',
               $left))
        or diag(GeminiPool::pool_summary($JSON->encode($h)));
    ok(!pool_account($h, 'acc2')->{cooldown_until}{text}
       || pool_account($h, 'acc2')->{cooldown_until}{text} <= time,
       'acc2 does not');

    my $log = $srv->error_log_text;
    my ($line) = grep { /acc1/ && /proxy/i && /fail/i } split /\n/, $log;
    ok($line, 'the error log says the proxy of acc1 failed')
        or explain_failure();
    like($line // '', qr/127\.0\.0\.1:$dead/, 'naming the proxy host:port');
    like($line // '', qr/\*\*\*/, 'with the credentials masked')
        and diag("  $line");
    unlike($log, qr/\Q$DEADPW\E/, 'the password is in no log line');
    unlike($JSON->encode($h), qr/\Q$DEADPW\E/, 'nor in /health?detail=1');
}

# --------------------------- 6. credentials: right ones work, none leak

my $WRONG = "WrongPw-$$";

if (scenario(name => 'credentials',
             settings => [[proxy => string => $tpa->url]],
             proxies  => { acc2 => "http://gpuser:$WRONG\@127.0.0.1:"
                                   . $tpa->port })) {
    my $c = counts();
    my @r = map { chat_once("net-6 request $_") } 1, 2;
    served($r[$_ - 1], "proxy with BasicAuth, request $_") for 1, 2;
    my $g = growth($c);
    is_deeply([ map { @{ $_->{ok_accounts} } } @r ], [qw(acc1 acc1)],
              'both served by acc1 (acc2 has the wrong password)');
    cmp_ok($g->{auth}, '>=', 2,
           "the BasicAuth tinyproxy logged the CONNECTs ($g->{auth})")
        or explain_failure();
    is($g->{http} + $g->{socks}, 0, 'no other proxy was used');

    my $log = $srv->error_log_text;
    unlike($log, qr/\Q$SECRET\E/, 'the password is not in the error log');
    unlike($log, qr/\Q$WRONG\E/, 'nor the wrong one');
    unlike($srv->access_log_text, qr/\Q$SECRET\E|\Q$WRONG\E/,
           'nor in the access log');
    unlike($JSON->encode($srv->health), qr/\Q$SECRET\E|\Q$WRONG\E/,
           'nor in /health?detail=1');
    my ($line) = grep { /acc2/ && /proxy/i && /fail/i } split /\n/, $log;
    ok($line, 'the failing proxy of acc2 is logged') or explain_failure();
    diag("  $line") if $line;
}

# ------------------------------------ 7. a certificate from an unknown CA

if (scenario(name => 'unknown-ca', ca => $pki->{other_ca})) {
    my $r = chat_once('net-7 unknown CA');
    is($r->{status}, 502, 'a certificate from an unknown CA: 502')
        or diag($r->{raw});
    is(scalar @{ $mock->requests }, 0, 'no HTTP request reached the mock');

    my $log = $srv->error_log_text;
    my ($line) = grep { /TLS|certificate/i && /127\.0\.0\.1:${\ $mock->port}/ }
                 split /\n/, $log;
    ok($line, 'the error log names the host:port and TLS')
        or explain_failure();
    like($line // '', qr/certificate|issuer|verif/i, 'and the reason');
    diag("  $line") if $line;
}

# ------------------------------------------ 8. gemini_pool_ssl_verify off

if (scenario(name => 'verify-off', ca => $pki->{other_ca},
             http => "    gemini_pool_ssl_verify off;\n")) {
    my $r = chat_once('net-8 verification off');
    served($r, 'gemini_pool_ssl_verify off accepts the certificate');
    like($srv->error_log_text,
         qr/\[warn\].*gemini_pool_ssl_verify is off/,
         'and start-up logged a warning');
}

# ------------------- 8b. a bad proxy URL in the directive stops start-up

{
    my $bad = GeminiPool::Server->new(
        name    => 'net-bad-proxy',
        port    => GeminiPool::Network::free_port(),
        gp_http => 0,
        http    => GeminiPool::Network::http_config($mock, extra =>
                       "    gemini_pool_proxy "
                       . "ftp://gpuser:LeakPw-$$\@127.0.0.1:21;\n"),
        server  => $LOCATIONS,
    );
    $srv->stop if $srv;
    my $started = eval { $bad->start; 1 };
    my $err = $@ // '';
    $bad->stop;
    ok(!$started, 'gemini_pool_proxy ftp://...: nginx refuses to start');
    like($bad->error_log_text, qr/invalid proxy/, 'saying the proxy is invalid')
        or diag($err);
    unlike($bad->error_log_text, qr/LeakPw/,
           'without the password of the bad URL')
        or diag(tail($bad->error_log_text, 3));
}

# ----------------------------------------- 9. the per-call timeouts

if (scenario(name => 'timeouts', http => <<'END')) {
    gemini_pool_connect_timeout 5s;
    gemini_pool_xsrf_timeout 10s;
    gemini_pool_session_timeout 10s;
    gemini_pool_stream_timeout 20s;
    gemini_pool_idle_timeout 20s;
    gemini_pool_upload_timeout 30s;
    gemini_pool_download_timeout 30s;
END
    served(chat_once('net-9 timeouts'), 'all timeout directives set');
}

# ----------------- 10. a stream through a stock nginx proxy_pass in front

# reads a streamed completion from a raw socket: the head, and every SSE
# event with the time its last byte arrived
sub sse_events {
    my ($port, $prompt, $timeout) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp', Timeout => 5)
        or return { error => "connect: $!" };
    my $body = $JSON->encode({ stream => JSON::PP::true,
                               messages => [{ role => 'user',
                                              content => $prompt }] });
    my $t0 = time;
    syswrite $s, "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\n"
                 . "Content-Type: application/json\r\nConnection: close\r\n"
                 . "Content-Length: " . length($body) . "\r\n\r\n$body";

    my ($raw, $data, $head, $chunked) = ('', '');
    my @events;
    my $deadline = $t0 + $timeout;
    my $sel = IO::Select->new($s);
    my $eof;

    while (!$eof && time < $deadline) {
        last unless $sel->can_read($deadline - time);
        my $n = sysread $s, my $buf, 65536;
        $eof = 1 unless $n;
        my $t = time - $t0;
        $raw .= $buf // '';

        if (!defined $head) {
            next unless $raw =~ s/\A(.*?)\r\n\r\n//s;
            $head = $1;
            $chunked = $head =~ /^transfer-encoding:\s*chunked/mi;
        }
        if ($chunked) {
            while ($raw =~ /\A([0-9a-fA-F]+)[^\r\n]*\r\n/) {
                my ($size, $hl) = (hex $1, length $&);
                last if length($raw) < $hl + $size + 2;
                $data .= substr($raw, $hl, $size);
                substr($raw, 0, $hl + $size + 2) = '';
                $eof = 1 if $size == 0;
            }
        } else {
            $data .= $raw;
            $raw = '';
        }
        while ($data =~ s/\A(.*?)\r?\n\r?\n//s) {
            push @events, { t => $t, text => $1 };
        }
    }
    close $s;
    return { head => $head // $raw, events => \@events,
             timed_out => !$eof };
}

{
    my $ok = scenario(name => 'inner');
    my $inner = $srv;
    my $outer = GeminiPool::Server->new(
        name    => 'net-outer',
        port    => GeminiPool::Network::free_port(),
        gp_http => 0,
        server  => "        location / { proxy_pass http://127.0.0.1:"
                   . $inner->port . "; }\n",
    );
    $ok &&= eval { $outer->start; 1 } || do { diag($@); 0 };
    ok($ok, 'a stock nginx with proxy_pass in front of the module');

    if ($ok) {
        my $res = sse_events($outer->port,
                             'net-10 stream MOCK:gap=400', 30);
        like($res->{head} // '', qr{^HTTP/1\.1 200}, 'the stream: 200')
            or diag($res->{error} // $res->{head});
        my @content;
        my ($done, $text) = (undef, '');
        for my $e (@{ $res->{events} }) {
            next unless $e->{text} =~ /^data: (.*)/s;
            my $d = $1;
            if ($d eq '[DONE]') { $done = $e->{t}; next }
            my $j = eval { $JSON->decode($d) } or next;
            my $c = $j->{choices}[0]{delta}{content};
            next unless defined $c && length $c;
            $text .= $c;
            push @content, $e->{t};
        }
        ok(!$res->{timed_out} && defined $done, 'it ends with [DONE]');
        like($text, qr/^echo: net-10 stream/, 'the content is the answer');
        cmp_ok(scalar @content, '>=', 2,
               'several content events (' . scalar(@content) . ')');
        my $last = $done // ($content[-1] // 0);
        my $spread = $last - ($content[0] // $last);
        cmp_ok($spread, '>=', 1.0,
               sprintf('the first content event came %.2f s before the '
                       . 'last event', $spread));
        my %batches = map { sprintf('%.1f', $_) => 1 } @content, $last;
        cmp_ok(scalar keys %batches, '>=', 3,
               'the events arrived spaced in time, not all at the end')
            or diag('arrival times: '
                    . join(' ', map { sprintf '%.3f', $_->{t} }
                                @{ $res->{events} }));
        diag('arrival times (s): '
             . join(' ', map { sprintf '%.2f', $_->{t} }
                         @{ $res->{events} }));
    }
    $outer->stop;
}

$srv->stop if $srv;

# what the proxies themselves complained about (resets when nginx stops
# with tunnels open, the start-up probes): for the record only
my @complaints = grep { /^ERROR/ && !/closed socket before read/ }
                 map { split /\n/, $_->log_text } $tp, $tpa;
note("tinyproxy: $_") for @complaints;

$_->stop for $https, $https_other, $tp, $tpa, $socks, $mock;

diag(sprintf 'took %.1f s', time - $T0);

done_testing;
