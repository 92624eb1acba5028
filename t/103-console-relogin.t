# The console's re-login pieces (admin-ui/js/relogin.js, the accounts
# view, js/views/relogin.js, the settings view's remote-sync card) in
# Debian's real Chromium against a real nginx with the re-login API:
# the mailbox fields (the link write-only, the name and address shown,
# a bad link refused), "refresh now" (disabled without a mailbox) and
# the failed state it ends in with its reason and next try, "refresh all
# expired", the history of attempts per account, the sync-only badge,
# zh-CN; the live panel and its polling (every 2 s while a login runs,
# none when idle), and the remote-sync card's buttons.
#
# The module of this branch cannot run a browser login yet (signin.c is
# the placeholder until the browser work lands), so every login ends at
# once with "no_browser"; for the live panel, the answers of
# GET /api/relogin that a running login gives are served to the page by
# the DevTools Fetch domain (the one stand-in here), everything else is
# the real API.
#
# Without Chromium the file is skipped, unless CI=true: then it fails.

use strict;
use warnings;
use utf8;

use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use JSON::PP;
use MIME::Base64 qw(encode_base64);
use Time::HiRes qw(sleep time);

my $SECRET;

BEGIN {
    $SECRET = 'console-relogin-secret-0123456789';
    $ENV{ADMIN_SECRET_KEY} = $SECRET;
}

use GeminiPool ':plain';
use GeminiPool::Server;
use GeminiPool::Chromium;
use GeminiPool::Login;

binmode(Test::More->builder->$_, ':encoding(UTF-8)')
    for qw(output failure_output todo_output);

