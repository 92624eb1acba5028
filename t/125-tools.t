# Tool calls on Chat Completions (docs/tools.md): the convention put into
# the turn, the calls parsed out of the mock's answers (streamed and not,
# parallel, hostile shapes), tool_choice, a tool round trip, the setting,
# and the errors of bad tool definitions.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use GeminiPool;

no_long_string();
log_level('info');

our $TOOLS = '"tools":[{"type":"function","function":{"name":"get_weather",'
    . '"description":"The weather of a city","parameters":{"type":"object",'
    . '"properties":{"city":{"type":"string"},"days":{"type":"integer"}},'
    . '"required":["city"]}}},{"type":"function","function":{"name":"search",'
    . '"parameters":{"type":"object","properties":{"q":{"type":"string"}}}}}]';

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('config', <<'CONF') unless defined $block->config;
    location /v1/ { gemini_pool_api; }
    location /mock/ { proxy_pass http://127.0.0.1:$TEST_NGINX_MOCK_PORT/__mock/; }
CONF
});

run_tests();

__DATA__

=== TEST 1: a call, not streamed: message.tool_calls and finish_reason tool_calls
--- request eval
"POST /v1/chat/completions
{\"model\":\"gemini-2.5-flash\",$::TOOLS,\"messages\":[{\"role\":\"user\",\"content\":\"What is the weather? get_weather city=Paris days=3\"}]}"
--- error_code: 200
--- response_body_like eval
qr/^\{"id":"chatcmpl-[0-9a-f]{24}","object":"chat\.completion","created":\d+,"model":"gemini-2\.5-flash","choices":\[\{"index":0,"message":\{"role":"assistant","content":"I will call get_weather\.","tool_calls":\[\{"id":"call_[0-9a-f]{24}0","type":"function","function":\{"name":"get_weather","arguments":"\{\\"city\\":\\"Paris\\",\\"days\\":3\}"\}\}\]\},"finish_reason":"tool_calls"\}\],"usage":\{"prompt_tokens":\d+,"completion_tokens":\d+,"total_tokens":\d+\}\}$/
--- no_error_log
[error]


=== TEST 2: the turn carries the tools and the convention
--- request eval
["POST /v1/chat/completions
{$::TOOLS,\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},{\"role\":\"user\",\"content\":\"weather? get_weather city=Oslo\"}]}",
"GET /mock/requests?endpoint=streamAssist"]
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/"finish_reason":"tool_calls"/,
qr/"query_text":\s*"\[System Instruction\]\\nBe brief\.\\n\\n\[Tools\]\\nYou can call functions.*\\n\{\\"name\\":\\"get_weather\\",\\"description\\":\\"The weather of a city\\",\\"parameters\\":\{.*\\n\{\\"name\\":\\"search\\",\\"parameters\\":.*<tool_call>\\n\{\\"name\\": \\"function_name\\".*only when it helps.*\\n\\n\[User Message\]\\nweather\? get_weather city=Oslo"/s]


=== TEST 3: a call, streamed: the text, then delta.tool_calls as OpenAI streams them
--- request eval
"POST /v1/chat/completions
{\"stream\":true,\"stream_options\":{\"include_usage\":true},$::TOOLS,\"messages\":[{\"role\":\"user\",\"content\":\"get_weather city=Rome\"}]}"
--- error_code: 200
--- response_headers
Content-Type: text/event-stream
--- response_body_like eval
qr/^data: \{"id":"(chatcmpl-[0-9a-f]{24})","object":"chat\.completion\.chunk","created":\d+,"model":"gemini-auto","choices":\[\{"index":0,"delta":\{"role":"assistant","content":"I will call[^"]*"\},"finish_reason":null\}\]\}\n\n(?:data: \{"id":"\1","object":"chat\.completion\.chunk","created":\d+,"model":"gemini-auto","choices":\[\{"index":0,"delta":\{"content":"[^"<]*"\},"finish_reason":null\}\]\}\n\n)*data: \{"id":"\1","object":"chat\.completion\.chunk","created":\d+,"model":"gemini-auto","choices":\[\{"index":0,"delta":\{"tool_calls":\[\{"index":0,"id":"call_[0-9a-f]{24}0","type":"function","function":\{"name":"get_weather","arguments":""\}\}\]\},"finish_reason":null\}\]\}\n\ndata: \{"id":"\1","object":"chat\.completion\.chunk","created":\d+,"model":"gemini-auto","choices":\[\{"index":0,"delta":\{"tool_calls":\[\{"index":0,"function":\{"arguments":"\{\\"city\\":\\"Rome\\"\}"\}\}\]\},"finish_reason":null\}\]\}\n\ndata: \{"id":"\1","object":"chat\.completion\.chunk","created":\d+,"model":"gemini-auto","choices":\[\{"index":0,"delta":\{\},"finish_reason":"tool_calls"\}\]\}\n\ndata: \{"id":"\1","object":"chat\.completion\.chunk","created":\d+,"model":"gemini-auto","choices":\[\],"usage":\{"prompt_tokens":\d+,"completion_tokens":\d+,"total_tokens":\d+\}\}\n\ndata: \[DONE\]\n\n$/s
--- no_error_log
[error]


=== TEST 4: parallel calls, streamed and not; parallel_tool_calls false keeps one
--- request eval
["POST /v1/chat/completions
{$::TOOLS,\"messages\":[{\"role\":\"user\",\"content\":\"search q=news then get_weather city=Lima\"}]}",
"POST /v1/chat/completions
{\"stream\":true,$::TOOLS,\"messages\":[{\"role\":\"user\",\"content\":\"search q=news then get_weather city=Lima\"}]}",
"POST /v1/chat/completions
{\"parallel_tool_calls\":false,$::TOOLS,\"messages\":[{\"role\":\"user\",\"content\":\"search q=news then get_weather city=Lima\"}]}",
"GET /mock/requests?endpoint=streamAssist"]
--- error_code eval
[200, 200, 200, 200]
--- response_body_like eval
[qr/"content":"I will call search, get_weather\.","tool_calls":\[\{"id":"call_([0-9a-f]{24})0","type":"function","function":\{"name":"search","arguments":"\{\\"q\\":\\"news\\"\}"\}\},\{"id":"call_\g{1}1","type":"function","function":\{"name":"get_weather","arguments":"\{\\"city\\":\\"Lima\\"\}"\}\}\]\},"finish_reason":"tool_calls"/,
qr/"tool_calls":\[\{"index":0,"id":"call_([0-9a-f]{24})0","type":"function","function":\{"name":"search","arguments":""\}\}\].*"tool_calls":\[\{"index":0,"function":\{"arguments":"\{\\"q\\":\\"news\\"\}"\}\}\].*"tool_calls":\[\{"index":1,"id":"call_\g{1}1","type":"function","function":\{"name":"get_weather","arguments":""\}\}\].*"tool_calls":\[\{"index":1,"function":\{"arguments":"\{\\"city\\":\\"Lima\\"\}"\}\}\].*"finish_reason":"tool_calls"/s,
qr/"content":"I will call search\.","tool_calls":\[\{"id":"call_[0-9a-f]{24}0","type":"function","function":\{"name":"search","arguments":"\{\\"q\\":\\"news\\"\}"\}\}\]\},"finish_reason":"tool_calls"/,
qr/Call one function at most\./]


=== TEST 5: tool_choice none: no convention in the turn, the answer is text
--- request eval
["POST /v1/chat/completions
{\"tool_choice\":\"none\",$::TOOLS,\"messages\":[{\"role\":\"user\",\"content\":\"get_weather city=Paris\"}]}",
"GET /mock/requests?endpoint=streamAssist"]
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/"message":\{"role":"assistant","content":"echo: get_weather city=Paris\\n-- mock tail.*? end\."\},"finish_reason":"stop"/,
qr/"query_text":\s*"get_weather city=Paris"/]


=== TEST 6: tool_choice required and a named function; auto may answer text
--- request eval
["POST /v1/chat/completions
{\"tool_choice\":\"required\",$::TOOLS,\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}",
"POST /v1/chat/completions
{\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"search\"}},$::TOOLS,\"messages\":[{\"role\":\"user\",\"content\":\"get_weather q=x\"}]}",
"POST /v1/chat/completions
{\"tool_choice\":\"auto\",$::TOOLS,\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}",
"GET /mock/requests?endpoint=streamAssist"]
--- error_code eval
[200, 200, 200, 200]
--- response_body_like eval
[qr/"tool_calls":\[\{"id":"call_[0-9a-f]{24}0","type":"function","function":\{"name":"get_weather","arguments":"\{\}"\}\}\]\},"finish_reason":"tool_calls"/,
qr/"tool_calls":\[\{"id":"call_[0-9a-f]{24}0","type":"function","function":\{"name":"search","arguments":"\{\\"q\\":\\"x\\"\}"\}\}\]\},"finish_reason":"tool_calls"/,
qr/"content":"echo: \[Tools\]\\n.*hello\\n-- mock tail.*? end\."\},"finish_reason":"stop"/,
qr/You must call at least one function in this answer\..*You must call the function \\"search\\" in this answer\..*only when it helps to answer/s]


=== TEST 7: a tool round trip: the result goes to the upstream, the answer is text
--- request eval
["POST /v1/chat/completions
{$::TOOLS,\"messages\":[{\"role\":\"user\",\"content\":\"get_weather city=Paris\"},{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_x1\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}}]},{\"role\":\"tool\",\"tool_call_id\":\"call_x1\",\"content\":\"18 C and sunny\"}]}",
"GET /mock/requests?endpoint=streamAssist"]
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/"message":\{"role":"assistant","content":"Results: 18 C and sunny\."\},"finish_reason":"stop"/,
qr/"query_text":\s*"\[Tools\]\\n.*\[User Message\]\\nUser: get_weather city=Paris\\n\\nAssistant:\\n<tool_call>\\n\{\\"id\\":\\"call_x1\\",\\"name\\":\\"get_weather\\",\\"arguments\\":\{\\"city\\":\\"Paris\\"\}\}\\n<\/tool_call>\\n\\n<tool_result id=\\"call_x1\\" name=\\"get_weather\\">\\n18 C and sunny\\n<\/tool_result>"/s]


=== TEST 8: the setting tool_calls off: requests with tools get a 400
--- gp_setup
setting('tool_calls', 'bool', 'false');
--- request eval
["POST /v1/chat/completions
{$::TOOLS,\"messages\":[{\"role\":\"user\",\"content\":\"get_weather city=Paris\"}]}",
"POST /v1/chat/completions
{\"messages\":[{\"role\":\"user\",\"content\":\"no tools\"}]}"]
--- error_code eval
[400, 200]
--- response_body_like eval
[qr/^\{"error":\{"message":"Tool calls are turned off on this gateway \(the setting tool_calls\); send the request without 'tools'","type":"invalid_request_error","param":"tools","code":"tools_disabled"\}\}$/,
qr/"content":"echo: no tools/]


=== TEST 9: bad tool definitions and tool messages are OpenAI errors
--- request eval
["POST /v1/chat/completions
{\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get weather\"}}],\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
"POST /v1/chat/completions
{\"tools\":[{\"type\":\"code_interpreter\"}],\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
"POST /v1/chat/completions
{\"tools\":{},\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
"POST /v1/chat/completions
{$::TOOLS,\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"nope\"}},\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
"POST /v1/chat/completions
{\"messages\":[{\"role\":\"user\",\"content\":\"x\"},{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"c\",\"function\":{\"name\":\"a\",\"arguments\":5}}]}]}",
"POST /v1/chat/completions
{\"functions\":[{\"name\":\"a\"}],\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"]
--- error_code eval
[400, 400, 400, 400, 400, 400]
--- response_body_like eval
[qr/^\{"error":\{"message":"Invalid 'tools\[0\]\.function\.name': 'get weather' is not a valid function name; use 1 to 64 letters, digits, '_', '-' or '\.'\.","type":"invalid_request_error","param":"tools\[0\]\.function\.name","code":"invalid_value"\}\}$/,
qr/"param":"tools\[0\]\.type","code":"invalid_value"/,
qr/"param":"tools","code":"invalid_type"/,
qr/"message":"Invalid value for 'tool_choice': no function named 'nope' in 'tools'\.","type":"invalid_request_error","param":"tool_choice","code":"invalid_value"/,
qr/"param":"messages\[1\]\.tool_calls\[0\]\.function\.arguments","code":"invalid_type"/,
qr/"param":"functions","code":"unsupported_parameter"/]
--- no_error_log
[alert]


=== TEST 10: hostile answers, not streamed: fences, prose, bare objects, arrays, no closing tag
--- request eval
[map { "POST /v1/chat/completions
{$::TOOLS,\"messages\":[{\"role\":\"user\",\"content\":\"search q=tea and get_weather city=Bern MOCK:tool_format=$_\"}]}" }
 qw(fenced fenced_tag prose bare array unclosed plain)]
--- error_code eval
[(200) x 7]
--- response_body_like eval
[map { qr/^\{[^<`]*"message":\{"role":"assistant","content":$_,"tool_calls":\[\{"id":"call_[0-9a-f]{24}0","type":"function","function":\{"name":"search","arguments":"\{\\"q\\":\\"tea\\"\}"\}\},\{"id":"call_[0-9a-f]{24}1","type":"function","function":\{"name":"get_weather","arguments":"\{\\"city\\":\\"Bern\\"\}"\}\}\]\},"finish_reason":"tool_calls"/ }
 ('"Calling:"', 'null', '"Let me look that up\.\\\\n\\\\nI will answer when the results are in\."',
  '"Calling now\."', 'null', 'null', 'null')]
--- no_error_log
[error]


=== TEST 11: hostile answers, streamed: no call text goes out, the calls come at the end
--- request eval
[map { "POST /v1/chat/completions
{\"stream\":true,$::TOOLS,\"messages\":[{\"role\":\"user\",\"content\":\"search q=tea and get_weather city=Bern MOCK:tool_format=$_\"}]}" }
 qw(fenced fenced_tag prose bare array unclosed plain)]
--- error_code eval
[(200) x 7]
--- response_body_like eval
[map { qr/^(?!.*(?:<tool_call|```|\{\\"name))data: \{[^\n]*"delta":\{"role":"assistant",$_.*"tool_calls":\[\{"index":0,"id":"call_[0-9a-f]{24}0","type":"function","function":\{"name":"search","arguments":""\}\}\]\}.*"delta":\{"tool_calls":\[\{"index":0,"function":\{"arguments":"\{\\"q\\":\\"tea\\"\}"\}\}\]\}.*"delta":\{"tool_calls":\[\{"index":1,"id":"call_[0-9a-f]{24}1","type":"function","function":\{"name":"get_weather","arguments":""\}\}\]\}.*"delta":\{"tool_calls":\[\{"index":1,"function":\{"arguments":"\{\\"city\\":\\"Bern\\"\}"\}\}\]\}.*"delta":\{\},"finish_reason":"tool_calls"\}\]\}\n\ndata: \[DONE\]\n\n$/s }
 ('"content":"C', '(?=")', '"content":"L', '"content":"C', '(?=")', '(?=")',
  '(?=")')]
--- no_error_log
[error]


=== TEST 12: broken JSON and an unknown function stay text, streamed and not
--- request eval
["POST /v1/chat/completions
{$::TOOLS,\"messages\":[{\"role\":\"user\",\"content\":\"get_weather city=Bern MOCK:tool_format=broken\"}]}",
"POST /v1/chat/completions
{$::TOOLS,\"messages\":[{\"role\":\"user\",\"content\":\"get_weather city=Bern MOCK:tool_format=unknown\"}]}",
"POST /v1/chat/completions
{\"stream\":true,$::TOOLS,\"messages\":[{\"role\":\"user\",\"content\":\"get_weather city=Bern MOCK:tool_format=broken\"}]}"]
--- error_code eval
[200, 200, 200]
--- response_body_like eval
[qr/"message":\{"role":"assistant","content":"<tool_call>\\n\{\\"name\\": \\"get_weather\\", \\"arguments\\": \{\\"city\\": \}\\n<\/tool_call>"\},"finish_reason":"stop"/,
qr/"message":\{"role":"assistant","content":"<tool_call>\\n\{\\"name\\": \\"not_a_tool\\", \\"arguments\\": \{\}\}\\n<\/tool_call>"\},"finish_reason":"stop"/,
qr/^(?!.*tool_calls)data: .*"delta":\{"role":"assistant","content":"<tool_call>\\n\{\\"name\\": \\"get_weather\\", \\"arguments\\": \{\\"city\\": \}\\n<\/tool_call>"\},"finish_reason":null\}\]\}\n\ndata: [^\n]*"delta":\{\},"finish_reason":"stop"\}\]\}\n\ndata: \[DONE\]\n\n$/s]
--- no_error_log
[error]


=== TEST 13: an upstream error while the call text is held: the next account, then an OpenAI error
--- request eval
["POST /v1/chat/completions
{\"stream\":true,$::TOOLS,\"messages\":[{\"role\":\"user\",\"content\":\"get_weather city=Bern MOCK:tool_format=plain MOCK:stream_error\"}]}",
"GET /mock/stats"]
--- error_code eval
[429, 200]
--- response_body_like eval
[qr/^\{"error":\{"message":"[^"]+","type":"[a-z_]+","param":null,"code":"upstream_rate_limited"\}\}$/,
qr/"streamAssist":\s*\{\s*"acc1":\s*1,\s*"acc2":\s*1,\s*"acc3":\s*1\s*\}/]
--- no_error_log
[alert]


=== TEST 14: the text held by a failed attempt is dropped: the next account's answer alone gives the calls
--- gp_setup
mock_post('/__mock/inject', { endpoint => 'streamAssist', times => 1,
                              action => { directives => 'MOCK:stream_error' } });
--- request eval
["POST /v1/chat/completions
{\"stream\":true,$::TOOLS,\"messages\":[{\"role\":\"user\",\"content\":\"get_weather city=Bern MOCK:tool_format=plain\"}]}",
"GET /mock/stats"]
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/^(?!.*(?:<tool_call|"content"))data: \{[^\n]*"delta":\{"role":"assistant","tool_calls":\[\{"index":0,"id":"call_[0-9a-f]{24}0","type":"function","function":\{"name":"get_weather","arguments":""\}\}\]\},"finish_reason":null\}\]\}\n\ndata: [^\n]*"delta":\{"tool_calls":\[\{"index":0,"function":\{"arguments":"\{\\"city\\":\\"Bern\\"\}"\}\}\]\},"finish_reason":null\}\]\}\n\ndata: [^\n]*"delta":\{\},"finish_reason":"tool_calls"\}\]\}\n\ndata: \[DONE\]\n\n$/s,
qr/"streamAssist":\s*\{\s*"acc1":\s*1,\s*"acc2":\s*1\s*\}/]
--- no_error_log
[alert]
