# Chat history as conversations (GET /api/history/conversations and
# /conversations/<id>, DELETE /conversations/<id>, GET /api/history/filters):
# the history's turns grouped by upstream session within an API key, so a
# question and its follow-up are one conversation with two turns and two
# conversations stay apart; a call that failed is a conversation that
# says so; filters by key, model, account, date and text; keyset paging;
# JSON errors for bad parameters; the admin only.

use strict;
use warnings;
use utf8;
use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use JSON::PP;
use GeminiPool ':plain';
use GeminiPool::Server;

my $SECRET = 'conversations-secret-0123456789';
$ENV{ADMIN_SECRET_KEY} = $SECRET;

my $json = JSON::PP->new->utf8->canonical;
my $http = HTTP::Tiny->new(timeout => 10);

GeminiPool::setting('history_enabled', 'bool', 'true');

my $srv = GeminiPool::Server->new(
    name => 'conversations', master => 1, workers => 2,
    server => <<'END');
    location /api/ { gemini_pool_admin; }
    location /v1/ { gemini_pool_api_keys on; gemini_pool_api; }
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
    return ($st, $d->{choices} ? $d->{choices}[0]{message}{content} : $d);
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

sub conv {
    my ($args) = @_;
    my ($st, $d) = admin('GET', '/api/history/conversations'
                                . ($args ? "?$args" : ''));
    return ($st, $d, [map { $_->{title} } @{$d->{conversations} || []}]);
}

my ($st, $d, $titles);

($st, $d) = admin('POST', '/api/keys', { name => 'alice' });
my ($ka, $kida) = ($d->{key}, $d->{id});
($st, $d) = admin('POST', '/api/keys', { name => 'bob' });
my ($kb, $kidb) = ($d->{key}, $d->{id});

# alice: a question and its follow-up (one upstream session), then another
# conversation; bob: one of his own

my ($st1, $a1) = chat_as($ka, 'gemini-2.5-flash', [user => 'first question']);
is($st1, 200, 'alice asks');
logged(1);
my ($st2, $a2) = chat_as($ka, 'gemini-2.5-flash', [user => 'first question'],
                         [assistant => $a1], [user => 'and a follow-up']);
is($st2, 200, 'and follows up');
logged(2);
($st) = chat_as($ka, 'gemini-auto', [user => 'another topic, 100% apart']);
is($st, 200, 'alice starts another conversation');
logged(3);
($st) = chat_as($kb, 'gemini-2.5-flash', [user => 'bob asks']);
is($st, 200, 'bob asks');
logged(4);

# a follow-up moves its conversation to the top

($st) = chat_as($ka, 'gemini-2.5-flash', [user => 'first question'],
                [assistant => $a1], [user => 'and a follow-up'],
                [assistant => $a2], [user => 'a third turn']);
is($st, 200, 'a third turn');
logged(5);
(undef, $d, $titles) = conv();
is($titles->[0], 'first question', 'its conversation comes first');
is($d->{conversations}[0]{turns}, 3, 'with 3 turns');
is(scalar @$titles, 3, 'still three');

# a call that fails: every answer a 500
mock_post('/__mock/inject', { endpoint => 'streamAssist', times => -1,
                              action => { status => 500,
                                          body => 'upstream broke' } });
($st) = chat_as($kb, 'gemini-2.5-flash', [user => 'this one fails']);
ok($st >= 500, "a failing call: $st");
$http->request('DELETE', GeminiPool::mock_url() . '/__mock/inject');
logged(6);

($st, $d, $titles) = conv();
is($st, 200, 'GET /api/history/conversations');
is_deeply($titles, ['this one fails', 'first question', 'bob asks',
                    'another topic, 100% apart'],
          'four conversations, newest activity first')
    or diag explain $d;

my ($fail, $first, $bob, $other) = @{$d->{conversations}};
is($first->{turns}, 3, 'the question and its follow-ups are one, of 3 turns');
is($first->{key_id}, $kida, 'alice\'s');
is($first->{key_name}, 'alice', 'by name');
is_deeply($first->{models}, ['gemini-2.5-flash'], 'its model');
is(scalar @{$first->{accounts}}, 1, 'one account');
like($first->{accounts}[0], qr/^acc\d$/, 'named');
ok(!$first->{failed}, 'no turn failed');
ok($first->{first_time} <= $first->{last_time}, 'first and last time');
is($other->{turns}, 1, 'the other conversation stays apart');
is_deeply($other->{models}, ['gemini-auto'], 'with its model');
is($bob->{key_name}, 'bob', 'bob\'s');
ok($fail->{failed}, 'the failed call says so');
is($fail->{turns}, 1, 'a conversation of its own');

# one conversation, its turns in order

($st, $d) = admin('GET', "/api/history/conversations/$first->{id}");
is($st, 200, 'GET /api/history/conversations/<id>');
is($d->{id}, $first->{id}, 'its id');
is($d->{key_name}, 'alice', 'its key');
is_deeply([map { $_->{prompt} } @{$d->{turns}}],
          ['first question', 'and a follow-up', 'a third turn'],
          'the turns in order');
is_deeply([map { $_->{answer} } @{$d->{turns}}[0, 1]], [$a1, $a2],
          'with their answers');
