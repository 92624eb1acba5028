# The console's chat page (issue 15, item 1) in Debian's real Chromium:
# a chat streamed on the page with a generated image shown inline and the
# thoughts folded, Enter sends and Shift+Enter does not; a follow-up in
# the same conversation goes to ONE upstream session (the mock's record);
# a hostile message and answer show as text (no HTML made from them);
# Stop ends a long stream and the server sees the client go (the mock's
# stream is closed); rename, search and delete in the list; the list
# folds at 390 px without horizontal overflow; Chinese and the dark
# theme.  Without Chromium the file is skipped, unless CI=true: then it
# fails.

use strict;
use warnings;
use utf8;

use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use JSON::PP;
use File::Temp ();
use MIME::Base64 ();

my $SECRET;

BEGIN {
    $SECRET = 'console-chat-secret-0123456789';
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
    name => 'console-chat', port => GeminiPool::Network::free_port(),
    server => <<"END");
    location /api/ { gemini_pool_admin; }
    location /v1/ { gemini_pool_api_keys on; gemini_pool_api; }
    location /image/ { gemini_pool_media; }
    location /video/ { gemini_pool_media; }
$console
END
$srv->start;

sub admin {
    my ($method, $path, $body) = @_;
    my $res = $http->request($method, $srv->url($path), {
        headers => { 'Content-Type' => 'application/json',
                     'X-Admin-Token' => $SECRET },
        (defined $body ? (content => $json->encode($body)) : ()),
    });
    return ($res->{status}, eval { $json->decode($res->{content}) });
}

my ($st) = admin('PUT', '/api/settings',
                 { show_thoughts => JSON::PP::true });
is($st, 200, 'thoughts shown');
sql("DELETE FROM chat_messages; DELETE FROM chats");
GeminiPool::mock_post('/__mock/reset', {});

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

GeminiPool::Console::use_browser($b);

sub key {
    my ($shift) = @_;
    return js('document.querySelector("#chat-input").dispatchEvent('
              . 'new KeyboardEvent("keydown", {key: "Enter", bubbles: true,'
              . ' cancelable: true, shiftKey: ' . ($shift ? 'true' : 'false')
              . '}))');
}

