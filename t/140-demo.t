# Demo mode (issue #18): "scripts/run --demo" as a newcomer runs it
# (bootstrap, build, the bundled mock as the upstream, fake accounts, an
# API key), with its ports overridden.  The curl lines it prints are run
# as printed: a streamed answer, then an image whose link serves a PNG.
# /health and the admin API say "demo", the console shows the banner
# (in Chromium), the access log carries the module's variables of
# nginx.conf.example's log format, and a TERM stops nginx and the mock.
# Without --demo nothing says demo.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use File::Path qw(remove_tree);
use HTTP::Tiny;
use IO::Select;
use IO::Socket::INET;
use JSON::PP;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);

my $SECRET;

BEGIN {
    # the non-demo server below: the harness's mock and database
    $SECRET = 'demo-test-admin-secret-0123456789';
    $ENV{ADMIN_SECRET_KEY} = $SECRET;
}

use GeminiPool ':plain';
use GeminiPool::Server;
use GeminiPool::Chromium;

my $ROOT = $GeminiPool::ROOT;
my $CI = ($ENV{CI} // '') =~ /^(?:1|true|yes)$/i;
my $json = JSON::PP->new->utf8->canonical;
my $http = HTTP::Tiny->new(timeout => 20, max_redirect => 0);

# a free port for the demo's nginx (the harness's server port is used by
# the non-demo server at the end)
sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Proto => 'tcp', Listen => 1)
        or die "no free port: $!";
    my $p = $s->sockport;
    close $s;
    return $p;
}

my $port = free_port();
my $dir = "$ROOT/t/servroot-demo";
remove_tree($dir);

# ----------------------------------------------------------------------
# start it as a newcomer would (own process group: a TERM reaches only it)

pipe(my $out_r, my $out_w) or die "pipe: $!";
my $pid = fork;
die "fork: $!" unless defined $pid;

if ($pid == 0) {
    setpgrp(0, 0);
    close $out_r;
    open STDOUT, '>&', $out_w or POSIX::_exit(126);
    open STDERR, '>', "$ROOT/t/servroot-demo.stderr" or POSIX::_exit(126);
    open STDIN, '<', '/dev/null';
    delete $ENV{ADMIN_SECRET_KEY};    # this file's, not the demo's
    exec "$ROOT/scripts/run", '--demo', '--port', $port, '--dir', $dir
        or POSIX::_exit(127);
}

close $out_w;

my $printed = '';
{
    my $sel = IO::Select->new($out_r);
    my $end = time + 120;    # bootstrap and build when out of date
    while (time < $end && $printed !~ /^Health: .*\n/m) {
        unless ($sel->can_read(1)) {
            last if waitpid($pid, WNOHANG) == $pid;
            next;
        }
        my $n = sysread($out_r, my $buf, 4096);
        last if defined $n && $n == 0;
        $printed .= $buf if $n;
    }
}

sub stderr_text {
    open my $fh, '<', "$ROOT/t/servroot-demo.stderr" or return '';
    local $/;
    return <$fh> // '';
}

like($printed, qr/^== ngx_gemini_pool DEMO: the upstream is the bundled mock/m,
     'it says it is a demo')
    or BAIL_OUT("the demo did not start:\n$printed\n" . stderr_text());

my ($key) = $printed =~ /^API key: (sk-gp-\S+)$/m;
ok($key, 'it prints an API key');

my ($secret) = $printed =~ /admin secret: ([0-9a-f]+)\)/;
ok($secret, 'and the admin secret for the console');

