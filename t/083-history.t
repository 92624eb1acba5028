# Chat history: prompt and answer text recorded when the setting
# history_enabled is on (through the zone's ring, written by the helper),
# listed, searched, viewed and deleted through the admin API.

use strict;
use warnings;
use utf8;
use Encode ();
use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use JSON::PP;
use GeminiPool ':plain';
use GeminiPool::Server;

my $SECRET = 'history-admin-secret-0123456789';
$ENV{ADMIN_SECRET_KEY} = $SECRET;

my $json = JSON::PP->new->utf8->canonical;
my $http = HTTP::Tiny->new(timeout => 10, max_redirect => 0);

my $srv = GeminiPool::Server->new(
    name => 'history', master => 1, workers => 2,
    server => <<'END');
    location /api/ { gemini_pool_admin; }
    location /v1/ { gemini_pool_api_keys on; gemini_pool_api; }
    location = /metrics { gemini_pool_metrics; }
END
$srv->start;

sub req {
    my ($method, $path, $body, %h) = @_;
    my $res = $http->request($method, $srv->url($path), {
        headers => {%h},
        (defined $body ? (content => ref $body ? $json->encode($body) : $body)
                       : ()),
    });
    my $data = eval { $json->decode($res->{content}) };
    return ($res->{status}, $data, $res);
}

sub admin { req(@_[0 .. 2], 'X-Admin-Token' => $SECRET) }

# the helper drains the ring on its tick: wait until the log has n rows
sub logged {
    my ($n) = @_;
    my $d;
    for (1 .. 50) {
        (undef, $d) = admin('GET', '/api/logs?limit=1000');
        return $d->{logs} if @{$d->{logs} || []} >= $n;
        select(undef, undef, undef, 0.1);
    }
    return $d->{logs};
}

sub chat_as {
    my ($key, $body) = @_;
    return req('POST', '/v1/chat/completions', $body,
               Authorization => "Bearer $key",
               'Content-Type' => 'application/json');
}

my ($st, $d, $res);

($st, $d) = admin('POST', '/api/keys', {name => 'alice'});
is($st, 201, 'a key for alice');
my ($ka, $kida) = ($d->{key}, $d->{id});
($st, $d) = admin('POST', '/api/keys', {name => 'bob'});
my ($kb, $kidb) = ($d->{key}, $d->{id});

# off by default: the call is logged, its text is not

($st, $d) = admin('GET', '/api/settings');
is($d->{settings}{history_enabled}{value}, JSON::PP::false,
   'history_enabled is off by default')
    or diag explain $d->{settings}{history_enabled};

($st) = chat_as($ka, {model => 'gemini-auto',
                      messages => [{role => 'user', content => 'not kept'}]});
is($st, 200, 'a chat with history off');
is(scalar @{logged(1)}, 1, 'it is in the call log');
($st, $d) = admin('GET', '/api/history');
is($st, 200, 'GET /api/history');
is($d->{total}, 0, 'but not in the history');
is_deeply($d->{items}, [], 'no items');

# on

($st, $d) = admin('PUT', '/api/settings', {history_enabled => JSON::PP::true});
is($st, 200, 'history on');

($st, $d) = chat_as($ka, {model => 'gemini-auto', messages => [
    {role => 'system', content => 'be brief'},
    {role => 'user', content => 'first question'},
    {role => 'assistant', content => 'an earlier answer'},
    {role => 'user', content => 'the 100% real question, 日本語 too'}]});
is($st, 200, 'a plain chat');
my $answer1 = $d->{choices}[0]{message}{content};

($st, $d, $res) = chat_as($kb, {model => 'gemini-2.5-flash', stream => JSON::PP::true,
                                messages => [{role => 'user', content => 'streamed question'}]});
