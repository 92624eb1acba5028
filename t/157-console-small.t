# The console's small fixes of issue 15, in one short session of Debian's
# real Chromium: the login page opens on the admin secret while no
# password exists (with the first-start help) and on the password once
# one is set (without it); an API key without a name is refused and the
# form is cleared after a key is made; each new key keeps its own
# shown-once box; the call logs and the history are filtered by picking a
# key by name; the export offers the credentials, with a warning in
# English and Chinese.  Without Chromium the file is skipped, unless
# CI=true: then it fails.

use strict;
use warnings;
use utf8;

use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use JSON::PP;

my $SECRET;

BEGIN {
    $SECRET = 'console-small-secret-0123456789';
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

my $console = GeminiPool::Console::location();

my $srv = GeminiPool::Server->new(
    name => 'console-small', port => GeminiPool::Network::free_port(),
    server => <<"END");
    location /api/ { gemini_pool_admin; }
    location /v1/ { gemini_pool_api_keys on; gemini_pool_api; }
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

# picks the option of a select by its text's start (a key by its name)
sub pick {
    my ($sel, $start) = @_;
    return js('(() => { const s = document.querySelector(' . q_($sel)
              . '); if (!s) return null; const o = [...s.options].find('
              . '(o) => o.textContent.startsWith(' . q_($start) . ')); '
              . 'if (!o) return null; s.value = o.value; s.dispatchEvent('
              . 'new Event("change", {bubbles: true})); return o.value; '
              . '})()');
}

# the texts of one column of a table's rows
sub column {
    my ($table, $i) = @_;
    return js('[...document.querySelectorAll(' . q_("table.$table tbody tr")
              . ')].map((tr) => tr.cells[' . $i . '].textContent)') // [];
}

# ----------------------------------------------------------------------
# first start: no password; the page opens on the secret, with the help

$b->goto($srv->url('/admin/'));
ok(wait_js(visible('#login-form')), 'the login form');
ok(wait_js('document.querySelector("#login-input").name === "secret"'),
   'no password yet: it opens on the admin secret')
    or diag(js('document.querySelector("#login-input").name'));
ok(js('document.querySelector(\'input[name="login-mode"][value="secret"]\')'
      . '.checked'), 'its switch is on');
ok(wait_js(visible('#view-login .help')), 'with the first-start help');

fill('#login-input', $SECRET);
click('#login-submit');
ok(wait_js(visible('#stat-total')), 'logged in with the secret');

# ----------------------------------------------------------------------
# API keys: a name required, the form cleared, one box per new key

js('location.hash = "#/keys"');
ok(wait_js(visible('#key-form')), 'the key form');
fill('#key-name', '   ');
click('#key-create');
ok(wait_js(visible('#key-form .form-error')), 'no name: an error');
like(text_of('#key-form .form-error'), qr/"name" is required/,
     'naming the field');
is(js('document.querySelector("#key-name").getAttribute("aria-invalid")'),
   'true', 'the field is marked');
my ($st, $d) = admin('GET', '/api/keys');
is(scalar @{ $d->{keys} }, 0, 'no key was made');

fill('#key-name', 'alpha');
fill('#key-rpm', '60');
fill('#key-models', 'gemini-2.5-flash');
click('#key-create');
ok(wait_js('document.querySelectorAll(".new-key").length === 1'),
   'the first key is shown');
my $alpha = js('document.querySelector(".new-key .new-key-value").value');
like($alpha // '', qr/^sk-gp-\w{20,}$/, 'a real key');
ok(!js('document.querySelector("#key-form .form-error").hidden === false'),
   'no error now');
is_deeply(js('["#key-name", "#key-models", "#key-rpm"].map((s) => '
             . 'document.querySelector(s).value)'), ['', '', '0'],
          'the form is cleared');

fill('#key-name', 'beta');
click('#key-create');
ok(wait_js('document.querySelectorAll(".new-key").length === 2'),
   'a second key: a second box');
my $boxes = js('[...document.querySelectorAll(".new-key")].map((b) => '
               . '[b.querySelector("h2").textContent, '
               . 'b.querySelector(".new-key-value").value])');
like($boxes->[0][0], qr/: beta$/, 'the newest first');
like($boxes->[1][0], qr/: alpha$/, 'the first key\'s box kept');
is($boxes->[1][1], $alpha, 'with the first key');
my $beta = $boxes->[0][1];
isnt($beta, $alpha, 'two keys');

js('document.querySelectorAll(".new-key")[1]'
   . '.querySelector(".new-key-done").click()');
ok(wait_js('document.querySelectorAll(".new-key").length === 1'),
   'dismissing one box');
like(text_of('.new-key h2'), qr/: beta$/, 'leaves the other');
click('.new-key-done');
ok(wait_js('!document.querySelector(".new-key")'), 'both dismissed');

# ----------------------------------------------------------------------
# logs and history: filtered by picking a key by name

($st) = admin('PUT', '/api/settings', { history_enabled => JSON::PP::true });
is($st, 200, 'history on');
for ([$alpha, 'question from alpha'], [$beta, 'question from beta']) {
    ($st) = req('POST', '/v1/chat/completions',
                { model => 'gemini-2.5-flash',
                  messages => [{ role => 'user', content => $_->[1] }] },
                Authorization => "Bearer $_->[0]");
    is($st, 200, "a chat: $_->[1]");
}

# (the call log is written after the answer: refreshed until both show)
js('location.hash = "#/logs"');
my $both = 0;
for (1 .. 40) {
    click('#view-logs .view-head button');
    if (wait_js('document.querySelectorAll("table.logs tbody tr").length'
                . ' >= 2', 0.5))
    {
        $both = 1;
        last;
    }
}
ok($both, 'the call log: both calls')
    or diag(js('document.querySelector("#view-logs").innerText'));
is(js('document.querySelector("#logs-key").tagName'), 'SELECT',
   'the key is picked from a list');
is_deeply(js('[...document.querySelector("#logs-key").options].map('
             . '(o) => o.textContent.replace(/ \\(#\\d+\\)$/, ""))'),
          ['All keys', 'alpha', 'beta'], 'of the keys\' names');
ok(pick('#logs-key', 'beta'), 'beta picked');
click('#view-logs form.toolbar button[type="submit"]');
ok(wait_js('document.querySelectorAll("table.logs tbody tr").length === 1'),
   'one call left');
like(column('logs', 1)->[0], qr/^beta \(#\d+\)$/, 'beta\'s');
like(text_of('#view-logs h1'), qr/^Calls of key beta/, 'the title names it');

js('location.hash = "#/history"');
$both = 0;
for (1 .. 40) {
    click('#view-history .view-head button');
    if (wait_js('document.querySelectorAll("table.history tbody tr").length'
                . ' === 2', 0.5))
    {
        $both = 1;
        last;
    }
}
ok($both, 'the history: both chats')
    or diag(js('document.querySelector("#view-history").innerText'));
ok(pick('#history-key', 'alpha'), 'alpha picked');
click('#view-history form.toolbar button[type="submit"]');
ok(wait_js('document.querySelectorAll("table.history tbody tr").length'
           . ' === 1'), 'one chat left');
is(column('history', 6)->[0], 'question from alpha', 'alpha\'s');

# ----------------------------------------------------------------------
# export: the credentials offered, with a warning

js('location.hash = "#/config"');
ok(wait_js(visible('#config-export-secrets')), 'a box for the credentials');
ok(!js(visible('#config-export-warning')), 'no warning while unticked');
click('#config-export-secrets');
ok(wait_js(visible('#config-export-warning')), 'ticked: a warning');
like(text_of('#config-export-warning'),
     qr/login cookies and other secrets in plain text/, 'that says why');

# what the page downloads
js('(() => { const f = window.fetch; window.fetch = async (u, i) => { '
   . 'const r = await f(u, i); if (String(u).includes("config/export")) { '
   . 'window.__url = String(u); window.__doc = await r.clone().json(); } '
   . 'return r; }; })()');
click('#config-export');
ok(wait_js(visible('dialog.confirm[open] button.danger'), 5),
   'asked again');
like(text_of('dialog.confirm[open]'), qr/WITH credentials/, 'saying what');
click('dialog.confirm[open] button.danger');
ok(wait_js('!!window.__doc'), 'exported');
like(js('window.__url'), qr{config/export\?secrets=1$}, 'with secrets=1');
ok(js('window.__doc.secrets === true && typeof window.__doc.accounts[0]'
      . '.secure_c_ses === "string" && window.__doc.accounts[0]'
      . '.secure_c_ses.length > 0'), 'the cookies in it');
ok(wait_js('[...document.querySelectorAll(".toast")].some((t) => '
           . '/with credentials/.test(t.textContent))'), 'said so');

# the warning in Chinese
js('localStorage.setItem("gp-console-lang", "zh-CN"); location.reload()');
ok(wait_js(visible('#config-export-secrets') . ' && document.querySelector('
           . '"#config-export-secrets").parentNode.textContent.includes('
           . '"包含凭据")'), 'reloaded in Chinese: the box');
click('#config-export-secrets');
ok(wait_js(visible('#config-export-warning')), 'the warning');
like(text_of('#config-export-warning'), qr/警告.*明文.*Cookie/,
     'in Chinese');

# ----------------------------------------------------------------------
# a password set: the page opens on the password, without the help

($st) = admin('PUT', '/api/auth/password',
              { password => 'small console password' });
is($st, 200, 'a password set (through the API)');
# (this browser last logged in with the secret: the server's word wins)
js('localStorage.setItem("gp-console-lang", "en")');
click('#logout');
ok(wait_js(visible('#login-form')), 'logged out: the login form');
ok(wait_js('document.querySelector("#login-input").name === "password"'),
   'it opens on the password');
ok(wait_js('!document.querySelector("#view-login .help")'),
   'without the first-start help');
fill('#login-input', 'small console password');
click('#login-submit');
ok(wait_js(visible('#logout')), 'the password logs in');

$srv->stop;
done_testing;
