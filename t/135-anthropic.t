# The Anthropic Messages surface: POST /v1/messages answers as a "message"
# object or Anthropic's event sequence (byte by byte), thinking blocks,
# the cut stream's "error" event, errors in Anthropic's shape, the API
# key by x-api-key (and Authorization: Bearer), count_tokens.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use GeminiPool;
use Digest::SHA ();

# a 1x1 PNG: 70 bytes, sha256 497790947d46...
$::PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhf'
         . 'DwAChwGA60e6kgAAAABJRU5ErkJggg==';
$::TAIL = '\n-- mock tail: \"quoted\" {brace} [bracket] ]} back\\\\slash '
          . "\x{e9} \x{4e2d}\x{6587} \x{1f680} \x{2713} end.";
utf8::encode($::TAIL);
$::KEY = Digest::SHA::sha256_hex('sk-ant-test');

# the message id, which is random, as msg_ID
sub ids {
    (my $b = $_[0]) =~ s/"msg_[0-9a-f]{24}"/"msg_ID"/g;
    # the estimate of the answer counts per fragment, and the mock cuts
    # its answer at random
    $b =~ s/"output_tokens":[1-9]\d*/"output_tokens":N/g;
    return $b;
}

# the text of a streamed answer's deltas, joined
sub deltas {
    my ($body, $type) = @_;
    my $t = '';
    for my $l (split /\n/, $body) {
        next unless $l =~ /^data: (\{"type":"content_block_delta".*\})$/;
        my $d = JSON::PP->new->utf8->decode($1)->{delta};
        $t .= $d->{$type} // '' if $d->{type} eq "${type}_delta";
    }
    utf8::encode($t);
    return $t;
}

no_long_string();
no_shuffle();
$::PNG .= ''; $::TAIL .= ''; $::KEY .= '';
log_level('info');
run_tests();

__DATA__

=== TEST 1: a message: the text block, stop_reason, usage (system as a string)
--- config
    location /v1/ { gemini_pool_api; }
--- request
POST /v1/messages
{"model":"gemini-2.5-flash","max_tokens":64,"system":"be brief","messages":[{"role":"user","content":"Hello"}]}
--- more_headers
anthropic-version: 2023-06-01
--- error_code: 200
--- response_headers
Content-Type: application/json
--- response_body_filters eval
\&main::ids
--- response_body eval
'{"id":"msg_ID","type":"message","role":"assistant","model":"gemini-2.5-flash","content":[{"type":"text","text":"echo: [System Instruction]\nbe brief\n\n[User Message]\nHello' . $::TAIL . '"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":13,"output_tokens":N}}'
--- no_error_log
[error]
[alert]


=== TEST 2: system and content as blocks; earlier turns replayed
--- config
    location /v1/ { gemini_pool_api; }
--- request
POST /v1/messages
{"model":"gemini-2.5-flash","max_tokens":64,"system":[{"type":"text","text":"rule one"},{"type":"text","text":"rule two"}],"messages":[{"role":"user","content":"first"},{"role":"assistant","content":[{"type":"thinking","thinking":"hm","signature":"x"},{"type":"text","text":"answer one"}]},{"role":"user","content":[{"type":"text","text":"second"},{"type":"text","text":"part"}]}]}
--- error_code: 200
--- response_body_like eval
qr/"text":"echo: \[System Instruction\]\\nrule one\\nrule two\\n\\n\[User Message\]\\nUser: first\\n\\nAssistant: answer one\\n\\nUser: second\\npart\\n-- mock tail/


=== TEST 3: a streamed message: Anthropic's event sequence, byte by byte
--- config
    location /v1/ { gemini_pool_api; }
