# The official `openai` npm client (t/node) driving the Responses API
# through nginx against the upstream mock: client.responses.create
# streamed and not, the SDK's stream helper, an image input, a
# continuation by previous_response_id, a refused one, and a cut stream.
#
# Needs node >= 20 and the SDK in t/node/node_modules (see
# t/060-openai-client.t); without them the test is skipped, unless
# CI=true: then it fails.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use GeminiPool ':plain';
use GeminiPool::Server;

use Encode qw(encode_utf8);
use JSON::PP;

my $JSON = JSON::PP->new->utf8->canonical;
my $DIR = "$GeminiPool::ROOT/t/node";
my $CI = ($ENV{CI} // '') =~ /^(?:1|true|yes)$/i;

sub unavailable {
    my ($why) = @_;
    if ($CI) {
        fail("$why (required when CI=true)");
        done_testing;
        exit 1;
    }
    plan skip_all => $why;
}

my ($node) = grep { -x } map { "$_/node" } split /:/, $ENV{PATH} // '';
$node = $ENV{TEST_NODE} if $ENV{TEST_NODE};
unavailable('node is not installed') unless $node;
my ($major) = (`"$node" --version 2>/dev/null` // '') =~ /^v(\d+)\./;
unavailable('node >= 20 is needed') unless $major && $major >= 20;
unavailable('the openai SDK is not in t/node/node_modules (npm ci in t/node)')
    unless -f "$DIR/node_modules/openai/package.json";

my $PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC';
my $TAIL = "\n-- mock tail: \"quoted\" {brace} [bracket] ]} back\\slash "
           . "\x{e9} \x{4e2d}\x{6587} \x{1f680} \x{2713} end.";
my $prompt = "Hello from client.responses \x{2014} \"quoted\" \x{1f600}";

mock_post('/__mock/reset');

my $srv = GeminiPool::Server->new(
    name   => '133-node',
    server => 'location /v1/ { gemini_pool_api; }',
)->start;

open my $fh, '-|', $node, "$DIR/openai-responses.mjs", $srv->url('/v1'),
     encode_utf8($prompt), $PNG or die "$node: $!";
my $out = do { local $/; <$fh> } // '';
close $fh;
is($?, 0, 'the node script ran') or diag $out;

my ($line) = grep { /^\{/ } reverse split /\n/, $out;
my $r = eval { $JSON->decode($line // '') } // {};
ok(%$r, 'it printed its JSON result') or diag $out;
diag "openai SDK $r->{sdk_version}, node $r->{node_version}"
    if $r->{sdk_version};
is_deeply($r->{errors}, [], 'no step threw unexpectedly');

my $ns = $r->{nonstream} // {};
like($ns->{id} // '', qr/^resp_[0-9a-f]{32}$/, 'non-stream: id');
is($ns->{object}, 'response', 'non-stream: object');
is($ns->{status}, 'completed', 'non-stream: status');
is($ns->{model}, 'gemini-2.5-flash', 'non-stream: model');
is($ns->{output_text},
   "echo: [System Instruction]\nAnswer briefly.\n\n[User Message]\n$prompt$TAIL",
   "non-stream: the SDK's output_text");
is_deeply($ns->{items}, ['message'], 'non-stream: one message item');
ok(($ns->{usage}{total_tokens} // 0) > 0, 'non-stream: usage');

my $st = $r->{stream} // {};
is_deeply($st->{types}, [qw(response.created response.in_progress
                            response.output_item.added response.content_part.added
                            response.output_text.delta response.output_text.done
                            response.content_part.done response.output_item.done
                            response.completed)],
          'stream: the event sequence');
ok($st->{seq_ok}, 'stream: sequence numbers count from 0');
is($st->{text}, "echo: $prompt$TAIL", 'stream: the deltas add up');
is($st->{completed_text}, $st->{text}, 'stream: response.completed has it all');

is($r->{stream_helper}{output_text}, "echo: $prompt$TAIL",
   "stream helper: finalResponse()'s output_text");
is($r->{stream_helper}{status}, 'completed', 'stream helper: completed');

like($r->{image}{output_text} // '',
     qr/^echo: what is this\? \[attached: image\/png 69 bytes sha256:[0-9a-f]{12}\]/,
     'an input_image reached the upstream');

is($r->{follow}{previous_response_id}, $r->{follow}{first},
   'a continuation names its previous response');
like($r->{follow}{output_text} // '', qr/^echo: and now\?\n/,
     'and sends only its own input');

my $nf = $r->{not_found} // {};
ok($nf->{thrown} && $nf->{is_api_error}, 'an unknown previous_response_id throws an APIError');
is($nf->{status}, 400, 'status 400');
is($nf->{code}, 'previous_response_not_found', 'code previous_response_not_found');
is($nf->{param}, 'previous_response_id', 'param previous_response_id');

my $cut = $r->{cut} // {};
ok($cut->{failed}, 'a cut stream: the client sees response.failed');
is($cut->{types}[-1], 'response.failed', 'as the last event');
ok(!grep({ $_ eq 'response.completed' } @{ $cut->{types} || [] }),
   'and never response.completed');
like($cut->{error_code} // '', qr/^upstream_/, 'with the upstream error code');

# a tool round trip
my $tl = $r->{tools} // {};
is_deeply($tl->{items}, ['message', 'function_call'], 'tools: the prose, then the call');
is($tl->{name}, 'get_weather', 'tools: the function');
is_deeply($tl->{arguments}, { city => 'Paris' }, 'tools: its arguments');
like($tl->{call_id} // '', qr/^call_[0-9a-f]{24}0$/, 'tools: a call id');
is($tl->{answer}, 'Results: 18 C.', 'tools: the result continued the response');

my $ts = $r->{tools_stream} // {};
is($ts->{name}, 'get_weather', 'tools streamed: the SDK assembled the call');
is_deeply($ts->{arguments}, { city => 'Oslo' }, 'tools streamed: its arguments');
ok((grep { $_ eq 'response.function_call_arguments.delta' } @{ $ts->{types} || [] }),
   'tools streamed: as function_call_arguments events');

# the follow-up ran in the first turn's session
my @sa = @{ mock_requests('streamAssist') };
my ($one) = grep { $_->{query_text} eq 'remember me' } @sa;
my ($two) = grep { $_->{query_text} eq 'and now?' } @sa;
ok($one && $two && $one->{session} eq $two->{session},
   'the continuation used the same upstream session');
my ($call) = grep { ($_->{query_text} // '') =~ /How warm is it\? get_weather/ } @sa;
my ($result) = grep { ($_->{query_text} // '') =~ /<tool_result id="\Q$tl->{call_id}\E"/ } @sa;
ok($call && $result && $call->{session} eq $result->{session},
   'the tool result went into the session of the call');
unlike($result->{query_text} // '', qr/How warm is it/,
       'with only the result, not the earlier turn');

$srv->stop;

my @bad = grep { /\[(?:alert|crit|emerg)\]/ } split /^/, $srv->error_log_text;
ok(!@bad, 'no [alert]/[crit]/[emerg]') or diag @bad;

done_testing;