is($d->{turns}[0]{status}, 200, 'a status');
ok(defined $d->{turns}[0]{latency_ms}, 'a latency');
is($d->{turns}[1]{model}, 'gemini-2.5-flash', 'a model');
is($d->{turns}[0]{account}, $first->{accounts}[0], 'an account');
my $second = $d->{turns}[1]{id};
($st, $d) = admin('GET', "/api/history/conversations/$second");
is($d->{id}, $first->{id}, 'any turn\'s id finds its conversation');

($st, $d) = admin('GET', "/api/history/conversations/$fail->{id}");
is($d->{turns}[0]{prompt}, 'this one fails', 'the failed call\'s prompt');
ok($d->{turns}[0]{status} >= 500, 'its status');
ok(length $d->{turns}[0]{error}, "its error: $d->{turns}[0]{error}");

# filters

(undef, undef, $titles) = conv("key_id=$kidb");
is_deeply($titles, ['this one fails', 'bob asks'], 'by key');
(undef, undef, $titles) = conv('model=gemini-auto');
is_deeply($titles, ['another topic, 100% apart'], 'by model');
(undef, undef, $titles) = conv("account=$first->{accounts}[0]&key_id=$kida");
ok(grep({ $_ eq 'first question' } @$titles), 'by account');
(undef, undef, $titles) = conv('account=nobody');
is_deeply($titles, [], 'an account with no chats: none');
(undef, undef, $titles) = conv('q=FOLLOW-UP');
is_deeply($titles, ['first question'],
          'by text: a later turn finds its conversation');
(undef, undef, $titles) = conv('q=100%25');
is_deeply($titles, ['another topic, 100% apart'], 'a literal "%"');
my $now = time;
(undef, undef, $titles) = conv('from=' . ($now - 3600) . '&to=' . ($now + 60));
is(scalar @$titles, 4, 'by date: the last hour');
(undef, undef, $titles) = conv('to=' . ($now - 3600));
is_deeply($titles, [], 'before it: none');
(undef, undef, $titles) = conv('from=' . ($now + 3600));
is_deeply($titles, [], 'after it: none');

($st, $d) = admin('GET', '/api/history/filters');
is($st, 200, 'GET /api/history/filters');
is_deeply($d->{models}, ['gemini-2.5-flash', 'gemini-auto'],
          'the models of the history');
ok(scalar @{$d->{accounts}} >= 1, 'and its accounts');

# paging

($st, $d, $titles) = conv('limit=3');
is_deeply($titles, ['this one fails', 'first question', 'bob asks'],
          'a page of 3');
ok($d->{next_before}, 'and where the next one starts');
($st, $d, $titles) = conv("limit=3&before=$d->{next_before}");
is_deeply($titles, ['another topic, 100% apart'], 'the next page');
is($d->{next_before}, undef, 'the last');

# bad parameters, unknown ids, the admin only

for (['limit=0', 'limit'], ['limit=201', 'limit'], ['limit=x', 'limit'],
     ['before=x', 'before'], ['key_id=x', 'key_id'], ['from=yesterday', 'from'],
     ['to=-', 'to'], ['from=20&to=10', 'from'])
{
    ($st, $d) = conv($_->[0]);
    is($st, 400, "$_->[0]: 400");
    is($d->{error}{code}, 'invalid_value', 'invalid_value');
    like($d->{error}{message}, qr/"$_->[1]"/, "naming $_->[1]");
}
($st, $d) = admin('GET', '/api/history/conversations/abc');
is($st, 404, 'a conversation "abc": 404');
is($d->{error}{code}, 'not_found', 'not_found');
($st, $d) = admin('GET', '/api/history/conversations/999999');
is($st, 404, 'an unknown one: 404');
($st) = admin('POST', '/api/history/conversations');
is($st, 405, 'POST: 405');
($st) = req('GET', '/api/history/conversations');
is($st, 401, 'the list needs the admin');
($st) = req('GET', "/api/history/conversations/$first->{id}");
is($st, 401, 'so does one');
($st) = req('DELETE', "/api/history/conversations/$first->{id}");
is($st, 401, 'and deleting one');
($st) = req('GET', '/api/history/filters');
is($st, 401, 'and the filters');

# delete one conversation: all its turns' text, the calls stay

($st, $d) = admin('DELETE', "/api/history/conversations/$first->{id}");
is($st, 200, 'DELETE a conversation');
is($d->{deleted}, 3, 'its three turns');
($st) = admin('GET', "/api/history/conversations/$first->{id}");
is($st, 404, 'it is gone');
(undef, undef, $titles) = conv();
is_deeply($titles, ['this one fails', 'bob asks',
                    'another topic, 100% apart'], 'the others stay');
($st, $d) = admin('GET', '/api/logs?limit=1000');
is(scalar @{$d->{logs}}, 6, 'the call log keeps every call');
($st) = admin('DELETE', "/api/history/conversations/$first->{id}");
is($st, 404, 'deleting it again: 404');

# the flat list's routes still answer
($st, $d) = admin('GET', '/api/history');
is($d->{total}, 3, 'GET /api/history: the three entries left');

is(sql("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND "
       . "name = 'call_logs_session'"), 1, 'the grouping\'s index');

$srv->stop;
unlike($srv->error_log_text, qr/\[(alert|crit|emerg)\]/, 'no alerts');

done_testing;
