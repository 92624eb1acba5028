# Non-streamed chat completions end to end against the mock.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use GeminiPool;

no_long_string();
log_level('info');
run_tests();

__DATA__

=== TEST 1: a chat completion returns the mock's answer
--- config
    location /v1/ { gemini_pool_api; }
--- request
POST /v1/chat/completions
{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"Hello there"}]}
--- response_headers
Content-Type: application/json
--- response_body_like eval
qr/^\{"id":"chatcmpl-[0-9a-f]{24}","object":"chat\.completion","created":\d+,"model":"gemini-2\.5-flash","choices":\[\{"index":0,"message":\{"role":"assistant","content":"echo: Hello there\\n-- mock tail: \\"quoted\\" \{brace\} \[bracket\] \]\} back\\\\slash é 中文 🚀 ✓ end\."\},"finish_reason":"stop"\}\],"usage":\{"prompt_tokens":\d+,"completion_tokens":\d+,"total_tokens":\d+\}\}$/
--- error_code: 200
--- no_error_log
[error]
[alert]


=== TEST 2: the upstream calls carry the fields of spec §3-§7
--- config
    location /v1/ { gemini_pool_api; }
    location /mock/ { proxy_pass http://127.0.0.1:$TEST_NGINX_MOCK_PORT/__mock/; }
--- request eval
[
"POST /v1/chat/completions
{\"model\":\"gemini-2.5-pro\",\"messages\":[{\"role\":\"system\",\"content\":\"You are terse.\"},{\"role\":\"user\",\"content\":\"What is two plus two?\"}]}",
"GET /mock/requests?endpoint=streamAssist",
"GET /mock/requests?endpoint=getoxsrf",
"GET /mock/requests?endpoint=createSession",
]
--- error_code eval
[200, 200, 200, 200]
--- response_body_like eval
[
qr/"content":"echo: \[System Instruction\]\\nYou are terse\.\\n\\n\[User Message\]\\nWhat is two plus two\?/,
qr/"status":\s*200.*"query_text":\s*"\[System Instruction\]\\nYou are terse\.\\n\\n\[User Message\]\\nWhat is two plus two\?".*"model_id":\s*"gemini-2\.5-pro"/s,
qr/"cookie",\s*"__Secure-C_SES=CSE\.acc1-[0-9a-f]+; __Host-C_OSES=COS\.acc1-/s,
qr/"createSessionRequest":\s*\{\s*"session":\s*\{\s*"name":\s*"[0-9a-f]{12}",\s*"displayName":\s*"[0-9a-f]{12}"/s,
]
--- no_error_log
[error]


=== TEST 3: one JWT per account, shared by every worker through the zone
--- config
    location /v1/ { gemini_pool_api; }
    location /mock/ { proxy_pass http://127.0.0.1:$TEST_NGINX_MOCK_PORT/__mock/; }
--- request eval
[("POST /v1/chat/completions\n{\"messages\":[{\"role\":\"user\",\"content\":\"jwt\"}]}") x 6,
 "GET /mock/stats"]
--- error_code eval
[200, 200, 200, 200, 200, 200, 200]
--- response_body_like eval
[(qr/"content":"echo: jwt/) x 6,
 qr/"getoxsrf":\s*\{\s*"acc1":\s*1,\s*"acc2":\s*1,\s*"acc3":\s*1\s*\}.*"streamAssist":\s*\{\s*"acc1":\s*2,\s*"acc2":\s*2,\s*"acc3":\s*2\s*\}/s]


=== TEST 4: a JWT older than gemini_pool_jwt_refresh is fetched again
(by the request, or ahead of time by the helper)
--- gp_setup
set_accounts(1);
--- http_config
    gemini_pool_jwt_refresh 1s;
--- config
    location /v1/ { gemini_pool_api; }
    location /mock/ { proxy_pass http://127.0.0.1:$TEST_NGINX_MOCK_PORT/__mock/; }
--- request eval
["POST /v1/chat/completions\n{\"messages\":[{\"role\":\"user\",\"content\":\"slow MOCK:delay=1500\"}]}",
 "POST /v1/chat/completions\n{\"messages\":[{\"role\":\"user\",\"content\":\"later\"}]}",
 "POST /v1/chat/completions\n{\"messages\":[{\"role\":\"user\",\"content\":\"soon after\"}]}",
 "GET /mock/stats"]
--- error_code eval
[200, 200, 200, 200]
--- response_body_like eval
[qr/echo: slow/, qr/echo: later/, qr/echo: soon after/,
 qr/"getoxsrf":\s*\{\s*"acc1":\s*[23]\s*\}/s]
--- timeout: 6
