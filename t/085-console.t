# The operator console (admin-ui/) served by nginx with the location block
# of nginx.conf.example, driven in Debian's real Chromium (headless, over
# the DevTools pipe: t/lib/GeminiPool/Chromium.pm): content types and
# headers, the ES modules (every one served as JavaScript, imported by a
# relative path, no circle), login with the admin secret, accounts (add,
# a hostile name shown as text, bad input shown, toggle, delete), models,
# an API key shown once, settings (typed, choices and bounds from the
# API, secret write-only, errors), call logs,
# chat history and config import/export (or their "not available"
# notice), the language and theme switches, setting the password,
# logout.
#
# Without Chromium the file is skipped, unless CI=true: then it fails.

use strict;
use warnings;
use utf8;

use lib 't/lib';
use Test::More;
use File::Find ();
use File::Temp ();
use HTTP::Tiny;
use JSON::PP;

my $SECRET;

BEGIN {
    $SECRET = 'console-admin-secret-0123456789';
    $ENV{ADMIN_SECRET_KEY} = $SECRET;
}

use GeminiPool ':plain';
use GeminiPool::Server;
use GeminiPool::Chromium;

binmode(Test::More->builder->$_, ':encoding(UTF-8)')
    for qw(output failure_output todo_output);

my $CI = ($ENV{CI} // '') =~ /^(?:1|true|yes)$/i;

# the console's JavaScript: the entry app.js, i18n.js and the ES modules
# under js/ (core and one per view), as paths below admin-ui/
my @JS;
File::Find::find({ no_chdir => 1, wanted => sub {
    push @JS, $1 if m{^\Q$GeminiPool::ROOT\E/admin-ui/(.+\.js)$};
} }, "$GeminiPool::ROOT/admin-ui");
@JS = sort @JS;

my $json = JSON::PP->new->utf8->canonical->allow_nonref;
my $http = HTTP::Tiny->new(timeout => 10, max_redirect => 0);

# the console's location, exactly as nginx.conf.example has it

open my $fh, '<', "$GeminiPool::ROOT/nginx.conf.example"
    or die "nginx.conf.example: $!";
my $example = do { local $/; <$fh> };
close $fh;

my ($console) = $example
    =~ /\n([ \t]*# the operator console.*?location\s+=\s+\/admin\s+\{.*?\}\n)/s;
ok($console, 'nginx.conf.example has the console location')
    or BAIL_OUT('no console location in nginx.conf.example');
like($console, qr{alias\s+/usr/share/ngx-gemini-pool/admin-ui/;},
     'with the alias scripts/run rewrites');
$console =~ s{/usr/share/ngx-gemini-pool/admin-ui/}{$GeminiPool::ROOT/admin-ui/};

# the key-protected API too, to use a key the console created
my $srv = GeminiPool::Server->new(
    name => 'console', master => 1, workers => 2,
    port => $ENV{TEST_NGINX_GP_SERVER_PORT},
    server => <<"END");
    location /api/ { gemini_pool_admin; }
    location /v1/ { gemini_pool_api_keys on; gemini_pool_api; }
$console
END
$srv->start;

sub req {
    my ($method, $path, $body, %h) = @_;
    my $res = $http->request($method, $srv->url($path), {
        headers => {%h},
        (defined $body ? (content => ref $body ? $json->encode($body)
                                               : $body) : ()),
    });
    my $data = eval { $json->decode($res->{content}) };
    return ($res->{status}, $data, $res);
}

sub admin { req(@_[0 .. 2], 'X-Admin-Token' => $SECRET) }

# ----------------------------------------------------------------------
# served by nginx

my ($st, $d, $res) = req('GET', '/admin/');
is($st, 200, 'GET /admin/: 200');
like($res->{headers}{'content-type'}, qr{^text/html; charset=utf-8$},
     'index.html as text/html, UTF-8');
like($res->{content}, qr{<script type="module" src="app\.js"></script>},
     'loads app.js as a module');
like($res->{headers}{'content-security-policy'} // '',
     qr/script-src 'self';/, 'a Content-Security-Policy without inline '
     . 'scripts');
unlike($res->{headers}{'content-security-policy'} // '', qr/unsafe-inline/,
       'nothing unsafe-inline');
is($res->{headers}{'x-content-type-options'}, 'nosniff', 'nosniff');

cmp_ok(scalar(grep { m{^js/views/\w+\.js$} } @JS), '>=', 9,
       'the views are modules of their own');
for my $f ((map { [$_, qr{^application/javascript; charset=utf-8$}] }
            'app.js', 'i18n.js', grep { m{/} } @JS),
           ['style.css', qr{^text/css; charset=utf-8$}],
           ['favicon.svg', qr{^image/svg\+xml$}])
{
    ($st, $d, $res) = req('GET', "/admin/$f->[0]");
    is($st, 200, "GET /admin/$f->[0]: 200");
    like($res->{headers}{'content-type'}, $f->[1],
         "$f->[0]: $res->{headers}{'content-type'}");
}

($st, $d, $res) = req('GET', '/admin');
is($st, 301, '/admin redirects');
like($res->{headers}{location} // '', qr{/admin/$}, 'to /admin/');

# the admin secret buys a session (so the console need not keep it)
($st, $d) = req('POST', '/api/auth/login', {});
is($st, 400, 'login with neither password nor secret: 400');
like($d->{error}{message}, qr/"password" or "secret"/, 'says what it takes');
($st, $d) = req('POST', '/api/auth/login', { secret => 1 });
is($st, 400, 'a secret that is not a string: 400');
($st, $d) = req('POST', '/api/auth/login', { secret => 'nope' });
is($st, 401, 'a wrong secret: 401');
is($d->{error}{message}, 'wrong admin secret', 'says so');
($st, $d, $res) = req('POST', '/api/auth/login', { secret => $SECRET });
is($st, 200, 'the secret: a session');
my ($cookie) = ($res->{headers}{'set-cookie'} // '') =~ /^(gp_admin=[^;]+)/;
ok($cookie, 'in the session cookie');
my $token = $d->{token} // '';
($st, $d) = req('GET', '/api/auth/status', undef, Cookie => $cookie);
is($st, 200, 'which authenticates');
is($d->{method}, 'session', 'as a session, not the secret');
($st) = req('POST', '/api/auth/logout', undef, 'X-Admin-Token' => $token);
is($st, 200, 'logout');
($st) = req('GET', '/api/auth/status', undef, Cookie => $cookie);
is($st, 401, 'logout ends it');

# every module the console imports exists (and is one of @JS), and no
# two import each other, directly or round a circle
{
    my %js = map { $_ => 1 } @JS;
    my (@bad, %dep);
    for my $f (@JS) {
        open my $js, '<', "$GeminiPool::ROOT/admin-ui/$f" or die "$f: $!";
        my $src = do { local $/; <$js> };
        (my $dir = $f) =~ s{[^/]*$}{};
        my @from = $src =~ /^\s*(?:import|export)\b[^;]*?\bfrom\s+'([^']+)'/mg;
        push @from, $src =~ /^\s*import\s+'([^']+)'/mg;

        for my $m (@from) {
            my $p = $m =~ m{^\.\.?/} ? "$dir$m" : "<$m>";
            $p =~ s{(^|/)\./}{$1}g;
            1 while $p =~ s{[^/.][^/]*/\.\./}{};
            push @bad, "$f: $m" unless $js{$p};
            $dep{$f}{$p} = 1;
        }
    }
    is("@bad", '', 'every import is a module of admin-ui/, by a relative '
       . 'path (no CDN, no build step)');

    my (%done, @circles);
    my $walk;
    $walk = sub {
        my ($f, @path) = @_;
        if (grep { $_ eq $f } @path) {
            push @circles, join(' -> ', @path, $f);
            return;
        }
        return if $done{$f};
        $walk->($_, @path, $f) for sort keys %{ $dep{$f} // {} };
        $done{$f} = 1;
    };
    $walk->($_) for @JS;
    is("@circles", '', 'the imports go one way (no circle)');
    cmp_ok(scalar(keys %dep), '>', 10, 'of the modules\' imports');
}

# no server data through an HTML parser anywhere in the console
for my $f (@JS) {
    open my $js, '<', "$GeminiPool::ROOT/admin-ui/$f" or die "$f: $!";
    my $src = do { local $/; <$js> };
    $src =~ s{/\*.*?\*/}{}gs;                 # comments may name them
    my @sinks = $src =~ /\b(innerHTML|outerHTML|insertAdjacentHTML|
                            document\.write|eval\s*\(|new\s+Function|
                            setHTMLUnsafe|createContextualFragment)/gx;
    is("@sinks", '', "$f uses no HTML-parsing or eval sink");
}

# every string the console uses has both languages
my ($en_keys, $zh_keys);
{
    open my $js, '<', "$GeminiPool::ROOT/admin-ui/i18n.js" or die $!;
    my $src = do { local $/; <$js> };
    my ($en) = $src =~ /\nconst en = \{(.*?)\n\};/s;
    my ($zh) = $src =~ /\nconst zh = \{(.*?)\n\};/s;
    $en_keys = { map { $_ => 1 } ($en // '') =~ /^\s{4}'([\w.]+)':/mg };
    $zh_keys = { map { $_ => 1 } ($zh // '') =~ /^\s{4}'([\w.]+)':/mg };

    my $app = '';
    for my $f (grep { $_ ne 'i18n.js' } @JS) {
        open $js, '<', "$GeminiPool::ROOT/admin-ui/$f" or die "$f: $!";
        $app .= do { local $/; <$js> };
    }
    open $js, '<', "$GeminiPool::ROOT/admin-ui/index.html" or die $!;
    my $html = do { local $/; <$js> };

    my %used = map { $_ => 1 }
               ($app =~ /\bt\('([\w.]+)'\s*[,)]/g),   # not prefixes
               ($html =~ /data-i18n(?:-[\w-]+)?="([\w.]+)"/g);

    cmp_ok(scalar(keys %$en_keys), '>', 100, 'the English table');
    is(join(' ', sort grep { !$zh_keys->{$_} } keys %$en_keys), '',
       'every English string has a Chinese one');
    is(join(' ', sort grep { !$en_keys->{$_} } keys %$zh_keys), '',
       'and the other way round');
    is(join(' ', sort grep { !$en_keys->{$_} } keys %used), '',
       'every key the console uses exists');

    # every setting the module knows is described
    open $js, '<', "$GeminiPool::ROOT/ngx_gemini_pool_module/"
                   . "ngx_http_gemini_pool_settings.c" or die $!;
    my $store = do { local $/; <$js> };
    my @settings = $store =~ /^\s*[SCFI]\([A-Z0-9_]+, "(\w+)",/mg;
    cmp_ok(scalar @settings, '>', 10, 'the settings of the settings table');
    is(join(' ', grep { !$en_keys->{"settings.d.$_"} } @settings), '',
       'every setting has a description');
}

# ----------------------------------------------------------------------
# the browser

my $b = GeminiPool::Chromium->new(lang => 'en-US');

unless ($b) {
    my $why = $@ || 'chromium did not start';
    if ($CI) {
        fail("$why (required when CI=true)");
        done_testing;
        exit 1;
    }
    diag("skipping the browser part: $why");
    done_testing;
    exit 0;
}

$b->call('Runtime.enable');

sub js {
    my ($expr) = @_;
    my $v = eval { $b->eval($expr) };
    diag("JavaScript failed: $@") if $@;
    return $v;
}

# a JavaScript string literal (ASCII: the expression is text, not bytes)
my $jsstr = JSON::PP->new->ascii->allow_nonref;
sub q_ { $jsstr->encode($_[0]) }

sub wait_js {
    my ($expr, $timeout) = @_;
    return $b->wait_for($expr, $timeout // 10);
}

# sets a form control as a user would leave it
sub fill {
    my ($sel, $value) = @_;
    return js('(() => { const e = document.querySelector(' . q_($sel)
              . '); if (!e) return false; e.focus(); e.value = '
              . q_($value) . '; e.dispatchEvent(new Event("input", '
              . '{bubbles: true})); e.dispatchEvent(new Event("change", '
              . '{bubbles: true})); return true; })()');
}

# marks the table of a view, to wait for the next rendering of it
sub stale {
    my ($view) = @_;
    js('document.querySelectorAll(' . q_("$view table")
       . ').forEach((t) => { t.dataset.stale = "1"; })');
}

# toasts of earlier steps must not answer for this one
sub clear_toasts {
    js('document.querySelectorAll(".toast").forEach((t) => t.remove())');
}

sub click {
    my ($sel) = @_;
    return js('(() => { const e = document.querySelector(' . q_($sel)
              . '); if (!e) return false; e.click(); return true; })()');
}

sub text_of {
    my ($sel) = @_;
    return js('(() => { const e = document.querySelector(' . q_($sel)
              . '); return e ? e.textContent : null; })()');
}

sub visible {
    my ($sel) = @_;
    return '(() => { const e = document.querySelector(' . q_($sel)
           . '); return !!e && !e.closest("[hidden]") && '
           . 'e.getClientRects().length > 0; })()';
}

# clicks the button of a table row (found by a cell's exact text)
sub row_click {
    my ($table, $text, $button) = @_;
    return js('(() => { for (const tr of document.querySelectorAll('
              . q_("table.$table tbody tr") . ')) { if ([...tr.cells].some('
              . '(c) => c.textContent === ' . q_($text) . ')) { const b = '
              . '[...tr.querySelectorAll("button, input")].find((x) => '
              . ($button eq 'switch' ? 'x.classList.contains("switch")'
                                     : 'x.textContent === ' . q_($button))
              . '); if (b) { b.click(); return true; } } } return false; '
              . '})()');
}

sub row_exists {
    my ($table, $text) = @_;
    return '[...document.querySelectorAll(' . q_("table.$table tbody tr")
           . ')].some((tr) => [...tr.cells].some((c) => c.textContent === '
           . q_($text) . '))';
}

# the confirmation dialog's OK
sub confirm_ok {
    wait_js(visible('dialog.confirm[open] button.danger'), 5)
        or return 0;
    return click('dialog.confirm[open] button.danger');
}

$b->goto($srv->url('/admin/'));

# ----------------------------------------------------------------------
# login

ok(wait_js(visible('#login-form')), 'the login form is shown first');
is(js('document.documentElement.lang'), 'en', 'English from the browser');
is(text_of('#login-submit'), 'Log in', 'English labels');
like(text_of('#view-login .help'), qr/admin-secret/,
     'it explains where the admin secret is');
ok(js('document.querySelector("#nav").hidden'), 'no navigation yet');

# first start: no password yet; the console opens on the secret, and
# turns back to it when the password is tried
ok(wait_js('document.querySelector("#login-input").name === "secret"'),
   'no password is set: the secret mode first');
click('input[name="login-mode"][value="password"]');
ok(wait_js('document.querySelector("#login-input").name === "password"'),
   'the password mode, chosen');
fill('#login-input', 'some password');
click('#login-submit');
ok(wait_js('document.querySelector("#login-input").name === "secret"'),
   'no password is set: the console switches to the secret');
like(text_of('#login-error'), qr/No password is set yet/, 'and says why');

click('input[name="login-mode"][value="password"]');
ok(wait_js('document.querySelector("#login-input").name === "password"'),
   'the password mode');
click('input[name="login-mode"][value="secret"]');
ok(wait_js('document.querySelector("#login-input").name === "secret"'),
   'the secret mode');

fill('#login-input', 'not-the-secret-at-all');
click('#login-submit');
ok(wait_js(visible('#login-error')), 'a wrong secret: an error is shown');
like(text_of('#login-error'), qr/401.*wrong admin secret/,
     'the API\'s message');

fill('#login-input', $SECRET);
click('#login-submit');
ok(wait_js(visible('#stat-total')), 'the right secret: the dashboard');
is(text_of('#stat-total .stat-value'), '3', 'three accounts');
ok(wait_js(visible('#logout')), 'a logout button');

my $store = js('JSON.stringify({l: {...localStorage}, s: {...sessionStorage},'
               . ' c: document.cookie})');
unlike($store, qr/\Q$SECRET\E/, 'the secret is not kept in the browser');
unlike($store, qr/gp_admin/, 'the session cookie is HttpOnly');

# ----------------------------------------------------------------------
# accounts

my $HOSTILE = '<img src=x onerror="window.__xss=1">&amp;<b>bold</b>';

js('location.hash = "#/accounts"');
ok(wait_js('document.querySelectorAll("table.accounts tbody tr").length '
           . '=== 3'), 'the accounts list: three rows');

click('#account-add');
ok(wait_js(visible('dialog[open] form')), 'the add dialog');
fill('dialog[open] [name="name"]', 'bad-one');
fill('dialog[open] [name="team_id"]', 'team-x');
fill('dialog[open] [name="csesidx"]', '12a');
fill('dialog[open] [name="secure_c_ses"]', 'CSE.bad');
click('dialog[open] button[type="submit"]');
ok(wait_js(visible('dialog[open] .form-error')),
   'bad input: the dialog shows the error');
like(text_of('dialog[open] .form-error'), qr/400.*csesidx.*digits/,
     'the API\'s message names the field');

fill('dialog[open] [name="name"]', $HOSTILE);
fill('dialog[open] [name="csesidx"]', '777');
fill('dialog[open] [name="secure_c_ses"]', 'CSE.console-cookie');
fill('dialog[open] [name="host_c_oses"]', 'COS.console-cookie');
click('dialog[open] button[type="submit"]');
ok(wait_js('!document.querySelector("dialog[open]") && '
           . row_exists('accounts', $HOSTILE)),
   'the new account appears in the list');

($st, $d) = admin('GET', '/api/accounts');
my ($new) = grep { $_->{name} eq $HOSTILE } @{ $d->{accounts} };
ok($new, 'and in GET /api/accounts, name intact');
is($new && $new->{team_id}, 'team-x', 'with its team id');
ok($new && $new->{host_c_oses_set}, 'and its cookies');

is(js('document.querySelectorAll("img").length'), 0,
   'the hostile name created no element');
is(js('document.querySelectorAll("table.accounts b").length'), 0,
   'no markup from it at all');
ok(!js('window.__xss'), 'and ran no script');
is(js('[...document.querySelectorAll("table.accounts td.name")]'
      . '.map((c) => c.textContent).filter((x) => x.includes("onerror"))'
      . '[0]'), $HOSTILE, 'it is shown as text, character for character');

# toggle
row_click('accounts', $HOSTILE, 'switch');
ok(wait_js('(() => { const tr = [...document.querySelectorAll('
           . '"table.accounts tbody tr")].find((tr) => tr.cells[1]'
           . '.textContent === ' . q_($HOSTILE) . '); return tr && '
           . '!tr.querySelector("input.switch").checked && '
           . 'tr.querySelector(".badge").textContent === "disabled"; })()'),
   'the switch disables the account');
($st, $d) = admin('GET', '/api/accounts');
($new) = grep { $_->{name} eq $HOSTILE } @{ $d->{accounts} };
ok($new && !$new->{enabled}, 'the API says disabled');

row_click('accounts', $HOSTILE, 'switch');
ok(wait_js('(() => { const tr = [...document.querySelectorAll('
           . '"table.accounts tbody tr")].find((tr) => tr.cells[1]'
           . '.textContent === ' . q_($HOSTILE) . '); return tr && '
           . 'tr.querySelector("input.switch").checked && '
           . 'tr.querySelector(".badge").textContent === "available"; })()'),
   'and enables it again');
($st, $d) = admin('GET', '/api/accounts');
($new) = grep { $_->{name} eq $HOSTILE } @{ $d->{accounts} };
ok($new && $new->{enabled}, 'the API says enabled');

# edit: a new user agent; the cookies are not prefilled and are kept
row_click('accounts', 'acc2', 'Edit');
ok(wait_js(visible('dialog[open] form')), 'the edit dialog');
is(js('document.querySelector("dialog[open] [name=secure_c_ses]").value'),
   '', 'the cookie is not prefilled');
is(js('document.querySelector("dialog[open] [name=team_id]").value'),
   (admin('GET', '/api/accounts'))[1]{accounts}[1]{team_id},
   'the team id is');
fill('dialog[open] [name="user_agent"]', 'ConsoleAgent/1.0');
click('dialog[open] button[type="submit"]');
ok(wait_js('!document.querySelector("dialog[open]")'), 'saved');
($st, $d) = admin('GET', '/api/accounts');
is($d->{accounts}[1]{user_agent}, 'ConsoleAgent/1.0', 'the API has it');
ok($d->{accounts}[1]{secure_c_ses_set}, 'the cookie is still set');

# live test (the mock accepts acc1's cookies)
row_click('accounts', 'acc1', 'Test');
ok(wait_js('[...document.querySelectorAll(".toast")].some((t) => '
           . 't.textContent.includes("acc1") && '
           . 't.textContent.includes("200"))'),
   'the live test reports HTTP 200');

# quota
row_click('accounts', 'acc1', 'Quota');
ok(wait_js(visible('dialog[open] table.kv')), 'the quota dialog');
like(text_of('dialog[open] table.kv'), qr/Text\s*ready.*Images\s*ready/s,
     'every quota ready');
click('dialog[open] .actions button.primary');
ok(wait_js('!document.querySelector("dialog[open]")'), 'closed');

# delete, through the confirmation
row_click('accounts', $HOSTILE, 'Delete');
ok(confirm_ok(), 'the confirmation is asked');
ok(wait_js('!(' . row_exists('accounts', $HOSTILE) . ')'),
   'the account is gone from the list');
($st, $d) = admin('GET', '/api/accounts');
is(scalar(grep { $_->{name} eq $HOSTILE } @{ $d->{accounts} }), 0,
   'and from the API');

# ----------------------------------------------------------------------
# models

js('location.hash = "#/models"');
ok(wait_js(row_exists('models', 'gemini-2.5-flash')), 'the model table');
click('#model-add');
ok(wait_js(visible('dialog[open] form')), 'the add dialog');
fill('dialog[open] [name="name"]', 'console-model');
fill('dialog[open] [name="model_id"]', 'gemini-2.5-pro');
fill('dialog[open] [name="description"]', '<script>x</script>');
fill('dialog[open] [name="aliases"]', 'gpt-console, console-*');
click('dialog[open] button[type="submit"]');
ok(wait_js(row_exists('models', 'console-model')), 'the new model is listed');
($st, $d) = admin('GET', '/api/models');
my ($m) = grep { $_->{name} eq 'console-model' } @{ $d->{models} };
is($m && $m->{model_id}, 'gemini-2.5-pro', 'the API has it');
is($m && $m->{description}, '<script>x</script>', 'description intact');
is_deeply($m && $m->{aliases}, ['gpt-console', 'console-*'],
          'the aliases, as a list');
ok(wait_js(row_exists('models', '<script>x</script>')),
   'the description is shown as text');
ok(wait_js(row_exists('models', 'gpt-console, console-*')),
   'the aliases are shown');

stale('#view-models');
row_click('models', 'console-model', 'switch');
ok(wait_js('!document.querySelector("#view-models table[data-stale]") && '
           . '(() => { const tr = [...document.querySelectorAll('
           . '"table.models tbody tr")].find((tr) => tr.cells[0]'
           . '.textContent === "console-model"); return tr && '
           . '!tr.querySelector("input.switch").checked; })()'),
   'the switch disables the model');
($st, $d) = admin('GET', '/api/models');
($m) = grep { $_->{name} eq 'console-model' } @{ $d->{models} };
ok($m && !$m->{enabled}, 'the API says disabled');

row_click('models', 'console-model', 'Delete');
ok(confirm_ok(), 'the confirmation is asked');
ok(wait_js('!(' . row_exists('models', 'console-model') . ')'),
   'the model is gone');
($st, $d) = admin('GET', '/api/models');
is(scalar(grep { $_->{name} eq 'console-model' } @{ $d->{models} }), 0,
   'and from the API');

# ----------------------------------------------------------------------
# API keys: shown once

js('location.hash = "#/keys"');
ok(wait_js(visible('#key-form')), 'the key form');
fill('#key-name', 'console-key');
fill('#key-rpm', '100');
click('#key-create');
ok(wait_js(visible('.new-key-value')), 'the new key is shown');
my $key = js('document.querySelector(".new-key-value").value') // '';
like($key, qr/^sk-gp-[A-Za-z0-9_-]{20,}$/, 'a real key');
ok(wait_js(row_exists('keys', 'console-key')), 'and listed by name')
    or diag(js('document.querySelector("#view-keys").innerText'));
ok(js('document.querySelector(".new-key-copy") !== null'), 'a copy button');
clear_toasts();
click('.new-key-copy');
ok(wait_js('document.querySelectorAll(".toast").length > 0'),
   'copying says so');

($st, $d) = req('GET', '/v1/models', undef,
                Authorization => "Bearer $key");
is($st, 200, 'the key works on /v1');

# a call through it, for the call log
($st) = req('POST', '/v1/chat/completions',
            { model => 'gemini-2.5-flash',
              messages => [{ role => 'user', content => 'hi console' }] },
            Authorization => "Bearer $key",
            'Content-Type' => 'application/json');
is($st, 200, 'a chat through it');

click('.new-key-done');
ok(wait_js('!document.querySelector(".new-key")'), 'dismissed');
$b->reload;
ok(wait_js(row_exists('keys', 'console-key')), 'after a reload: listed');
ok(!js('document.body.innerText.includes(' . q_($key) . ') || '
       . '[...document.querySelectorAll("input")].some((i) => i.value === '
       . q_($key) . ')'),
   'but the key is not shown again');
unlike(js('JSON.stringify({...localStorage, ...sessionStorage})'),
       qr/\Q$key\E/, 'nor stored in the browser');
like(js('[...document.querySelectorAll("table.keys tbody tr")].find((tr) '
        . '=> tr.cells[1].textContent === "console-key").cells[2]'
        . '.textContent'), qr/^sk-gp-\w*…$/, 'only its prefix');

# the account that answered it gets a spare session: the list shows it
ok(GeminiPool::wait_for(10, sub {
       grep { $_->{spare_sessions} } @{ (admin('GET', '/api/accounts'))[1]
                                        ->{accounts} } }),
   'the account in use has a spare session (GET /api/accounts)');
my %spares = map { $_->{name} => $_->{spare_sessions} }
             @{ (admin('GET', '/api/accounts'))[1]{accounts} };
js('location.hash = "#/accounts"');
ok(wait_js('[...document.querySelectorAll("table.accounts tbody tr")]'
           . '.some((tr) => tr.querySelector("td.spares").textContent '
           . '=== "1")'), 'the accounts list shows it');
is(js('JSON.stringify(Object.fromEntries([...document.querySelectorAll('
      . '"table.accounts tbody tr")].map((tr) => [tr.cells[1].textContent, '
      . 'Number(tr.querySelector("td.spares").textContent)]).sort((x, y) '
      . '=> x[0] < y[0] ? -1 : 1)))'),
   JSON::PP->new->canonical->encode(\%spares),
   'every row: the count of the admin API');
js('location.hash = "#/keys"');
ok(wait_js(row_exists('keys', 'console-key')), 'back to the keys');

# stats
row_click('keys', 'console-key', 'Stats');
ok(wait_js(visible('#key-stats')), 'the stats dialog');
like(text_of('#key-stats'), qr/Requests \(counted\)\s*[1-9]/,
     'counts the requests');
click('dialog[open] .actions button.primary');

# ----------------------------------------------------------------------
# call logs

js('location.hash = "#/logs"');
my $logged = 0;
for (1 .. 40) {
    click('#view-logs .view-head button');
    if (wait_js(row_exists('logs', 'gemini-2.5-flash'), 0.5)) {
        $logged = 1;
        last;
    }
}
ok($logged, 'the call log shows the chat');
like(js('document.querySelector("table.logs tbody tr").textContent'),
     qr/acc\d.*gemini-2\.5-flash.*200/, 'account, model and status');

# the logs of one key, from the keys view
js('location.hash = "#/keys"');
ok(wait_js(row_exists('keys', 'console-key')), 'back to the keys');
row_click('keys', 'console-key', 'Logs');
ok(wait_js('location.hash === "#/logs" && '
           . 'document.querySelector("#logs-key").value !== ""'),
   'the key\'s logs');
ok(wait_js(row_exists('logs', 'gemini-2.5-flash')), 'with its call');

# revoke
js('location.hash = "#/keys"');
ok(wait_js(row_exists('keys', 'console-key')), 'the keys again');
row_click('keys', 'console-key', 'Revoke');
ok(confirm_ok(), 'revoking asks first');
ok(wait_js('[...document.querySelectorAll("table.keys tbody tr")].some('
           . '(tr) => tr.cells[1].textContent === "console-key" && '
           . 'tr.querySelector(".badge").textContent === "revoked")'),
   'shown revoked');
($st) = req('GET', '/v1/models', undef, Authorization => "Bearer $key");
is($st, 401, 'the revoked key gets 401');

row_click('keys', 'console-key', 'Delete');
ok(confirm_ok(), 'deleting asks first');
ok(wait_js('!(' . row_exists('keys', 'console-key') . ')'),
   'the key is gone from the list');
($st, $d) = admin('GET', '/api/keys');
is(scalar(grep { $_->{name} eq 'console-key' } @{ $d->{keys} }), 0,
   'and from the API');

# ----------------------------------------------------------------------
# settings

js('location.hash = "#/settings"');
ok(wait_js(visible('#setting-max_attempts')), 'the settings form');
is(js('document.querySelector("#setting-max_attempts").type'), 'number',
   'an int is a number field');
is(js('document.querySelector("#setting-show_thoughts").type'), 'checkbox',
   'a bool is a checkbox');
is(js('document.querySelector("#setting-selection_strategy").tagName'),
   'SELECT', 'selection_strategy is a choice');
is(js('document.querySelector("#setting-proxy").type'), 'password',
   'the secret proxy setting is write-only');
is(js('document.querySelector("#setting-proxy").value'), '',
   'and never prefilled');
is(text_of('#setting-proxy-state'), 'not set', 'it says "not set"');

# the proxy test: no proxy anywhere is the API's error
clear_toasts();
click('#proxy-test');
ok(wait_js('[...document.querySelectorAll(".toast.error")].some((t) => '
           . 't.textContent.includes("400"))'),
   'testing without a proxy: the API\'s error is shown');

fill('#setting-max_attempts', '2');
js('document.querySelector("#setting-show_thoughts").click()');
fill('#setting-selection_strategy', 'least_in_flight');
fill('#setting-proxy', 'http://user:pw-console@127.0.0.1:9');
click('#settings-save');
ok(wait_js('document.querySelector("#setting-proxy-state") && '
           . 'document.querySelector("#setting-proxy-state").textContent '
           . '=== "set"'), 'saved: the proxy says "set"');

($st, $d) = admin('GET', '/api/settings');
is($d->{settings}{max_attempts}{value}, 2, 'max_attempts is 2');
ok($d->{settings}{show_thoughts}{value}, 'show_thoughts is on');
is($d->{settings}{selection_strategy}{value}, 'least_in_flight',
   'selection_strategy');
ok($d->{settings}{proxy}{set}, 'the proxy is set');
is(js('document.querySelector("#setting-proxy").value'), '',
   'the field stays empty');
ok(!js('document.body.innerText.includes("pw-console")'),
   'the secret is not shown');

# the configured proxy (nothing listens on port 9): a failure, masked
clear_toasts();
click('#proxy-test');
ok(wait_js('[...document.querySelectorAll(".toast.error")].some((t) => '
           . 't.textContent.includes("127.0.0.1:9"))', 20),
   'the proxy test reports the failure');
ok(!js('document.body.innerText.includes("pw-console")'),
   'with the proxy\'s password masked');

# a value the API refuses: its message is shown, nothing changes
fill('#setting-default_model', 'x' x 600);
fill('#setting-max_attempts', '3');
click('#settings-save');
ok(wait_js(visible('#settings-form .form-error')), 'a refused value: error');
like(text_of('#settings-form .form-error'), qr/400.*default_model/,
     'the API\'s message');
($st, $d) = admin('GET', '/api/settings');
is($d->{settings}{max_attempts}{value}, 2, 'and nothing changed');

# clear the secret (after a refresh has built the form again)
js('document.querySelector("#settings-form").dataset.stale = "1"');
click('#view-settings .view-head button');
ok(wait_js('!document.querySelector("#settings-form").dataset.stale && '
           . 'document.querySelector("#setting-proxy-clear") !== null'),
   'a clear box for a set secret');
js('document.querySelector("#setting-proxy-clear").click()');
click('#settings-save');
ok(wait_js('document.querySelector("#setting-proxy-state") && '
           . 'document.querySelector("#setting-proxy-state").textContent '
           . '=== "not set"'), 'cleared');
($st, $d) = admin('GET', '/api/settings');
ok(!$d->{settings}{proxy}{set}, 'the API says not set');

# the choices and bounds are the API's: "allowed" and "min"/"max" of each
# entry of GET /api/settings (a page fetch that adds some, to be sure the
# console follows them whatever this server sends)
sub settings_again {
    js('document.querySelector("#settings-form").dataset.stale = "1"');
    click('#view-settings .view-head button');
    return wait_js('document.querySelector("#settings-form") && '
                   . '!document.querySelector("#settings-form")'
                   . '.dataset.stale');
}

js('window.__fetch = window.fetch; window.fetch = async (u, i) => { '
   . 'const r = await window.__fetch(u, i); '
   . 'if (!/\/api\/settings$/.test(u) || (i && i.method !== "GET")) '
   . 'return r; const d = await r.json(); const s = d.settings; '
   . 's.selection_strategy.allowed = ["round_robin", "least_in_flight", '
   . '"console_choice"]; s.default_model.allowed = ["gemini-auto", '
   . '"gemini-2.5-flash"]; s.max_attempts.min = 1; '
   . 's.max_attempts.max = 7; return new Response(JSON.stringify(d), '
   . '{ status: 200, headers: { "Content-Type": "application/json" } }); '
   . '}; true');
ok(settings_again(), 'the settings with other allowed values');
is(js('[...document.querySelector("#setting-selection_strategy").options]'
      . '.map((o) => o.value).join(" ")'),
   'round_robin least_in_flight console_choice',
   'the choices are the API\'s "allowed"');
is(js('document.querySelector("#setting-selection_strategy").value'),
   'least_in_flight', 'the current one chosen');
is(js('document.querySelector("#setting-default_model").tagName'), 'SELECT',
   'a text setting with "allowed" is a choice');
is(js('document.querySelector("#setting-max_attempts").min'), '1',
   'a number\'s "min"');
is(js('document.querySelector("#setting-max_attempts").max'), '7',
   'and "max"');

js('window.fetch = window.__fetch; true');
ok(settings_again(), 'the settings as this server has them');
($st, $d) = admin('GET', '/api/settings');
is(js('document.querySelector("#setting-max_attempts").getAttribute("max")'),
   $d->{settings}{max_attempts}{max}, 'its "max" for max_attempts');
is(js('[...document.querySelector("#setting-selection_strategy").options]'
      . '.map((o) => o.value).join(" ")'),
   join(' ', @{ $d->{settings}{selection_strategy}{allowed}
                // ['round_robin', 'least_in_flight'] }),
   'its choices for selection_strategy');

# ----------------------------------------------------------------------
# chat history and config: the routes, or a clear "not available"

($st) = admin('GET', '/api/history?limit=5');
js('location.hash = "#/history"');
if ($st == 404) {
    ok(wait_js(visible('#view-history .notice.warn')),
       'no history routes: a notice');
    like(text_of('#view-history .notice.warn'), qr/404/, 'that says 404');
} else {
    is($st, 200, 'GET /api/history answers');
    ok(wait_js(visible('#history-off')), 'history_enabled off: it says so');

    # turn it on in the settings
    js('location.hash = "#/settings"');
    ok(wait_js(visible('#setting-history_enabled')), 'the switch');
    js('document.querySelector("#setting-history_enabled").click()');
    clear_toasts();
    click('#settings-save');
    ok(wait_js('[...document.querySelectorAll(".toast")].some((t) => '
               . 't.textContent === "Settings saved.")'), 'saved');
    ($st, $d) = admin('GET', '/api/settings');
    ok($d->{settings}{history_enabled}{value}, 'history_enabled is on');

    # a chat with a hostile prompt
    my $HQ = 'console question <img src=y onerror="window.__xss=2"> '
             . "\x{4e2d}\x{6587}";
    ($st, $d) = admin('POST', '/api/keys', { name => 'history-key' });
    ($st) = req('POST', '/v1/chat/completions',
                { model => 'gemini-2.5-flash',
                  messages => [{ role => 'user', content => $HQ }] },
                Authorization => "Bearer $d->{key}",
                'Content-Type' => 'application/json');
    is($st, 200, 'a chat');

    js('location.hash = "#/history"');
    my $seen = 0;
    for (1 .. 40) {
        click('#view-history .view-head button');
        if (wait_js('[...document.querySelectorAll("table.history td'
                    . '.preview")].some((c) => c.textContent === '
                    . q_($HQ) . ')', 0.5))
        {
            $seen = 1;
            last;
        }
    }
    ok($seen, 'the chat is listed, its prompt as text')
        or diag(explain((admin('GET', '/api/history'))[1]),
                js('document.querySelector("#view-history").innerText'));
    ok(!js('!!document.querySelector("#history-off")'), 'recording is on');

    fill('#history-q', 'no such text anywhere');
    click('#view-history form.toolbar button[type="submit"]');
    ok(wait_js('!!document.querySelector("#view-history .empty")'),
       'a search that matches nothing');
    fill('#history-q', 'console question');
    click('#view-history form.toolbar button[type="submit"]');
    ok(wait_js('document.querySelectorAll("table.history tbody tr")'
               . '.length === 1'), 'a search that matches it');

    click('table.history tbody tr');
    ok(wait_js(visible('#history-prompt')), 'the detail');
    is(text_of('#history-prompt'), $HQ, 'the whole prompt, as text');
    like(text_of('#history-answer'), qr/console question/, 'the answer');
    is(js('document.querySelectorAll("img").length'), 0,
       'no element from the prompt');
    ok(!js('window.__xss'), 'no script from it');

    my $hid = js('document.querySelector("table.history tbody tr")'
                 . '.dataset.id');
    js('[...document.querySelectorAll("dialog[open] .actions button")]'
       . '.find((b) => b.textContent === "Delete").click()');
    ok(confirm_ok(), 'deleting asks first');
    ok(wait_js('!document.querySelector("table.history tbody tr")'),
       'the entry is gone from the page');
    ($st) = admin('GET', "/api/history/$hid");
    is($st, 404, 'and from the API');

    # delete all
    req('POST', '/v1/chat/completions',
        { model => 'gemini-2.5-flash',
          messages => [{ role => 'user', content => 'second question' }] },
        Authorization => "Bearer $d->{key}",
        'Content-Type' => 'application/json');
    fill('#history-q', '');
    my $n = 0;
    for (1 .. 40) {
        (undef, my $h) = admin('GET', '/api/history');
        $n = $h->{total};
        last if $n;
        select(undef, undef, undef, 0.1);
    }
    ok($n, 'another chat recorded');
    click('#view-history form.toolbar button[type="submit"]');
    ok(wait_js('document.querySelectorAll("table.history tbody tr")'
               . '.length > 0'), 'listed');
    click('#history-delete-all');
    ok(confirm_ok(), 'deleting all asks first');
    ok(wait_js('[...document.querySelectorAll(".toast")].some((t) => '
               . '/chats deleted/.test(t.textContent))'), 'says how many');
    ($st, $d) = admin('GET', '/api/history');
    is($d->{total}, 0, 'the history is empty');
}

($st) = admin('GET', '/api/config/export');
js('location.hash = "#/config"');
ok(wait_js(visible('#config-export')), 'the export button');
click('#config-export');
if ($st == 404) {
    ok(wait_js(visible('#view-config .notice.warn')),
       'no export route: a notice');
} else {
    ok(wait_js('[...document.querySelectorAll(".toast")].some((t) => '
               . 't.textContent.includes("Export"))'), 'the export ran');
}

# import: a file that is neither JSON nor SQLite is refused in the page;
# a JSON file goes to the API, whose answer (or 404) is shown
my $tmp = File::Temp->newdir;
open my $bad, '>', "$tmp/bad.json" or die "$tmp/bad.json: $!";
print $bad "this is { not json";
close $bad;
open my $good, '>', "$tmp/config.json" or die "$tmp/config.json: $!";
print $good '{"accounts": []}';
close $good;

ok(wait_js(visible('#config-file')), 'the import form');
$b->set_files('#config-file', "$tmp/bad.json");
click('#config-import');
ok(confirm_ok(), 'importing asks first');
ok(wait_js(visible('#config-result.error')), 'a bad file: an error');
like(text_of('#config-result'), qr/neither JSON nor a SQLite database/,
     'that says why');

($st) = admin('POST', '/api/config/import', '{"accounts": []}');
$b->set_files('#config-file', "$tmp/config.json");
click('#config-import');
ok(confirm_ok(), 'importing asks first');
if ($st == 404) {
    ok(wait_js(visible('#view-config .notice.warn')),
       'no import route: a notice');
} else {
    ok(wait_js(visible('#config-result')), 'the API\'s answer is shown');
}

# ----------------------------------------------------------------------
# language

js('location.hash = "#/accounts"');
ok(wait_js('document.querySelectorAll("table.accounts tbody tr").length'),
   'the accounts');
fill('#lang', 'zh-CN');
ok(wait_js('document.documentElement.lang === "zh-CN"'), 'zh-CN');
is(js('document.querySelector("#nav a[data-view=accounts]").textContent'),
   '账号', 'the navigation in Chinese');
is(js('document.querySelector("#view-accounts h1").textContent'), '账号',
   'the view too');
is(js('document.querySelector("#logout").textContent'), '退出登录',
   'and the logout button');
is(js('localStorage.getItem("gp-console-lang")'), 'zh-CN', 'remembered');
$b->reload;
ok(wait_js('document.documentElement.lang === "zh-CN" && '
           . 'document.querySelector("#view-accounts h1") && '
           . 'document.querySelector("#view-accounts h1").textContent === '
           . '"账号"'), 'after a reload still Chinese');
fill('#lang', 'en');
ok(wait_js('document.querySelector("#view-accounts h1").textContent === '
           . '"Accounts"'), 'back to English');

# ----------------------------------------------------------------------
# theme

my $light = js('getComputedStyle(document.body).backgroundColor');
is(js('document.documentElement.dataset.theme'), 'light',
   'light by default (the browser prefers light)');
click('#theme');
ok(wait_js('document.documentElement.dataset.theme === "dark"'), 'dark');
my $dark = js('getComputedStyle(document.body).backgroundColor');
isnt($dark, $light, "the background changes ($light -> $dark)");
is($dark, 'rgb(20, 23, 28)', 'to the dark one');
is(js('localStorage.getItem("gp-console-theme")'), 'dark', 'remembered');
$b->reload;
ok(wait_js('document.documentElement.dataset.theme === "dark"'),
   'after a reload still dark');
click('#theme');
ok(wait_js('document.documentElement.dataset.theme === "light"'),
   'and back to light');

# no stored choice: prefers-color-scheme decides
js('localStorage.removeItem("gp-console-theme")');
$b->call('Emulation.setEmulatedMedia', {
    features => [{ name => 'prefers-color-scheme', value => 'dark' }] });
$b->reload;
ok(wait_js('document.documentElement.dataset.theme === "dark"'),
   'prefers-color-scheme: dark gives the dark theme');
is(js('getComputedStyle(document.body).backgroundColor'), $dark,
   'with the dark background');
$b->call('Emulation.setEmulatedMedia', {
    features => [{ name => 'prefers-color-scheme', value => 'light' }] });
ok(wait_js('document.documentElement.dataset.theme === "light"'),
   'and follows the system back to light');

# zh-CN browser with nothing stored: Chinese
js('localStorage.removeItem("gp-console-lang")');
$b->call('Emulation.setLocaleOverride', { locale => 'zh-CN' });
js('Object.defineProperty(navigator, "languages", '
   . '{ get: () => ["zh-CN", "zh"], configurable: true })');
$b->call('Page.addScriptToEvaluateOnNewDocument', {
    source => 'Object.defineProperty(navigator, "languages", '
              . '{ get: () => ["zh-CN", "zh"] });' });
$b->reload;
ok(wait_js('document.documentElement.lang === "zh-CN"'),
   'a Chinese browser gets Chinese by default');
fill('#lang', 'en');
ok(wait_js('document.documentElement.lang === "en"'), 'English again');

# ----------------------------------------------------------------------
# password, then logout

js('location.hash = "#/security"');
ok(wait_js(visible('#password-form')), 'the password form');
fill('#password-new', 'short');
fill('#password-repeat', 'short');
click('#password-save');
ok(wait_js(visible('#password-form .form-error')), 'a short one: refused');
fill('#password-new', 'console password 1');
fill('#password-repeat', 'console password 2');
click('#password-save');
ok(wait_js('document.querySelector("#password-form .form-error")'
           . '.textContent.includes("differ")'), 'two different: refused');
fill('#password-repeat', 'console password 1');
click('#password-save');
ok(wait_js(visible('#login-form')),
   'set: every session ends, the login comes back');
like(text_of('#login-error'), qr/Password set/, 'saying why');
is(js('document.querySelector("#login-input").name'), 'password',
   'the password mode');

($st) = req('POST', '/api/auth/login', { password => 'console password 1' });
is($st, 200, 'the API takes the new password');

fill('#login-input', 'console password 1');
click('#login-submit');
ok(wait_js(visible('#logout')), 'logged in with the password');

is(js('fetch("/api/auth/status").then((r) => r.status)'), 200,
   'the session works');
click('#logout');
ok(wait_js(visible('#login-form')), 'logout: the login form');
ok(js('document.querySelector("#nav").hidden'), 'no navigation');
is(js('fetch("/api/auth/status").then((r) => r.status)'), 401,
   'the session has ended on the server');

# no JavaScript error along the way
my @ex = $b->events('Runtime.exceptionThrown');
is(scalar @ex, 0, 'no uncaught JavaScript exception')
    or diag explain [map { $_->{params}{exceptionDetails} } @ex];

$b->quit;

like($srv->error_log_text, qr/failed admin login/,
     'the wrong secret was logged');
unlike($srv->error_log_text, qr/\[(?:alert|emerg|crit)\]/,
       'no alert in the error log');

$srv->stop;

done_testing;
