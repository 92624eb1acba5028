# Function tools on the Responses API (the neutral tool calls of
# TOOLS-API.md): function_call output items, streamed as
# response.function_call_arguments events after the text; function_call
# and function_call_output items sent back; the errors.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use GeminiPool;

no_long_string();
log_level('info');

our $TOOLS = '"tools":[{"type":"function","name":"get_weather","description":"The weather of a city","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}]';

run_tests();

__DATA__

=== TEST 1: a call: the prose as a message item, then a function_call item
--- config
    location /v1/ { gemini_pool_api; }
--- request eval
"POST /v1/responses
{$main::TOOLS,\"input\":\"How warm is it? get_weather city=Paris\"}"
--- error_code: 200
--- response_body_like eval
qr/"status":"completed",.*"output":\[\{"id":"msg_([0-9a-f]{32})","type":"message","status":"completed","role":"assistant","content":\[\{"type":"output_text","text":"I will call get_weather\.","annotations":\[\],"logprobs":\[\]\}\]\},\{"id":"fc_\g1\d+","type":"function_call","status":"completed","arguments":"\{\\"city\\":\\"Paris\\"\}","call_id":"call_[0-9a-f]{24}0","name":"get_weather"\}\],/


=== TEST 2: streamed: the text, then each call whole, then response.completed
--- config
    location /v1/ { gemini_pool_api; }
--- request eval
"POST /v1/responses
{$main::TOOLS,\"stream\":true,\"input\":\"How warm is it? get_weather city=Paris\"}"
--- response_body_filters eval
sub {
    my $out = '';
    my $n = 0;
    for my $ev (split /\n\n/, $_[0]) {
        my ($type, $data) = $ev =~ /\Aevent: (\S+)\ndata: (.*)\z/s or return "bad event: $ev";
        my $d = JSON::PP->new->utf8->decode($data);
        return "sequence $d->{sequence_number} at $n" if $d->{sequence_number} != $n++;
        next if $type eq 'response.output_text.delta';
        my $x = $type =~ /function_call_arguments\.delta/ ? " $d->{output_index} $d->{delta}"
              : $type =~ /function_call_arguments\.done/ ? " $d->{output_index} $d->{name} $d->{arguments}"
              : $type =~ /output_item/ ? " $d->{output_index} $d->{item}{type} $d->{item}{status}"
              : $type eq 'response.output_text.done' ? ' ' . ($d->{text} =~ s/\n/\\n/gr)
              : $type eq 'response.completed' ? ' ' . CORE::join(',', map { $_->{type} } @{ $d->{response}{output} })
              : '';
        $out .= "$type$x\n";
    }
    return $out;
}
--- response_body
response.created
response.in_progress
response.output_item.added 0 message in_progress
response.content_part.added
response.output_text.done I will call get_weather.\n
response.content_part.done
response.output_item.done 0 message completed
response.output_item.added 1 function_call in_progress
response.function_call_arguments.delta 1 {"city":"Paris"}
response.function_call_arguments.done 1 get_weather {"city":"Paris"}
response.output_item.done 1 function_call completed
response.completed message,function_call


=== TEST 3: calls without prose: no message item, streamed or not
--- config
    location /v1/ { gemini_pool_api; }
--- request eval
["POST /v1/responses
{$main::TOOLS,\"input\":\"get_weather city=Oslo MOCK:tool_format=plain\"}",
"POST /v1/responses
{$main::TOOLS,\"stream\":true,\"input\":\"get_weather city=Oslo MOCK:tool_format=plain\"}"]
--- response_body_like eval
[qr/"output":\[\{"id":"fc_[0-9a-f]{32}0","type":"function_call","status":"completed","arguments":"\{\\"city\\":\\"Oslo\\"\}","call_id":"call_[0-9a-f]{25}","name":"get_weather"\}\]/,
 qr/\Aevent: response\.created\n[^\n]*\n\nevent: response\.in_progress\n[^\n]*\n\nevent: response\.output_item\.added\ndata: \{"type":"response\.output_item\.added","sequence_number":2,"output_index":0,"item":\{"id":"fc_[0-9a-f]{32}0","type":"function_call","status":"in_progress","arguments":"","call_id":"call_[0-9a-f]{25}","name":"get_weather"\}\}\n\nevent: response\.function_call_arguments\.delta\n.*event: response\.completed\n[^\n]*"output":\[\{"id":"fc_/s]
--- response_body_unlike eval
[qr/"type":"message"/, qr/"type":"message"|output_text/]


=== TEST 4: the round trip sent whole: function_call and function_call_output items; what reached the upstream
--- config
    location /v1/ { gemini_pool_api; }
    location /mock/ { proxy_pass http://127.0.0.1:$TEST_NGINX_MOCK_PORT/__mock/; }
--- request eval
["POST /v1/responses
{$main::TOOLS,\"store\":false,\"input\":[{\"role\":\"user\",\"content\":\"How warm? get_weather city=Paris\"},{\"type\":\"message\",\"role\":\"assistant\",\"content\":[{\"type\":\"output_text\",\"text\":\"I will call get_weather.\"}]},{\"type\":\"function_call\",\"call_id\":\"call_abc\",\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"},{\"type\":\"function_call_output\",\"call_id\":\"call_abc\",\"output\":\"18 C\"}]}",
 'GET /mock/requests?endpoint=streamAssist']
--- response_body_like eval
[qr/"output":\[\{"id":"msg_[0-9a-f]{32}","type":"message","status":"completed","role":"assistant","content":\[\{"type":"output_text","text":"Results: 18 C\.",/,
 qr/"query_text":"\[Tools\]\\n.*\[User Message\]\\nUser: How warm\? get_weather city=Paris\\n\\nAssistant: I will call get_weather\.\\n<tool_call>\\n\{\\"id\\":\\"call_abc\\",\\"name\\":\\"get_weather\\",\\"arguments\\":\{\\"city\\":\\"Paris\\"\}\}\\n<\/tool_call>\\n\\n<tool_result id=\\"call_abc\\" name=\\"get_weather\\">\\n18 C\\n<\/tool_result>"/]


=== TEST 5: tool errors name the Responses fields
--- config
    location /v1/ { gemini_pool_api; }
--- request eval
['POST /v1/responses
{"input":"x","tools":[{"type":"web_search"}]}',
'POST /v1/responses
{"input":"x","tools":[{"type":"function","name":"bad name!"}]}',
'POST /v1/responses
{"input":"x","tools":[{"type":"function","name":"f"}],"tool_choice":{"type":"file_search"}}',
'POST /v1/responses
{"input":"x","tools":[{"type":"function","name":"f"}],"tool_choice":{"type":"function","name":"g"}}',
'POST /v1/responses
{"input":[{"role":"user","content":"x"},{"type":"function_call","call_id":"c1","arguments":"{}"}]}',
'POST /v1/responses
{"input":"x","tools":{}}',
'POST /v1/responses
{"input":[{"type":"function_call_output","call_id":"c1","output":"18 C"}]}']
--- error_code eval
[400, 400, 400, 400, 400, 400, 400]
--- response_body_like eval
[qr/^\{"error":\{"message":"Tools of type 'web_search' are not supported by this gateway: only 'function'\.","type":"invalid_request_error","param":"tools\[0\]\.type","code":"unsupported_value"\}\}$/,
 qr/"param":"tools\[0\]\.name"/,
 qr/"param":"tool_choice","code":"unsupported_value"/,
 qr/"param":"tool_choice","code":"invalid_value"/,
 qr/"param":"input\[1\]\.name"/,
 qr/"param":"tools","code":"invalid_type"/,
 qr/"param":"input","code":"invalid_value"/]


=== TEST 6: the tool_calls setting off: tools are refused before any account is used
--- gp_setup
GeminiPool::setting('tool_calls', 'bool', 'false');
--- config
    location /v1/ { gemini_pool_api; }
--- request eval
"POST /v1/responses
{$main::TOOLS,\"input\":\"get_weather city=Paris\"}"
--- error_code: 400
--- response_body_like: "param":"tools","code":"tools_disabled"
