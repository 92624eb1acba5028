# The Gemini API surface: generateContent and streamGenerateContent (SSE
# with alt=sse, else a JSON array), byte by byte; thought parts; the cut
# stream's error element; models.list and models.get; errors in Google's
# shape; the API key by x-goog-api-key, key= and Authorization: Bearer.

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
$::KEY = Digest::SHA::sha256_hex('sk-goog-test');

# the response id, which is random, as ID; the answer's token count as N
sub ids {
    (my $b = $_[0]) =~ s/"responseId":"[0-9a-f]{24}"/"responseId":"ID"/g;
    $b =~ s/"candidatesTokenCount":([1-9]\d*),"totalTokenCount":(\d+)/
           '"candidatesTokenCount":N,"totalTokenCount":'
           . ($2 - $1) . '+N'/ge;
    return $b;
}

# the text of a streamed answer's elements, joined
sub texts {
    my ($body, $thought) = @_;
    my $t = '';
    my @el = $body =~ /^\[/
             ? @{JSON::PP->new->utf8->decode($body)}
             : map { JSON::PP->new->utf8->decode($_) }
                   $body =~ /^data: (\{.*\})\r$/mg;
    for my $e (@el) {
        for my $p (@{$e->{candidates}[0]{content}{parts}}) {
            $t .= $p->{text} if !!$p->{thought} == !!$thought;
        }
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

=== TEST 1: generateContent: candidates, finishReason, usageMetadata (systemInstruction)
--- config
    location /v1beta/ { gemini_pool_api; }
--- request
POST /v1beta/models/gemini-2.5-flash:generateContent
{"systemInstruction":{"parts":[{"text":"be brief"}]},"contents":[{"role":"user","parts":[{"text":"Hello"}]}],"generationConfig":{"temperature":0.2,"maxOutputTokens":64}}
--- error_code: 200
--- response_headers
Content-Type: application/json
--- response_body_filters eval
\&main::ids
--- response_body eval
'{"candidates":[{"content":{"parts":[{"text":"echo: [System Instruction]\nbe brief\n\n[User Message]\nHello' . $::TAIL . '"}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":13,"candidatesTokenCount":N,"totalTokenCount":13+N},"modelVersion":"gemini-2.5-flash","responseId":"ID"}'
--- no_error_log
[error]
[alert]


=== TEST 2: a turn without a role is the user's; model turns replayed; snake_case names
--- config
    location /v1beta/ { gemini_pool_api; }
--- request
POST /v1beta/models/gemini-2.5-flash:generateContent
{"system_instruction":{"parts":[{"text":"rule"}]},"contents":[{"parts":[{"text":"first"}]},{"role":"model","parts":[{"text":"answer one"}]},{"role":"user","parts":[{"text":"second"},{"text":"part"}]}]}
--- error_code: 200
--- response_body_like eval
qr/"text":"echo: \[System Instruction\]\\nrule\\n\\n\[User Message\]\\nUser: first\\n\\nAssistant: answer one\\n\\nUser: second\\npart\\n-- mock tail/


=== TEST 3: streamGenerateContent with alt=sse: data events, the last with finishReason and usage
--- config
    location /v1beta/ { gemini_pool_api; }
--- request
POST /v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse
{"contents":[{"role":"user","parts":[{"text":"Hello stream"}]}]}
--- error_code: 200
--- response_headers
Content-Type: text/event-stream
Cache-Control: no-cache
--- response_body_like eval
qr/\A(data: \{"candidates":\[\{"content":\{"parts":\[\{"text":"[^\r\n]+"\}\],"role":"model"\},"index":0\}\],"modelVersion":"gemini-2\.5-flash","responseId":"([0-9a-f]{24})"\}\r\n\r\n)+data: \{"candidates":\[\{"content":\{"parts":\[\{"text":""\}\],"role":"model"\},"finishReason":"STOP","index":0\}\],"usageMetadata":\{"promptTokenCount":3,"candidatesTokenCount":[1-9]\d*,"totalTokenCount":\d+\},"modelVersion":"gemini-2\.5-flash","responseId":"\2"\}\r\n\r\n\z/
--- no_error_log
[error]
[alert]


=== TEST 4: streamGenerateContent without alt: one JSON array, element by element
--- config
    location /v1beta/ { gemini_pool_api; }
--- request
POST /v1beta/models/gemini-2.5-flash:streamGenerateContent
{"contents":[{"role":"user","parts":[{"text":"Hello array"}]}]}
--- error_code: 200
--- response_headers
Content-Type: application/json
--- response_body_like eval
qr/\A\[\{"candidates":\[\{"content":\{"parts":\[\{"text":"[^\r\n]+"\}\],"role":"model"\},"index":0\}\],"modelVersion":"gemini-2\.5-flash","responseId":"([0-9a-f]{24})"\}(,\r\n\{"candidates":\[\{"content":\{"parts":\[\{"text":"[^\r\n]+"\}\],"role":"model"\},"index":0\}\],"modelVersion":"gemini-2\.5-flash","responseId":"\1"\})*,\r\n\{"candidates":\[\{"content":\{"parts":\[\{"text":""\}\],"role":"model"\},"finishReason":"STOP","index":0\}\],"usageMetadata":\{"promptTokenCount":3,"candidatesTokenCount":[1-9]\d*,"totalTokenCount":\d+\},"modelVersion":"gemini-2\.5-flash","responseId":"\1"\}\]\z/


=== TEST 5: the streamed texts add up to the exact answer (SSE and array)
--- config
    location /v1beta/ { gemini_pool_api; }
--- request eval
["POST /v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse
{\"contents\":[{\"parts\":[{\"text\":\"split MOCK:chunk=1\"}]}]}",
"POST /v1beta/models/gemini-2.5-flash:streamGenerateContent
{\"contents\":[{\"parts\":[{\"text\":\"split MOCK:chunk=1\"}]}]}"]
--- error_code eval
[200, 200]
--- response_body_filters eval
sub { main::texts($_[0]) }
--- response_body eval
["echo: split MOCK:chunk=1\n-- mock tail: \"quoted\" {brace} [bracket] ]} back\\slash \xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x9a\x80 \xe2\x9c\x93 end.",
 "echo: split MOCK:chunk=1\n-- mock tail: \"quoted\" {brace} [bracket] ]} back\\slash \xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x9a\x80 \xe2\x9c\x93 end."]


=== TEST 6: thoughts as parts with "thought":true (show_thoughts on), unless includeThoughts is false
--- gp_setup
GeminiPool::setting('show_thoughts', 'bool', 'true');
--- config
    location /v1beta/ { gemini_pool_api; }
--- request eval
["POST /v1beta/models/gemini-2.5-flash:generateContent
{\"contents\":[{\"parts\":[{\"text\":\"why\"}]}]}",
"POST /v1beta/models/gemini-2.5-flash:generateContent
{\"contents\":[{\"parts\":[{\"text\":\"why\"}]}],\"generationConfig\":{\"thinkingConfig\":{\"includeThoughts\":false}}}",
"POST /v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse
{\"contents\":[{\"parts\":[{\"text\":\"why\"}]}]}"]
--- error_code eval
[200, 200, 200]
--- response_body_like eval
[qr/^\{"candidates":\[\{"content":\{"parts":\[\{"text":"Thinking about it\.\.\.","thought":true\},\{"text":"echo: why\\n-- mock tail/,
 qr/^\{"candidates":\[\{"content":\{"parts":\[\{"text":"echo: why\\n-- mock tail/,
 qr/\Adata: \{"candidates":\[\{"content":\{"parts":\[\{"text":"Thinking about it\.\.\.","thought":true\}\],"role":"model"\},"index":0\}\],[^\r\n]+\}\r\n\r\ndata: \{"candidates":\[\{"content":\{"parts":\[\{"text":"echo: why/]


=== TEST 7: a stream cut by an upstream error: Google's error object as the last element, no finishReason
--- config
    location /v1beta/ { gemini_pool_api; }
--- request eval
["POST /v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse
{\"contents\":[{\"parts\":[{\"text\":\"cut MOCK:stream_error\"}]}]}",
"POST /v1beta/models/gemini-2.5-pro:streamGenerateContent
{\"contents\":[{\"parts\":[{\"text\":\"cut MOCK:stream_error\"}]}]}"]
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/\Adata: \{"candidates".*\r\n\r\ndata: \{"error":\{"code":429,"message":"upstream error in stream: 429 [^"]*","status":"RESOURCE_EXHAUSTED"\}\}\r\n\r\n\z/s,
 qr/\A\[\{"candidates".*\},\r\n\{"error":\{"code":429,"message":"upstream error in stream: 429 [^"]*","status":"RESOURCE_EXHAUSTED"\}\}\]\z/s]
--- response_body_unlike: finishReason
--- no_error_log
[alert]


=== TEST 8: an inlineData image goes into the turn (base64url too)
--- config
    location /v1beta/ { gemini_pool_api; }
--- request eval
["POST /v1beta/models/gemini-2.5-flash:generateContent
{\"contents\":[{\"parts\":[{\"inlineData\":{\"mimeType\":\"image/png\",\"data\":\"$::PNG\"}},{\"text\":\"what is it\"}]}]}",
"POST /v1beta/models/gemini-2.5-flash:generateContent
{\"contents\":[{\"parts\":[{\"inline_data\":{\"mime_type\":\"image/png\",\"data\":\"" . ($::PNG =~ tr{+/}{-_}r) . "\"}},{\"text\":\"and this\"}]}]}"]
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/"text":"echo: what is it \[attached: image\/png 70 bytes sha256:497790947d46\]\\n-- mock tail/,
 qr/"text":"echo: and this \[attached: image\/png 70 bytes sha256:497790947d46\]\\n-- mock tail/]


=== TEST 9: models.list (enabled models only) and models.get
--- gp_setup
sql("UPDATE models SET enabled = 0 WHERE name = 'gemini-2.5-pro'");
--- config
    location /v1beta/ { gemini_pool_api; }
--- request eval
["GET /v1beta/models", "GET /v1beta/models/gemini-2.5-flash", "GET /v1beta/models/gemini-2.5-pro"]
--- error_code eval
[200, 200, 404]
--- response_body_like eval
[qr/^\{"models":\[\{"name":"models\/gemini-auto","version":"001","displayName":"gemini-auto","supportedGenerationMethods":\["generateContent","streamGenerateContent","countTokens"\]\},\{"name":"models\/gemini-2\.5-flash",(?!.*gemini-2\.5-pro).*\]\}$/,
 qr/^\{"name":"models\/gemini-2\.5-flash","version":"001","displayName":"gemini-2\.5-flash","supportedGenerationMethods":\["generateContent","streamGenerateContent","countTokens"\]\}$/,
 qr/^\{"error":\{"code":404,"message":"models\/gemini-2\.5-pro is not found for API version v1beta","status":"NOT_FOUND"\}\}$/]


=== TEST 10: errors in Google's shape
--- config
    location /v1beta/ { gemini_pool_api; }
--- request eval
["POST /v1beta/models/gemini-2.5-flash:generateContent\n{\"contents\":",
 "POST /v1beta/models/gemini-2.5-flash:generateContent\n{\"contents\":[]}",
 "POST /v1beta/models/nope:generateContent\n{\"contents\":[{\"parts\":[{\"text\":\"hi\"}]}]}",
 "POST /v1beta/models/gemini-2.5-flash:generateContent\n{\"contents\":[{\"role\":\"tool\",\"parts\":[{\"text\":\"hi\"}]}]}",
 "POST /v1beta/models/gemini-2.5-flash:generateContent\n{\"contents\":[{\"role\":\"model\",\"parts\":[{\"text\":\"hi\"}]}]}",
 "POST /v1beta/models/gemini-2.5-flash:generateContent\n{\"contents\":[{\"parts\":[{\"executableCode\":{}}]}]}",
 "POST /v1beta/models/gemini-2.5-flash:generateContent\n{\"contents\":[{\"parts\":[{\"inlineData\":{\"mimeType\":\"image/png\",\"data\":\"**\"}}]}]}",
 "POST /v1beta/models/gemini-2.5-flash:embedContent\n{}",
 "GET /v1beta/models/gemini-2.5-flash:generateContent",
 "POST /v1beta/models\n{}",
 "GET /v1beta/tunedModels",
 "POST /v1beta/models/gemini-2.5-flash:generateContent\n{\"contents\":[{\"parts\":[{\"text\":\"MOCK:500\"}]}]}"]
--- error_code eval
[400, 400, 404, 400, 400, 400, 400, 404, 405, 405, 404, 502]
--- response_body_like eval
[qr/^\{"error":\{"code":400,"message":"Invalid JSON payload received\. [^"]+","status":"INVALID_ARGUMENT"\}\}$/,
 qr/^\{"error":\{"code":400,"message":"\* GenerateContentRequest\.contents: contents is not specified","status":"INVALID_ARGUMENT"\}\}$/,
 qr/^\{"error":\{"code":404,"message":"The model `nope` does not exist[^"]*","status":"NOT_FOUND"\}\}$/,
 qr/"message":"contents\[0\]\.role: must be \\"user\\" or \\"model\\"","status":"INVALID_ARGUMENT"/,
 qr/"message":"contents: at least one \\"user\\" turn is required"/,
 qr/"message":"contents\[0\]\.parts\[0\]: only text, inlineData and fileData \(an http\(s\) URL\) parts are supported"/,
 qr/"message":"contents\[0\]\.parts\[0\]\.inlineData: an image needs/,
 qr/^\{"error":\{"code":404,"message":"Unknown request URL: \/v1beta\/models\/gemini-2\.5-flash:embedContent","status":"NOT_FOUND"\}\}$/,
 qr/^\{"error":\{"code":405,"message":"use POST for \/v1beta\/models\/\{model\}:generateContent","status":"UNIMPLEMENTED"\}\}$/,
 qr/^\{"error":\{"code":405,"message":"use GET for \/v1beta\/models","status":"UNIMPLEMENTED"\}\}$/,
 qr/^\{"error":\{"code":404,"message":"Unknown request URL: \/v1beta\/tunedModels","status":"NOT_FOUND"\}\}$/,
 qr/^\{"error":\{"code":502,"message":"[^"]+","status":"INTERNAL"\}\}$/]


=== TEST 11: the API key by x-goog-api-key, key= or Authorization: Bearer; refusals as UNAUTHENTICATED
--- config
    location /v1beta/ { gemini_pool_api_keys on; gemini_pool_api; }
--- gp_setup
sql("DELETE FROM api_keys; INSERT INTO api_keys (name, key_hash) VALUES ('goog', '$::KEY')");
--- request eval
["POST /v1beta/models/gemini-2.5-flash:generateContent\n{\"contents\":[{\"parts\":[{\"text\":\"by header\"}]}]}",
 "POST /v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse&key=sk-goog-test\n{\"contents\":[{\"parts\":[{\"text\":\"by query\"}]}]}",
 "POST /v1beta/models/gemini-2.5-flash:generateContent\n{\"contents\":[{\"parts\":[{\"text\":\"by bearer\"}]}]}",
 "POST /v1beta/models/gemini-2.5-flash:generateContent?key=sk-goog-wrong\n{\"contents\":[{\"parts\":[{\"text\":\"wrong\"}]}]}",
 "POST /v1beta/models/gemini-2.5-flash:generateContent\n{\"contents\":[{\"parts\":[{\"text\":\"none\"}]}]}",
 "GET /v1beta/models",
 "GET /v1beta/models?key=sk-goog-test"]
--- more_headers eval
["x-goog-api-key: sk-goog-test", "", "Authorization: Bearer sk-goog-test", "", "", "", ""]
--- error_code eval
[200, 200, 200, 401, 401, 401, 200]
--- response_body_like eval
[qr/"text":"echo: by header/,
 qr/^data: \{"candidates":\[\{"content":\{"parts":\[\{"text":"echo: by query/,
 qr/"text":"echo: by bearer/,
 qr/^\{"error":\{"code":401,"message":"Incorrect API key provided","status":"UNAUTHENTICATED"\}\}$/,
 qr/^\{"error":\{"code":401,"message":"You didn't provide an API key: send .*","status":"UNAUTHENTICATED"\}\}$/,
 qr/"status":"UNAUTHENTICATED"/,
 qr/^\{"models":\[/]


=== TEST 12: tools: functionCall parts after the prose, finishReason STOP
--- config
    location /v1beta/ { gemini_pool_api; }
--- request
POST /v1beta/models/gemini-2.5-flash:generateContent
{"tools":[{"functionDeclarations":[{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}},{"name":"search","parameters":{"type":"object","properties":{"q":{"type":"string"}}}}]}],"contents":[{"parts":[{"text":"search q=news then get_weather city=Lima"}]}]}
--- error_code: 200
--- response_body_like eval
qr/^\{"candidates":\[\{"content":\{"parts":\[\{"text":"I will call search, get_weather\."\},\{"functionCall":\{"id":"call_([0-9a-f]{24})0","name":"search","args":\{"q":"news"\}\}\},\{"functionCall":\{"id":"call_\g{1}1","name":"get_weather","args":\{"city":"Lima"\}\}\}\],"role":"model"\},"finishReason":"STOP","index":0\}\],"usageMetadata":\{[^}]+\},"modelVersion":"gemini-2\.5-flash","responseId":"[0-9a-f]{24}"\}$/


=== TEST 13: tools streamed (SSE and array): the calls in the last element
--- config
    location /v1beta/ { gemini_pool_api; }
--- request eval
['POST /v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse
{"tools":[{"functionDeclarations":[{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}]}],"contents":[{"parts":[{"text":"get_weather city=Rome"}]}]}',
'POST /v1beta/models/gemini-2.5-flash:streamGenerateContent
{"tools":[{"function_declarations":[{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}]}],"contents":[{"parts":[{"text":"get_weather city=Rome"}]}]}']
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/\A(data: \{"candidates":\[\{"content":\{"parts":\[\{"text":"[^"<]+"\}\],"role":"model"\},"index":0\}\],"modelVersion":"gemini-2\.5-flash","responseId":"[0-9a-f]{24}"\}\r\n\r\n)+data: \{"candidates":\[\{"content":\{"parts":\[\{"functionCall":\{"id":"call_[0-9a-f]{24}0","name":"get_weather","args":\{"city":"Rome"\}\}\}\],"role":"model"\},"finishReason":"STOP","index":0\}\],"usageMetadata":\{[^}]+\},"modelVersion":"gemini-2\.5-flash","responseId":"[0-9a-f]{24}"\}\r\n\r\n\z/,
 qr/\A\[\{"candidates".*,\r\n\{"candidates":\[\{"content":\{"parts":\[\{"functionCall":\{"id":"call_[0-9a-f]{24}0","name":"get_weather","args":\{"city":"Rome"\}\}\}\],"role":"model"\},"finishReason":"STOP","index":0\}\],"usageMetadata":\{[^}]+\},"modelVersion":"gemini-2\.5-flash","responseId":"[0-9a-f]{24}"\}\]\z/s]


=== TEST 14: a tool round trip: functionCall in the model turn, functionResponse back to the upstream
--- config
    location /v1beta/ { gemini_pool_api; }
    location /mock/ { proxy_pass http://127.0.0.1:$TEST_NGINX_MOCK_PORT/__mock/; }
--- request eval
['POST /v1beta/models/gemini-2.5-flash:generateContent
{"tools":[{"functionDeclarations":[{"name":"get_weather","parameters":{"type":"object"}}]}],"contents":[{"role":"user","parts":[{"text":"get_weather city=Rome"}]},{"role":"model","parts":[{"functionCall":{"id":"c1","name":"get_weather","args":{"city":"Rome"}}}]},{"role":"user","parts":[{"functionResponse":{"id":"c1","name":"get_weather","response":{"temp":"21 C"}}}]}]}',
 "GET /mock/requests?endpoint=streamAssist"]
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/"parts":\[\{"text":"Results: \{\\"temp\\":\\"21 C\\"\}\."\}\]/,
 qr/<tool_call>\\n\{\\"id\\":\\"(?:toolu_01|c1)\\",\\"name\\":\\"get_weather\\",\\"arguments\\":\{\\"city\\":\\"Rome\\"\}\}\\n<\/tool_call>.*<tool_result id=\\"c1\\" name=\\"get_weather\\">\\n\{\\"temp\\":\\"21 C\\"\}\\n<\/tool_result>/s]


=== TEST 15: bad tools in Google's shape
--- config
    location /v1beta/ { gemini_pool_api; }
--- request eval
['POST /v1beta/models/gemini-2.5-flash:generateContent
{"tools":[{"googleSearch":{}}],"contents":[{"parts":[{"text":"hi"}]}]}',
'POST /v1beta/models/gemini-2.5-flash:generateContent
{"tools":[{"functionDeclarations":[{"name":"f"}]}],"toolConfig":{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["g"]}},"contents":[{"parts":[{"text":"hi"}]}]}',
'POST /v1beta/models/gemini-2.5-flash:generateContent
{"contents":[{"parts":[{"functionResponse":{"response":{}}}]}]}']
--- error_code eval
[400, 400, 400]
--- response_body_like eval
[qr/^\{"error":\{"code":400,"message":"tools\[0\]: only functionDeclarations are supported here","status":"INVALID_ARGUMENT"\}\}$/,
 qr/"message":"Invalid value for 'toolConfig': no function named 'g' in 'tools'\.","status":"INVALID_ARGUMENT"/,
 qr/"message":"contents\[0\]\.parts\[0\]\.functionResponse\.name: a function name is required"/]


=== TEST 16: countTokens: the estimate the turn's usage counts (contents or generateContentRequest)
--- config
    location /v1beta/ { gemini_pool_api; }
--- request eval
['POST /v1beta/models/gemini-2.5-flash:countTokens
{"systemInstruction":{"parts":[{"text":"be brief"}]},"contents":[{"role":"user","parts":[{"text":"Hello"}]}]}',
'POST /v1beta/models/gemini-2.5-flash:countTokens
{"generateContentRequest":{"model":"models/gemini-2.5-flash","contents":[{"parts":[{"text":"Hello stream"}]}]}}',
'POST /v1beta/models/nope:countTokens
{"contents":[{"parts":[{"text":"Hello"}]}]}',
'POST /v1beta/models/gemini-2.5-flash:countTokens
{"contents":7}',
'GET /v1beta/models/gemini-2.5-flash:countTokens']
--- error_code eval
[200, 200, 404, 400, 405]
--- response_body_like eval
[qr/^\{"totalTokens":13\}$/, qr/^\{"totalTokens":3\}$/,
 qr/^\{"error":\{"code":404,"message":"models\/nope is not found for API version v1beta","status":"NOT_FOUND"\}\}$/,
 qr/^\{"error":\{"code":400,"message":"\* GenerateContentRequest\.contents: contents is not specified","status":"INVALID_ARGUMENT"\}\}$/,
 qr/^\{"error":\{"code":405,"message":"use POST for \/v1beta\/models\/gemini-2\.5-flash:countTokens","status":"UNIMPLEMENTED"\}\}$/]


=== TEST 17: countTokens checks the API key
--- config
    location /v1beta/ { gemini_pool_api_keys on; gemini_pool_api; }
--- gp_setup
sql("DELETE FROM api_keys; INSERT INTO api_keys (name, key_hash) VALUES ('goog', '$::KEY')");
--- request eval
['POST /v1beta/models/gemini-2.5-flash:countTokens
{"contents":[{"parts":[{"text":"Hello"}]}]}',
'POST /v1beta/models/gemini-2.5-flash:countTokens?key=sk-goog-test
{"contents":[{"parts":[{"text":"Hello"}]}]}']
--- error_code eval
[401, 200]
--- response_body_like eval
[qr/"status":"UNAUTHENTICATED"/, qr/^\{"totalTokens":2\}$/]


=== TEST 18: hostile bodies: wrong types everywhere are 400s in Google's shape
--- config
    location /v1beta/ { gemini_pool_api; }
--- request eval
[map { "POST /v1beta/models/gemini-2.5-flash:generateContent\n$_" }
 '[]', '"x"', 'null', '{"contents":{"parts":[]}}', '{"contents":[7]}',
 '{"contents":[{"parts":7}]}', '{"contents":[{"parts":[7]}]}',
 '{"contents":[{"parts":[{"text":7}]}]}',
 '{"contents":[{"parts":[{"inlineData":7}]}]}',
 '{"contents":[{"parts":[{"inlineData":{"mimeType":"image/png","data":7}}]}]}',
 '{"contents":[{"parts":[{"fileData":{"fileUri":"gs://bucket/x"}}]}]}',
 '{"systemInstruction":{"parts":"x"},"contents":[{"parts":[{"text":"hi"}]}]}',
 '{"tools":"x","contents":[{"parts":[{"text":"hi"}]}]}',
 '{"tools":[{"functionDeclarations":[7]}],"contents":[{"parts":[{"text":"hi"}]}]}',
 '{"toolConfig":{"functionCallingConfig":{"mode":"SOMETIMES"}},"contents":[{"parts":[{"text":"hi"}]}]}',
 '{"contents":[{"role":"model","parts":[{"functionCall":{"name":"bad name"}}]},{"parts":[{"text":"hi"}]}]}']
--- error_code eval
[(400) x 16]
--- response_body_like eval
[(qr/^\{"error":\{"code":400,"message":"[^"\\]*(?:\\.[^"\\]*)*","status":"INVALID_ARGUMENT"\}\}$/) x 16]
--- no_error_log
[alert]
[crit]


=== TEST 19: a body over client_max_body_size: 413 in Google's shape, naming the limit
--- config
    location /v1beta/ { client_max_body_size 100; gemini_pool_api; }
--- request eval
[map({ "POST /v1beta/models/gemini-2.5-flash:$_\n" . '{"contents":[{"parts":[{"text":"' . ("x" x 200) . '"}]}]}' }
     'generateContent', 'streamGenerateContent?alt=sse', 'countTokens')]
--- error_code eval
[413, 413, 413]
--- response_headers eval
[("Content-Type: application/json") x 3]
--- response_body eval
[('{"error":{"code":413,"message":"Request body too large: the limit is 100 bytes; raise client_max_body_size in the nginx location of gemini_pool_api","status":"INVALID_ARGUMENT"}}') x 3]
--- no_error_log
[alert]
[crit]
