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


=== TEST 4: reasoning summaries when show_thoughts is on: a reasoning item before the message
--- gp_setup
GeminiPool::setting('show_thoughts', 'bool', 'true');
--- config
    location /v1/ { gemini_pool_api; }
--- request
POST /v1/responses
{"input":"why"}
--- response_body_like eval
qr/"output":\[\{"id":"rs_([0-9a-f]{32})","type":"reasoning","summary":\[\{"type":"summary_text","text":"Thinking about it\.\.\."\}\]\},\{"id":"msg_\1","type":"message","status":"completed","role":"assistant","content":\[\{"type":"output_text","text":"echo: why\\n/


=== TEST 5: streamed reasoning: its item opens, streams and closes before the message's
--- gp_setup
GeminiPool::setting('show_thoughts', 'bool', 'true');
--- config
    location /v1/ { gemini_pool_api; }
--- request
POST /v1/responses
{"input":"why","stream":true}
--- response_body_filters eval
sub {
    my $out = '';
    for my $ev (split /\n\n/, $_[0]) {
        my ($type, $data) = $ev =~ /\Aevent: (\S+)\ndata: (.*)\z/s or return "bad event: $ev";
        next if $type eq 'response.output_text.delta';
        my $d = JSON::PP->new->utf8->decode($data);
        my $x = $type =~ /summary_text\.(?:delta|done)/ ? ' ' . ($d->{delta} // $d->{text})
                : $type =~ /output_item/ ? " $d->{output_index} $d->{item}{type}"
                : $type eq 'response.completed' ? ' ' . CORE::join(',', map { $_->{type} } @{ $d->{response}{output} })
                : '';
        $out .= "$type$x\n";
    }
    return $out;
}
--- response_body
response.created
response.in_progress
response.output_item.added 0 reasoning
response.reasoning_summary_part.added
response.reasoning_summary_text.delta Thinking about it...
response.reasoning_summary_text.done Thinking about it...
response.reasoning_summary_part.done
response.output_item.done 0 reasoning
response.output_item.added 1 message
response.content_part.added
response.output_text.done
response.content_part.done
response.output_item.done 1 message
response.completed reasoning,message


=== TEST 6: thoughts stay out by default
--- config
    location /v1/ { gemini_pool_api; }
--- request
POST /v1/responses
{"input":"why","stream":true}
--- response_body_unlike: reasoning_summary|"type":"reasoning"|Thinking


=== TEST 7: items: instructions, a conversation, an image part; what reached the upstream
--- config
    location /v1/ { gemini_pool_api; }
    location /mock/ { proxy_pass http://127.0.0.1:$TEST_NGINX_MOCK_PORT/__mock/; }
--- request eval
['POST /v1/responses
{"instructions":"Be brief.","metadata":{"k":"v"},"store":false,"input":[{"role":"user","content":"first"},{"type":"message","role":"assistant","content":[{"type":"output_text","text":"one"}]},{"type":"reasoning","id":"rs_x","summary":[]},{"role":"user","content":[{"type":"input_text","text":"look"},{"type":"input_image","image_url":"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC"}]}]}',
 'GET /mock/requests?endpoint=streamAssist']
--- response_body_like eval
[qr/"status":"completed",.*"instructions":"Be brief\.",.*"text":"echo: \[System Instruction\]\\nBe brief\.\\n\\n\[User Message\]\\nUser: first\\n\\nAssistant: one\\n\\nUser: look \[image\] \[attached: image\/png 69 bytes sha256:[0-9a-f]{12}\].*"store":false,.*"metadata":\{"k":"v"\}\}\z/s,
 qr/"query_text":\s*"\[System Instruction\]\\nBe brief\.\\n\\n\[User Message\]\\nUser: first\\n\\nAssistant: one\\n\\nUser: look \[image\]"/]


=== TEST 8: an answer the upstream declines: status incomplete, content_filter
--- config
    location /v1/ { gemini_pool_api; }
--- request eval
['POST /v1/responses
{"input":"no MOCK:skipped"}',
'POST /v1/responses
{"input":"no MOCK:skipped","stream":true}']
--- response_body_like eval
[qr/"status":"incomplete","error":null,"incomplete_details":\{"reason":"content_filter"\},.*"status":"incomplete","role":"assistant","content":\[\{"type":"output_text","text":"The upstream declined/,
 qr/event: response\.output_item\.done\ndata: [^\n]*"status":"incomplete"[^\n]*\n\nevent: response\.incomplete\ndata: \{"type":"response\.incomplete","sequence_number":\d+,"response":\{[^\n]*"status":"incomplete","error":null,"incomplete_details":\{"reason":"content_filter"\}[^\n]*\}\n\n\z/]


=== TEST 9: an answer cut after it started ends with response.failed, never response.completed
--- config
    location /v1/ { gemini_pool_api; }
--- request eval
['POST /v1/responses
{"input":"cut MOCK:stream_error","stream":true}',
'POST /v1/responses
{"input":"cut MOCK:truncate","stream":true}']
--- response_body_like eval
[qr/\Aevent: response\.created\n.*event: response\.output_text\.delta\n.*event: response\.failed\ndata: \{"type":"response\.failed","sequence_number":\d+,"response":\{"id":"resp_[0-9a-f]{32}","object":"response","created_at":\d+,"status":"failed","error":\{"code":"[a-z_]+","message":"[^"]*429[^"]*"\},.*"output":\[\{"id":"msg_[0-9a-f]{32}","type":"message","status":"incomplete","role":"assistant","content":\[\{"type":"output_text","text":"echo: cut[^"]*"/s,
 qr/event: response\.failed\ndata: \{"type":"response\.failed",[^\n]*"status":"failed","error":\{"code":"upstream_[a-z_]+"[^\n]*\}\n\n\z/]
--- response_body_unlike eval
[qr/response\.completed|output_text\.done/, qr/response\.completed|output_text\.done/]
--- no_error_log
[alert]
[crit]


=== TEST 10: errors are OpenAI error objects naming the Responses field
--- config
    location /v1/ { gemini_pool_api; }
--- request eval
['POST /v1/responses
{"input":',
'POST /v1/responses
{"model":"gemini-2.5-flash"}',
'POST /v1/responses
{"input":[{"role":"robot","content":"x"}]}',
'POST /v1/responses
{"input":[{"role":"user","content":"x"},{"role":"user","content":[{"type":"input_text","text":"y"},{"type":"input_image","image_url":"data:image/png;base64,@@@"}]}]}',
'POST /v1/responses
{"instructions":"sys","input":[{"role":"user","content":[{"type":"input_audio","input_audio":{}}]}]}',
'POST /v1/responses
{"input":[{"type":"web_search_call","id":"ws_1"}]}',
'POST /v1/responses
{"input":[{"role":"system","content":"only a system message"}]}',
'POST /v1/responses
{"input":"x","background":true}',
'POST /v1/responses
{"input":"x","store":"yes"}',
'POST /v1/responses
{"input":"x","model":"no-such-model"}',
'GET /v1/responses',
'GET /v1/responses/resp_0123']
--- error_code eval
[400, 400, 400, 400, 400, 400, 400, 400, 400, 404, 405, 404]
--- response_body_like eval
[qr/^\{"error":\{"message":"We could not parse the JSON body[^"]*","type":"invalid_request_error","param":null,"code":"invalid_json"\}\}$/,
 qr/^\{"error":\{"message":"Missing required parameter: 'input'\.","type":"invalid_request_error","param":"input","code":"missing_required_parameter"\}\}$/,
 qr/^\{"error":\{"message":"Invalid value: 'robot'[^"]*","type":"invalid_request_error","param":"input\[0\]\.role","code":"invalid_value"\}\}$/,
 qr/^\{"error":\{"message":"[^"]*input\[1\]\.content\[1\]\.image_url[^"]*","type":"invalid_request_error","param":"input\[1\]\.content\[1\]\.image_url","code":"[a-z_]+"\}\}$/,
 qr/^\{"error":\{"message":"Content parts of type 'input_audio' are not supported by this gateway\.","type":"invalid_request_error","param":"input\[0\]\.content\[0\]\.type","code":"unsupported_value"\}\}$/,
 qr/^\{"error":\{"message":"Input items of type 'web_search_call' are not supported by this gateway\.","type":"invalid_request_error","param":"input\[0\]\.type","code":"unsupported_value"\}\}$/,
 qr/^\{"error":\{"message":"Invalid 'input': [^"]*user[^"]*","type":"invalid_request_error","param":"input","code":"invalid_value"\}\}$/,
 qr/"param":"background","code":"unsupported_parameter"/,
 qr/^\{"error":\{"message":"Invalid type for 'store': expected a boolean, but got a string instead\.","type":"invalid_request_error","param":"store","code":"invalid_type"\}\}$/,
 qr/"param":"model","code":"model_not_found"/,
 qr/^\{"error":\{"message":"use POST for \/v1\/responses","type":"invalid_request_error","param":null,"code":"method_not_allowed"\}\}$/,
 qr/^\{"error":\{"message":"Response with id 'resp_0123' not found: this gateway does not store responses[^"]*","type":"invalid_request_error","param":null,"code":"not_found"\}\}$/]


=== TEST 11: a streamed answer is kept whole for its end: past gemini_pool_max_answer_size it fails as a cut answer
--- config
    location /v1/ { gemini_pool_max_answer_size 64; gemini_pool_api; }
--- request
POST /v1/responses
{"input":"long MOCK:long=4000","stream":true}
--- response_body_like eval
qr/event: response\.output_text\.delta\n.*event: response\.failed\ndata: \{"type":"response\.failed",[^\n]*"status":"failed","error":\{"code":"[a-z_]+","message":"the answer exceeds gemini_pool_max_answer_size \(64 bytes\); raise it"\}[^\n]*\n\n\z/s
--- response_body_unlike: response\.completed
--- no_error_log
[alert]


=== TEST 12: a long silence before the first piece: created and in_progress go early, then keep-alives
--- config
    location /v1/ {
        gemini_pool_sse_keepalive 300ms;
        gemini_pool_api;
    }
--- request
POST /v1/responses
{"input":"think long MOCK:silence=1000","stream":true}
--- response_body_like eval
qr/\Aevent: response\.created\ndata: [^\n]*\n\nevent: response\.in_progress\ndata: [^\n]*\n\n(: keep-alive\n\n){2,}event: response\.output_item\.added\n.*event: response\.completed\n/s
--- timeout: 5


=== TEST 13: an image model: the media as links in the text, Markdown even when the key asks for parts
--- gp_setup
GeminiPool::setting('image_format', 'string', 'b64_json');
--- config
    location /v1/ { gemini_pool_api; }
    location /image/ { gemini_pool_media; }
--- request eval
['POST /v1/responses
{"model":"gemini-image","input":"draw a cat"}',
'POST /v1/responses
{"model":"gemini-image","input":"draw a cat","stream":true}']
--- response_body_like eval
[qr/"output":\[\{"id":"msg_[0-9a-f]{32}","type":"message","status":"completed","role":"assistant","content":\[\{"type":"output_text","text":"Here you go\.\\n\\n!\[image\]\(http:\/\/localhost\/image\/[0-9a-f]{32}\.png\)"/,
 qr/event: response\.output_text\.delta\ndata: [^\n]*"delta":"\\n!\[image\]\(http:\/\/localhost\/image\/[0-9a-f]{32}\.png\)".*event: response\.output_text\.done\ndata: [^\n]*"text":"Here you go\.\\n\\n!\[image\]\(http:\/\/localhost\/image\/[0-9a-f]{32}\.png\)"/s]
