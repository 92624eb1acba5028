# Streamed chat completions: SSE framing, flushing, keep-alives.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use GeminiPool;

no_long_string();
log_level('info');
run_tests();

__DATA__

=== TEST 1: a streamed answer: role first, content deltas, finish, [DONE]
--- config
    location /v1/ { gemini_pool_api; }
--- request
POST /v1/chat/completions
{"model":"gemini-2.5-flash","stream":true,"messages":[{"role":"user","content":"Hello stream"}]}
--- error_code: 200
--- response_headers
Content-Type: text/event-stream
Cache-Control: no-cache
X-Accel-Buffering: no
--- response_body_like eval
qr/\Adata: \{"id":"(chatcmpl-[0-9a-f]{24})","object":"chat\.completion\.chunk","created":\d+,"model":"gemini-2\.5-flash","choices":\[\{"index":0,"delta":\{"role":"assistant","content":"echo: [^"]*"\},"finish_reason":null\}\]\}\n\n(data: \{"id":"\1","object":"chat\.completion\.chunk","created":\d+,"model":"gemini-2\.5-flash","choices":\[\{"index":0,"delta":\{"content":"[^\n]*"\},"finish_reason":null\}\]\}\n\n)+data: \{"id":"\1","object":"chat\.completion\.chunk","created":\d+,"model":"gemini-2\.5-flash","choices":\[\{"index":0,"delta":\{\},"finish_reason":"stop"\}\]\}\n\ndata: \[DONE\]\n\n\z/
--- no_error_log
[error]
[alert]


=== TEST 2: the deltas add up to the exact answer, even when the upstream splits every byte
--- config
    location /v1/ { gemini_pool_api; }
--- request
POST /v1/chat/completions
{"stream":true,"messages":[{"role":"user","content":"split MOCK:chunk=1"}]}
--- error_code: 200
--- response_body_filters eval
sub {
    my $text = '';
    for my $line (split /\n/, $_[0]) {
        next unless $line =~ /^data: (\{.*\})$/;
        my $d = JSON::PP->new->utf8->decode($1)->{choices}[0]{delta};
        $text .= $d->{content} // '';
    }
    utf8::encode($text);
    return $text;
}
--- response_body chomp
echo: split MOCK:chunk=1
-- mock tail: "quoted" {brace} [bracket] ]} back\slash é 中文 🚀 ✓ end.


=== TEST 3: usage as the last chunk with stream_options.include_usage
--- config
    location /v1/ { gemini_pool_api; }
--- request
POST /v1/chat/completions
{"stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"count me"}]}
--- error_code: 200
--- response_body_like eval
qr/"finish_reason":"stop"\}\]\}\n\ndata: \{"id":"chatcmpl-[0-9a-f]+","object":"chat\.completion\.chunk","created":\d+,"model":"gemini-auto","choices":\[\],"usage":\{"prompt_tokens":[1-9]\d*,"completion_tokens":[1-9]\d*,"total_tokens":[1-9]\d*\}\}\n\ndata: \[DONE\]\n\n\z/


=== TEST 4: a long silence before the first element gets SSE comments
--- config
    location /v1/ {
        gemini_pool_sse_keepalive 300ms;
        gemini_pool_api;
    }
--- request
POST /v1/chat/completions
{"stream":true,"messages":[{"role":"user","content":"think long MOCK:silence=1000"}]}
--- error_code: 200
--- response_body_like eval
qr/\A(: keep-alive\n\n){2,}data: \{.*"role":"assistant".*data: \[DONE\]\n\n\z/s
--- timeout: 5


=== TEST 5: a long answer streams to the end
--- config
    location /v1/ { gemini_pool_api; }
--- request
POST /v1/chat/completions
{"stream":true,"messages":[{"role":"user","content":"long MOCK:long=300000"}]}
--- error_code: 200
--- response_body_like eval
qr/END-OF-LONG-ANSWER.*"finish_reason":"stop".*data: \[DONE\]\n\n\z/s
--- timeout: 10
--- no_error_log
[error]


=== TEST 6: a stream cut after content: the error as its own event, no finish_reason, then [DONE]
--- config
    location /v1/ { gemini_pool_api; }
--- request
POST /v1/chat/completions
{"stream":true,"messages":[{"role":"user","content":"cut me MOCK:truncate"}]}
--- error_code: 200
--- response_body_like eval
qr/\Adata: \{"id":"chatcmpl-[^\n]*"role":"assistant"[^\n]*\n\n(?:data: \{"id":"chatcmpl-[^\n]*"finish_reason":null\}\]\}\n\n)*data: \{"error":\{"message":"[^"]+","type":"upstream_error","param":null,"code":"upstream_failed"\}\}\n\ndata: \[DONE\]\n\n\z/s
--- response_body_unlike: "finish_reason":"


=== TEST 7: a cut stream with include_usage: the error event, the usage chunk, [DONE]
--- config
    location /v1/ { gemini_pool_api; }
--- request
POST /v1/chat/completions
{"stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"cut me MOCK:truncate"}]}
--- error_code: 200
--- response_body_like eval
qr/"content":"[^\n]*"finish_reason":null\}\]\}\n\ndata: \{"error":\{"message":"[^"]+","type":"upstream_error","param":null,"code":"upstream_failed"\}\}\n\ndata: \{"id":"chatcmpl-[0-9a-f]+","object":"chat\.completion\.chunk","created":\d+,"model":"[^"]+","choices":\[\],"usage":\{"prompt_tokens":[1-9]\d*,"completion_tokens":\d+,"total_tokens":[1-9]\d*\}\}\n\ndata: \[DONE\]\n\n\z/s
--- response_body_unlike: "finish_reason":"


=== TEST 8: a stream committed by keep-alives, then an error before any content: the error event alone
--- config
    location /v1/ {
        gemini_pool_sse_keepalive 300ms;
        gemini_pool_api;
    }
--- request
POST /v1/chat/completions
{"stream":true,"messages":[{"role":"user","content":"wait MOCK:silence=1000 MOCK:early_stream_error"}]}
--- error_code: 200
--- response_body_like eval
qr/\A(?:: keep-alive\n\n){2,}data: \{"error":\{"message":"upstream error in stream: 429 [^"]*","type":"[a-z_]+","param":null,"code":"[a-z_]+"\}\}\n\ndata: \[DONE\]\n\n\z/
--- response_body_unlike: "finish_reason"
--- timeout: 5