--- request
POST /v1/messages
{"model":"gemini-2.5-flash","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"Hello stream"}]}
--- error_code: 200
--- response_headers
Content-Type: text/event-stream
Cache-Control: no-cache
--- response_body_like eval
qr/\Aevent: message_start\ndata: \{"type":"message_start","message":\{"id":"(msg_[0-9a-f]{24})","type":"message","role":"assistant","model":"gemini-2\.5-flash","content":\[\],"stop_reason":null,"stop_sequence":null,"usage":\{"input_tokens":3,"output_tokens":0\}\}\}\n\nevent: content_block_start\ndata: \{"type":"content_block_start","index":0,"content_block":\{"type":"text","text":""\}\}\n\nevent: ping\ndata: \{"type":"ping"\}\n\n(event: content_block_delta\ndata: \{"type":"content_block_delta","index":0,"delta":\{"type":"text_delta","text":"[^\n]+"\}\}\n\n)+event: content_block_stop\ndata: \{"type":"content_block_stop","index":0\}\n\nevent: message_delta\ndata: \{"type":"message_delta","delta":\{"stop_reason":"end_turn","stop_sequence":null\},"usage":\{"input_tokens":3,"output_tokens":[1-9]\d*\}\}\n\nevent: message_stop\ndata: \{"type":"message_stop"\}\n\n\z/
--- no_error_log
[error]
[alert]


=== TEST 4: the text deltas add up to the exact answer
--- config
    location /v1/ { gemini_pool_api; }
--- request
POST /v1/messages
{"model":"gemini-2.5-flash","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"split MOCK:chunk=1"}]}
--- error_code: 200
--- response_body_filters eval
sub { main::deltas($_[0], 'text') }
--- response_body eval
"echo: split MOCK:chunk=1\n-- mock tail: \"quoted\" {brace} [bracket] ]} back\\slash \xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x9a\x80 \xe2\x9c\x93 end."


=== TEST 5: thoughts as a thinking block before the text (show_thoughts on)
--- gp_setup
GeminiPool::setting('show_thoughts', 'bool', 'true');
--- config
    location /v1/ { gemini_pool_api; }
--- request
POST /v1/messages
{"model":"gemini-2.5-flash","max_tokens":64,"messages":[{"role":"user","content":"why"}]}
--- error_code: 200
--- response_body_filters eval
\&main::ids
--- response_body eval
'{"id":"msg_ID","type":"message","role":"assistant","model":"gemini-2.5-flash","content":[{"type":"thinking","thinking":"Thinking about it...","signature":""},{"type":"text","text":"echo: why' . $::TAIL . '"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":N}}'


=== TEST 6: streamed thoughts: a thinking block with thinking_delta, then the text block
--- gp_setup
GeminiPool::setting('show_thoughts', 'bool', 'true');
--- config
    location /v1/ { gemini_pool_api; }
--- request
POST /v1/messages
{"model":"gemini-2.5-flash","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"why"}]}
--- error_code: 200
--- response_body_like eval
qr/\Aevent: message_start\ndata: \{[^\n]+\}\n\nevent: content_block_start\ndata: \{"type":"content_block_start","index":0,"content_block":\{"type":"thinking","thinking":"","signature":""\}\}\n\nevent: ping\ndata: \{"type":"ping"\}\n\nevent: content_block_delta\ndata: \{"type":"content_block_delta","index":0,"delta":\{"type":"thinking_delta","thinking":"Thinking about it\.\.\."\}\}\n\nevent: content_block_stop\ndata: \{"type":"content_block_stop","index":0\}\n\nevent: content_block_start\ndata: \{"type":"content_block_start","index":1,"content_block":\{"type":"text","text":""\}\}\n\n(event: content_block_delta\ndata: \{"type":"content_block_delta","index":1,"delta":\{"type":"text_delta","text":"[^\n]+"\}\}\n\n)+event: content_block_stop\ndata: \{"type":"content_block_stop","index":1\}\n\nevent: message_delta\ndata: \{[^\n]+\}\n\nevent: message_stop\ndata: \{"type":"message_stop"\}\n\n\z/


=== TEST 7: a stream cut by an upstream error ends with an "error" event, never message_stop
--- config
    location /v1/ { gemini_pool_api; }
--- request
POST /v1/messages
{"model":"gemini-2.5-flash","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"cut MOCK:stream_error"}]}
--- error_code: 200
--- response_body_like eval
qr/\Aevent: message_start\n.*"text_delta".*\n\nevent: error\ndata: \{"type":"error","error":\{"type":"rate_limit_error","message":"upstream error in stream: 429 [^"]*"\}\}\n\n\z/s
--- response_body_unlike: message_stop|message_delta|content_block_stop


=== TEST 8: an image block (base64 source) goes into the turn
--- config
    location /v1/ { gemini_pool_api; }
--- request eval
"POST /v1/messages
{\"model\":\"gemini-2.5-flash\",\"max_tokens\":64,\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image\",\"source\":{\"type\":\"base64\",\"media_type\":\"image/png\",\"data\":\"$::PNG\"}},{\"type\":\"text\",\"text\":\"what is it\"}]}]}"
--- error_code: 200
--- response_body_like: "text":"echo: what is it \[attached: image/png 70 bytes sha256:497790947d46\]\\n-- mock tail


=== TEST 9: errors in Anthropic's shape
--- config
    location /v1/ { gemini_pool_api; }
--- request eval
["POST /v1/messages\n{\"model\":\"gemini-2.5-flash\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
 "POST /v1/messages\n{\"model\":\"gemini-2.5-flash\",\"max_tokens\":0,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
 "POST /v1/messages\n{\"model\":",
 "POST /v1/messages\n{\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
 "POST /v1/messages\n{\"model\":\"claude-nope\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
 "POST /v1/messages\n{\"model\":\"gemini-2.5-flash\",\"max_tokens\":5,\"messages\":[{\"role\":\"system\",\"content\":\"hi\"}]}",
 "POST /v1/messages\n{\"model\":\"gemini-2.5-flash\",\"max_tokens\":5,\"messages\":[{\"role\":\"assistant\",\"content\":\"hi\"}]}",
 "POST /v1/messages\n{\"model\":\"gemini-2.5-flash\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"document\",\"source\":{}}]}]}",
 "POST /v1/messages\n{\"model\":\"gemini-2.5-flash\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image\",\"source\":{\"type\":\"base64\",\"media_type\":\"image/png\",\"data\":\"**\"}}]}]}",
 "POST /v1/messages\n{\"model\":\"gemini-2.5-flash\",\"max_tokens\":5,\"messages\":[]}",
 "GET /v1/messages",
 "POST /v1/messages\n{\"model\":\"gemini-2.5-flash\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"MOCK:500\"}]}"]
--- error_code eval
[400, 400, 400, 400, 404, 400, 400, 400, 400, 400, 405, 502]
--- response_body_like eval
[qr/^\{"type":"error","error":\{"type":"invalid_request_error","message":"max_tokens: Field required"\}\}$/,
 qr/^\{"type":"error","error":\{"type":"invalid_request_error","message":"max_tokens: must be an integer of at least 1"\}\}$/,
 qr/^\{"type":"error","error":\{"type":"invalid_request_error","message":"The request body is not valid JSON: [^"]+"\}\}$/,
 qr/^\{"type":"error","error":\{"type":"invalid_request_error","message":"model: Field required"\}\}$/,
 qr/^\{"type":"error","error":\{"type":"not_found_error","message":"The model `claude-nope` does not exist[^"]*"\}\}$/,
 qr/"invalid_request_error","message":"messages\.0\.role: must be \\"user\\" or \\"assistant\\""/,
 qr/"invalid_request_error","message":"messages: at least one \\"user\\" message is required"/,
 qr/"message":"messages\.0\.content\.0: content blocks of type \\"document\\" are not supported here"/,
 qr/"message":"messages\.0\.content\.0\.source\.data: not valid base64"/,
 qr/"message":"messages: a non-empty array is required"/,
 qr/^\{"type":"error","error":\{"type":"invalid_request_error","message":"use POST for \/v1\/messages"\}\}$/,
 qr/^\{"type":"error","error":\{"type":"api_error","message":"[^"]+"\}\}$/]


=== TEST 10: the API key by x-api-key or Authorization: Bearer; refusals as authentication_error
--- config
    location /v1/ { gemini_pool_api_keys on; gemini_pool_api; }
--- gp_setup
sql("DELETE FROM api_keys; INSERT INTO api_keys (name, key_hash) VALUES ('ant', '$::KEY')");
--- request eval
["POST /v1/messages\n{\"model\":\"gemini-2.5-flash\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"by x-api-key\"}]}",
 "POST /v1/messages\n{\"model\":\"gemini-2.5-flash\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"by bearer\"}]}",
 "POST /v1/messages\n{\"model\":\"gemini-2.5-flash\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"wrong\"}]}",
 "POST /v1/messages\n{\"model\":\"gemini-2.5-flash\",\"max_tokens\":5,\"messages\":[{\"role\":\"user\",\"content\":\"none\"}]}"]
--- more_headers eval
["x-api-key: sk-ant-test\nanthropic-version: 2023-06-01",
 "Authorization: Bearer sk-ant-test",
 "x-api-key: sk-ant-wrong",
 "anthropic-version: 2023-06-01"]
--- error_code eval
[200, 200, 401, 401]
--- response_body_like eval
[qr/"text":"echo: by x-api-key/,
 qr/"text":"echo: by bearer/,
 qr/^\{"type":"error","error":\{"type":"authentication_error","message":"Incorrect API key provided"\}\}$/,
 qr/^\{"type":"error","error":\{"type":"authentication_error","message":"You didn't provide an API key: send .*"\}\}$/]


=== TEST 11: count_tokens: the estimate the turn's usage counts, no max_tokens needed
--- config
    location /v1/ { gemini_pool_api; }
--- request eval
["POST /v1/messages/count_tokens\n{\"model\":\"gemini-2.5-flash\",\"system\":\"be brief\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}",
 "POST /v1/messages/count_tokens\n{\"model\":\"gemini-2.5-flash\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello stream\"}]}",
 "POST /v1/messages/count_tokens\n{\"model\":\"nope\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}",
 "POST /v1/messages/count_tokens\n{\"model\":\"gemini-2.5-flash\",\"messages\":7}",
 "GET /v1/messages/count_tokens"]
--- error_code eval
[200, 200, 404, 400, 405]
--- response_body_like eval
[qr/^\{"input_tokens":13\}$/, qr/^\{"input_tokens":3\}$/,
 qr/^\{"type":"error","error":\{"type":"not_found_error","message":"[^"]*nope[^"]*"\}\}$/,
 qr/^\{"type":"error","error":\{"type":"invalid_request_error","message":"messages: a non-empty array is required"\}\}$/,
 qr/"type":"invalid_request_error","message":"use POST for \/v1\/messages\/count_tokens"/]


=== TEST 12: count_tokens checks the API key
--- config
    location /v1/ { gemini_pool_api_keys on; gemini_pool_api; }
--- gp_setup
sql("DELETE FROM api_keys; INSERT INTO api_keys (name, key_hash) VALUES ('ant', '$::KEY')");
--- request eval
["POST /v1/messages/count_tokens\n{\"model\":\"gemini-2.5-flash\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}",
 "POST /v1/messages/count_tokens\n{\"model\":\"gemini-2.5-flash\",\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}"]
--- more_headers eval
["", "x-api-key: sk-ant-test"]
--- error_code eval
[401, 200]
--- response_body_like eval
[qr/"type":"authentication_error"/, qr/^\{"input_tokens":2\}$/]


=== TEST 13: tools: a tool_use block after the prose, stop_reason tool_use
--- config
    location /v1/ { gemini_pool_api; }
--- request
POST /v1/messages
{"model":"gemini-2.5-flash","max_tokens":64,"tools":[{"name":"get_weather","description":"The weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}}}},{"name":"search","input_schema":{"type":"object","properties":{"q":{"type":"string"}}}}],"messages":[{"role":"user","content":"search q=news then get_weather city=Lima"}]}
--- error_code: 200
--- response_body_like eval
qr/^\{"id":"msg_[0-9a-f]{24}","type":"message","role":"assistant","model":"gemini-2\.5-flash","content":\[\{"type":"text","text":"I will call search, get_weather\."\},\{"type":"tool_use","id":"call_([0-9a-f]{24})0","name":"search","input":\{"q":"news"\}\},\{"type":"tool_use","id":"call_\g{1}1","name":"get_weather","input":\{"city":"Lima"\}\}\],"stop_reason":"tool_use","stop_sequence":null,"usage":\{"input_tokens":\d+,"output_tokens":\d+\}\}$/


=== TEST 14: tools streamed: tool_use blocks with input_json_delta, byte by byte
--- config
    location /v1/ { gemini_pool_api; }
--- request
POST /v1/messages
{"model":"gemini-2.5-flash","max_tokens":64,"stream":true,"tools":[{"name":"get_weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}}}}],"messages":[{"role":"user","content":"get_weather city=Rome"}]}
--- error_code: 200
--- response_body_like eval
qr/\Aevent: message_start\ndata: \{[^\n]+\}\n\nevent: content_block_start\ndata: \{"type":"content_block_start","index":0,"content_block":\{"type":"text","text":""\}\}\n\nevent: ping\ndata: \{"type":"ping"\}\n\n(event: content_block_delta\ndata: \{"type":"content_block_delta","index":0,"delta":\{"type":"text_delta","text":"[^"<]+"\}\}\n\n)+event: content_block_stop\ndata: \{"type":"content_block_stop","index":0\}\n\nevent: content_block_start\ndata: \{"type":"content_block_start","index":1,"content_block":\{"type":"tool_use","id":"call_[0-9a-f]{24}0","name":"get_weather","input":\{\}\}\}\n\nevent: content_block_delta\ndata: \{"type":"content_block_delta","index":1,"delta":\{"type":"input_json_delta","partial_json":"\{\\"city\\":\\"Rome\\"\}"\}\}\n\nevent: content_block_stop\ndata: \{"type":"content_block_stop","index":1\}\n\nevent: message_delta\ndata: \{"type":"message_delta","delta":\{"stop_reason":"tool_use","stop_sequence":null\},"usage":\{"input_tokens":\d+,"output_tokens":\d+\}\}\n\nevent: message_stop\ndata: \{"type":"message_stop"\}\n\n\z/


=== TEST 15: a tool round trip: tool_use in the assistant turn, tool_result blocks back to the upstream
--- config
    location /v1/ { gemini_pool_api; }
    location /mock/ { proxy_pass http://127.0.0.1:$TEST_NGINX_MOCK_PORT/__mock/; }
--- request eval
['POST /v1/messages
{"model":"gemini-2.5-flash","max_tokens":64,"tools":[{"name":"get_weather","input_schema":{"type":"object"}}],"messages":[{"role":"user","content":"get_weather city=Rome"},{"role":"assistant","content":[{"type":"text","text":"I will call."},{"type":"tool_use","id":"toolu_01","name":"get_weather","input":{"city":"Rome"}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_01","content":[{"type":"text","text":"21 C"}]},{"type":"tool_result","tool_use_id":"toolu_02","is_error":true,"content":"no such place"}]}]}',
 "GET /mock/requests?endpoint=streamAssist"]
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/"content":\[\{"type":"text","text":"Results: 21 C; Error:\\nno such place\."\}\],"stop_reason":"end_turn"/,
 qr/<tool_call>\\n\{\\"id\\":\\"(?:toolu_01|c1)\\",\\"name\\":\\"get_weather\\",\\"arguments\\":\{\\"city\\":\\"Rome\\"\}\}\\n<\/tool_call>.*<tool_result id=\\"toolu_01\\" name=\\"get_weather\\">\\n21 C\\n<\/tool_result>/s]


=== TEST 16: bad tools in Anthropic's shape
--- config
    location /v1/ { gemini_pool_api; }
--- request eval
['POST /v1/messages
{"model":"gemini-2.5-flash","max_tokens":5,"tools":[{"type":"bash_20250124","name":"bash"}],"messages":[{"role":"user","content":"hi"}]}',
'POST /v1/messages
{"model":"gemini-2.5-flash","max_tokens":5,"tools":[{"name":"bad name!"}],"messages":[{"role":"user","content":"hi"}]}',
'POST /v1/messages
{"model":"gemini-2.5-flash","max_tokens":5,"tools":[{"name":"f"}],"tool_choice":{"type":"tool","name":"g"},"messages":[{"role":"user","content":"hi"}]}',
'POST /v1/messages
{"model":"gemini-2.5-flash","max_tokens":5,"messages":[{"role":"user","content":[{"type":"tool_result","content":"x"}]}]}']
--- error_code eval
[400, 400, 400, 400]
--- response_body_like eval
[qr/^\{"type":"error","error":\{"type":"invalid_request_error","message":"tools\.0: tools of type \\"bash_20250124\\" are not supported here \(client tools only\)"\}\}$/,
 qr/^\{"type":"error","error":\{"type":"invalid_request_error","message":"Invalid 'tools\.0\.name': 'bad name!' is not a valid function name[^"]*"\}\}$/,
 qr/"type":"invalid_request_error","message":"Invalid value for 'tool_choice': no function named 'g' in 'tools'\."/,
 qr/"message":"messages\.0\.content\.0\.tool_use_id: Field required"/]


=== TEST 17: hostile bodies: wrong types everywhere are 400s in Anthropic's shape
--- config
    location /v1/ { gemini_pool_api; }
--- request eval
[map { "POST /v1/messages\n$_" }
 '[]', '"x"', 'null',
 '{"model":7,"max_tokens":5,"messages":[{"role":"user","content":"hi"}]}',
 '{"model":"gemini-2.5-flash","max_tokens":"5","messages":[{"role":"user","content":"hi"}]}',
 '{"model":"gemini-2.5-flash","max_tokens":5,"stream":"yes","messages":[{"role":"user","content":"hi"}]}',
 '{"model":"gemini-2.5-flash","max_tokens":5,"system":7,"messages":[{"role":"user","content":"hi"}]}',
 '{"model":"gemini-2.5-flash","max_tokens":5,"system":[{"type":"text"}],"messages":[{"role":"user","content":"hi"}]}',
 '{"model":"gemini-2.5-flash","max_tokens":5,"messages":{"role":"user"}}',
 '{"model":"gemini-2.5-flash","max_tokens":5,"messages":[7]}',
 '{"model":"gemini-2.5-flash","max_tokens":5,"messages":[{"role":"user","content":{"type":"text"}}]}',
 '{"model":"gemini-2.5-flash","max_tokens":5,"messages":[{"role":"user","content":[7]}]}',
 '{"model":"gemini-2.5-flash","max_tokens":5,"messages":[{"role":"user","content":[{"type":"image"}]}]}',
 '{"model":"gemini-2.5-flash","max_tokens":5,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"text/html","data":"AAAA"}}]}]}',
 '{"model":"gemini-2.5-flash","max_tokens":5,"tools":"x","messages":[{"role":"user","content":"hi"}]}',
 '{"model":"gemini-2.5-flash","max_tokens":5,"tools":[7],"messages":[{"role":"user","content":"hi"}]}',
 '{"model":"gemini-2.5-flash","max_tokens":5,"tool_choice":"auto","messages":[{"role":"user","content":"hi"}]}',
 '{"model":"gemini-2.5-flash","max_tokens":5,"messages":[{"role":"assistant","content":[{"type":"tool_use","name":7}]},{"role":"user","content":"hi"}]}',
 '{"model":"gemini-2.5-flash","max_tokens":5,"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"x","content":{"a":1}}]}]}']
--- error_code eval
[(400) x 19]
--- response_body_like eval
[(qr/^\{"type":"error","error":\{"type":"invalid_request_error","message":"[^"\\]*(?:\\.[^"\\]*)*"\}\}$/) x 19]
--- no_error_log
[alert]
[crit]


=== TEST 18: a body over client_max_body_size: 413 in Anthropic's shape, naming the limit (chat completions stay OpenAI's)
--- config
    location /v1/ { client_max_body_size 100; gemini_pool_api; }
--- request eval
[map({ "POST /v1/$_\n" . '{"model":"gemini-2.5-flash","max_tokens":5,"messages":[{"role":"user","content":"' . ("x" x 200) . '"}]}' }
     'messages', 'messages/count_tokens', 'chat/completions')]
--- error_code eval
[413, 413, 413]
--- response_headers eval
[("Content-Type: application/json") x 3]
--- response_body eval
[('{"type":"error","error":{"type":"request_too_large","message":"Request body too large: the limit is 100 bytes; raise client_max_body_size in the nginx location of gemini_pool_api"}}') x 2,
 '{"error":{"message":"Request body too large: the limit is 100 bytes; raise client_max_body_size in the nginx location of gemini_pool_api","type":"invalid_request_error","param":null,"code":"request_too_large"}}']
--- no_error_log
[alert]
[crit]