is($st, 200, 'a streamed chat');
my $answer2 = join '', map { $_->{choices}[0]{delta}{content} // '' }
                       map { $json->decode($_) }
                       grep { $_ ne '[DONE]' }
                       $res->{content} =~ /^data: (.*)$/mg;

logged(3);

($st, $d) = admin('GET', '/api/history');
is($d->{total}, 2, 'two entries in the history');
my ($h2, $h1) = @{$d->{items}};
is($h1->{prompt_preview}, 'the 100% real question, 日本語 too',
   'the prompt is the last user message');
is($h1->{answer_preview}, substr($answer1, 0, 200), 'the answer (preview)');
is($h1->{key_name}, 'alice', 'the key by name');
is($h1->{key_id}, $kida, 'and id');
is($h1->{model}, 'gemini-auto', 'the model');
like($h1->{account}, qr/^acc\d$/, 'the account');
like($h1->{session}, qr/^\d+$/, 'the upstream session');
is($h1->{status}, 200, 'the status');
ok(!$h1->{stream}, 'not streamed');
is($h2->{prompt_preview}, 'streamed question', 'the streamed prompt');
is($h2->{answer_preview}, substr($answer2, 0, 200),
   'the streamed answer, put together from its chunks');
ok($h2->{stream}, 'streamed');
ok(length $answer2 > 10, 'the answer has text');

($st, $d) = admin('GET', "/api/history/$h1->{id}");
is($st, 200, 'one entry');
is($d->{prompt}, 'the 100% real question, 日本語 too', 'its whole prompt');
is($d->{answer}, $answer1, 'and its whole answer');

# search

($st, $d) = admin('GET', '/api/history?q=100%25');
is($d->{total}, 1, 'search: a literal "%"');
is($d->{items}[0]{id}, $h1->{id}, 'finds the entry holding it');
($st, $d) = admin('GET', '/api/history?q=10_%25');
is($d->{total}, 0, 'search: "_" is no wildcard');
($st, $d) = admin('GET', '/api/history?q=' . '%E6%97%A5%E6%9C%AC%E8%AA%9E');
is($d->{total}, 1, 'search: UTF-8 text');
($st, $d) = admin('GET', '/api/history?q=streamed+question');
is($d->{total}, 1, 'search: "+" is a blank');
is($d->{items}[0]{id}, $h2->{id}, 'in the prompt');
($st, $d) = admin('GET', '/api/history?q=ECHO');
is($d->{total}, 2, 'search: in answers, ASCII case-insensitive');
($st, $d) = admin('GET', "/api/history?key_id=$kidb");
is_deeply([map { $_->{id} } @{$d->{items}}], [$h2->{id}], 'by key');
($st, $d) = admin('GET', '/api/history?model=gemini-auto');
is_deeply([map { $_->{id} } @{$d->{items}}], [$h1->{id}], 'by model');
($st, $d) = admin('GET', "/api/history?session=$h1->{session}");
is_deeply([map { $_->{id} } @{$d->{items}}], [$h1->{id}], 'by session');
($st, $d) = admin('GET', '/api/history?limit=1&offset=1');
is_deeply([map { $_->{id} } @{$d->{items}}], [$h1->{id}], 'paged');
is($d->{total}, 2, 'with the total');

# bad input

($st, $d) = admin('GET', '/api/history?limit=0');
is($st, 400, 'limit 0: 400');
is($d->{error}{code}, 'invalid_value', 'a JSON error');
($st, $d) = admin('GET', '/api/history?key_id=x');
is($st, 400, 'a bad key_id: 400');
($st, $d) = admin('GET', '/api/history/abc');
is($st, 404, 'an unknown entry: 404');
is($d->{error}{code}, 'not_found', 'not_found');
($st, $d) = admin('GET', '/api/history/999999');
is($st, 404, 'a missing entry: 404');
($st) = req('GET', '/api/history');
is($st, 401, 'the history needs the admin');
($st) = req('DELETE', '/api/history');
is($st, 401, 'so does deleting it');

# a cap on the text, cut on a character boundary

($st) = admin('PUT', '/api/settings', {history_max_chars => 10});
($st) = chat_as($ka, {model => 'gemini-auto',
                      messages => [{role => 'user', content => 'ab中文中文中文'}]});
logged(4);
($st, $d) = admin('GET', '/api/history?limit=1');
($st, $d) = admin('GET', "/api/history/$d->{items}[0]{id}");
is($d->{prompt}, 'ab中文', 'history_max_chars caps the prompt in bytes, '
                        . 'whole characters only');
ok(length(Encode::encode_utf8($d->{answer})) <= 10, 'and the answer');
my $h3 = $d->{id};

# delete

($st, $d) = admin('DELETE', "/api/history/$h1->{id}");
is($st, 200, 'delete one entry');
is($d->{deleted}, 1, 'one');
($st) = admin('GET', "/api/history/$h1->{id}");
is($st, 404, 'it is gone from the history');
($st, $d) = admin('GET', '/api/logs?limit=1000');
is(scalar(grep { $_->{id} == $h1->{id} } @{$d->{logs}}), 1,
   'the call log keeps the call (without its text)');
($st, $d) = admin('DELETE', "/api/history/$h1->{id}");
is($st, 404, 'deleting it again: 404');
($st, $d) = admin('DELETE', '/api/history?before=x');
is($st, 400, 'a bad "before": 400');
($st, $d) = admin('DELETE', '/api/history?before=1000');
is($d->{deleted}, 0, 'nothing before 1970-01-01T00:16:40');
($st, $d) = admin('DELETE', '/api/history');
is($d->{deleted}, 2, 'delete all: the other two');
($st, $d) = admin('GET', '/api/history');
is($d->{total}, 0, 'the history is empty');

my $text = `sqlite3 $GeminiPool::DB "SELECT count(*) FROM call_logs WHERE prompt IS NOT NULL OR answer IS NOT NULL"`;
is($text + 0, 0, 'no text left in the database');

# the metrics count texts the zone could not hold (none here)

($st, $d, $res) = req('GET', '/metrics');
like($res->{content}, qr/^gemini_pool_history_text_dropped_total 0$/m,
     'the metric of dropped history text');

$srv->stop;
unlike($srv->error_log_text, qr/\[(alert|crit|emerg)\]/, 'no alerts');

done_testing();
