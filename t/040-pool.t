# The pool: rotation, cooldowns by error kind, failover, conversations,
# models and variables.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use GeminiPool;

no_long_string();
log_level('info');
run_tests();

__DATA__

=== TEST 1: round robin is fair across workers: 99 requests, 33 per account
--- config
    location /v1/ { gemini_pool_api; }
    location /mock/ { proxy_pass http://127.0.0.1:$TEST_NGINX_MOCK_PORT/__mock/; }
--- request eval
[("POST /v1/chat/completions\n{\"messages\":[{\"role\":\"user\",\"content\":\"rr\"}]}") x 99,
 "GET /mock/stats"]
--- error_code eval
[(200) x 100]
--- response_body_like eval
[(qr/echo: rr/) x 99,
 qr/"streamAssist":\s*\{\s*"acc1":\s*33,\s*"acc2":\s*33,\s*"acc3":\s*33\s*\}/s]
--- timeout: 30


=== TEST 2: a text 429 that names the daily quota cools the account until the next midnight in Los Angeles
--- init
GeminiPool::chat('{"messages":[{"role":"user","content":"x"}]}');
GeminiPool::mock_post('/__mock/inject', {account => 'acc2', endpoint => 'streamAssist', action => {status => 429, body => {error => {code => 429, message => "Quota exceeded for quota metric 'Assist requests' and limit 'Assist requests per day'", status => 'RESOURCE_EXHAUSTED'}}}});
GeminiPool::chat('{"messages":[{"role":"user","content":"y"}]}');
--- config
    location /v1/ { gemini_pool_api; }
    location /health { gemini_pool_health; }
--- request
GET /health?detail=1
--- response_body_filters eval
\&GeminiPool::pool_summary
--- response_body
acc1 expired=0 text=0 images=0 videos=0
acc2 expired=0 text=midnight images=0 videos=0
acc3 expired=0 text=0 images=0 videos=0


=== TEST 3: cooldown_text_429 sets a shorter wait for a used-up text quota
--- gp_setup
GeminiPool::setting('cooldown_text_429', 'int', '300');
--- init
GeminiPool::mock_post('/__mock/inject', {account => 'acc1', endpoint => 'streamAssist', action => {status => 429, body => {error => {code => 429, message => 'Daily limit reached', status => 'RESOURCE_EXHAUSTED', details => [{reason => 'DAILY_LIMIT_EXCEEDED'}]}}}});
GeminiPool::chat('{"messages":[{"role":"user","content":"y"}]}');
--- config
    location /v1/ { gemini_pool_api; }
    location /health { gemini_pool_health; }
--- request
GET /health?detail=1
--- response_body_filters eval
\&GeminiPool::pool_summary
--- response_body
acc1 expired=0 text=~300 images=0 videos=0
acc2 expired=0 text=0 images=0 videos=0
acc3 expired=0 text=0 images=0 videos=0


=== TEST 4: an image 429 cools only the images quota
--- init
GeminiPool::mock_post('/__mock/inject', {account => 'acc1', endpoint => 'streamAssist', action => {status => 429, body => 'images per day: quota exceeded'}});
GeminiPool::chat('{"model":"gemini-image","messages":[{"role":"user","content":"a cat MOCK:text"}]}');
--- config
    location /v1/ { gemini_pool_api; }
    location /health { gemini_pool_health; }
--- request
GET /health?detail=1
--- response_body_filters eval
\&GeminiPool::pool_summary
--- response_body
acc1 expired=0 text=0 images=midnight videos=0
acc2 expired=0 text=0 images=0 videos=0
acc3 expired=0 text=0 images=0 videos=0


=== TEST 4b: an overload 429 (LLM_OVERLOADED) cools briefly, not until midnight
--- init
GeminiPool::mock_post('/__mock/inject', {account => 'acc1', endpoint => 'streamAssist', action => {directives => 'MOCK:429'}});
GeminiPool::chat('{"messages":[{"role":"user","content":"busy"}]}');
--- config
    location /v1/ { gemini_pool_api; }
    location /health { gemini_pool_health; }
--- request
GET /health?detail=1
--- response_body_filters eval
\&GeminiPool::pool_summary
--- response_body
acc1 expired=0 text=~60 images=0 videos=0
acc2 expired=0 text=0 images=0 videos=0
acc3 expired=0 text=0 images=0 videos=0


=== TEST 4c: an overloaded image model cools only the images quota, briefly
--- init
GeminiPool::mock_post('/__mock/inject', {account => 'acc1', endpoint => 'streamAssist', action => {directives => 'MOCK:429'}});
GeminiPool::chat('{"model":"gemini-image","messages":[{"role":"user","content":"a cat MOCK:text"}]}');
--- config
    location /v1/ { gemini_pool_api; }
    location /health { gemini_pool_health; }
--- request
GET /health?detail=1
--- response_body_filters eval
\&GeminiPool::pool_summary
--- response_body
acc1 expired=0 text=0 images=~60 videos=0
acc2 expired=0 text=0 images=0 videos=0
acc3 expired=0 text=0 images=0 videos=0


=== TEST 4d: a first 429 that does not say why cools for cooldown_rate_limit
--- gp_setup
GeminiPool::setting('cooldown_rate_limit', 'int', '90');
--- init
GeminiPool::mock_post('/__mock/inject', {account => 'acc1', endpoint => 'streamAssist', action => {status => 429, body => {error => {code => 429, message => 'Resource has been exhausted (e.g. check quota).', status => 'RESOURCE_EXHAUSTED'}}}});
GeminiPool::chat('{"messages":[{"role":"user","content":"y"}]}');
--- config
    location /v1/ { gemini_pool_api; }
    location /health { gemini_pool_health; }
--- request
GET /health?detail=1
--- response_body_filters eval
\&GeminiPool::pool_summary
--- response_body
acc1 expired=0 text=~90 images=0 videos=0
acc2 expired=0 text=0 images=0 videos=0
acc3 expired=0 text=0 images=0 videos=0


=== TEST 4e: an unexplained in-stream 429 before the answer cools briefly too
--- init
GeminiPool::mock_post('/__mock/inject', {account => 'acc1', endpoint => 'streamAssist', action => {directives => 'MOCK:early_stream_error'}});
GeminiPool::chat('{"messages":[{"role":"user","content":"y"}]}');
--- config
    location /v1/ { gemini_pool_api; }
    location /health { gemini_pool_health; }
--- request
GET /health?detail=1
--- response_body_filters eval
\&GeminiPool::pool_summary
--- response_body
acc1 expired=0 text=~60 images=0 videos=0
acc2 expired=0 text=0 images=0 videos=0
acc3 expired=0 text=0 images=0 videos=0


=== TEST 4f: the same account's second unexplained 429 after its short rest, within rate_limit_window, cools until midnight
--- gp_setup
GeminiPool::setting('cooldown_rate_limit', 'int', '1');
sql("UPDATE models SET account_id = 1 WHERE name = 'gemini-2.5-pro'");
--- init
GeminiPool::mock_post('/__mock/inject', {account => 'acc1', endpoint => 'streamAssist', times => 2, action => {status => 429, body => 'quota'}});
GeminiPool::chat('{"model":"gemini-2.5-pro","messages":[{"role":"user","content":"one"}]}');
select(undef, undef, undef, 1.5);
GeminiPool::chat('{"model":"gemini-2.5-pro","messages":[{"role":"user","content":"two"}]}');
--- config
    location /v1/ { gemini_pool_api; }
    location /health { gemini_pool_health; }
--- request
GET /health?detail=1
--- response_body_filters eval
\&GeminiPool::pool_summary
--- response_body
acc1 expired=0 text=midnight images=0 videos=0
acc2 expired=0 text=0 images=0 videos=0
acc3 expired=0 text=0 images=0 videos=0


=== TEST 4f2: the mark of a first unexplained 429 survives a zone reload (an admin change) between the two 429s
--- gp_setup
GeminiPool::setting('cooldown_rate_limit', 'int', '1');
sql("UPDATE models SET account_id = 1 WHERE name = 'gemini-2.5-pro'");
--- init
GeminiPool::mock_post('/__mock/inject', {account => 'acc1', endpoint => 'streamAssist', times => 2, action => {status => 429, body => 'quota'}});
GeminiPool::chat('{"model":"gemini-2.5-pro","messages":[{"role":"user","content":"one"}]}');
my $secret = GeminiPool::slurp("$GeminiPool::DB.admin-secret");
$secret =~ s/\s+$//;
my $res = HTTP::Tiny->new(timeout => 10)->request('PUT',
    'http://127.0.0.1:' . Test::Nginx::Socket::server_port() . '/api/settings',
    {headers => {'X-Admin-Token' => $secret, 'Content-Type' => 'application/json'},
     content => '{"history_max_rows":99999}'});
die "admin PUT: $res->{status} $res->{content}" unless $res->{success};
select(undef, undef, undef, 1.5);
GeminiPool::chat('{"model":"gemini-2.5-pro","messages":[{"role":"user","content":"two"}]}');
--- config
    location /v1/ { gemini_pool_api; }
    location /api/ { gemini_pool_admin; }
    location /health { gemini_pool_health; }
--- request
GET /health?detail=1
--- response_body_filters eval
\&GeminiPool::pool_summary
--- response_body
acc1 expired=0 text=midnight images=0 videos=0
acc2 expired=0 text=0 images=0 videos=0
acc3 expired=0 text=0 images=0 videos=0


=== TEST 4g: after rate_limit_window a 429 that does not say why is a first one again
--- gp_setup
GeminiPool::setting('cooldown_rate_limit', 'int', '1');
GeminiPool::setting('rate_limit_window', 'int', '1');
sql("UPDATE models SET account_id = 1 WHERE name = 'gemini-2.5-pro'");
--- init
GeminiPool::mock_post('/__mock/inject', {account => 'acc1', endpoint => 'streamAssist', times => 2, action => {status => 429, body => 'quota'}});
GeminiPool::chat('{"model":"gemini-2.5-pro","messages":[{"role":"user","content":"one"}]}');
select(undef, undef, undef, 2.2);
GeminiPool::chat('{"model":"gemini-2.5-pro","messages":[{"role":"user","content":"two"}]}');
--- config
    location /v1/ { gemini_pool_api; }
    location /health { gemini_pool_health; }
--- request
GET /health?detail=1
--- response_body_filters eval
sub { $_[0] =~ /"name":"acc1".*?"cooldown_until":\{"text":(\d+)/s ? ($1 > time + 60 ? "long\n" : "short\n") : $_[0] }
--- response_body
short


=== TEST 4h: rate_limit_window 0 keeps the reference's rule: every 429 is the quota
--- gp_setup
GeminiPool::setting('rate_limit_window', 'int', '0');
--- init
GeminiPool::mock_post('/__mock/inject', {account => 'acc1', endpoint => 'streamAssist', action => {status => 429, body => 'quota'}});
GeminiPool::chat('{"messages":[{"role":"user","content":"y"}]}');
--- config
    location /v1/ { gemini_pool_api; }
    location /health { gemini_pool_health; }
--- request
GET /health?detail=1
--- response_body_filters eval
\&GeminiPool::pool_summary
--- response_body
acc1 expired=0 text=midnight images=0 videos=0
acc2 expired=0 text=0 images=0 videos=0
acc3 expired=0 text=0 images=0 videos=0



=== TEST 5: a widget 401 sets the account aside as cookie-expired
--- init
GeminiPool::mock_post('/__mock/inject', {account => 'acc1', endpoint => 'createSession', action => {status => 401, body => {error => {code => 401, message => 'Request had invalid authentication credentials.', status => 'UNAUTHENTICATED'}}}});
GeminiPool::chat('{"messages":[{"role":"user","content":"y"}]}');
--- config
    location /v1/ { gemini_pool_api; }
    location /health { gemini_pool_health; }
--- request
GET /health?detail=1
--- response_body_filters eval
\&GeminiPool::pool_summary
--- response_body
acc1 expired=1 text=0 images=0 videos=0
acc2 expired=0 text=0 images=0 videos=0
acc3 expired=0 text=0 images=0 videos=0


=== TEST 6: a 5xx cools for 30 s
--- init
GeminiPool::mock_post('/__mock/inject', {account => 'acc1', endpoint => 'streamAssist', action => {status => 503, body => 'down'}});
GeminiPool::chat('{"messages":[{"role":"user","content":"y"}]}');
--- config
    location /v1/ { gemini_pool_api; }
    location /health { gemini_pool_health; }
--- request
GET /health?detail=1
--- response_body_filters eval
\&GeminiPool::pool_summary
--- response_body
acc1 expired=0 text=~30 images=0 videos=0
acc2 expired=0 text=0 images=0 videos=0
acc3 expired=0 text=0 images=0 videos=0


=== TEST 7: after a 5xx the retry omits the model id
--- gp_setup
mock_post('/__mock/inject', {account => 'acc1', endpoint => 'streamAssist', action => {status => 500, body => 'Internal error'}});
--- config
    location /v1/ { gemini_pool_api; }
    location /mock/ { proxy_pass http://127.0.0.1:$TEST_NGINX_MOCK_PORT/__mock/; }
--- request eval
["POST /v1/chat/completions\n{\"model\":\"gemini-2.5-pro\",\"messages\":[{\"role\":\"user\",\"content\":\"pro\"}]}",
 "GET /mock/requests?endpoint=streamAssist"]
--- response_body_like eval
[qr/"model":"gemini-2\.5-pro"/,
 qr/"account":\s*"acc1".*?"modelId":\s*"gemini-2\.5-pro".*"account":\s*"acc2"(?:(?!assistGenerationConfig).)*\z/s]


=== TEST 8: a connection reset cools for 120 s and fails over
--- init
GeminiPool::mock_post('/__mock/inject', {account => 'acc1', endpoint => 'streamAssist', times => 5, action => {reset => \1}});
GeminiPool::chat('{"messages":[{"role":"user","content":"y"}]}');
--- config
    location /v1/ { gemini_pool_api; }
    location /health { gemini_pool_health; }
--- request
GET /health?detail=1
--- response_body_filters eval
\&GeminiPool::pool_summary
--- response_body
acc1 expired=0 text=~120 images=0 videos=0
acc2 expired=0 text=0 images=0 videos=0
acc3 expired=0 text=0 images=0 videos=0


=== TEST 9: a first-byte timeout cools for 120 s, and the next account answers
--- http_config
    gemini_pool_stream_timeout 300ms;
--- gp_setup
mock_post('/__mock/inject', {account => 'acc1', endpoint => 'streamAssist', action => {delay_ms => 1500}});
--- config
    location /v1/ { gemini_pool_api; }
    location /health { gemini_pool_health; }
--- request eval
["POST /v1/chat/completions\n{\"messages\":[{\"role\":\"user\",\"content\":\"patience\"}]}",
 "GET /health?detail=1"]
--- response_body_filters eval
sub { $_[0] =~ /^\{"status"/ ? GeminiPool::pool_summary($_[0]) : ($_[0] =~ /echo: patience/ ? "answered\n" : $_[0]) }
--- response_body eval
["answered\n",
 "acc1 expired=0 text=~120 images=0 videos=0\nacc2 expired=0 text=0 images=0 videos=0\nacc3 expired=0 text=0 images=0 videos=0\n"]


=== TEST 10: thoughts only: the next account, no cooldown
--- gp_setup
mock_post('/__mock/inject', {account => 'acc1', endpoint => 'streamAssist', action => {directives => 'MOCK:thought_only'}});
--- config
    location /v1/ { gemini_pool_api; }
    location /health { gemini_pool_health; }
--- request eval
["POST /v1/chat/completions\n{\"messages\":[{\"role\":\"user\",\"content\":\"think\"}]}",
 "GET /health?detail=1"]
--- response_body_filters eval
sub { $_[0] =~ /^\{"status"/ ? GeminiPool::pool_summary($_[0]) : ($_[0] =~ /echo: think/ ? "answered\n" : $_[0]) }
--- response_body eval
["answered\n",
 "acc1 expired=0 text=0 images=0 videos=0\nacc2 expired=0 text=0 images=0 videos=0\nacc3 expired=0 text=0 images=0 videos=0\n"]


=== TEST 11: a follow-up turn goes to the same account and session with only the new turn
--- gp_setup
# the calls counted are the turns' own: no spare sessions of the helper
setting('spare_sessions', 'int', '0');
--- config
    location /v1/ { gemini_pool_api; }
    location /mock/ { proxy_pass http://127.0.0.1:$TEST_NGINX_MOCK_PORT/__mock/; }
--- request eval
["POST /v1/chat/completions\n{\"messages\":[{\"role\":\"user\",\"content\":\"first question\"}]}",
 "POST /v1/chat/completions\n{\"messages\":[{\"role\":\"user\",\"content\":\"other conversation\"}]}",
 "POST /v1/chat/completions\n" . '{"messages":[{"role":"user","content":"first question"},{"role":"assistant","content":"echo: first question\n-- mock tail: \"quoted\" {brace} [bracket] ]} back\\\\slash é 中文 🚀 ✓ end."},{"role":"user","content":"second question"}]}',
 "GET /mock/stats",
 "GET /mock/requests?endpoint=streamAssist"]
--- response_body_like eval
[qr/echo: first question/, qr/echo: other/, qr/"content":"echo: second question\\n/,
 qr/"createSession":\s*\{\s*"acc1":\s*1,\s*"acc2":\s*1\s*\}/s,
 qr/"account":\s*"acc1",.*"query_text":\s*"first question",.*"session":\s*"([^"]+)".*"account":\s*"acc2".*"account":\s*"acc1",.*"query_text":\s*"second question",.*"session":\s*"\1"/s]
--- response_headers_like eval
["", "", "X-Conversation: follow-up", "", ""]
--- more_headers
X-Dummy: 1
--- config
    location /v1/ {
        add_header X-Conversation $gemini_pool_conversation;
        gemini_pool_api;
    }
    location /mock/ { proxy_pass http://127.0.0.1:$TEST_NGINX_MOCK_PORT/__mock/; }


=== TEST 12: an unknown history starts a new session and replays the earlier turns
--- config
    location /v1/ {
        add_header X-Conversation $gemini_pool_conversation;
        gemini_pool_api;
    }
    location /mock/ { proxy_pass http://127.0.0.1:$TEST_NGINX_MOCK_PORT/__mock/; }
--- request eval
["POST /v1/chat/completions\n" . '{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"my name is Ada"},{"role":"assistant","content":"Hello Ada"},{"role":"user","content":"what is my name?"}]}',
 "GET /mock/requests?endpoint=streamAssist"]
--- response_headers_like eval
["X-Conversation: replay", ""]
--- response_body_like eval
[qr/echo: /,
 qr/"query_text":\s*"\[System Instruction\]\\nBe brief\.\\n\\n\[User Message\]\\n[^"]*User: my name is Ada\\n\\nAssistant: Hello Ada\\n\\n[^"]*what is my name\?"/s]


=== TEST 13: an explicit conversation_id keeps the session, whatever the history
--- gp_setup
# the calls counted are the turns' own: no spare sessions of the helper
setting('spare_sessions', 'int', '0');
--- config
    location /v1/ { gemini_pool_api; }
    location /mock/ { proxy_pass http://127.0.0.1:$TEST_NGINX_MOCK_PORT/__mock/; }
--- request eval
["POST /v1/chat/completions\n{\"conversation_id\":\"c-42\",\"messages\":[{\"role\":\"user\",\"content\":\"one\"}]}",
 "POST /v1/chat/completions\n{\"conversation_id\":\"c-42\",\"messages\":[{\"role\":\"user\",\"content\":\"one\"},{\"role\":\"assistant\",\"content\":\"paraphrased\"},{\"role\":\"user\",\"content\":\"two\"}]}",
 "GET /mock/stats"]
--- response_body_like eval
[qr/echo: one/, qr/"content":"echo: two\\n/,
 qr/"createSession":\s*\{\s*"acc1":\s*1\s*\}.*"streamAssist":\s*\{\s*"acc1":\s*2\s*\}/s]


=== TEST 14: when the bound account fails the turn moves, with the history replayed
--- gp_setup
mock_post('/__mock/inject', {account => 'acc1', endpoint => 'streamAssist', skip => 1, action => {status => 401, body => {error => {code => 401, message => 'Session is not owned by the provided user.', status => 'UNAUTHENTICATED'}}}});
--- config
    location /v1/ { gemini_pool_api; }
    location /health { gemini_pool_health; }
    location /mock/ { proxy_pass http://127.0.0.1:$TEST_NGINX_MOCK_PORT/__mock/; }
--- request eval
["POST /v1/chat/completions\n{\"conversation_id\":\"c-7\",\"messages\":[{\"role\":\"user\",\"content\":\"one\"}]}",
 "POST /v1/chat/completions\n{\"conversation_id\":\"c-7\",\"messages\":[{\"role\":\"user\",\"content\":\"one\"},{\"role\":\"assistant\",\"content\":\"ok\"},{\"role\":\"user\",\"content\":\"two\"}]}",
 "GET /mock/requests?endpoint=streamAssist",
 "GET /health?detail=1"]
--- response_body_filters eval
sub { $_[0] =~ /^\{"status"/ ? GeminiPool::pool_summary($_[0]) : $_[0] }
--- response_body_like eval
[qr/echo: one/, qr/echo: User: one\\n\\nAssistant: ok\\n\\n[^"]*two/,
 qr/"account":\s*"acc1".*"status":\s*401.*"account":\s*"acc2",.*"query_text":\s*"User: one\\n\\nAssistant: ok\\n\\n[^"]*two"/s,
 qr/\Aacc1 expired=0 text=0 images=0 videos=0\nacc2 expired=0 text=0/]


=== TEST 15: a model pinned to an account always uses it
--- gp_setup
sql("UPDATE models SET account_id = 3 WHERE name = 'gemini-2.5-pro'");
--- config
    location /v1/ { gemini_pool_api; }
    location /mock/ { proxy_pass http://127.0.0.1:$TEST_NGINX_MOCK_PORT/__mock/; }
--- request eval
[("POST /v1/chat/completions\n{\"model\":\"gemini-2.5-pro\",\"messages\":[{\"role\":\"user\",\"content\":\"pin\"}]}") x 3,
 "GET /mock/stats"]
--- response_body_like eval
[(qr/echo: pin/) x 3, qr/"streamAssist":\s*\{\s*"acc3":\s*3\s*\}/s]


=== TEST 16: thoughts come back as reasoning_content when show_thoughts is on
--- gp_setup
GeminiPool::setting('show_thoughts', 'bool', 'true');
--- config
    location /v1/ { gemini_pool_api; }
--- request
POST /v1/chat/completions
{"messages":[{"role":"user","content":"why"}]}
--- response_body_like: "content":"echo: why\\n.*","reasoning_content":"Thinking about it\.\.\."\},"finish_reason":"stop"


=== TEST 17: thoughts are dropped by default
--- config
    location /v1/ { gemini_pool_api; }
--- request
POST /v1/chat/completions
{"messages":[{"role":"user","content":"why"}]}
--- response_body_unlike: reasoning


=== TEST 18: variables for log_format name the account, attempts, status and model
--- gp_setup
mock_post('/__mock/inject', {account => 'acc1', endpoint => 'streamAssist', action => {status => 429, body => 'quota'}});
--- config
    location /v1/ {
        add_header X-Account $gemini_pool_account;
        add_header X-Attempts $gemini_pool_attempts;
        add_header X-Upstream-Status $gemini_pool_upstream_status;
        add_header X-Model $gemini_pool_model;
        add_header X-TTFB $gemini_pool_ttfb;
        gemini_pool_api;
    }
--- request
POST /v1/chat/completions
{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"vars"}]}
--- response_headers
X-Account: acc2
X-Attempts: 2
X-Upstream-Status: 200
X-Model: gemini-2.5-flash
--- response_headers_like
X-TTFB: ^\d+\.\d{3}$


=== TEST 19: max_attempts limits the failover
--- gp_setup
GeminiPool::setting('max_attempts', 'int', '1');
mock_post('/__mock/inject', {account => 'acc1', endpoint => 'streamAssist', action => {status => 500, body => 'down'}});
--- config
    location /v1/ { gemini_pool_api; }
--- request
POST /v1/chat/completions
{"messages":[{"role":"user","content":"once"}]}
--- error_code: 502
--- error_log
giving up (attempt 1 of 1)


=== TEST 20: least_in_flight is accepted and serves requests
--- gp_setup
GeminiPool::setting('selection_strategy', 'string', 'least_in_flight');
--- config
    location /v1/ { gemini_pool_api; }
--- request
POST /v1/chat/completions
{"messages":[{"role":"user","content":"lif"}]}
--- response_body_like: echo: lif
--- no_error_log
invalid value


=== TEST 21: a long answer after a createSession with a short limit is not cut (reused easy handles keep no old timeout)
--- http_config
    gemini_pool_session_timeout 1s;
--- config
    location /v1/ { gemini_pool_api; }
--- request eval
["POST /v1/chat/completions\n{\"messages\":[{\"role\":\"user\",\"content\":\"slow one MOCK:gap=300\"}]}",
 "POST /v1/chat/completions\n{\"messages\":[{\"role\":\"user\",\"content\":\"slow two MOCK:gap=300\"}]}"]
--- response_body_like eval
["echo: slow one", "echo: slow two"]
--- no_error_log
timed out
