# The Responses API's previous_response_id: a response stored (store,
# the default) binds its upstream session under its id, per API key; the
# next turn that names it runs in that session (one createSession, only
# the new input sent); a response not stored, unknown or of another API
# key is a 400 previous_response_not_found.  The turns appear in the call
# log with their history, like chat completions.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use JSON::PP;
use Digest::SHA qw(sha256_hex);
use GeminiPool ':plain';
use GeminiPool::Server;

my $json = JSON::PP->new->utf8->canonical;
my $http = HTTP::Tiny->new(timeout => 20);

GeminiPool::setting('history_enabled', 'bool', 'true');
# no spare sessions: the helper makes them on its own ticks, so under load
# one could land among the createSession calls counted below
GeminiPool::setting('spare_sessions', 'int', '0');
sql("DELETE FROM api_keys; INSERT INTO api_keys (name, key_hash) VALUES "
    . "('alice', '" . sha256_hex('sk-alice') . "'), "
    . "('bob', '" . sha256_hex('sk-bob') . "')");

my $srv = GeminiPool::Server->new(
    name => 'resp-continue', master => 1, workers => 2,
    server => <<'END');
    location /v1/ {
        add_header X-Conversation $gemini_pool_conversation;
        add_header X-Model $gemini_pool_model;
        gemini_pool_api;
    }
    location /k/v1/ { gemini_pool_api_keys on; gemini_pool_api; }
    location = /metrics { gemini_pool_metrics; }
END
$srv->start;

mock_post('/__mock/reset');

sub respond {
    my ($body, $key, $path) = @_;
    my $res = $http->post($srv->url($path // '/v1/responses'), {
        headers => { 'Content-Type' => 'application/json',
                     $key ? (Authorization => "Bearer $key") : () },
        content => $json->encode($body),
    });
    my $d = eval { $json->decode($res->{content}) } // {};
    return ($res->{status}, $d, $res->{content}, $res);
}

