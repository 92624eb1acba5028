# The console as a whole, in one session of Debian's real Chromium, over
# every page its navigation lists (#nav a[data-view], so that pages added
# later are covered without a change here):
#
#  * the dashboard's charts drawn from real calls made against the mock:
#    every bar is the count (or the errors) of its bucket in the call log,
#    as tall as its share, the latency points are the call log's
#    percentiles, the tooltip and the per-model chart name the models;
#  * at 390 px: the header is one line with a menu button (Tab reaches
#    it, it opens the navigation, Esc closes it and gives the focus back),
#    and no page overflows horizontally (scrollWidth <= innerWidth,
#    measured and printed for each page), in English and in Chinese;
#  * screenshots of every page in light and dark, English and Chinese at
#    1440 px, and at 390 px in two of them, written to t/tmp/screenshots/
#    (<lang>-<theme>-<width>-<page>.png);
#  * the favicon is linked and served as image/svg+xml.
#
# One browser, one page load per language and theme; the pages are
# switched by their hash.  Without Chromium the file is skipped, unless
# CI=true: then it fails.

use strict;
use warnings;
use utf8;

use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use JSON::PP;
use POSIX qw(ceil);
use File::Path qw(make_path);
use MIME::Base64 ();
use Time::HiRes ();

my $SECRET;

BEGIN {
    $SECRET = 'console-screens-secret-0123456789';
    $ENV{ADMIN_SECRET_KEY} = $SECRET;
}

use GeminiPool ':plain';
use GeminiPool::Server;
use GeminiPool::Chromium;
use GeminiPool::Console;
use GeminiPool::Network;

binmode(Test::More->builder->$_, ':encoding(UTF-8)')
    for qw(output failure_output todo_output);

