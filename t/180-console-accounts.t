# The accounts page at scale and live (issue 15, items 3 and 4), in one
# session of Debian's real Chromium: 2,000 accounts listed a page at a
# time, searched, sorted, paged and bulk-disabled (all that match the
# search, through POST /api/accounts/bulk), with the time each step takes
# printed; a cooldown from a 429 of the upstream appears on the page
# without a reload (the event stream) and its countdown runs; at 390 px
# the accounts are cards without horizontal overflow, in English and
# Chinese.  Without Chromium the file is skipped, unless CI=true: then it
# fails.

use strict;
use warnings;
use utf8;

use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use JSON::PP;
use Time::HiRes qw(time sleep);

my $SECRET;

BEGIN {
    $SECRET = 'console-accounts-secret-0123456789';
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
my $json = JSON::PP->new->utf8->canonical->allow_nonref;
my $http = HTTP::Tiny->new(timeout => 10);

# 2,000 accounts: the mock's acc1..acc3 and 1,997 others
my $N = 2000;
my $mock = GeminiPool::accounts_file();
my @all = @$mock[0 .. 2];
for my $i (1 .. $N - 3) {
    push @all, { name => sprintf('bulk-%04d', $i),
                 team_id => sprintf('team-%04d', $i),
                 csesidx => 1500000000 + $i,
                 secure_c_ses => "CSE.bulk-$i-0123456789abcdef",
                 host_c_oses => "COS.bulk-$i-0123456789abcdef" };
}
my $file = "$ENV{TEST_NGINX_GP_DB}.many.json";
open my $fh, '>', $file or die "$file: $!";
print $fh $json->encode(\@all);
close $fh;
GeminiPool::sql("DELETE FROM account_state; DELETE FROM accounts; "
                . "DELETE FROM sqlite_sequence WHERE name = 'accounts'");
system("'$GeminiPool::ROOT/scripts/gemini-pool-account' --db "
       . "'$ENV{TEST_NGINX_GP_DB}' import '$file' >/dev/null") == 0
    or die "import failed\n";
GeminiPool::mock_post('/__mock/reset');
# no periodic cookie check: the helper would try 1,997 fake cookies at
# once, loading the database and the machine while the page is measured
GeminiPool::setting('cookie_check_interval', 'int', '0');

my $console = GeminiPool::Console::location();

my $http_conf = GeminiPool::http_config();
$http_conf =~ s/gemini_pool_zone gemini_pool:\d+m;/gemini_pool_zone gemini_pool:16m;/;

my $srv = GeminiPool::Server->new(
    name => 'console-accounts', port => GeminiPool::Network::free_port(),
    gp_http => 0, http => $http_conf,
    server => <<"END");
    location /api/ { gemini_pool_admin; }
    location /v1/ { gemini_pool_api; }
$console
END
$srv->start;

sub req {
    my ($method, $path, $body, %h) = @_;
    my $res = $http->request($method, $srv->url($path), {
        headers => { 'Content-Type' => 'application/json', %h },
        (defined $body ? (content => $json->encode($body)) : ()),
    });
    return ($res->{status}, eval { $json->decode($res->{content}) });
}

sub admin { req(@_[0 .. 2], 'X-Admin-Token' => $SECRET) }

my ($st, $d) = admin('GET', '/api/accounts?limit=1');
is($d && $d->{all}, $N, "$N accounts in the pool");

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

sub rows { js('document.querySelectorAll("#view-accounts tbody tr")'
              . '.length') // 0 }

sub took { sprintf '%.2f s', time - $_[0] }

$b->goto($srv->url('/admin/'));
ok(wait_js(visible('#login-form')), 'the login form');
fill('#login-input', $SECRET);
click('#login-submit');
ok(wait_js(visible('#stat-total')), 'logged in');

# ----------------------------------------------------------------------
# listed: the first page of 2,000

my $t0 = time;
js('location.hash = "#/accounts"');
ok(wait_js('/of 2,000$/.test((document.querySelector("#acc-page") || {})'
           . '.textContent || "")'), 'the accounts page: "1–50 of 2,000"');
my $list_t = took($t0);
is(rows(), 50, "a page of 50 rows ($list_t)");
diag("2,000 accounts: the first page in $list_t");
like(text_of('#acc-count'),
     qr/^2,000 of 2,000 accounts · available [\d,]+, cooling down \d+, /,
     'the count and the states');
ok(wait_js('document.querySelector("#acc-live").classList.contains("sse")'),
   'the page is live (the event stream is open)');

# paged and sorted

$t0 = time;
click('#acc-next');
ok(wait_js('document.querySelector("#acc-page").textContent'
           . ' === "51–100 of 2,000"'), 'the next page: 51–100');
is(js('document.querySelector("#view-accounts tbody tr td.name")'
      . '.textContent'), 'bulk-0048', 'its first row');
$t0 = time;
click('th button[data-sort="name"]');
ok(wait_js('document.querySelector("#view-accounts tbody tr td.name")'
           . '.textContent === "acc1"'), 'sorted by name: acc1 first');
click('th button[data-sort="name"]');
ok(wait_js('document.querySelector("#view-accounts tbody tr td.name")'
           . '.textContent === "bulk-1997"'),
   'again: descending, bulk-1997 first (' . took($t0) . ')');

# searched

$t0 = time;
fill('#acc-search', 'bulk-01');
ok(wait_js('/^100 of 2,000/.test(document.querySelector("#acc-count")'
           . '.textContent)'), 'searched: "bulk-01" matches 100');
my $search_t = took($t0);
diag("search over 2,000 accounts: $search_t (with a 250 ms pause for typing)");
is(rows(), 50, 'a page of them');
fill('#acc-search', 'team-1996');
ok(wait_js('/^1 of 2,000/.test(document.querySelector("#acc-count")'
           . '.textContent)'), 'by team ID: one');

# bulk-disabled: every account that matches "bulk"

fill('#acc-search', 'bulk');
ok(wait_js('/^1,997 of 2,000/.test(document.querySelector("#acc-count")'
           . '.textContent)'), 'searched: "bulk" matches 1,997');
click('#acc-select-page');
ok(wait_js(visible('.select-all-matching')), 'the page selected: an offer '
   . 'to select all that match');
like(text_of('.select-all-matching'), qr/Select all 1,997 that match/,
     'naming their number');
click('.select-all-matching');
ok(wait_js('document.querySelector("#acc-selected").textContent'
           . ' === "1,997 selected"'), '1,997 selected');
$t0 = time;
click('button[data-bulk="disable"]');
ok(toast_with('', 'Disable: 1,997 done, 0 failed'), 'bulk-disabled: a toast');
ok(wait_js('document.querySelectorAll(\'#view-accounts tbody '
           . 'tr[data-state="disabled"]\').length === 50'),
   'the rows show it');
my $bulk_t = took($t0);
diag("bulk-disable of 1,997 accounts: $bulk_t");
($st, $d) = admin('GET', '/api/accounts?state=disabled&limit=1');
is($d && $d->{total}, $N - 3, 'the server has 1,997 disabled');
($st, $d) = admin('GET', '/api/accounts?state=available&ids=1');
is_deeply($d && $d->{ids}, [1, 2, 3], 'acc1..acc3 stay');

# ----------------------------------------------------------------------
# live: a cooldown appears without a reload, its countdown runs

fill('#acc-search', 'acc');
ok(wait_js('/^3 of 2,000/.test(document.querySelector("#acc-count")'
           . '.textContent)'), 'the three mock accounts on screen');
js('window.__same_page = 1');
ok(!js('document.querySelector(\'tr[data-id="1"] .countdown\')'),
   'acc1 has no cooldown');

GeminiPool::mock_post('/__mock/inject', {account => 'acc1',
    endpoint => 'streamAssist', times => -1,
    action => {status => 429, body => 'daily quota exceeded'}});
for (1 .. 3) {
    req('POST', '/v1/chat/completions',
        {messages => [{role => 'user', content => "hello $_"}]});
}
$t0 = time;
ok(wait_js('!!document.querySelector(\'tr[data-id="1"] .countdown\')', 3),
   'the cooldown of acc1 appears (' . took($t0) . ')');
ok(js('window.__same_page === 1'), 'without a reload of the page');
is(text_of('tr[data-id="1"] .badge'), 'cooling down', 'its state');
like(text_of('tr[data-id="1"] .last-error'), qr/429/, 'its last error');
like(text_of('tr[data-id="1"] .error-at'), qr/^at \S/, 'with its time');
my $left = text_of('tr[data-id="1"] .countdown');
ok(wait_js('document.querySelector(\'tr[data-id="1"] .countdown\')'
           . '.textContent !== ' . GeminiPool::Console::q_($left), 3),
   "the countdown runs ($left, then "
   . (text_of('tr[data-id="1"] .countdown') // '?') . ')');

# the dashboard follows the stream too: an account enabled elsewhere
# shows in its figures within seconds (its poll is every 15 s)

js('location.hash = "#/dashboard"');
my $enabled = '[...document.querySelectorAll("#view-dashboard .stat")]'
    . '.find((c) => c.querySelector(".stat-label").textContent === '
    . '"Enabled").querySelector(".stat-value").textContent';
ok(wait_js("$enabled === \"3\""), 'the dashboard: 3 enabled');
js('window.__same_page = 2');
($st) = admin('POST', '/api/accounts/bulk',
              {action => 'enable', ids => [2000, 1999]});
$t0 = time;
ok(wait_js("$enabled === \"5\"", 8),
   'two accounts enabled by the API: 5 enabled, live (' . took($t0) . ')')
    or diag(js('document.querySelector("#view-dashboard").innerText'));
ok(js('window.__same_page === 2'), 'without a reload');
js('location.hash = "#/accounts"');

# ----------------------------------------------------------------------
# 390 px: cards, no horizontal overflow, in English and Chinese

sub overflow {
    return js('(() => { const w = document.documentElement.clientWidth; '
              . 'const o = [...document.querySelectorAll("#view-accounts '
              . '*")].filter((e) => e.getClientRects().length && '
              . 'e.getBoundingClientRect().right > w + 1).map((e) => '
              . '(e.id || e.className || e.tagName)); '
              . 'return document.documentElement.scrollWidth > w '
              . '? ["page " + document.documentElement.scrollWidth]'
              . '.concat(o.slice(0, 5)) : o.slice(0, 5); })()');
}

fill('#acc-search', '');
ok(wait_js('/^2,000 of 2,000/.test(document.querySelector("#acc-count")'
           . '.textContent)'), 'all listed again');
$b->call('Emulation.setDeviceMetricsOverride',
         { width => 390, height => 844, deviceScaleFactor => 1,
           mobile => JSON::PP::true });
ok(wait_js('document.documentElement.clientWidth === 390'), '390 px');
is(js('getComputedStyle(document.querySelector("#view-accounts tbody tr"))'
      . '.display'), 'block', 'each account is a card');
is(join(' ', @{ overflow() || ['?'] }), '', 'no horizontal overflow (en)');

js('localStorage.setItem("gp-console-lang", "zh-CN")');
$b->reload;
ok(wait_js('document.documentElement.lang === "zh-CN" && '
           . '/共 2,000 个$/.test((document.querySelector("#acc-page") || {})'
           . '.textContent || "")'), 'reloaded in Chinese');
like(text_of('#acc-count'), qr/\p{Han}/, 'the count in Chinese');
like(js('document.querySelector("#acc-search").placeholder'), qr/\p{Han}/,
     'the search in Chinese');
is(join(' ', @{ overflow() || ['?'] }), '', 'no horizontal overflow (zh)');

$b->quit;
$srv->stop;

done_testing;