sub count { js('document.querySelectorAll(' . q_($_[0]) . ').length') // 0 }

# the assistant messages, finished (not pending)
sub answers {
    return count('#chat-log .msg.assistant:not(.pending)');
}

sub chat_id { (js('location.hash') // '') =~ m{^#/chat/(\d+)$} ? $1 : 0 }

# ----------------------------------------------------------------------
# log in, open the chat page

$b->goto($srv->url('/admin/'));
ok(wait_js(visible('#login-form')), 'the login form');
# (the page opens on the secret once it knows no password is set)
ok(wait_js('document.querySelector("#login-input").name === "secret"'),
   'on the admin secret');
fill('#login-input', $SECRET);
click('#login-submit');
ok(wait_js(visible('#stat-total'), 20), 'logged in')
    or diag(js('document.body.innerText'));

js('location.hash = "#/chat"');
ok(wait_js(visible('#chat-input')), 'the chat page');
ok(wait_js('document.querySelectorAll("#chat-model option").length > 1'),
   'the models from /v1/models');
ok(js('[...document.querySelectorAll("#chat-model option")].some((o) => '
      . 'o.value === "gemini-2.5-flash")'), 'gemini-2.5-flash listed');
js('(() => { const s = document.querySelector("#chat-model"); '
   . 's.value = "gemini-2.5-flash"; s.dispatchEvent(new Event("change")); '
   . '})()');
ok(js('document.querySelector("#chat-stream").checked'), 'stream on by '
   . 'default');
like(text_of('#chat-list'), qr/No conversation yet/, 'an empty list says '
     . 'what to do');

# ----------------------------------------------------------------------
# a streamed chat with an image; Shift+Enter does not send

fill('#chat-input', "Draw a cat MOCK:image");
key(1);
is(count('#chat-log .msg'), 0, 'Shift+Enter does not send');
key(0);
ok(wait_js('document.querySelector("#chat-log .msg.user")'),
   'Enter sends: the question shown');
ok(wait_js('(() => { const i = document.querySelector('
           . '"#chat-log .msg.assistant:not(.pending) img.md-img"); '
           . 'return i && i.complete && i.naturalWidth > 0; })()', 15),
   'the generated image is shown inline, loaded')
    or diag(js('document.querySelector("#chat-log").innerText'));
like(js('document.querySelector("#chat-log img.md-img").getAttribute('
        . '"src")') // '', qr{/image/[0-9a-f]+\.png$},
     'from the gateway\'s /image/');
like(text_of('#chat-log .msg.assistant .msg-body'), qr/Here you go/,
     'the answer\'s text');
ok(js('(() => { const d = document.querySelector("#chat-log .msg.assistant '
      . 'details.msg-reasoning"); return d && !d.open && /Thinking/.test('
      . 'd.textContent); })()'), 'the thoughts are folded');
my $id = chat_id();
ok($id, "the page moved to the conversation (#/chat/$id)");
ok(wait_js('document.querySelectorAll("#chat-list .chat-item").length '
           . '=== 1'), 'it is in the list');

# (the turn is kept on the server after the answer)
my $kept;
for (1 .. 50) {
    my (undef, $d) = admin('GET', "/api/chats/$id");
    $kept = $d;
    last if @{ $d->{messages} // [] } == 2;
    select undef, undef, undef, 0.1;
}
is(scalar @{ $kept->{messages} }, 2, 'the turn is stored');
like($kept->{messages}[1]{content}, qr{!\[image\]\(http://[^)]+/image/},
     'the answer with its image link');
like($kept->{messages}[1]{reasoning} // '', qr/Thinking/, 'and its thoughts');
is($kept->{title}, 'Draw a cat MOCK:image', 'titled by its question');
is($kept->{model}, 'gemini-2.5-flash', 'with its model');

# ----------------------------------------------------------------------
# the follow-up: one upstream session

fill('#chat-input', 'And now a dog?');
click('#chat-send');
ok(wait_js('document.querySelectorAll("#chat-log .msg.assistant:not('
           . '.pending)").length === 2', 15), 'the follow-up is answered');
my $recs = GeminiPool::mock_requests('streamAssist');
my @sessions = map { $_->{session} // '' } @$recs;
is(scalar @sessions, 2, 'two upstream turns');
is($sessions[1], $sessions[0], 'in ONE upstream session')
    or diag explain \@sessions;
like($recs->[1]{query_text} // '', qr/And now a dog\?/, 'the follow-up');
unlike($recs->[1]{query_text} // '', qr/Draw a cat/,
       'sent alone (no replay of the history)');

# ----------------------------------------------------------------------
# a hostile message shows as text, in a new conversation

click('#chat-new');
ok(wait_js('location.hash === "#/chat" && '
           . '!document.querySelector("#chat-log .msg")'), 'a new chat');
my $evil = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2'
           . '</script> [x](javascript:window.__pwned=3) **bold**';
fill('#chat-input', $evil);
key(0);
ok(wait_js('document.querySelectorAll("#chat-log .msg.assistant:not('
           . '.pending)").length === 1', 15), 'answered');
is(text_of('#chat-log .msg.user .msg-text'), $evil,
   'the question: exactly its text');
like(text_of('#chat-log .msg.assistant .msg-body') // '',
     qr/<script>window\.__pwned=2<\/script>/, 'the echoed answer: as text');
is(count('#chat-log img:not(.md-img), #chat-log script, '
         . '#chat-log [onerror], #chat-log a[href^="javascript"]'), 0,
   'no element made from the text');
is(count('#chat-log .msg.assistant strong'), 1,
   'while Markdown still works');
ok(!js('window.__pwned'), 'nothing ran');
my $evil_id = chat_id();
ok($evil_id && $evil_id != $id, 'a second conversation');

# ----------------------------------------------------------------------
# Stop

my $closed = GeminiPool::mock_stats()->{client_closed} // 0;
fill('#chat-input', 'MOCK:long=400000 MOCK:gap=150');
click('#chat-send');
ok(wait_js(visible('#chat-stop')), 'a Stop button while it runs');
ok(wait_js('/long 0000/.test(document.querySelector("#chat-log '
           . '.msg.assistant.pending")?.textContent || "")', 10),
   'the answer streams in');
click('#chat-stop');
ok(wait_js(visible('#chat-send')), 'stopped: Send is back');
ok(!js('document.querySelector("#chat-log .msg.pending")'), 'nothing pending');
like(text_of('#chat-log .msg.assistant:last-child .msg-error'),
     qr/Stopped/, 'the answer says it was stopped');
like(text_of('#chat-log .msg.assistant:last-child .msg-body'),
     qr/long 000000/, 'and keeps what came');
my $gone = 0;
for (1 .. 50) {
    my $s = GeminiPool::mock_stats();
    if (($s->{open_streams} // 1) == 0
        && ($s->{client_closed} // 0) > $closed)
    {
        $gone = 1;
        last;
    }
    select undef, undef, undef, 0.1;
}
ok($gone, 'the gateway closed the upstream stream: it saw the client go')
    or diag explain GeminiPool::mock_stats();
ok(wait_for(10, sub {
       sql("SELECT count(*) FROM call_logs c JOIN api_keys k ON "
           . "k.id = c.key_id WHERE k.name = 'console' AND c.status = 499")
       >= 1 }), 'the call log has it as 499 under the key "console"');

# ----------------------------------------------------------------------
# attachments (an image inline, a file through /v1/files), not streamed

my $dir = File::Temp::tempdir('gp-chat-XXXXXX', TMPDIR => 1, CLEANUP => 1);
{
    open my $fh, '>:raw', "$dir/dot.png" or die $!;
    print $fh MIME::Base64::decode_base64(
        'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAE'
        . 'hQGAhKmMIQAAAABJRU5ErkJggg==');
    close $fh;
    open $fh, '>', "$dir/notes.txt" or die $!;
    print $fh "some notes\n";
    close $fh;
}

click('#chat-new');
ok(wait_js('location.hash === "#/chat" && '
           . '!document.querySelector("#chat-log .msg")'), 'a new chat');
js('document.querySelector("#chat-stream").click()');
ok(!js('document.querySelector("#chat-stream").checked'), 'stream off');
my $seq = scalar @{ GeminiPool::mock_requests() };
$b->set_files('#chat-file', "$dir/dot.png", "$dir/notes.txt");
ok(wait_js('document.querySelectorAll("#chat-files .chip").length === 2'),
   'two attachments shown before sending');
fill('#chat-input', 'What are these?');
key(0);
ok(wait_js('document.querySelectorAll("#chat-log .msg.assistant:not('
           . '.pending)").length === 1', 15), 'answered (not streamed)')
    or diag(js('document.querySelector("#chat-log").innerText'));
ok(!js('document.querySelector("#chat-log .msg-error")'), 'no error')
    or diag(text_of('#chat-log .msg-error'));
is_deeply(js('[...document.querySelectorAll("#chat-log .msg.user .chip")]'
             . '.map((c) => c.textContent)'), ['dot.png', 'notes.txt'],
          'the question names its attachments');
my @new = @{ GeminiPool::mock_requests() }[$seq .. $#{ GeminiPool::mock_requests() }];
my @up = grep { $_->{endpoint} eq 'addContextFile' } @new;
is_deeply([sort map { $_->{upload}{mimeType} } @up],
          ['image/png', 'text/plain'], 'both uploaded upstream');
my ($turn) = grep { $_->{endpoint} eq 'streamAssist' } @new;
is(scalar @{ $turn->{file_ids} // [] }, 2, 'the turn names both files');
my $files = sql("SELECT filename FROM files ORDER BY created_at DESC "
                . "LIMIT 1");
is($files, 'notes.txt', 'the file went through /v1/files');

# a generated video: a player, allowed by the location's CSP
js('window.__csp = []; document.addEventListener('
   . '"securitypolicyviolation", (e) => window.__csp.push(e.violatedDirective'
   . ' + " " + e.blockedURI))');
fill('#chat-input', 'A film MOCK:video');
key(0);
ok(wait_js('document.querySelector("#chat-log .msg.assistant:not(.pending) '
           . 'video.md-video")', 15), 'a generated video: a player')
    or diag(js('document.querySelector("#chat-log").innerText'));
my $vsrc = js('document.querySelector("video.md-video").getAttribute("src")');
like($vsrc // '', qr{/video/[0-9a-f]+\.mp4$}, 'of the gateway\'s /video/');
my $vres = $http->get($vsrc =~ m{^http} ? $vsrc : $srv->url($vsrc));
is($vres->{headers}{'content-type'}, 'video/mp4', 'served as video/mp4');
select undef, undef, undef, 0.5;
is_deeply(js('window.__csp'), [], 'no Content-Security-Policy violation');
js('document.querySelector("#chat-stream").click()');

# ----------------------------------------------------------------------
# rename, search, delete

js('location.hash = "#/chat/' . $id . '"');
ok(wait_js('document.querySelector("#chat-title").textContent === '
           . '"Draw a cat MOCK:image" && document.querySelectorAll('
           . '"#chat-log .msg").length === 4'),
   'the first conversation opened from its link, with its 4 messages');
ok(wait_js('document.querySelectorAll("#chat-log .msg.assistant '
           . 'img.md-img").length === 1'), 'its image again');
click(qq{#chat-list .chat-item[data-id="$id"] .chat-rename});
ok(wait_js('document.querySelector("dialog[open] input[name=title]")'),
   'the rename dialog');
fill('dialog[open] input[name=title]', 'Animals <i>drawn</i>');
click('dialog[open] button[type=submit]');
ok(wait_js('/Animals <i>drawn<\/i>/.test(document.querySelector('
           . '"#chat-list").textContent)'), 'renamed in the list');
is(text_of('#chat-title'), 'Animals <i>drawn</i>', 'and in the head');
my (undef, $d) = admin('GET', "/api/chats/$id");
is($d->{title}, 'Animals <i>drawn</i>', 'on the server');

fill('#chat-search', 'CAT');
ok(wait_js('document.querySelectorAll("#chat-list .chat-item").length '
           . '=== 1'), 'search: one conversation has "cat"');
is(js('document.querySelector("#chat-list .chat-item").dataset.id'), "$id",
   'the right one (found in its text)');
fill('#chat-search', 'no such words here');
ok(wait_js('/No conversation matches/.test(document.querySelector('
           . '"#chat-list").textContent)'), 'no match: said so');
fill('#chat-search', '');
ok(wait_js('document.querySelectorAll("#chat-list .chat-item").length '
           . '=== 3'), 'all again');

click(qq{#chat-list .chat-item[data-id="$evil_id"] .chat-delete});
ok(wait_js('document.querySelector("dialog[open] button.danger")'),
   'asked before deleting');
click('dialog[open] button.danger');
ok(wait_js('document.querySelectorAll("#chat-list .chat-item").length '
           . '=== 2'), 'deleted from the list');
($st) = admin('GET', "/api/chats/$evil_id");
is($st, 404, 'and from the server');

# ----------------------------------------------------------------------
# a conversation made elsewhere (as the history's "open in chat page")

my ($made, $md);
($made, $md) = admin('POST', '/api/chats',
                     { title => 'From history', model => 'gemini-2.5-pro',
                       messages => [
                           { role => 'user', content => 'old question' },
                           { role => 'assistant',
                             content => "old *answer*\n\n```\ncode\n```",
                             reasoning => 'old thoughts' }] });
is($made, 201, 'a conversation posted through the API');
js('location.hash = "#/chat/' . $md->{id} . '"');
ok(wait_js('document.querySelector("#chat-title").textContent === '
           . '"From history" && document.querySelectorAll("#chat-log '
           . '.msg").length === 2'), 'opens from its link');
is(text_of('#chat-log .msg.assistant em'), 'answer', 'its Markdown');
is(count('#chat-log .md-code .md-copy'), 1, 'its code block with Copy');
ok(js('!document.querySelector("#chat-log details.msg-reasoning").open'),
   'its thoughts folded');
is(js('document.querySelector("#chat-model").value'), 'gemini-2.5-pro',
   'its model picked');
ok(wait_js('document.querySelectorAll("#chat-list .chat-item").length '
           . '=== 3'), 'listed');
js('location.hash = "#/chat/' . $id . '"');
ok(wait_js('document.querySelector("#chat-title").textContent === '
           . '"Animals <i>drawn</i>"'), 'back to the first');

# ----------------------------------------------------------------------
# 390 px: the list folds; no horizontal overflow

sub overflow {
    return js('(() => { const w = document.documentElement.clientWidth; '
              . 'const o = [...document.querySelectorAll("#view-chat *")]'
              . '.filter((e) => e.getClientRects().length && '
              . 'e.getBoundingClientRect().right > w + 1 && '
              . '!e.closest(".md-code pre")).map((e) => '
              . '(e.id || e.className || e.tagName)); '
              . 'return document.documentElement.scrollWidth > w '
              . '? ["page " + document.documentElement.scrollWidth]'
              . '.concat(o.slice(0, 5)) : o.slice(0, 5); })()');
}

$b->call('Emulation.setDeviceMetricsOverride',
         { width => 390, height => 844, deviceScaleFactor => 1,
           mobile => JSON::PP::true });
ok(wait_js('document.documentElement.clientWidth === 390'), '390 px');
ok(wait_js('!' . visible('#chat-list') . ' && ' . visible('#chat-input')),
   'the list is folded, the chat shown');
is(join(' ', @{ overflow() || ['?'] }), '', 'no horizontal overflow');
click('#chat-list-toggle');
ok(wait_js(visible('#chat-list')), 'the list unfolds on its button');
is(join(' ', @{ overflow() || ['?'] }), '', 'no overflow either');
click('#chat-list-toggle');
ok(wait_js(visible('#chat-input')), 'folds again');
$b->call('Emulation.clearDeviceMetricsOverride');

# ----------------------------------------------------------------------
# the dark theme; Chinese

my $light = js('getComputedStyle(document.querySelector(".chat-main"))'
               . '.backgroundColor');
click('#theme');
ok(wait_js('document.documentElement.dataset.theme === "dark"'), 'dark');
isnt(js('getComputedStyle(document.querySelector(".chat-main"))'
        . '.backgroundColor'), $light, 'the chat follows the theme');

js('localStorage.setItem("gp-console-lang", "zh-CN")');
$b->reload;
ok(wait_js('document.documentElement.lang === "zh-CN" && '
           . 'document.querySelector("#chat-send")?.textContent === "发送"'),
   'reloaded in Chinese, on the chat page');
ok(wait_js('document.querySelectorAll("#chat-log .msg").length === 4'),
   'the conversation of the link is back');
is(text_of('#chat-new'), '新对话', 'New chat in Chinese');
is(text_of('#chat-log .msg.assistant .md-copy') // '复制', '复制',
   'labels in Chinese');

unlike($srv->error_log_text, qr/\[(?:alert|crit|emerg)\]/,
       'no alert in the error log');

$b->quit;
$srv->stop;
done_testing;