my $T0 = Time::HiRes::time();
my $CI = ($ENV{CI} // '') =~ /^(?:1|true|yes)$/i;
my $json = JSON::PP->new->utf8->canonical->allow_nonref;
my $http = HTTP::Tiny->new(timeout => 10);
my $SHOTS = "$GeminiPool::ROOT/t/tmp/screenshots";

my $console = GeminiPool::Console::location();

my $srv = GeminiPool::Server->new(
    name => 'console-screens', port => GeminiPool::Network::free_port(),
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
    return ($res->{status}, eval { $json->decode($res->{content}) }, $res);
}

sub admin { req(@_[0 .. 2], 'X-Admin-Token' => $SECRET) }

# ----------------------------------------------------------------------
# the favicon

{
    my $res = $http->get($srv->url('/admin/favicon.svg'));
    is($res->{status}, 200, 'the favicon is served');
    like($res->{headers}{'content-type'} // '', qr{^image/svg\+xml\b},
         'as image/svg+xml');
    like($res->{content}, qr/^<svg\b/, 'an SVG');
    $res = $http->get($srv->url('/admin/'));
    like($res->{content},
         qr{<link rel="icon" href="favicon\.svg" type="image/svg\+xml">},
         'linked from the page with its type');
}

# ----------------------------------------------------------------------
# the browser

my $br = GeminiPool::Chromium->new(lang => 'en-US');

unless ($br) {
    my $why = $@ || 'chromium did not start';
    $srv->stop;
    if ($CI) {
        fail("$why (required when CI=true)");
        done_testing;
        exit 1;
    }
    plan skip_all => "no browser: $why";
}

GeminiPool::Console::use_browser($br);
make_path($SHOTS);
unlink glob "$SHOTS/*.png";
$br->call('Log.enable');
$br->call('Emulation.setFocusEmulationEnabled', { enabled => JSON::PP::true });

sub width {
    my ($w) = @_;
    $br->call('Emulation.setDeviceMetricsOverride',
             { width => $w, height => ($w < 800 ? 844 : 900),
               deviceScaleFactor => 1,
               mobile => $w < 800 ? JSON::PP::true : JSON::PP::false });
    wait_js("window.innerWidth === $w") or diag("not $w px wide");
}

sub key {
    my ($k, $code, $vk, %mod) = @_;
    for my $type (qw(keyDown keyUp)) {
        $br->call('Input.dispatchKeyEvent',
                  { type => $type, key => $k, code => $code,
                    windowsVirtualKeyCode => $vk,
                    ($k eq 'Enter' && $type eq 'keyDown'
                     ? (text => "\r") : ()), %mod });
    }
}

width(1440);
$br->goto($srv->url('/admin/'));
ok(wait_js(visible('#login-form')), 'the login form');
# the form is drawn again once the server said which mode can work: fill
# it after that, or the secret is lost with the first form
ok(wait_js('document.querySelector("#login-input").name === "secret"'),
   'no password yet: the admin secret');

# the login page too, wide and narrow
shot('en-light-1440-login.png');
width(390);
# the measure itself: something wider than the screen is seen
js('document.body.append(Object.assign(document.createElement("div"), '
   . '{ id: "too-wide", textContent: "x" })); document.getElementById('
   . '"too-wide").style.width = "600px"');
cmp_ok(overflow()->[0], '>', 390, 'the measure sees a 600 px box');
js('document.getElementById("too-wide").remove()');
my ($lsw, $liw) = @{ overflow() };
diag("en    light 390 px login      scrollWidth $lsw, innerWidth $liw");
cmp_ok($lsw, '<=', $liw, 'en 390 px login: no horizontal overflow');
shot('en-light-390-login.png');
width(1440);
fill('#login-input', $SECRET);
click('#login-submit');
ok(wait_js(visible('#stat-total')), 'logged in: the dashboard')
    or diag(explain([$br->events('Runtime.exceptionThrown')]),
            text_of('#main'));

my $views = js('[...document.querySelectorAll("#nav a[data-view]")]'
               . '.map((a) => a.dataset.view)') || [];
cmp_ok(scalar @$views, '>=', 10, 'the pages of the navigation: '
       . join(' ', @$views));


# no call yet: the dashboard says what to do
ok(wait_js(visible('#dash-no-calls')), 'no call yet: an empty state')
    or diag(text_of('#view-dashboard'));
like(text_of('#dash-no-calls'), qr/No calls in the last hour.*API key/s,
     'saying how to make one');
is(js('document.querySelector("#dash-no-calls a").getAttribute("href")'),
   '#/keys', 'with a link to the API keys page');
is(js('document.querySelectorAll("#chart-requests rect").length'), 0,
   'no bar');
shot('en-light-1440-dashboard-empty.png');

# ----------------------------------------------------------------------
# real calls against the mock: answered ones on two models, failed ones

my ($st, $d) = admin('POST', '/api/keys', { name => 'screens' });
is($st, 201, 'an API key');
my $key = $d->{key};

my @calls = (
    [ 'gemini-2.5-flash', 'one' ], [ 'gemini-2.5-flash', 'two' ],
    [ 'gemini-2.5-pro', 'three' ], [ 'gemini-2.5-flash', 'four' ],
    [ 'gemini-2.5-pro', 'MOCK:status=400' ],
    [ 'gemini-2.5-flash', 'MOCK:status=400' ],
    [ 'gemini-2.5-flash', 'MOCK:status=400' ],
);
my $failed = 0;
for my $c (@calls) {
    my ($s) = req('POST', '/v1/chat/completions',
                  { model => $c->[0],
                    messages => [{ role => 'user', content => $c->[1] }] },
                  Authorization => "Bearer $key");
    $failed++ if $s >= 400;
}
is($failed, 3, 'three calls failed');

# the helper drains the ring on its tick
my $logs = [];
for (1 .. 80) {
    (undef, $d) = admin('GET', '/api/logs?limit=1000');
    $logs = $d->{logs} || [];
    last if @$logs >= @calls;
    Time::HiRes::sleep(0.1);
}
is(scalar @$logs, scalar @calls, 'every call in the call log');


# the Refresh button: the calls on the dashboard, the empty state gone
js('[...document.querySelectorAll("#view-dashboard .view-tools button")]'
   . '.find((b) => b.textContent === "Refresh").click()');
ok(wait_js('!document.querySelector("#dash-no-calls")'),
   'with calls: no empty state');

# ----------------------------------------------------------------------
# the dashboard's charts against the call log

ok(wait_js('document.querySelectorAll("#chart-requests rect").length > 0'),
   'the requests chart is drawn');

my $fig = js('(() => { const f = document.querySelector("#chart-requests");'
             . ' const bars = (s) => [...f.querySelectorAll('
             . '`[data-series="${s}"] rect`)].map((r) => ({ i: +r.dataset.i,'
             . ' v: +r.dataset.v, h: +r.getAttribute("height") }));'
             . ' return { from: +f.dataset.from, bucket: +f.dataset.bucket,'
             . ' count: bars("count"), errors: bars("errors") }; })()');

my (%n, %e, %lat);
for my $r (@$logs) {
    my $i = int(($r->{time} - $fig->{from}) / $fig->{bucket});
    $n{$i}++;
    $e{$i}++ if $r->{status} >= 400;
    push @{ $lat{$i} }, $r->{latency_ms};
}
is_deeply({ map { $_->{i} => $_->{v} } @{ $fig->{count} } }, \%n,
          'a bar per bucket with calls, its height the call log\'s count')
    or diag explain { chart => $fig->{count}, log => \%n };
is_deeply({ map { $_->{i} => $_->{v} } @{ $fig->{errors} } }, \%e,
          'the errors bars: the failed calls of each bucket');

my ($last) = sort { $b <=> $a } keys %n;
my ($lastbar) = grep { $_->{i} == $last } @{ $fig->{count} };
my ($errbar) = grep { $_->{i} == $last } @{ $fig->{errors} };
diag("the last bucket with calls: $n{$last} requests, "
     . ($e{$last} // 0) . " errors");
ok($lastbar && $errbar && $lastbar->{h} > 0
   && abs($errbar->{h} / $lastbar->{h} - $e{$last} / $n{$last}) < 0.02,
   'the bars are as tall as their values')
    or diag explain [$lastbar, $errbar];

sub nearest {
    my ($p, @v) = @_;
    @v = sort { $a <=> $b } @v;
    return $v[ceil($p * @v / 100) - 1];
}

my $p = js('[...document.querySelectorAll("#chart-latency '
           . '[data-series] circle")].map((c) => [c.closest("[data-series]")'
           . '.dataset.series, +c.dataset.i, +c.dataset.v])') || [];
my %pt = map {; "$_->[0]/$_->[1]" => $_->[2] } @$p;
is_deeply([ map { [ $pt{"p50/$_"}, $pt{"p95/$_"} ] } sort keys %lat ],
          [ map { [ nearest(50, @{ $lat{$_} }), nearest(95, @{ $lat{$_} }) ] }
            sort keys %lat ],
          'the latency points: the call log\'s p50 and p95 per bucket');
ok(js('!!document.querySelector("#chart-ttfb svg")'), 'the TTFB chart');
like(text_of('#chart-latency figcaption'), qr/milliseconds/,
     'the latency chart says its unit');
like(js('[...document.querySelectorAll("#chart-requests svg text.axis")]'
        . '.map((t) => t.textContent).join(" ")'), qr/\d\d:\d\d/,
     'the x axis: clock times');

# the tooltip, by the keyboard: focus the chart, it shows the last bucket
js('document.querySelector("#chart-requests").focus()');
ok(wait_js(visible('#chart-requests .chart-tip')), 'a tooltip on focus');
key('ArrowLeft', 'ArrowLeft', 37) for 1 .. (59 - $last);
my $ne = $e{$last} // 0;
like(text_of('#chart-requests .chart-tip'),
     qr/Requests:\s*$n{$last}(?!\d).*Errors:\s*$ne(?!\d)/s,
     'the arrows walk to the bucket: its requests and errors');
key('Escape', 'Escape', 27);
ok(wait_js('document.querySelector("#chart-requests .chart-tip").hidden'),
   'Esc hides it');

# per model
js('(() => { const s = document.querySelector("#dash-by"); s.value = '
   . '"model"; s.dispatchEvent(new Event("change")); })()');
ok(wait_js('document.querySelectorAll("#chart-by [data-series]").length'
           . ' === 2'), 'per model: a line per model');
my %models = map { $_->{model} => 1 } @$logs;
is_deeply([sort @{ js('[...document.querySelectorAll("#chart-by '
                      . '[data-series]")].map((g) => g.dataset.series)') }],
          [sort keys %models], 'named after the call log\'s models');
is(js('document.querySelectorAll(".dash-table tbody tr").length'), 2,
   'and a table of them');
shot('en-light-1440-dashboard-by-model.png');
js('(() => { const s = document.querySelector("#dash-by"); s.value = ""; '
   . 's.dispatchEvent(new Event("change")); })()');
ok(wait_js('!document.querySelector("#chart-by")'), 'back to the total');

# the day
click('#dash-range-day');
ok(wait_js('document.querySelector("#chart-requests") && '
           . 'document.querySelector("#chart-requests").dataset.bucket'
           . ' === "1800"'), 'the last day: 30 min buckets');
is(js('[...document.querySelectorAll("#chart-requests [data-series=count]'
      . ' rect")].reduce((a, r) => a + +r.dataset.v, 0)'), scalar @$logs,
   'holding every call');
click('#dash-range-hour');
ok(wait_js('document.querySelector("#chart-requests").dataset.bucket'
           . ' === "60"'), 'the hour again');

# ----------------------------------------------------------------------
# the keyboard in a dialog: Tab stays in it, the focus shows, Esc closes

js('location.hash = "#/keys"');
ok(wait_js('[...document.querySelectorAll("table.keys button")].some('
           . '(b) => b.textContent === "Delete")'), 'the keys page');
js('[...document.querySelectorAll("table.keys button")].find('
   . '(b) => b.textContent === "Delete").click()');
ok(wait_js('!!document.querySelector("dialog.modal[open]")'),
   'Delete asks in a dialog');
ok(js('document.activeElement.closest("dialog[open]") !== null'),
   'the focus is in the dialog');
my $was = js('document.activeElement.textContent');
key('Tab', 'Tab', 9, modifiers => 8);
ok(js('document.activeElement.closest("dialog[open]") !== null')
   && js('document.activeElement.textContent') ne $was,
   'Shift+Tab moves within the dialog, to '
   . (js('document.activeElement.textContent') // '?'));
isnt(js('getComputedStyle(document.activeElement).outlineStyle'), 'none',
     'the focus is visible');
key('Escape', 'Escape', 27);
ok(wait_js('!document.querySelector("dialog.modal[open]")'),
   'Esc closes it');
($st, $d) = admin('GET', '/api/keys');
is(scalar @{ $d->{keys} }, 1, 'and cancels: the key is still there');

# ----------------------------------------------------------------------
# every page: rendered (no "Loading…" left), measured, photographed

my $LOADING = '["Loading…", "加载中…"]';

sub show {
    my ($v) = @_;
    js('location.hash = "#/' . $v . '"');
    my $ok = wait_js('(() => { const s = document.querySelector("#view-'
                     . $v . '"); return !!s && !s.hidden && '
                     . 's.childElementCount > 0 && !' . $LOADING
                     . '.some((l) => [...s.querySelectorAll("p.empty")]'
                     . '.some((p) => p.textContent === l)); })()', 8);
    diag("$v: still loading") unless $ok;
    # a frame for what the views draw after their data (charts)
    js('new Promise((r) => requestAnimationFrame(() => '
       . 'requestAnimationFrame(r)))');
    return $ok;
}

sub shot {
    my ($file) = @_;
    my $h = js('Math.min(6000, document.scrollingElement.scrollHeight)');
    my $w = js('window.innerWidth');
    my $r = $br->call('Page.captureScreenshot',
                     { format => 'png', captureBeyondViewport =>
                       JSON::PP::true, clip => { x => 0, y => 0,
                       width => $w, height => $h, scale => 1 } });
    open my $fh, '>:raw', "$SHOTS/$file" or die "$SHOTS/$file: $!";
    print $fh MIME::Base64::decode_base64($r->{data});
    close $fh;
}

sub overflow {
    return js('[document.scrollingElement.scrollWidth, window.innerWidth]')
           || [ -1, 0 ];
}

# lang, theme, widths
my @SETS = (
    [ 'en',    'light', 1440, 390 ],
    [ 'en',    'dark',  1440 ],
    [ 'zh-CN', 'light', 1440 ],
    [ 'zh-CN', 'dark',  1440, 390 ],
);

my $first = 1;
for my $set (@SETS) {
    my ($lang, $theme, @widths) = @$set;

    # one page load per language and theme: wait for the NEW page (its
    # own marker), never for something the old page had too
    js('localStorage.setItem("gp-console-lang", ' . q_($lang) . '); '
       . 'localStorage.setItem("gp-console-theme", ' . q_($theme) . '); '
       . 'window.oldPage = true; '
       . 'location.hash = "#/dashboard"; location.reload()');
    ok(wait_js('!window.oldPage && document.documentElement.lang === '
               . q_($lang) . ' && document.documentElement.dataset.theme'
               . ' === ' . q_($theme) . ' && '
               . visible('#stat-total'), 15), "$lang $theme: the page");
    my $nav = js('[...document.querySelectorAll("#nav a[data-view]")]'
                 . '.map((a) => a.textContent)') || [];
    if ($lang eq 'zh-CN') {
        is(join(' ', grep { !/\p{Han}/ } @$nav), '',
           'every page named in Chinese in the navigation');
    }

    for my $w (@widths) {
        width($w);

        if ($w == 390) {
            my $top = js('(() => { const h = document.querySelector('
                         . '"header.top"); const b = document.querySelector('
                         . '"#menu").getBoundingClientRect(); return ['
                         . 'h.offsetHeight, b.top, b.bottom, '
                         . 'document.querySelector(".brand")'
                         . '.getBoundingClientRect().top]; })()');
            cmp_ok($top->[0], '<=', 56,
                   "$lang $theme 390 px: the header is one line "
                   . "($top->[0] px)");
            ok(js(visible('#menu')) && !js(visible('#nav a')),
               'a menu button, the navigation folded');

            # Tab reaches the menu button; Enter opens, Esc closes
            js('document.activeElement && document.activeElement.blur(); '
               . 'document.body.focus()');
            my $tabbed = 0;
            for (1 .. 6) {
                key('Tab', 'Tab', 9);
                if (js('document.activeElement && '
                       . 'document.activeElement.id === "menu"')) {
                    $tabbed = 1;
                    last;
                }
            }
            ok($tabbed, 'Tab reaches the menu button');
            key('Enter', 'Enter', 13);
            ok(wait_js(visible('#nav a[data-view="keys"]')),
               'Enter opens the navigation');
            is(js('document.querySelector("#menu").getAttribute('
                  . '"aria-expanded")'), 'true', 'aria-expanded');
            ok(js('document.activeElement.closest("#nav") !== null'),
               'the focus moves into it');
            shot("$lang-$theme-390-menu.png");
            key('Escape', 'Escape', 27);
            ok(wait_js('!' . visible('#nav a[data-view="keys"]')),
               'Esc closes it');
            is(js('document.activeElement.id'), 'menu',
               'the focus is back on the button');
            js('document.activeElement.blur()');   # for the pictures
        }

        for my $v (@$views) {
            show($v);

            if ($w == 390) {
                my ($sw, $iw) = @{ overflow() };
                diag(sprintf '%-5s %-5s 390 px %-10s scrollWidth %d, '
                     . 'innerWidth %d', $lang, $theme, $v, $sw, $iw);
                cmp_ok($sw, '<=', $iw,
                       "$lang 390 px $v: no horizontal overflow");
            }

            shot("$lang-$theme-$w-$v.png");
        }
    }

    width(1440) if $widths[-1] != 1440;
    $first = 0;
}

my @files = glob "$SHOTS/*.png";
is(scalar @files, 4 * @$views + 2 * (@$views + 1) + 1 + 2 + 1,
   'the screenshots written to t/tmp/screenshots/');

my @bad = ((map { $_->{params}{entry}{text} }
            grep { ($_->{params}{entry}{level} // '') eq 'error'
                   && ($_->{params}{entry}{text} // '') !~ /status of 4\d\d/ }
            $br->events('Log.entryAdded')),
           (map { $_->{params}{exceptionDetails}{exception}{description}
                  // $_->{params}{exceptionDetails}{text} }
            $br->events('Runtime.exceptionThrown')));
is(join("\n", @bad), '', 'no script error, no CSP refusal');

diag(sprintf 'the suite took %.1f s', Time::HiRes::time() - $T0);

$br->quit;
$srv->stop;
done_testing;
