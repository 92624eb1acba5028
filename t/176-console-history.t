# The console's chat history as conversations, in Debian's real Chromium:
# a question and its follow-up (one upstream session) listed as one
# conversation whose turns show in order; a generated image shown inline
# as an image (not as Markdown text), a video as a player the CSP allows;
# a failed call shown with its status and error; the notice while
# recording is off; filters by key name, model, date and text; "Open in
# chat page" makes a chat of the turns and the chat page shows them;
# 390 px without horizontal overflow, in English and Chinese.  Without
# Chromium the file is skipped, unless CI=true: then it fails.

use strict;
use warnings;
use utf8;

use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use JSON::PP;
use POSIX qw(strftime);

my $SECRET;

BEGIN {
    $SECRET = 'console-history-secret-0123456789';
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
    name => 'console-history', port => GeminiPool::Network::free_port(),
    server => <<"END");
    location /api/ { gemini_pool_admin; }
    location /v1/ { gemini_pool_api_keys on; gemini_pool_api; }
    location /image/ { gemini_pool_media; }
    location /video/ { gemini_pool_media; }
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

sub chat_as {
    my ($key, $model, @messages) = @_;
    my ($st, $d) = req('POST', '/v1/chat/completions',
                       { model => $model, messages => [
                           map { { role => $_->[0], content => $_->[1] } }
                           @messages ] },
                       Authorization => "Bearer $key");
    return ($st, $d->{choices} ? $d->{choices}[0]{message}{content} : '');
}

