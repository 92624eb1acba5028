# The Responses API (POST /v1/responses): the response object, the
# streamed event sequence byte by byte, reasoning summaries, usage, and
# the errors in OpenAI's shape (a cut stream ends with response.failed).

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use GeminiPool;

no_long_string();
log_level('info');
run_tests();

__DATA__

=== TEST 1: a string input: the response object with one message item
--- config
    location /v1/ { gemini_pool_api; }
--- request
POST /v1/responses
{"model":"gemini-2.5-flash","input":"Hello responses"}
--- error_code: 200
--- response_headers
Content-Type: application/json
--- response_body_like eval
qr/\A\{"id":"resp_([0-9a-f]{32})","object":"response","created_at":\d+,"status":"completed","error":null,"incomplete_details":null,"instructions":null,"model":"gemini-2\.5-flash","output":\[\{"id":"msg_\1","type":"message","status":"completed","role":"assistant","content":\[\{"type":"output_text","text":"echo: Hello responses\\n-- mock tail: \\"quoted\\" \{brace\} \[bracket\] \]\} back\\\\slash é 中文 🚀 ✓ end\.","annotations":\[\],"logprobs":\[\]\}\]\}\],"parallel_tool_calls":true,"previous_response_id":null,"reasoning":\{"effort":null,"summary":null\},"store":true,"text":\{"format":\{"type":"text"\}\},"tool_choice":"auto","tools":\[\],"truncation":"disabled","usage":\{"input_tokens":[1-9]\d*,"input_tokens_details":\{"cached_tokens":0\},"output_tokens":[1-9]\d*,"output_tokens_details":\{"reasoning_tokens":0\},"total_tokens":[1-9]\d*\},"metadata":\{\}\}\z/
--- no_error_log
[error]


=== TEST 2: streamed: the event sequence, byte by byte
--- config
    location /v1/ { gemini_pool_api; }
--- request
POST /v1/responses
{"model":"gemini-2.5-flash","input":"Hello stream","stream":true}
--- error_code: 200
--- response_headers
Content-Type: text/event-stream
--- response_body_like eval
my $R = '\{"id":"resp_[0-9a-f]{32}","object":"response","created_at":\d+,"status":"in_progress","error":null,"incomplete_details":null,"instructions":null,"model":"gemini-2\.5-flash","output":\[\],"parallel_tool_calls":true,"previous_response_id":null,"reasoning":\{"effort":null,"summary":null\},"store":true,"text":\{"format":\{"type":"text"\}\},"tool_choice":"auto","tools":\[\],"truncation":"disabled","usage":null,"metadata":\{\}\}';
my $T = 'echo: Hello stream\\\\n-- mock tail: \\\\"quoted\\\\" \{brace\} \[bracket\] \]\} back\\\\\\\\slash é 中文 🚀 ✓ end\.';
my $W = '"item_id":"msg_[0-9a-f]{32}","output_index":0,"content_index":0';
qr/\Aevent: response\.created\ndata: \{"type":"response\.created","sequence_number":0,"response":$R\}\n\n/
. qr/event: response\.in_progress\ndata: \{"type":"response\.in_progress","sequence_number":1,"response":$R\}\n\n/
. qr/event: response\.output_item\.added\ndata: \{"type":"response\.output_item\.added","sequence_number":2,"output_index":0,"item":\{"id":"msg_[0-9a-f]{32}","type":"message","status":"in_progress","role":"assistant","content":\[\]\}\}\n\n/
. qr/event: response\.content_part\.added\ndata: \{"type":"response\.content_part\.added","sequence_number":3,$W,"part":\{"type":"output_text","text":"","annotations":\[\],"logprobs":\[\]\}\}\n\n/
. qr/(?:event: response\.output_text\.delta\ndata: \{"type":"response\.output_text\.delta","sequence_number":\d+,$W,"delta":"[^\n]+","logprobs":\[\]\}\n\n){3,}/
. qr/event: response\.output_text\.done\ndata: \{"type":"response\.output_text\.done","sequence_number":\d+,$W,"text":"$T","logprobs":\[\]\}\n\n/
. qr/event: response\.content_part\.done\ndata: \{"type":"response\.content_part\.done","sequence_number":\d+,$W,"part":\{"type":"output_text","text":"$T","annotations":\[\],"logprobs":\[\]\}\}\n\n/
. qr/event: response\.output_item\.done\ndata: \{"type":"response\.output_item\.done","sequence_number":\d+,"output_index":0,"item":\{"id":"msg_[0-9a-f]{32}","type":"message","status":"completed","role":"assistant","content":\[\{"type":"output_text","text":"$T","annotations":\[\],"logprobs":\[\]\}\]\}\}\n\n/
. qr/event: response\.completed\ndata: \{"type":"response\.completed","sequence_number":\d+,"response":\{"id":"resp_[0-9a-f]{32}","object":"response","created_at":\d+,"status":"completed",.*"output":\[\{"id":"msg_[0-9a-f]{32}","type":"message","status":"completed".*"usage":\{"input_tokens":[1-9]\d*,"input_tokens_details":\{"cached_tokens":0\},"output_tokens":[1-9]\d*,"output_tokens_details":\{"reasoning_tokens":0\},"total_tokens":[1-9]\d*\},"metadata":\{\}\}\}\n\n\z/
--- no_error_log
[error]


=== TEST 3: streamed: sequence numbers count from 0 without a gap, the deltas add up to the text
--- config
    location /v1/ { gemini_pool_api; }
--- request
POST /v1/responses
{"input":"split MOCK:chunk=1","stream":true}
--- response_body_filters eval
sub {
    my $out = '';
    my $text = '';
    my $n = 0;
    my %ids;
    for my $ev (split /\n\n/, $_[0]) {
        my ($type, $data) = $ev =~ /\Aevent: (\S+)\ndata: (.*)\z/s or return "bad event: $ev";
        my $d = JSON::PP->new->utf8->decode($data);
        return "type $d->{type} under event $type" if $d->{type} ne $type;
        return "sequence $d->{sequence_number} at $n" if $d->{sequence_number} != $n++;
        my ($id) = $data =~ /"(?:resp|msg)_([0-9a-f]{32})"/;
        $ids{$id}++ if $id;
        $text .= $d->{delta} if $type eq 'response.output_text.delta';
        $out .= "$type\n" unless $type eq 'response.output_text.delta' && $out =~ /delta\n\z/;
        $out .= "done: " . ($d->{text} eq $text ? "same" : "differs") . "\n" if $type eq 'response.output_text.done';
        $out .= "final: " . ($d->{response}{output}[0]{content}[0]{text} eq $text ? "same" : "differs") . "\n" if $type eq 'response.completed';
    }
    utf8::encode($text);
    $out .= "ids: " . scalar(keys %ids) . "\n";
    return "$out$text";
}
--- response_body chomp
response.created
response.in_progress
response.output_item.added
response.content_part.added
response.output_text.delta
response.output_text.done
done: same
response.content_part.done
response.output_item.done
response.completed
final: same
ids: 1
echo: split MOCK:chunk=1
-- mock tail: "quoted" {brace} [bracket] ]} back\slash é 中文 🚀 ✓ end.