like($printed, qr{^The console: http://127\.0\.0\.1:$port/admin/}m,
     'and the console\'s address');

# the printed commands, continuation lines joined
my @curl;
{
    (my $text = $printed) =~ s/\\\n\s*/ /g;
    @curl = $text =~ /^  (curl .*)$/mg;
}
is(scalar @curl, 2, 'two ready curl lines');

sub run_sh {
    my ($cmd) = @_;
    my $out = `$cmd 2>&1`;
    return ($? >> 8, $out);
}

# ----------------------------------------------------------------------
# the streamed answer

my ($rc, $out) = run_sh($curl[0] // 'false');
is($rc, 0, 'the chat curl line runs');
my @events = $out =~ /^data: (.*)$/mg;
cmp_ok(scalar @events, '>=', 4, 'a streamed answer: several SSE events');
is($events[-1], '[DONE]', 'ending with [DONE]');
my $answer = '';
my $chunks = 0;
for my $e (@events) {
    next if $e eq '[DONE]';
    my $d = eval { $json->decode($e) } or next;
    $chunks++ if ($d->{object} // '') eq 'chat.completion.chunk';
    $answer .= $d->{choices}[0]{delta}{content} // '';
}
cmp_ok($chunks, '>=', 3, 'chat.completion.chunk objects');
like($answer, qr/^echo: Hello, pool\n-- mock tail:/,
     'the mock\'s answer to the printed prompt');

# ----------------------------------------------------------------------
# the image

($rc, $out) = run_sh($curl[1] // 'false');
is($rc, 0, 'the image curl line runs');
my $img = eval { $json->decode($out) } // {};
my $url = $img->{data}[0]{url} // '';
like($url, qr{^http://127\.0\.0\.1:$port/image/[0-9a-f]+\.png$},
     'an image link on the demo\'s port') or diag $out;

my $res = $http->get($url);
is($res->{status}, 200, 'the link serves the image');
is($res->{headers}{'content-type'}, 'image/png', 'as a PNG');
is(substr($res->{content} // '', 0, 8), "\x89PNG\r\n\x1a\n", 'PNG bytes');

# ----------------------------------------------------------------------
# marked as a demo

$res = $http->get("http://127.0.0.1:$port/health");
is($res->{status}, 200, '/health: 200');
my $h = eval { $json->decode($res->{content}) } // {};
ok($h->{demo} && $h->{demo} eq JSON::PP::true, '/health says "demo": true');
is($h->{accounts}{usable}, 8, 'eight demo accounts, all usable');

for my $p ('auth/status', 'status') {
    $res = $http->get("http://127.0.0.1:$port/api/$p",
                      { headers => { 'X-Admin-Token' => $secret // '' } });
    my $d = eval { $json->decode($res->{content}) } // {};
    ok($d->{demo} && $d->{demo} eq JSON::PP::true,
       "GET /api/$p says \"demo\": true");
}

like(stderr_text(), qr/\[warn\].*gemini_pool_demo is on: a demonstration/,
     'nginx warns at start that this is a demo');

# the access log: nginx.conf.example's format with the module's variables
{
    open my $fh, '<', "$dir/logs/access.log" or die "access.log: $!";
    my @lines = grep { m{"POST /v1/chat/completions } } <$fh>;
    is(scalar @lines, 1, 'the chat is in the access log');
    my $re = ' 200 \d+ [\d.]+ account="acc\d" attempts=1 upstream=200 '
             . 'model="gemini-2\.5-flash" key="demo" ttfb=[\d.]+ '
             . 'conversation=new$';
    like($lines[0] // '', qr/$re/,
         'with the account, attempts, upstream status, model, key and '
         . 'time to the first byte');
}

# the console's banner, in a real browser
SKIP: {
    my $b = GeminiPool::Chromium->new(lang => 'en-US');
    unless ($b) {
        fail("chromium: $@ (required when CI=true)") if $CI;
        skip("no chromium: $@", 4);
    }

    my $q = JSON::PP->new->ascii->allow_nonref;
    my $vis = '(() => { const e = document.querySelector("#demo-banner"); '
              . 'return !!e && !e.hidden && e.getClientRects().length > 0; '
              . '})()';

    $b->goto("http://127.0.0.1:$port/admin/");
    ok($b->wait_for('!!document.querySelector("#login-input")', 10),
       'the console\'s login');
    ok(!$b->eval($vis), 'no banner before the login says what this is');

    $b->eval('(() => { document.querySelector(\'input[name="login-mode"]'
             . '[value="secret"]\').click(); const i = document.'
             . 'querySelector("#login-input"); i.value = '
             . $q->encode($secret // '') . '; i.dispatchEvent(new Event('
             . '"input", {bubbles: true})); document.querySelector('
             . '"#login-submit").click(); return true; })()');
    ok($b->wait_for($vis, 10), 'logged in: the demo banner is shown');
    like($b->eval('document.querySelector("#demo-banner").textContent'),
         qr/^Demo mode: the upstream is the bundled mock/,
         'and says what it is');
    $b->quit;
}

# ----------------------------------------------------------------------
# Ctrl-C / TERM stops nginx and the mock

my ($mock_port) = $printed =~ /t\/mock\/server\.py on port (\d+)/;
ok($mock_port, 'it names the mock\'s port');

kill 'TERM', $pid;
my $end = time + 20;
my $st;
while (time < $end) {
    last if waitpid($pid, WNOHANG) == $pid && (($st = $?), 1);
    sleep 0.1;
}
ok(defined $st, 'scripts/run --demo ends on TERM');

sub port_closed {
    my ($p) = @_;
    for (1 .. 50) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $p, Proto => 'tcp',
                                      Timeout => 1);
        return 1 unless $s;
        close $s;
        sleep 0.1;
    }
    return 0;
}

ok(port_closed($port), 'nginx is gone');
ok(port_closed($mock_port // 1), 'the mock is gone');

# ----------------------------------------------------------------------
# never the default: the plain configuration says nothing of a demo

{
    my $plain = "$ROOT/t/servroot-demo-plain";
    remove_tree($plain);
    my ($c, $o) = run_sh("$ROOT/scripts/run --no-build --check --dir $plain"
                         . " --port $port");
    is($c, 0, 'scripts/run --check: the plain configuration passes') or diag $o;
    open my $fh, '<', "$plain/nginx.conf" or die "nginx.conf: $!";
    my $conf = do { local $/; <$fh> };
    unlike($conf, qr/^\s*gemini_pool_demo\b/m, 'without gemini_pool_demo');
    like($conf, qr/^\s*# gemini_pool_api_url /m,
         'and with Google\'s upstream (the default)');
    remove_tree($plain);
}

{
    my $srv = GeminiPool::Server->new(
        name => 'demo-off',
        port => $ENV{TEST_NGINX_GP_SERVER_PORT},
        server => 'location = /health { gemini_pool_health; } '
                  . 'location /api/ { gemini_pool_admin; }');
    $srv->start;
    my $d = eval { $json->decode($http->get($srv->url('/health'))
                                      ->{content}) } // {};
    ok(exists $d->{status} && !exists $d->{demo},
       'a pool without gemini_pool_demo: no "demo" in /health');
    $d = eval { $json->decode($http->get($srv->url('/api/auth/status'),
                 { headers => { 'X-Admin-Token' => $SECRET } })->{content}) }
         // {};
    ok(exists $d->{demo} && !$d->{demo}, '"demo": false for the console');
    $srv->stop;
}

done_testing;