# the helper writes the log on its tick: wait for n rows
sub logged {
    my ($n) = @_;
    for (1 .. 50) {
        my (undef, $d) = admin('GET', '/api/logs?limit=1000');
        return 1 if @{$d->{logs} || []} >= $n;
        select(undef, undef, undef, 0.1);
    }
    return 0;
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

# picks the option of a select by its text's start
sub pick {
    my ($sel, $start) = @_;
    return js('(() => { const s = document.querySelector(' . q_($sel)
              . '); if (!s) return null; const o = [...s.options].find('
              . '(o) => o.textContent.startsWith(' . q_($start) . ')); '
              . 'if (!o) return null; s.value = o.value; return o.value; '
              . '})()');
}

sub nrows { 'document.querySelectorAll("table.history tbody tr").length' }

sub titles {
    return js('[...document.querySelectorAll("table.history tbody tr")]'
              . '.map((tr) => tr.cells[6].textContent)') // [];
}

# opens the conversation of that title; true when its dialog shows
sub open_conv {
    my ($title) = @_;
    js('document.querySelectorAll("dialog.modal[open]").forEach((d) => '
       . 'd.close())');
    js('[...document.querySelectorAll("table.history tbody tr")].find('
       . '(tr) => tr.cells[6].textContent === ' . q_($title) . ').click()');
    return wait_js(visible('dialog.modal[open] .turns .turn'));
}

sub search {
    click('#view-history form.toolbar button[type="submit"]');
}

my ($st, $d);

# ----------------------------------------------------------------------
# recording off: the page says so

$b->goto($srv->url('/admin/'));
ok(wait_js(visible('#login-form')), 'the login form');
fill('#login-input', $SECRET);
click('#login-submit');
ok(wait_js(visible('#stat-total')), 'logged in');

js('location.hash = "#/history"');
ok(wait_js(visible('#history-off')), 'recording off: the notice');
like(text_of('#history-off'), qr/history_enabled/, 'naming the setting');

($st) = admin('PUT', '/api/settings', { history_enabled => JSON::PP::true });
is($st, 200, 'history on');

($st, $d) = admin('POST', '/api/keys', { name => 'alpha' });
my $alpha = $d->{key};
($st, $d) = admin('POST', '/api/keys', { name => 'beta' });
my $beta = $d->{key};

# alpha: a question and its follow-up; beta: an image, then a failure

my ($s1, $a1) = chat_as($alpha, 'gemini-2.5-flash',
                        [user => 'what is a *cat*?']);
is($s1, 200, 'alpha asks');
logged(1);
my ($s2, $a2) = chat_as($alpha, 'gemini-2.5-flash',
                        [user => 'what is a *cat*?'], [assistant => $a1],
                        [user => 'and a dog?']);
is($s2, 200, 'and follows up');
my ($s3, $a3) = chat_as($beta, 'gemini-image', [user => 'draw a cat']);
is($s3, 200, 'beta draws');
like($a3, qr{!\[image\]\(http://[^)]+/image/[0-9a-f]{32}\.png\)},
     'a Markdown image in the answer');
logged(3);
my ($s4, $a4) = chat_as($beta, 'gemini-video', [user => 'film a cat']);
is($s4, 200, 'beta films');
like($a4, qr{/video/[0-9a-f]{32}\.mp4}, 'a video link in the answer');
logged(4);

mock_post('/__mock/inject', { endpoint => 'streamAssist', times => -1,
                              action => { status => 500,
                                          body => 'upstream broke' } });
($st) = chat_as($beta, 'gemini-2.5-flash', [user => 'this one fails']);
ok($st >= 500, "a failing call: $st");
$http->request('DELETE', GeminiPool::mock_url() . '/__mock/inject');
ok(logged(5), 'five calls logged');

# ----------------------------------------------------------------------
# the list: four conversations

click('#view-history .view-head button');
ok(wait_js(nrows() . ' === 4'), 'four conversations')
    or diag(js('document.querySelector("#view-history").innerText'));
ok(!js('!!document.querySelector("#history-off")'), 'no notice now');
is_deeply(titles(), ['this one fails', 'film a cat', 'draw a cat',
                    'what is a *cat*?'],
          'newest activity first, titled by their first prompt');
is(js('document.querySelector("table.history tbody tr:last-child")'
      . '.cells[4].textContent'), '2', 'the follow-up is a second turn');
ok(js('document.querySelector("table.history tbody tr").classList'
      . '.contains("bad")'), 'the failed one is marked');

# the question and its follow-up

ok(open_conv('what is a *cat*?'), 'opened');
is_deeply(js('[...document.querySelectorAll("dialog.modal[open] .turn '
             . 'pre.prompt")].map((p) => p.textContent)'),
          ['what is a *cat*?', 'and a dog?'], 'its two turns in order');
is(js('document.querySelectorAll("dialog.modal[open] .turn .answer")'
      . '.length'), 2, 'each with its answer');
like(js('document.querySelectorAll("dialog.modal[open] .turn .answer")[1]'
        . '.textContent'), qr/and a dog/, 'the follow-up\'s answer');
is(js('document.querySelector("dialog.modal[open] .turn pre.prompt")'
      . '.querySelectorAll("em").length'), 0, 'a prompt is plain text');

# the image: inline, loaded, no Markdown left

ok(open_conv('draw a cat'), 'the image conversation opened');
ok(wait_js('(() => { const i = document.querySelector("dialog.modal[open] '
           . '.turn .answer img"); return !!i && i.complete && '
           . 'i.naturalWidth > 0; })()'), 'the image is shown, loaded');
like(js('document.querySelector("dialog.modal[open] .turn .answer img")'
        . '.getAttribute("src")'), qr{/image/[0-9a-f]{32}\.png$},
     'from /image/');
unlike(text_of('dialog.modal[open] .turn .answer'), qr/!\[|\]\(/,
       'no Markdown text left');

# the video: a player, allowed by the page's CSP

js('window.__csp = []; document.addEventListener("securitypolicyviolation",'
   . ' (e) => window.__csp.push(e.violatedDirective + " " + e.blockedURI))');
ok(open_conv('film a cat'), 'the video conversation opened');
ok(wait_js('!!document.querySelector("dialog.modal[open] .turn .answer '
           . 'video")'), 'a video player');
like(js('document.querySelector("dialog.modal[open] .turn .answer video")'
        . '.getAttribute("src")'), qr{/video/[0-9a-f]{32}\.mp4$},
     'of /video/');
select(undef, undef, undef, 0.3);
is_deeply(js('window.__csp'), [], 'nothing blocked by the CSP');

# the failure: its status and error

ok(open_conv('this one fails'), 'the failed call opened');
ok(wait_js(visible('dialog.modal[open] .turn .turn-error')),
   'an error box, not an empty answer');
like(text_of('dialog.modal[open] .turn .turn-error'),
     qr/Failed \(5\d\d\):.*upstream broke/, 'with its status and message');
js('document.querySelectorAll("dialog.modal[open]").forEach((d) => '
   . 'd.close())');

# ----------------------------------------------------------------------
# filters: key by name, model from a list, dates

is_deeply(js('[...document.querySelector("#history-key").options].map('
             . '(o) => o.textContent.replace(/ \\(#\\d+\\)$/, ""))'),
          ['All keys', 'alpha', 'beta'], 'keys picked by name');
ok(pick('#history-key', 'beta'), 'beta picked');
search();
ok(wait_js(nrows() . ' === 3'), 'beta\'s three conversations');
is_deeply(titles(), ['this one fails', 'film a cat', 'draw a cat'],
          'those');

is_deeply(js('[...document.querySelector("#history-model").options].map('
             . '(o) => o.value)'), ['', 'gemini-2.5-flash', 'gemini-image',
           'gemini-video'],
          'models picked from a list');
ok(pick('#history-model', 'gemini-image'), 'gemini-image picked');
search();
ok(wait_js(nrows() . ' === 1'), 'one left');
is_deeply(titles(), ['draw a cat'], 'the image');
ok(js('document.querySelector("#history-account").options.length > 1'),
   'accounts picked from a list');

click('#view-history form.toolbar button.ghost[type="button"]');
ok(wait_js(nrows() . ' === 4'), 'cleared: all four');

my $tomorrow = strftime('%Y-%m-%d', localtime(time + 86400));
fill('#history-from', $tomorrow);
search();
ok(wait_js('!!document.querySelector("#view-history .empty")'),
   'from tomorrow: none');
my $today = strftime('%Y-%m-%d', localtime);
fill('#history-from', $today);
fill('#history-to', $today);
search();
ok(wait_js(nrows() . ' === 4'), 'today: all four');

fill('#history-q', 'a dog');
search();
ok(wait_js(nrows() . ' === 1'), 'text in a follow-up');
is_deeply(titles(), ['what is a *cat*?'], 'finds its conversation');

# ----------------------------------------------------------------------
# Open in chat page

ok(open_conv('what is a *cat*?'), 'opened again');
click('#history-open-chat');
ok(wait_js('/^#\\/chat\\/\\d+$/.test(location.hash)'), 'to #/chat/<id>')
    or diag(js('location.hash'));
my ($chat) = (js('location.hash') // '') =~ m{(\d+)$};
($st, $d) = admin('GET', "/api/chats/$chat");
is($st, 200, 'the chat exists');
is_deeply([map { [$_->{role}, $_->{content}] } @{$d->{messages} || []}],
          [[user => 'what is a *cat*?'], [assistant => $a1],
           [user => 'and a dog?'], [assistant => $a2]],
          'holding the turns') or diag explain $d;
is($d->{title}, 'what is a *cat*?', 'titled');
is($d->{model}, 'gemini-2.5-flash', 'with the model');
ok(wait_js(visible('#view-chat #chat-log') . ' && document.querySelectorAll('
           . '"#chat-log .msg").length === 4'),
   'the chat page shows them') or diag(js('location.hash'));
is_deeply(js('[...document.querySelectorAll("#chat-log .msg")].map((m) => '
             . 'm.dataset.role)'), [qw(user assistant user assistant)],
          'question, answer, follow-up, answer');
like(js('document.querySelectorAll("#chat-log .msg.user")[1].textContent'),
     qr/and a dog\?/, 'the follow-up');
is(text_of('#chat-title'), 'what is a *cat*?', 'under its title');

# ----------------------------------------------------------------------
# 390 px, English and Chinese

sub overflow {
    return js('(() => { const w = document.documentElement.clientWidth; '
              . 'const o = [...document.querySelectorAll("#view-history *,'
              . ' dialog[open] *")].filter((e) => e.getClientRects().length'
              . ' && !e.closest(".table-wrap") && e.getBoundingClientRect()'
              . '.right > w + 1).map((e) => (e.id || e.className || '
              . 'e.tagName)); return document.documentElement.scrollWidth >'
              . ' w ? ["page " + document.documentElement.scrollWidth]'
              . '.concat(o.slice(0, 5)) : o.slice(0, 5); })()');
}

$b->call('Emulation.setDeviceMetricsOverride',
         { width => 390, height => 844, deviceScaleFactor => 1,
           mobile => JSON::PP::true });
ok(wait_js('document.documentElement.clientWidth === 390'), '390 px');
js('location.hash = "#/history"');
fill('#history-q', '');
search();
ok(wait_js(nrows() . ' === 4'), 'the list');
is(join(' ', @{ overflow() || ['?'] }), '', 'no horizontal overflow');
ok(open_conv('draw a cat'), 'a conversation');
is(join(' ', @{ overflow() || ['?'] }), '', 'nor in its dialog');

js('localStorage.setItem("gp-console-lang", "zh-CN")');
$b->reload;
ok(wait_js('document.documentElement.lang === "zh-CN" && ' . nrows()
           . ' === 4 && [...document.querySelectorAll("table.history th")]'
           . '.some((th) => th.textContent === "最近活动")'),
   'reloaded in Chinese');
ok(open_conv('this one fails'), 'the failure');
like(text_of('dialog.modal[open] .turn .turn-error'), qr/失败（5\d\d）/,
     'its error, in Chinese');
like(text_of('#history-open-chat'), qr/对话页/, 'Open in chat page');
is(join(' ', @{ overflow() || ['?'] }), '', 'no horizontal overflow (zh)');

$srv->stop;
done_testing;
