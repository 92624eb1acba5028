# The console's image host fields in Debian's real Chromium: the endpoint
# and the write-only token on the settings page, their descriptions in
# English and Chinese, and the "Test upload" button against the fake host
# t/mock/imghost.py (the host's link, its refusal, and the API's error
# when nothing is configured).  Without Chromium the file is skipped,
# unless CI=true: then it fails.

use strict;
use warnings;
use utf8;

use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use JSON::PP;
use POSIX ();

my $SECRET;

BEGIN {
    $SECRET = 'console-imghost-secret-0123456789';
    $ENV{ADMIN_SECRET_KEY} = $SECRET;
}

use GeminiPool ':plain';
use GeminiPool::Server;
use GeminiPool::Chromium;
use GeminiPool::Console;
use GeminiPool::Network;

binmode(Test::More->builder->$_, ':encoding(UTF-8)')
    for qw(output failure_output todo_output);

my $CI = ($ENV{CI} // '') =~ /^(?:1|true|yes)$/i;
my $TOKEN = 'console-imghost-token-42';
my $json = JSON::PP->new->utf8->canonical->allow_nonref;
my $http = HTTP::Tiny->new(timeout => 10);

my ($IH, $IH_PID);
{
    pipe(my $r, my $w) or die "pipe: $!";
    $IH_PID = fork() // die "fork: $!";
    if (!$IH_PID) {
        close $r;
        open STDOUT, '>&', $w or die;
        { exec '/usr/bin/python3', "$GeminiPool::ROOT/t/mock/imghost.py",
               '--port', '0', '--token', $TOKEN }
        POSIX::_exit(127);
    }
    close $w;
    my $line = <$r>;
    die "imghost.py did not start\n" unless $line && $line =~ /^READY (\d+)/;
    $IH = "http://127.0.0.1:$1";
}
END { if ($IH_PID) { kill 'TERM', $IH_PID; waitpid $IH_PID, 0; } }

my $console = GeminiPool::Console::location();

my $srv = GeminiPool::Server->new(
    name => 'console-imghost', port => GeminiPool::Network::free_port(),
    server => "    location /api/ { gemini_pool_admin; }\n$console");
$srv->start;

sub admin {
    my ($method, $path, $body) = @_;
    my $res = $http->request($method, $srv->url($path), {
        headers => { 'X-Admin-Token' => $SECRET },
        (defined $body ? (content => $json->encode($body)) : ()),
    });
    return ($res->{status}, eval { $json->decode($res->{content}) });
}

my $b = GeminiPool::Chromium->new(lang => 'en-US');

unless ($b) {
    my $why = $@ || 'chromium did not start';
    $srv->stop;
    if ($CI) {
        fail("$why (required when CI=true)");
        done_testing;
        exit 1;
    }
    plan skip_all => "no browser: $why";
}

$b->call('Runtime.enable');
GeminiPool::Console::use_browser($b);

$b->goto($srv->url('/admin/'));
ok(wait_js('!!document.querySelector("#login-input")'), 'the login form');
click('input[name="login-mode"][value="secret"]');
fill('#login-input', $SECRET);
click('#login-submit');
ok(wait_js('!!document.querySelector("#stat-total")'), 'logged in');

js('location.hash = "#/settings"');
ok(wait_js('!!document.querySelector("#setting-upload_endpoint")'),
   'the settings page has upload_endpoint');
is(js('document.querySelector("#setting-upload_api_token").type'),
   'password', 'the token is a secret field');
is(text_of('#setting-upload_api_token-state'), 'not set', 'not set');
like(js('document.querySelector(\'[data-key="upload_endpoint"] .hint\')'
        . '.textContent'), qr/image host/, 'described in English');
is(text_of('#upload-test'), 'Test upload', 'a "Test upload" button');

# nothing configured: the API's error
clear_toasts();
click('#upload-test');
ok(toast_with('.error', '400.*set upload_endpoint and upload_api_token'),
   'testing without a host: the API\'s error is shown');

# a wrong token: the host's refusal
fill('#setting-upload_endpoint', "$IH/upload");
fill('#setting-upload_api_token', 'wrong-token-7');
click('#settings-save');
ok(wait_js('(document.querySelector("#setting-upload_api_token-state") '
           . '|| {}).textContent === "set"'), 'saved: the token is set');
is(js('document.querySelector("#setting-upload_api_token").value'), '',
   'the field stays empty');
clear_toasts();
click('#upload-test');
ok(toast_with('.error', 'Test upload failed: the image host answered '
              . 'HTTP 401: Unauthorized'), 'a wrong token: the refusal');

# the right token: the host's link
fill('#setting-upload_api_token', $TOKEN);
js('document.querySelector("#settings-form").dataset.stale = "1"');
click('#settings-save');
ok(wait_js('!document.querySelector("#settings-form").dataset.stale'),
   'saved again');
clear_toasts();
click('#upload-test');
ok(toast_with('', 'The image host took the test image in \\d+ ms: '
              . "\Q$IH\E/file/\\d+_gemini-pool-upload-test\\.png"),
   'the test upload: the host\'s link');
ok(!js('document.body.innerText.includes(' . q_($TOKEN) . ')'),
   'the token is not shown');

my ($st, $d) = admin('GET', '/api/settings');
is($d->{settings}{upload_endpoint}{value}, "$IH/upload", 'the endpoint');
ok($d->{settings}{upload_api_token}{set}, 'the token is set');

# Chinese
# (wait for the Chinese text itself: right after location.reload() the
# old English page may still answer for a moment)
js('localStorage.setItem("gp-console-lang", "zh-CN"); location.reload()');
ok(wait_js('(document.querySelector("#upload-test") || {}).textContent '
           . '=== "测试上传"', 15), 'reloaded in Chinese');
is(text_of('#upload-test'), '测试上传', 'the button in Chinese');
like(js('document.querySelector(\'[data-key="upload_api_token"] .hint\')'
        . '.textContent'), qr/图床/, 'described in Chinese');

$srv->stop;
done_testing;
