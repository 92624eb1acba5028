# Bad input gets OpenAI error objects; upstream failures before the first
# byte move to the next account; after it, the stream ends with an error.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use GeminiPool;

no_long_string();
log_level('info');
run_tests();

__DATA__

=== TEST 1: malformed JSON
--- config
    location /v1/ { gemini_pool_api; }
--- request
POST /v1/chat/completions
{"messages": [
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"We could not parse the JSON body of your request: [^"]+","type":"invalid_request_error","param":null,"code":"invalid_json"\}\}$


=== TEST 2: missing messages
--- config
    location /v1/ { gemini_pool_api; }
--- request
POST /v1/chat/completions
{"model":"gemini-auto"}
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"[^"]*messages[^"]*","type":"invalid_request_error","param":"messages","code":"[a-z_]+"\}\}$


=== TEST 3: no user message
--- config
    location /v1/ { gemini_pool_api; }
--- request
POST /v1/chat/completions
{"messages":[{"role":"system","content":"only a system prompt"}]}
--- error_code: 400
--- response_body_like: role .user. is required.*"type":"invalid_request_error"


=== TEST 4: a body over the limit names the limit and the directive
--- config
    location /v1/ { client_max_body_size 100; gemini_pool_api; }
--- request eval
"POST /v1/chat/completions\n" . '{"messages":[{"role":"user","content":"' . ("x" x 200) . '"}]}'
--- error_code: 413
--- response_headers
Content-Type: application/json
--- response_body chomp
{"error":{"message":"Request body too large: the limit is 100 bytes; raise client_max_body_size in the nginx location of gemini_pool_api","type":"invalid_request_error","param":null,"code":"request_too_large"}}


=== TEST 5: an unknown model is 404 model_not_found, not a fallback
--- config
    location /v1/ { gemini_pool_api; }
