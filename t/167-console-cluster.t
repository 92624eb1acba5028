# The console shows the shared Redis of several gateways (issue 17,
# item 4: "shown in /health, /api/status, the console and the metrics"):
# the dashboard's facts say "connected since ..." while Redis answers and
# "unreachable since ... (the error)" after it is killed, without a
# reload of the page; a gateway without the directive shows no such line.
# Debian's Chromium and a real redis-server; without Chromium the file is
# skipped, unless CI=true: then it fails.

use strict;
use warnings;
use utf8;

use lib 't/lib';
use Test::More;

my $SECRET;

BEGIN {
    $SECRET = 'console-cluster-secret-0123456789';
    $ENV{ADMIN_SECRET_KEY} = $SECRET;
}

use GeminiPool ':plain';
use GeminiPool::Redis;
use GeminiPool::Chromium;
use GeminiPool::Console;

binmode(Test::More->builder->$_, ':encoding(UTF-8)')
    for qw(output failure_output todo_output);

my $CI = ($ENV{CI} // '') =~ /^(?:1|true|yes)$/i;

my $console = GeminiPool::Console::location();

my $server = "location /v1/ { gemini_pool_api; }
              location /api/ { gemini_pool_admin; }
              location = /health { gemini_pool_health; }
$console";

my $redis = GeminiPool::Redis->new(name => '167')->start;
my $A = $redis->gateway(name => '167-a', server => $server);
my $L = $redis->gateway(name => '167-alone', server => $server,
                        no_cluster => 1);
ok(wait_for(5, sub { ($A->health->{cluster} || {})->{up} }), 'A: up');

my $b = GeminiPool::Chromium->new(lang => 'en-US');

unless ($b) {
    my $why = $@ || 'chromium did not start';
    $A->stop;
    $L->stop;
    if ($CI) {
        fail("$why (required when CI=true)");
        done_testing;
        exit 1;
    }
    plan skip_all => "no browser: $why";
}

$b->call('Runtime.enable');
GeminiPool::Console::use_browser($b);

sub login {
    my ($gw) = @_;
    # (both gateways are 127.0.0.1: a cookie is per host, not per port,
    # and a session of the other one would be answered 401 mid-login)
    $b->call('Network.clearBrowserCookies');
    $b->goto($gw->url('/admin/'));
    ok(wait_js(visible('#login-form')), 'the login form');
    # (the form opens in the mode the server says only after asking it)
    ok(wait_js('document.querySelector("#login-input").name === "secret"'),
       'in the admin secret mode');
    fill('#login-input', $SECRET);
    click('#login-submit');
    ok(wait_js(visible('#stat-total')), 'logged in: the dashboard')
        or diag(js('document.body.innerText'));
}

# alone: no Redis line
login($L);
ok(wait_js('!!document.querySelector("#dash-version")'), 'the facts');
ok(!js('!!document.querySelector("#dash-cluster")'),
   'a gateway without gemini_pool_cluster: no Redis line');

# (log out: the cookie is per host, not per port, and A must not see L's)
click('#logout');
ok(wait_js(visible('#login-form')), 'logged out of the lone gateway');
$L->stop;

# with the directive: connected
login($A);
ok(wait_js('/^connected since /.test((document.querySelector('
           . '"#dash-cluster") || {}).textContent || "")'),
   'the dashboard: Redis connected');
like(js('document.querySelector("#dash-cluster").closest("dl")'
        . '.textContent'), qr/Shared Redis/, 'named "Shared Redis"');

# Redis killed: the dashboard says so at its next refresh, no reload
js('window.__same_page = 1');
$redis->kill;
ok(wait_for(5, sub { !($A->health->{cluster} || {up => 1})->{up} }),
   'Redis killed: /health says down');
js('location.hash = "#/accounts"');
ok(wait_js(visible('#view-accounts')), 'another page');
js('location.hash = "#/dashboard"');
ok(wait_js('/^unreachable since .*\\(.+\\)/.test((document.querySelector('
           . '"#dash-cluster") || {}).textContent || "")'),
   'the dashboard: Redis unreachable, with the error');
ok(js('window.__same_page === 1'), '... without a reload of the page');

# in Chinese
js('localStorage.setItem("gp-console-lang", "zh-CN"); location.reload()');
ok(wait_js('/无法连接/.test((document.querySelector("#dash-cluster") '
           . '|| {}).textContent || "")'), 'in Chinese');

$A->stop;
done_testing;