sub text_of { $_[0]{output}[-1]{content}[0]{text} // '' }

# ----------------------------------------------------------------------
# a chain of three turns

my ($st, $r1, undef, $h1) = respond({ model => 'gemini-2.5-flash', input => 'turn one' });
is($st, 200, 'turn 1 answered');
is($h1->{headers}{'x-conversation'}, 'new', '$gemini_pool_conversation: new');
is($h1->{headers}{'x-model'}, 'gemini-2.5-flash', '$gemini_pool_model');
like($r1->{id} // '', qr/^resp_[0-9a-f]{32}$/, 'turn 1: a response id');
is($r1->{previous_response_id}, undef, 'turn 1: no previous response');

my ($st2, $r2, undef, $h2) = respond({ model => 'gemini-2.5-flash', input => 'turn two',
                           previous_response_id => $r1->{id},
                           instructions => 'Be brief.' });
is($st2, 200, 'turn 2 answered');
is($h2->{headers}{'x-conversation'}, 'follow-up',
   '$gemini_pool_conversation: follow-up');
is($r2->{previous_response_id}, $r1->{id}, 'turn 2 names turn 1');
isnt($r2->{id}, $r1->{id}, 'turn 2 has an id of its own');
like(text_of($r2), qr/^echo: \[System Instruction\]\nBe brief\.\n\n\[User Message\]\nturn two\n/,
     'turn 2: only its own input went up, no replay of turn 1');

# streamed, continuing turn 2
my $res = $http->post($srv->url('/v1/responses'), {
    headers => { 'Content-Type' => 'application/json' },
    content => $json->encode({ input => [{ role => 'user', content => 'turn three' }],
                               previous_response_id => $r2->{id},
                               stream => JSON::PP::true }),
});
my ($done) = $res->{content} =~ /event: response\.completed\ndata: (.*)\n\n\z/;
my $r3 = eval { $json->decode($done // '')->{response} } // {};
is($r3->{previous_response_id}, $r2->{id}, 'turn 3 (streamed) names turn 2');
like(text_of($r3), qr/^echo: turn three\n/, 'turn 3: only its input');

my @sa = @{ mock_requests('streamAssist') };
is(scalar @sa, 3, 'three streamAssist calls');
is(scalar(grep { $_->{session} eq $sa[0]{session} } @sa), 3,
   'all three in one upstream session');
is(scalar @{ mock_requests('createSession') }, 1, 'one createSession');

# turn 1 may be continued again: it is still bound (the same session)
my ($st4, $r4) = respond({ input => 'again from one',
                           previous_response_id => $r1->{id} });
is($st4, 200, 'an older response can still be continued');
@sa = @{ mock_requests('streamAssist') };
is($sa[-1]{session}, $sa[0]{session}, 'in the same upstream session');

# ----------------------------------------------------------------------
# what cannot be continued

my ($st5, $r5) = respond({ input => 'not kept', store => JSON::PP::false });
is($st5, 200, 'store: false answers');
is($r5->{store}, JSON::PP::false, 'and says so');

for my $case (['a response not stored', $r5->{id}],
              ['an unknown id', 'resp_00000000000000000000000000000000'])
{
    my ($s, $e) = respond({ input => 'go on', previous_response_id => $case->[1] });
    is($s, 400, "$case->[0]: 400");
    is($e->{error}{code}, 'previous_response_not_found', "$case->[0]: code");
    is($e->{error}{param}, 'previous_response_id', "$case->[0]: param");
    like($e->{error}{message} // '', qr/^Previous response with id '\Q$case->[1]\E' not found/,
         "$case->[0]: message");
}

# per API key: bob cannot continue alice's response
my ($sa1, $a1) = respond({ input => 'alice one' }, 'sk-alice', '/k/v1/responses');
is($sa1, 200, 'alice: turn 1');
my ($sb, $b) = respond({ input => 'bob?', previous_response_id => $a1->{id} },
                       'sk-bob', '/k/v1/responses');
is($sb, 400, "bob cannot continue alice's response");
is($b->{error}{code}, 'previous_response_not_found', 'not found for bob');
my ($sa2, $a2) = respond({ input => 'alice two', previous_response_id => $a1->{id} },
                         'sk-alice', '/k/v1/responses');
is($sa2, 200, 'alice can');
like(text_of($a2), qr/^echo: alice two\n/, 'alice: only the new input');

my $count = scalar @{ mock_requests('streamAssist') };
is($count, 7, 'no upstream call for the refused turns');

# ----------------------------------------------------------------------
# the call log and the history, as for chat completions

my $rows = wait_for(10, sub {
    my $n = sql("SELECT count(*) FROM call_logs");
    return $n >= 10 ? $n : 0;
});
ok($rows, 'the call log has every turn') or diag sql("SELECT count(*) FROM call_logs");
like(sql("SELECT status || ' ' || model || ' ' || prompt FROM call_logs "
         . "WHERE prompt = 'turn two'"),
     qr/^200 gemini-2\.5-flash turn two$/, 'a turn in the call log, with its prompt');
like(sql("SELECT answer FROM call_logs WHERE prompt = 'turn three'"),
     qr/^echo: turn three/, 'and the streamed answer in the history');
is(sql("SELECT count(*) FROM call_logs WHERE status = 400"), 3,
   'the refused turns are logged as 400s');
is(sql("SELECT count(*) FROM call_logs l JOIN api_keys k ON k.id = l.key_id "
       . "WHERE k.name = 'alice'"), 2, "alice's usage is counted under her key");

my $m = $http->get($srv->url('/metrics'))->{content} // '';
my ($ok) = $m =~ /^gemini_pool_requests_total\{status="2xx"\} (\d+)$/m;
my ($bad) = $m =~ /^gemini_pool_requests_total\{status="4xx"\} (\d+)$/m;
is($ok, 7, 'metrics: the answered turns') or diag $m;
is($bad, 3, 'metrics: the refused ones');

$srv->stop;

my @bad = grep { /\[(?:alert|crit|emerg)\]/ } split /^/, $srv->error_log_text;
ok(!@bad, 'no [alert]/[crit]/[emerg]') or diag @bad;

done_testing;