my $CI = ($ENV{CI} // '') =~ /^(?:1|true|yes)$/i;
my $json = JSON::PP->new->utf8->canonical->allow_nonref;
my $http = HTTP::Tiny->new(timeout => 10, max_redirect => 0);

unless (GeminiPool::Chromium::find_binary()) {
    fail('chromium is installed') if $CI;
    diag('chromium is not installed');
    done_testing;
    exit 0;
}

# real mailboxes in the fake temp-mail worker
my $login = GeminiPool::Login->start(accounts => [qw(acc1 acc2)]);
ok($login, 'the fake temp-mail worker starts') or BAIL_OUT("$@");
my $box1 = $login->mailbox('acc1');
my ($jwt1) = $box1->{url} =~ /jwt=([^&]+)/;

open my $fh, '<', "$GeminiPool::ROOT/nginx.conf.example"
    or die "nginx.conf.example: $!";
my $example = do { local $/; <$fh> };
close $fh;
my ($console) = $example
    =~ /\n([ \t]*# the operator console.*?location\s+=\s+\/admin\s+\{.*?\}\n)/s;
ok($console, 'nginx.conf.example has the console location')
    or BAIL_OUT('no console location');
$console =~ s{/usr/share/ngx-gemini-pool/admin-ui/}{$GeminiPool::ROOT/admin-ui/};

my $srv = GeminiPool::Server->new(
    name => 'console-relogin', master => 1, workers => 1,
    port => $ENV{TEST_NGINX_GP_SERVER_PORT},
    server => <<"END");
    location /api/ { gemini_pool_admin; }
    location /open/v1/ { gemini_pool_api_keys off; gemini_pool_api; }
$console
END
$srv->start;

sub req {
    my ($method, $path, $body, %h) = @_;
    my $res = $http->request($method, $srv->url($path), {
        headers => { 'Content-Type' => 'application/json', %h },
        (defined $body ? (content => ref $body ? $json->encode($body)
                                               : $body) : ()),
    });
    my $data = eval { $json->decode($res->{content}) };
    return ($res->{status}, $data, $res);
}

sub admin { req(@_[0 .. 2], 'X-Admin-Token' => $SECRET) }

sub api_account {
    my ($name) = @_;
    my (undef, $d) = admin('GET', '/api/accounts');
    my ($a) = grep { $_->{name} eq $name } @{ $d->{accounts} // [] };
    return $a;
}

# the requests of the page to the API, from nginx's access log
sub api_hits {
    my ($re) = @_;
    my $log = $srv->access_log_text // '';
    my @n = $log =~ /"GET \/api\/$re(?:\?[^ "]*)? HTTP/g;
    return scalar @n;
}

my $b = GeminiPool::Chromium->new(lang => 'en-US');
unless ($b) {
    fail("chromium: $@") if $CI;
    diag("skipping the browser part: $@");
    done_testing;
    exit 0;
}

my $jsstr = JSON::PP->new->ascii->allow_nonref;
sub q_ { $jsstr->encode($_[0]) }

sub js {
    my $v = eval { $b->eval($_[0]) };
    diag("JavaScript failed: $@") if $@;
    return $v;
}

sub wait_js { $b->wait_for($_[0], $_[1] // 10) }

sub fill {
    my ($sel, $value) = @_;
    return js('(() => { const e = document.querySelector(' . q_($sel)
              . '); if (!e) return false; e.focus(); e.value = '
              . q_($value) . '; e.dispatchEvent(new Event("input", '
              . '{bubbles: true})); return true; })()');
}

sub click {
    return js('(() => { const e = document.querySelector(' . q_($_[0])
              . '); if (!e) return false; e.click(); return true; })()');
}

sub text_of {
    return js('(() => { const e = document.querySelector(' . q_($_[0])
              . '); return e ? e.textContent : null; })()');
}

sub visible {
    return '(() => { const e = document.querySelector(' . q_($_[0])
           . '); return !!e && !e.closest("[hidden]") && '
           . 'e.getClientRects().length > 0; })()';
}

# the row of an account in the accounts table, as an expression
sub row { '[...document.querySelectorAll("table.accounts tbody tr")].find('
          . '(tr) => tr.cells[1].textContent === ' . q_($_[0]) . ')' }

sub row_button {
    my ($name, $label) = @_;
    return '(' . row($name) . ' || document).querySelector ? [...('
           . row($name) . ').querySelectorAll("button")].find((x) => '
           . 'x.textContent === ' . q_($label) . ') : null';
}

sub toast_has {
    my ($re_js) = @_;
    return wait_js('[...document.querySelectorAll(".toast")].some((t) => '
                   . $re_js . '.test(t.textContent))');
}

sub clear_toasts {
    js('document.querySelectorAll(".toast").forEach((t) => t.remove())');
}

# ----------------------------------------------------------------------
# log in

$b->goto($srv->url('/admin/'));
ok(wait_js(visible('#login-form')), 'the login form');
js('document.querySelector("input[name=login-mode][value=secret]").click()');
wait_js('document.querySelector("#login-input").name === "secret"');
fill('#login-input', $SECRET);
click('#login-submit');
ok(wait_js(visible('#stat-total')), 'logged in');
ok(wait_js(visible('#nav a[data-view=relogin]')), 'a Re-login page in the '
   . 'navigation');
ok(js('document.querySelector("#sync-only").hidden'),
   'no sync-only badge while sync_only_mode is off');

# ----------------------------------------------------------------------
# the mailbox in the account form

js('location.hash = "#/accounts"');
ok(wait_js('document.querySelectorAll("table.accounts tbody tr").length '
           . '=== 3'), 'the accounts');
ok(wait_js('!!' . row('acc1') . ' && ' . row('acc1')
           . '.querySelector(".mailbox").textContent === "Mailbox: none"'),
   'acc1 has no mailbox yet');
ok(js('(' . row_button('acc1', 'Refresh now') . ').disabled'),
   'so "Refresh now" is disabled');
like(js('(' . row_button('acc1', 'Refresh now') . ').title'),
     qr/Set a mailbox first/, 'and says why');

js('(' . row_button('acc1', 'Edit') . ').click()');
ok(wait_js(visible('dialog[open] [name="tempmail_url"]')),
   'the edit dialog has the mailbox link');
fill('dialog[open] [name="tempmail_url"]', 'https://mail.example/?nojwt=1');
click('dialog[open] button[type="submit"]');
ok(wait_js(visible('dialog[open] .form-error')), 'a link without a JWT: '
   . 'the error is shown');
like(text_of('dialog[open] .form-error'), qr/400/, 'the API refused it');

fill('dialog[open] [name="tempmail_url"]', $box1->{url});
fill('dialog[open] [name="tempmail_name"]', 'box <one>');
click('dialog[open] button[type="submit"]');
ok(wait_js('!document.querySelector("dialog[open]")'), 'saved');
my $a1 = api_account('acc1');
ok($a1->{mailbox}{set}, 'the API has the mailbox');
is($a1->{mailbox}{name}, 'box <one>', 'with its name');
is($a1->{mailbox}{address}, $box1->{address}, 'and its address');
ok(wait_js(row('acc1') . '.querySelector(".mailbox").textContent === '
           . q_("Mailbox: box <one> <$box1->{address}>")),
   'the row shows the name and the address, as text');
is(js('document.querySelectorAll("table.accounts b").length'), 0,
   'no markup from the name');
ok(!js('document.body.innerText.includes(' . q_($jwt1) . ')'),
   'the JWT is nowhere on the page');
ok(!js('(' . row_button('acc1', 'Refresh now') . ').disabled'),
   '"Refresh now" is enabled with a mailbox');

js('(' . row_button('acc1', 'Edit') . ').click()');
ok(wait_js(visible('dialog[open] [name="tempmail_url"]')), 'edit again');
is(js('document.querySelector("dialog[open] [name=tempmail_url]").value'),
   '', 'the link is not prefilled');
like(js('document.querySelector("dialog[open] [name=tempmail_url]")'
        . '.placeholder'), qr/\Q$box1->{address}\E/,
     'its placeholder names the mailbox');
unlike(js('document.querySelector("dialog[open]").innerHTML'), qr/\Q$jwt1\E/,
       'the dialog holds no JWT');
click('dialog[open] button.ghost');
wait_js('!document.querySelector("dialog[open]")');

# ----------------------------------------------------------------------
# an expired account, "refresh now", the failure it ends in

GeminiPool::mock_post('/__mock/inject', {account => 'acc1',
    endpoint => 'getoxsrf', times => -1,
    action => {expired => JSON::PP::true}});
my ($st) = req('POST', '/open/v1/chat/completions',
               {messages => [{role => 'user', content => 'x'}]});
ok(wait_for(10, sub { ($a1 = api_account('acc1'))
                      && $a1->{relogin}
                      && $a1->{relogin}{state} ne 'valid' }),
   'acc1 is expired after a 401 (' . ($a1->{relogin}{state} // '?') . ')');

clear_toasts();
click('#view-accounts .view-head button');      # Refresh
ok(wait_js(row('acc1') . '.querySelector(".badge").textContent '
           . '!== "available"'), 'the row is no longer "available"');

my $polls = api_hits('relogin');
# clicked once the row's button is there and enabled (under load the
# table may still be drawn again, and a disabled button ignores a click)
wait_js('(() => { const b = ' . row_button('acc1', 'Refresh now')
        . '; if (!b || b.disabled) return false; b.click(); return true; '
        . '})()');
ok(toast_has('/acc1.*re-login queued/'), 'refresh now: "queued"');
ok(wait_js(row('acc1') . '.querySelector(".badge.relogin.failed")', 15),
   'then "re-login failed" in the row')
    or diag(js(row('acc1') . '.innerText'));
like(js(row('acc1') . '.querySelector(".relogin-detail").textContent'),
     qr/no_browser: .+ · next try /, 'with the status, reason and next try');
cmp_ok(api_hits('relogin'), '>', $polls, 'the console read /api/relogin');

# idle: no polling (once the console has seen it idle)
ok(wait_js('(() => { const p = document.querySelector("#view-accounts '
           . '.relogin-progress"); return p && p.textContent.includes('
           . '"No re-login running"); })()', 15), 'the panel says idle');
sleep 0.5;
$polls = api_hits('relogin');
sleep 5;
is(api_hits('relogin'), $polls, 'idle: the console does not poll');

# refresh all expired
clear_toasts();
click('#relogin-all');
ok(toast_has('/Re-login queued for \d+ expired accounts/'),
   '"refresh all expired" says how many');

# ----------------------------------------------------------------------
# the history

js('location.hash = "#/relogin"');
ok(wait_js(visible('#view-relogin .relogin-progress')), 'the Re-login page: the panel')
    or diag(js('location.hash + " " + document.querySelector("#view-relogin")'
               . '.outerHTML.slice(0, 600)'));
like(text_of('#view-relogin .relogin-progress'),
     qr/No re-login running|Re-logins waiting in the queue.*Waiting: acc1/,
     'idle, or acc1 waits in the queue (for its retry interval)');
ok(wait_js('document.querySelectorAll("table.relogin-history tbody tr")'
           . '.length >= 1'), 'the history of attempts');
my $h = js('[...document.querySelectorAll("table.relogin-history tbody tr")]'
           . '.map((tr) => [...tr.cells].map((c) => c.textContent))');
is($h->[-1][1], 'acc1', 'the first attempt is acc1\'s');
is($h->[-1][2], 'manual', 'manual');
is($h->[-1][3], 'no_browser', 'its result');
like($h->[-1][4], qr/browser/, 'its reason');

js('document.querySelector("#relogin-filter [name=account]").value = '
   . q_(api_account('acc2')->{id}));
click('#relogin-filter button[type=submit]');
ok(wait_js('!!document.querySelector("#view-relogin .empty")'),
   'acc2 has no attempt');
like(text_of('#view-relogin .empty'), qr/No re-login attempt yet/,
     'and says so');

# ----------------------------------------------------------------------
# the live panel while a login runs (the page's GET /api/relogin served
# by the DevTools Fetch domain), polling every 2 s, stopping when idle

{
    my $t0 = time;
    my $id2 = api_account('acc2')->{id};
    my $served = 0;
    my @times;
    my $phase = 'running';

    my $body = sub {
        my $running = $phase eq 'running';
        return $json->encode({
            auto => JSON::PP::true, sync_only => JSON::PP::false,
            browser => { ok => JSON::PP::false,
                         error => 'chromium <b>missing</b>' },
            next_check => int(time) + 600,
            running => $running ? [{ account => $id2, name => 'acc2',
                                     step => 'wait for the code',
                                     started => int($t0) - 5 }] : [],
            queue => $running ? [{ account => 99, name => 'acc<x>',
                                   queued => int($t0) }] : [] });
    };

    # the accounts as the API gives them, acc2 refreshing while it runs
    my $accounts = sub {
        my (undef, $d) = admin('GET', '/api/accounts');
        if ($phase eq 'running') {
            for my $a (@{ $d->{accounts} }) {
                next unless $a->{name} eq 'acc2';
                $a->{relogin} = { %{ $a->{relogin} // {} },
                                  state => 'refreshing',
                                  step => 'wait for the code' };
                $a->{mailbox} = { set => JSON::PP::true, name => 'b2',
                                  address => 'acc2@mail.test' };
            }
        }
        return $json->encode($d);
    };

    $b->call('Fetch.enable', { patterns => [
        { urlPattern => '*/api/relogin', requestStage => 'Request' },
        { urlPattern => '*/api/accounts', requestStage => 'Request' },
        { urlPattern => '*/api/accounts\?*', requestStage => 'Request' }] });

    my $pump = sub {
        for my $e ($b->events('Fetch.requestPaused')) {
            my $acc = $e->{params}{request}{url} =~ m{/api/accounts(?:\?|$)};
            unless ($acc) {
                $served++;
                push @times, time;
            }
            $b->call('Fetch.fulfillRequest', {
                requestId => $e->{params}{requestId}, responseCode => 200,
                responseHeaders => [{ name => 'Content-Type',
                                      value => 'application/json' }],
                body => encode_base64($acc ? $accounts->() : $body->(),
                                      '') });
        }
    };

    my $until = sub {
        my ($expr, $secs) = @_;
        my $end = time + $secs;
        while (time < $end) {
            $pump->();
            my $v = eval { $b->eval($expr) };
            return $v if $v;
            sleep 0.05;
        }
        return undef;
    };

    click('#view-relogin .view-head button');        # Refresh
    ok($until->('(() => { const p = document.querySelector('
                . '"#view-relogin .relogin-progress"); return p && '
                . 'p.textContent.includes("wait for the code"); })()', 10),
       'the panel shows the running login\'s step');
    my $panel = text_of('#view-relogin .relogin-progress');
    like($panel, qr/Re-login in progress/, 'in progress');
    like($panel, qr/acc2/, 'which account');
    like($panel, qr/Waiting: acc<x>/, 'the queue, names as text');
    like($panel, qr/Chromium cannot be used: chromium <b>missing<\/b>/,
         'Chromium\'s error as text');
    is(js('document.querySelectorAll("#view-relogin .relogin-progress b")'
          . '.length'), 1,
       'no markup from the server (only the name\'s own <b>)');

    my $n0 = $served;
    $until->('false', 5.2);
    my $n = $served - $n0;
    ok($n >= 2 && $n <= 3, "polled every 2 s while it runs ($n in 5.2 s)");

    # the accounts view meanwhile: acc2's row, its step
    js('location.hash = "#/accounts"');
    ok($until->('!!' . row('acc2') . ' && !!' . row('acc2')
                . '.querySelector(".badge.relogin.refreshing")', 10),
       'acc2\'s row: "re-login running"');
    like(js(row('acc2') . '.querySelector(".relogin-detail").textContent'),
         qr/^step: wait for the code \(\d+s\)$/,
         'with its step and how long it runs');
    ok(js('(' . row_button('acc2', 'Refresh now') . ').disabled'),
       '"Refresh now" is disabled while it runs');
    ok(js('!!document.querySelector("#view-accounts .relogin-progress.busy")'),
       'the accounts view has the live panel too');
    js('location.hash = "#/relogin"');
    $until->('!!document.querySelector("#view-relogin .relogin-progress.busy")'
             . ' && !!document.querySelector("#view-relogin '
             . 'table.relogin-history")', 5);
    $until->('false', 1);                # its reads are done

    my $hist = api_hits('relogin/history');
    $phase = 'idle';
    ok($until->('document.querySelector("#view-relogin .relogin-progress")'
                . '.textContent.includes("No re-login running")', 5),
       'the login ends: the panel says idle');
    ok(wait_for(5, sub { api_hits('relogin/history') > $hist }),
       'and the history is read again');
    $n0 = $served;
    $until->('false', 5);
    is($served - $n0, 0, 'idle: no more polling');

    $b->call('Fetch.disable');
}

# ----------------------------------------------------------------------
# sync-only badge

($st) = admin('PUT', '/api/settings', { sync_only_mode => JSON::PP::true });
is($st, 200, 'sync_only_mode on');
$b->goto($srv->url('/admin/?again#/accounts'));
ok(wait_js(visible('#sync-only')), 'the sync-only badge in the top bar');
is(text_of('#sync-only'), 'sync-only', 'English');
like(js('document.querySelector("#sync-only").title'),
     qr/automatic re-login is off/, 'its title explains it');

js('document.querySelector("#lang").value = "zh-CN"; '
   . 'document.querySelector("#lang").dispatchEvent(new Event("change"))');
ok(wait_js('document.querySelector("#sync-only").textContent === "仅同步"'),
   'and in Chinese');
ok(wait_js('!!' . row('acc1') . ' && ' . row('acc1')
           . '.querySelector(".badge.relogin") && ' . row('acc1')
           . '.querySelector(".badge.relogin").textContent === "重新登录失败"'),
   'the row\'s state in Chinese');
ok(js('!!(' . row_button('acc1', '立即刷新') . ')'), '"立即刷新"');

# light and dark: the re-login badge follows the theme
{
    my $bg = 'getComputedStyle(' . row('acc1')
             . '.querySelector(".badge.relogin")).backgroundColor';
    my $was = js('document.documentElement.dataset.theme');
    my $one = js($bg);
    click('#theme');
    ok(wait_js('document.documentElement.dataset.theme !== ' . q_($was)),
       'the theme switches');
    my $two = js($bg);
    ok($one && $two && $one ne $two,
       "the failed badge has the theme's colours ($one, $two)");
    click('#theme');
}
js('document.querySelector("#lang").value = "en"; '
   . 'document.querySelector("#lang").dispatchEvent(new Event("change"))');

($st) = admin('PUT', '/api/settings', { sync_only_mode => JSON::PP::false });
$b->goto($srv->url('/admin/?once-more#/accounts'));
# (the badge is hidden in the page as served: wait for the rows, drawn
# once GET /api/relogin has answered and set it)
ok(wait_js(visible('table.accounts') . ' && !!' . row('acc1')), 'reloaded');
ok(js('document.querySelector("#sync-only").hidden'), 'badge gone when off');

# ----------------------------------------------------------------------
# remote sync: the settings card

{
    my ($st2) = admin('GET', '/api/remote-sync');
    if ($st2 == 404) {
        diag('GET /api/remote-sync is not in this module: the card is '
             . 'checked absent');
        js('location.hash = "#/settings"');
        ok(wait_js(visible('#settings-form')), 'the settings');
        ok(!js('!!document.querySelector("#remote-sync")'),
           'no remote-sync card without its API');
    } else {
        js('location.hash = "#/settings"');
        ok(wait_js(visible('#remote-sync')), 'the remote-sync card');
        like(text_of('#remote-sync .sync-url'), qr/No remote_sync_url/,
             'no peer yet');
        clear_toasts();
        click('#sync-push-all');
        ok(toast_has('/No remote_sync_url is set/'),
           '"push all" without a peer says nothing is pushed');

        # the peer: this nginx's own admin API (a receiver like any other)
        admin('PUT', '/api/settings', {
            remote_sync_url => $srv->url(''),
            remote_sync_api_key => 'not-the-key' });
        click('#view-settings .view-head button');          # Refresh
        ok(wait_js('(() => { const e = document.querySelector('
                   . '"#remote-sync .sync-url"); return e && '
                   . 'e.textContent.includes("127.0.0.1"); })()'),
           'the card names the peer');
        clear_toasts();
        click('#sync-test');
        ok(toast_has('/The peer: .*HTTP 401/'),
           '"test connection" with a wrong key: the peer\'s 401');

        admin('PUT', '/api/settings', { remote_sync_api_key => $SECRET });
        clear_toasts();
        click('#sync-test');
        ok(toast_has('/The peer answered HTTP 200/'),
           '"test connection": HTTP 200');
        clear_toasts();
        click('#sync-push-all');
        ok(toast_has('/3 of 3 accounts pushed/'), '"push all": 3 of 3');
        admin('PUT', '/api/settings', { remote_sync_url => '' });
    }
}

# the mailbox check of a row
{
    js('location.hash = "#/accounts"');
    ok(wait_js('!!(' . row_button('acc1', 'Test mailbox') . ')'),
       'acc1 has a "Test mailbox" button');
    ok(!js('!!(' . row_button('acc3', 'Test mailbox') . ')'),
       'acc3, without a mailbox, has none');
    my ($st3) = admin('POST', '/api/mailbox/check', {});
    clear_toasts();
    js('(' . row_button('acc1', 'Test mailbox') . ').click()');
    if ($st3 == 404) {
        ok(toast_has('/404/'), 'without its API: the 404 is shown');
    } else {
        ok(wait_js(visible('dialog[open] table.mailbox-check')),
           'the mailbox as the API reads it');
        like(text_of('dialog[open] table.mailbox-check'),
             qr/address\s*\Q$box1->{address}\E/, 'its address');
        unlike(js('document.querySelector("dialog[open]").innerHTML'),
               qr/\Q$jwt1\E/, 'not its JWT');
        click('dialog[open] .actions button.primary');
    }
}

$b->quit;
$srv->stop;
done_testing;