--- request
POST /v1/chat/completions
{"model":"no-such-model","messages":[{"role":"user","content":"hi"}]}
--- error_code: 404
--- response_body_like: ^\{"error":\{"message":"The model `no-such-model` does not exist[^"]*","type":"invalid_request_error","param":"model","code":"model_not_found"\}\}$


=== TEST 6: models are listed, and one model can be read
--- config
    location /v1/ { gemini_pool_api; }
--- request eval
["GET /v1/models", "GET /v1/models/gemini-2.5-pro", "GET /v1/models/nope"]
--- error_code eval
[200, 200, 404]
--- response_body_like eval
[qr/^\{"object":"list","data":\[\{"id":"gemini-auto","object":"model","created":\d+,"owned_by":"google"\},.*\{"id":"gemini-image",.*\{"id":"gemini-video"/,
 qr/^\{"id":"gemini-2\.5-pro","object":"model","created":\d+,"owned_by":"google"\}$/,
 qr/"code":"model_not_found"/]


=== TEST 7: unknown URL and wrong method
--- config
    location /v1/ { gemini_pool_api; }
--- request eval
["GET /v1/nothing", "GET /v1/chat/completions"]
--- error_code eval
[404, 405]
--- response_body_like eval
[qr/"code":"unknown_url"/, qr/"code":"method_not_allowed"/]


=== TEST 8: 429 on the first account moves to the second (non-stream)
--- gp_setup
mock_post('/__mock/inject', {account => 'acc1', endpoint => 'streamAssist',
                             action => {status => 429, body => {error => {code => 429, message => 'quota', status => 'RESOURCE_EXHAUSTED'}}}});
--- config
    location /v1/ { gemini_pool_api; }
    location /mock/ { proxy_pass http://127.0.0.1:$TEST_NGINX_MOCK_PORT/__mock/; }
--- request eval
["POST /v1/chat/completions\n{\"messages\":[{\"role\":\"user\",\"content\":\"fail over\"}]}",
 "GET /mock/stats"]
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/"content":"echo: fail over/,
 qr/"streamAssist":\s*\{\s*"acc1":\s*1,\s*"acc2":\s*1\s*\}/s]


=== TEST 8b: each failover is one warn line naming the account and the reason
--- gp_setup
mock_post('/__mock/inject', {account => 'acc1', endpoint => 'streamAssist',
                             action => {status => 429, body => {error => {code => 429, message => 'quota', status => 'RESOURCE_EXHAUSTED'}}}});
--- config
    location /v1/ { gemini_pool_api; }
--- request
POST /v1/chat/completions
{"messages":[{"role":"user","content":"fail over"}]}
--- error_code: 200
--- error_log eval
qr/\[warn\] .*gemini pool: account "acc1" failed: widgetStreamAssist answered 429: quota; trying the next account \(attempt 1 of 3\)/


=== TEST 9: a failure before the first byte fails over in stream mode too
--- gp_setup
mock_post('/__mock/inject', {account => 'acc1', endpoint => 'streamAssist',
                             action => {status => 500, body => 'boom'}});
--- config
    location /v1/ { gemini_pool_api; }
--- request
POST /v1/chat/completions
{"stream":true,"messages":[{"role":"user","content":"stream over"}]}
--- error_code: 200
--- response_body_like eval
qr/\Adata: \{.*"role":"assistant","content":"echo: stream over.*data: \[DONE\]\n\n\z/s
--- error_log
account "acc1" failed: widgetStreamAssist answered 500


=== TEST 10: a truncated stream before any content fails over
--- gp_setup
mock_post('/__mock/inject', {account => 'acc1', endpoint => 'streamAssist',
                             action => {directives => 'MOCK:truncate MOCK:early_stream_error'}});
--- config
    location /v1/ { gemini_pool_api; }
--- request
POST /v1/chat/completions
{"messages":[{"role":"user","content":"cut"}]}
--- error_code: 200
--- response_body_like: "content":"echo: cut
--- error_log
account "acc1" failed


=== TEST 11: an in-stream error after content: the error as its own event, no finish_reason, then [DONE]
--- config
    location /v1/ { gemini_pool_api; }
--- request
POST /v1/chat/completions
{"stream":true,"messages":[{"role":"user","content":"MOCK:stream_error"}]}
--- error_code: 200
--- response_body_like eval
qr/\A(?:data: \{"id":"chatcmpl-[^\n]*"finish_reason":null\}\]\}\n\n)+data: \{"error":\{"message":"upstream error in stream: 429 [^"]*","type":"[a-z_]+","param":null,"code":(?:null|"[a-z_]+")\}\}\n\ndata: \[DONE\]\n\n\z/s
--- response_body_unlike: "finish_reason":"


=== TEST 12: every account failing gives the last error as an OpenAI error
--- config
    location /v1/ { gemini_pool_api; }
--- request
POST /v1/chat/completions
{"messages":[{"role":"user","content":"MOCK:500"}]}
--- error_code: 502
--- response_body_like: ^\{"error":\{"message":"widgetStreamAssist answered 500: [^"]*","type":"upstream_error","param":null,"code":"upstream_failed"\}\}$
--- error_log
giving up (attempt 3 of 3)


=== TEST 13: an expired cookie (getoxsrf 401) sets the account aside and uses the next
--- gp_setup
mock_post('/__mock/inject', {account => 'acc1', endpoint => 'getoxsrf',
                             action => {expired => \1}});
--- config
    location /v1/ { gemini_pool_api; }
    location = /health { gemini_pool_health; }
--- request eval
["POST /v1/chat/completions\n{\"messages\":[{\"role\":\"user\",\"content\":\"expired\"}]}",
 "GET /health"]
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/"content":"echo: expired/, qr/"accounts":\{"total":3,"usable":2\}/]


=== TEST 13b: the expired account is named in the log
--- gp_setup
mock_post('/__mock/inject', {account => 'acc1', endpoint => 'getoxsrf',
                             action => {expired => \1}});
--- config
    location /v1/ { gemini_pool_api; }
--- request
POST /v1/chat/completions
{"messages":[{"role":"user","content":"expired"}]}
--- error_code: 200
--- error_log
account "acc1" failed: getoxsrf answered 401: Session has expired.


=== TEST 13c: a failover line says what the request was doing: getting a JWT
--- gp_setup
mock_post('/__mock/inject', {account => 'acc1', endpoint => 'getoxsrf',
                             action => {expired => \1}});
--- config
    location /v1/ { gemini_pool_api; }
--- request
POST /v1/chat/completions
{"messages":[{"role":"user","content":"expired"}]}
--- error_code: 200
--- error_log eval
qr/account "acc1" failed: getoxsrf answered 401: Session has expired\.; trying the next account \(attempt 1 of 3\) while getting a JWT, client: /


=== TEST 13d: a failover line says what the request was doing: creating a session
--- gp_setup
mock_post('/__mock/inject', {account => 'acc1', endpoint => 'createSession',
                             action => {status => 500, body => 'boom'}});
--- config
    location /v1/ { gemini_pool_api; }
--- request
POST /v1/chat/completions
{"messages":[{"role":"user","content":"no session"}]}
--- error_code: 200
--- response_body_like: "content":"echo: no session
--- error_log eval
qr/account "acc1" failed: widgetCreateSession answered 500: [^;]*; trying the next account \(attempt 1 of 3\) while creating a session, client: /


=== TEST 13e: a failover line says what the request was doing: reading the answer stream
--- gp_setup
mock_post('/__mock/inject', {account => 'acc1', endpoint => 'streamAssist',
                             action => {status => 429, body => 'quota'}});
--- config
    location /v1/ { gemini_pool_api; }
--- request
POST /v1/chat/completions
{"messages":[{"role":"user","content":"fail over"}]}
--- error_code: 200
--- error_log eval
qr/account "acc1" failed: widgetStreamAssist answered 429: [^;]*; trying the next account \(attempt 1 of 3\) while reading the answer stream, client: /


=== TEST 13f: a getoxsrf answer cut short is no refusal: the account cools down, it is not expired
--- gp_setup
mock_post('/__mock/inject', {account => 'acc1', endpoint => 'getoxsrf',
                             action => {malformed => \1}});
--- config
    location /v1/ { gemini_pool_api; }
    location /health { gemini_pool_health; }
--- request eval
["POST /v1/chat/completions\n{\"messages\":[{\"role\":\"user\",\"content\":\"garbled\"}]}",
 "GET /health?detail=1"]
--- response_body_filters eval
sub { $_[0] =~ /^\{"status"/ ? GeminiPool::pool_summary($_[0]) : ($_[0] =~ /echo: garbled/ ? "answered\n" : $_[0]) }
--- response_body eval
["answered\n",
 "acc1 expired=0 text=~120 images=0 videos=0\nacc2 expired=0 text=0 images=0 videos=0\nacc3 expired=0 text=0 images=0 videos=0\n"]


=== TEST 13f2: the failover line says the getoxsrf answer was not JSON
--- gp_setup
mock_post('/__mock/inject', {account => 'acc1', endpoint => 'getoxsrf',
                             action => {malformed => \1}});
--- config
    location /v1/ { gemini_pool_api; }
--- request
POST /v1/chat/completions
{"messages":[{"role":"user","content":"garbled"}]}
--- error_code: 200
--- error_log eval
qr/account "acc1" failed: getoxsrf answer unusable: getoxsrf answer is not a JSON object; trying the next account \(attempt 1 of 3\) while getting a JWT/


=== TEST 13g: an intercepting proxy's page instead of getoxsrf's answer: a cooldown, not expiry
--- gp_setup
mock_post('/__mock/inject', {account => 'acc1', endpoint => 'getoxsrf',
                             action => {status => 200, content_type => 'text/html',
                                        body => '<!DOCTYPE html><html><body>Access to this site is blocked by your network policy.</body></html>'}});
--- config
    location /v1/ { gemini_pool_api; }
    location /health { gemini_pool_health; }
--- request eval
["POST /v1/chat/completions\n{\"messages\":[{\"role\":\"user\",\"content\":\"proxied\"}]}",
 "GET /health?detail=1"]
--- response_body_filters eval
sub { $_[0] =~ /^\{"status"/ ? GeminiPool::pool_summary($_[0]) : ($_[0] =~ /echo: proxied/ ? "answered\n" : $_[0]) }
--- response_body eval
["answered\n",
 "acc1 expired=0 text=~120 images=0 videos=0\nacc2 expired=0 text=0 images=0 videos=0\nacc3 expired=0 text=0 images=0 videos=0\n"]


=== TEST 13h: malformed getoxsrf answers on every account leave the whole pool unexpired
--- gp_setup
mock_post('/__mock/inject', {account => undef, endpoint => 'getoxsrf', times => 3,
                             action => {malformed => \1}});
--- config
    location /v1/ { gemini_pool_api; }
    location /health { gemini_pool_health; }
--- request eval
["POST /v1/chat/completions\n{\"messages\":[{\"role\":\"user\",\"content\":\"outage\"}]}",
 "GET /health?detail=1"]
--- error_code eval
[502, 503]
--- response_body_filters eval
sub { $_[0] =~ /^\{"status"/ ? GeminiPool::pool_summary($_[0]) : $_[0] }
--- response_body eval
[qr/"code":"upstream_failed"/,
 "acc1 expired=0 text=~120 images=0 videos=0\nacc2 expired=0 text=~120 images=0 videos=0\nacc3 expired=0 text=~120 images=0 videos=0\n"]


=== TEST 13i: a well-formed getoxsrf answer without keyId refuses the cookies: expired
--- gp_setup
mock_post('/__mock/inject', {account => 'acc1', endpoint => 'getoxsrf',
                             action => {missing_key_id => \1}});
--- config
    location /v1/ { gemini_pool_api; }
    location /health { gemini_pool_health; }
--- request eval
["POST /v1/chat/completions\n{\"messages\":[{\"role\":\"user\",\"content\":\"no key\"}]}",
 "GET /health?detail=1"]
--- response_body_filters eval
sub { $_[0] =~ /^\{"status"/ ? GeminiPool::pool_summary($_[0]) : ($_[0] =~ /echo: no key/ ? "answered\n" : $_[0]) }
--- response_body eval
["answered\n",
 "acc1 expired=1 text=0 images=0 videos=0\nacc2 expired=0 text=0 images=0 videos=0\nacc3 expired=0 text=0 images=0 videos=0\n"]


=== TEST 14: no enabled account: 503
--- gp_setup
sql("UPDATE accounts SET enabled = 0");
--- config
    location /v1/ { gemini_pool_api; }
--- request
POST /v1/chat/completions
{"messages":[{"role":"user","content":"anyone?"}]}
--- error_code: 503
--- response_body_like: "code":"no_account_available"
--- no_error_log
[alert]


=== TEST 15: every account cooling down: 429 with the earliest return
--- config
    location /v1/ { gemini_pool_api; }
--- request eval
["POST /v1/chat/completions\n{\"messages\":[{\"role\":\"user\",\"content\":\"MOCK:429\"}]}",
 "POST /v1/chat/completions\n{\"messages\":[{\"role\":\"user\",\"content\":\"again\"}]}"]
--- error_code eval
[429, 429]
--- response_body_like eval
[qr/"type":"rate_limit_error","param":null,"code":"upstream_rate_limited"/,
 qr/^\{"error":\{"message":"All accounts are cooling down; the earliest is usable again in \d+ s","type":"rate_limit_error","param":null,"code":"no_account_available"\}\}$/]
