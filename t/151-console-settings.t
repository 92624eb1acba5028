# The console's settings page in words, in Debian's real Chromium, in one
# short session: every setting of GET /api/settings shown in its group
# with a label and a help in English and in Chinese (a setting without a
# label in either language fails here), each with the control its schema
# asks for (switch, number with unit and bounds, choice or set of the
# server's allowed values, write-only secret), a switch that does nothing
# on this server marked; a group saved alone with the keys it saved, a
# value the server refuses shown with its status and message; no
# horizontal overflow at 390 px.  Without Chromium the file is skipped,
# unless CI=true: then it fails.

use strict;
use warnings;
use utf8;

use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use JSON::PP;

my $SECRET;

BEGIN {
    $SECRET = 'console-settings-secret-0123456789';
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
    name => 'console-settings', port => GeminiPool::Network::free_port(),
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


my ($st, $schema) = admin('GET', '/api/settings');
is($st, 200, 'the schema');
my $S = $schema->{settings};
my @KEYS = map { @{ $_->{keys} } } @{ $schema->{groups} };
cmp_ok(scalar @KEYS, '>', 30, 'the settings in their groups');

js('location.hash = "#/settings"');
ok(wait_js('document.querySelectorAll("#settings-form [data-key]").length'
           . ' === ' . scalar(@KEYS)), 'every setting is on the page');

# one row per setting: group, kind, label, key, help, control facts
my $ROWS = <<'JS';
[...document.querySelectorAll("#settings-form [data-key]")].map((f) => {
    const c = document.getElementById("setting-" + f.dataset.key);
    return { key: f.dataset.key, kind: f.dataset.kind,
             inert: f.dataset.inert || "",
             group: f.closest("form").dataset.group,
             title: f.closest("form").querySelector("h2").textContent,
             label: f.querySelector(".label-text").textContent,
             help: f.querySelector(".hint").textContent,
             unit: (f.querySelector(".unit") || {}).textContent || "",
             min: c.getAttribute("min"), max: c.getAttribute("max"),
             options: c.tagName === "SELECT"
                      ? [...c.options].map((o) => o.value).join(",")
                      : [...c.querySelectorAll("input[type=checkbox]")]
                            .map((o) => o.value).join(",") };
})
JS

my %KIND = (bool => 'switch', int => 'number', secret => 'secret',
            string => 'text', choice => 'select');

sub rows { return { map { $_->{key} => $_ } @{ js($ROWS) || [] } } }

sub words {
    my ($rows, $lang, $re) = @_;
    my @bad;
    for my $k (@KEYS) {
        my $r = $rows->{$k} or do { push @bad, "$k: not shown"; next };
        push @bad, "$k: no $lang label"
            if $r->{label} eq $k || $r->{label} !~ $re;
        push @bad, "$k: no $lang help" if $r->{help} !~ $re;
        push @bad, "$k: group $r->{group} title" if $r->{title} !~ $re;
    }
    return join("\n", @bad);
}

my $rows = rows();
is(words($rows, 'English', qr/[a-z]{2}/), '',
   'every setting: an English label, help and group title');

my @bad;
for my $k (@KEYS) {
    my ($s, $r) = ($S->{$k}, $rows->{$k});
    next unless $r;
    my $kind = $s->{many} ? 'set' : $KIND{ $s->{type} };
    push @bad, "$k: $r->{kind} for $s->{type}" if $r->{kind} ne $kind;
    push @bad, "$k: in $r->{group}, not $s->{group}"
        if $r->{group} ne $s->{group};
    push @bad, "$k: options $r->{options}"
        if $s->{allowed} && $r->{options} ne join(',', @{ $s->{allowed} });
    if ($s->{type} eq 'int') {
        push @bad, "$k: min $r->{min}" if ($r->{min} // '') ne $s->{min};
        push @bad, "$k: max" if ($r->{max} // '') ne ($s->{max} // '');
        push @bad, "$k: no unit" if $r->{unit} !~ /\S/;
    }
    push @bad, "$k: inert '$r->{inert}'"
        if $r->{inert} ne ($s->{inert} // '');
}
is(join("\n", @bad), '', 'every control is of its schema\'s kind');
is($rows->{auto_refresh_cookies}{inert}, 'no_browser',
   'a re-login switch without gemini_pool_browser is marked');
like(text_of('#setting-auto_refresh_cookies-inert'), qr/gemini_pool_browser/,
     'saying why');
is(js('document.querySelector("#setting-upload_api_token").value'), '',
   'a secret is write-only');
is(text_of('#setting-upload_api_token-state'), 'not set', 'set or not set');
like($rows->{tempmail_timeout}{unit}, qr/^s 10 to 600$/,
     'a number\'s unit and bounds');

# a group saved alone: its keys, not another group's change
fill('#setting-max_attempts', '4');
fill('#setting-cooldown_network', '90');
fill('#setting-history_max_rows', '777');
click('#settings-save-pool');
ok(wait_js(visible('#settings-group-pool .save-result')), 'the pool saved');
is(text_of('#settings-group-pool .save-result'),
   'Saved: Attempts per request, Cooldown after a network error',
   'which keys it saved, in words');
my $d;
($st, $d) = admin('GET', '/api/settings');
is($d->{settings}{max_attempts}{value}, 4, 'max_attempts');
is($d->{settings}{cooldown_network}{value}, 90, 'cooldown_network');
is($d->{settings}{history_max_rows}{value}, 100000,
   'the history group\'s change was not sent');

# a set of allowed values
js('document.querySelector("#setting-proxy_for-images").click()');
js('document.querySelector("#setting-proxy_for-sync").click()');
click('#settings-save-network');
ok(wait_js(visible('#settings-group-network .save-result')),
   'the network group saved');
($st, $d) = admin('GET', '/api/settings');
is($d->{settings}{proxy_for}{value}, 'google,sync', 'proxy_for as a set');

# a value the server refuses: its status and message, nothing changed
fill('#setting-tempmail_timeout', '5');
click('#settings-save-relogin');
ok(wait_js(visible('#settings-group-relogin .form-error')),
   'a refused value: an error in its group');
like(text_of('#settings-group-relogin .form-error'),
     qr/400.*tempmail_timeout.*from 10 to 600/, 'the status and message');
($st, $d) = admin('GET', '/api/settings');
is($d->{settings}{tempmail_timeout}{value}, 120, 'nothing changed');

# 390 px: nothing wider than the screen
sub overflow {
    return js('(() => { const w = document.documentElement.clientWidth; '
              . 'const o = [...document.querySelectorAll("#view-settings '
              . '*")].filter((e) => e.getClientRects().length && '
              . 'e.getBoundingClientRect().right > w + 1).map((e) => '
              . '(e.id || e.className || e.tagName)); '
              . 'return document.documentElement.scrollWidth > w '
              . '? ["page " + document.documentElement.scrollWidth]'
              . '.concat(o.slice(0, 5)) : o.slice(0, 5); })()');
}

$b->call('Emulation.setDeviceMetricsOverride',
         { width => 390, height => 844, deviceScaleFactor => 1,
           mobile => JSON::PP::true });
ok(wait_js('document.documentElement.clientWidth === 390'), '390 px');
is(join(' ', @{ overflow() || ['?'] }), '', 'no horizontal overflow (en)');

# Chinese
js('localStorage.setItem("gp-console-lang", "zh-CN")');
$b->reload;
ok(wait_js('document.documentElement.lang === "zh-CN" && '
           . 'document.querySelectorAll("#settings-form [data-key]").length'
           . ' === ' . scalar(@KEYS)), 'reloaded in Chinese');
$rows = rows();
is(words($rows, 'Chinese', qr/\p{Han}/), '',
   'every setting: a Chinese label, help and group title');
like(text_of('#settings-save-pool'), qr/\p{Han}/, 'a group\'s Save');
is(join(' ', @{ overflow() || ['?'] }), '', 'no horizontal overflow (zh)');

$srv->stop;
done_testing;
