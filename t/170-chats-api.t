# The console chat page's conversations in the admin API (issue 15, item
# 1): kept in SQLite per owner (the admin), listed newest first and
# searched in titles and text, created with or without messages, read
# with their messages in order, renamed, appended to, deleted; bad
# bodies and unknown ids answered with JSON errors; nothing without a
# login.  In Test::Nginx blocks, so that they also run under valgrind.

use lib 't/lib';
BEGIN { $ENV{ADMIN_SECRET_KEY} = 'chats-admin-secret-0123456789' }
use Test::Nginx::Socket 'no_plan';
use GeminiPool;

no_long_string();
log_level('info');
run_tests();

__DATA__

=== TEST 1: create, read, list, search, rename, append, delete
--- gp_setup
sql("DELETE FROM chat_messages; DELETE FROM chats");
sql("DELETE FROM sqlite_sequence WHERE name IN ('chats', 'chat_messages')");
--- config
    location /api/ { gemini_pool_admin; }
--- more_headers
X-Admin-Token: chats-admin-secret-0123456789
--- request eval
["GET /api/chats",
 "POST /api/chats\n{}",
 "POST /api/chats\n{\"model\":\"gemini-2.5-flash\",\"messages\":["
   . "{\"role\":\"user\",\"content\":\"What is a zebra?\\nTell me.\"},"
   . "{\"role\":\"assistant\",\"content\":\"A **striped** horse.\","
   . "\"reasoning\":\"think of stripes\"}]}",
 "GET /api/chats/2",
 "GET /api/chats",
 "GET /api/chats?q=STRIPED",
 "GET /api/chats?q=zeb",
 "GET /api/chats?q=nothing+like+this",
 "PATCH /api/chats/1\n{\"title\":\"Renamed <b>chat</b>\"}",
 "POST /api/chats/1/messages\n{\"messages\":[{\"role\":\"user\","
   . "\"content\":\"draw a cat\",\"attachments\":[{\"type\":\"image\","
   . "\"name\":\"cat.png\"}]},{\"role\":\"assistant\",\"content\":"
   . "\"![image](/image/abc.png)\"}]}",
 "PATCH /api/chats/2\n{\"model\":\"gemini-2.5-pro\"}",
 "GET /api/chats?q=renamed",
 "DELETE /api/chats/2",
 "GET /api/chats/2",
 "GET /api/chats"]
--- error_code eval
[200, 201, 201, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 404, 200]
--- response_body_like eval
[qr/^\{"chats":\[\]\}$/,
 qr/^\{"id":1,"title":"","model":"","created_at":\d+,"updated_at":\d+,"messages":\[\]\}$/,
 qr/^\{"id":2,"title":"What is a zebra\? Tell me\.","model":"gemini-2\.5-flash",.*"messages":\[\{"id":1,"role":"user","content":"What is a zebra\?\\nTell me\.","created_at":\d+\},\{"id":2,"role":"assistant","content":"A \*\*striped\*\* horse\.","created_at":\d+,"reasoning":"think of stripes"\}\]\}$/,
 qr/^\{"id":2,.*"messages":\[\{"id":1,.*\{"id":2,"role":"assistant"/,
 qr/^\{"chats":\[\{"id":2,"title":"What is a zebra\? Tell me\.","model":"gemini-2\.5-flash","created_at":\d+,"updated_at":\d+,"messages":2\},\{"id":1,"title":"",.*"messages":0\}\]\}$/,
 qr/^\{"chats":\[\{"id":2,[^\]]*\]\}$/,
 qr/^\{"chats":\[\{"id":2,[^\]]*\]\}$/,
 qr/^\{"chats":\[\]\}$/,
 qr/^\{"id":1,"title":"Renamed <b>chat<\/b>","model":"",.*"messages":\[\]\}$/,
 qr/^\{"id":1,"title":"Renamed <b>chat<\/b>",.*"messages":\[\{"id":3,"role":"user","content":"draw a cat","created_at":\d+,"attachments":\[\{"type":"image","name":"cat\.png"\}\]\},\{"id":4,"role":"assistant","content":"!\[image\]\(\/image\/abc\.png\)","created_at":\d+\}\]\}$/,
 qr/^\{"id":2,"title":"What is a zebra\? Tell me\.","model":"gemini-2\.5-pro",.*"messages":\[\{"id":1,/,
 qr/^\{"chats":\[\{"id":1,"title":"Renamed <b>chat<\/b>",[^\]]*"messages":2\}\]\}$/,
 qr/^\{"success":true\}$/,
 qr/^\{"error":\{"message":"no chat \\"2\\"","code":"not_found"\}\}$/,
 qr/^\{"chats":\[\{"id":1,[^\]]*\]\}$/]
--- no_error_log
[alert]
[crit]
[error]


=== TEST 2: bad bodies and unknown ids: JSON errors, nothing stored
--- gp_setup
sql("DELETE FROM chat_messages; DELETE FROM chats");
sql("DELETE FROM sqlite_sequence WHERE name = 'chats'");
sql("INSERT INTO chats (id, title, created_at, updated_at) VALUES (1, 'kept', 1, 1)");
--- config
    location /api/ { gemini_pool_admin; }
--- more_headers
X-Admin-Token: chats-admin-secret-0123456789
--- request eval
["POST /api/chats\n[1, 2]",
 "POST /api/chats\n{\"title\": \"x\",",
 "POST /api/chats\n{\"title\":5}",
 "POST /api/chats\n{\"messages\":{}}",
 "POST /api/chats\n{\"messages\":[{\"role\":\"system\",\"content\":\"x\"}]}",
 "POST /api/chats\n{\"messages\":[{\"role\":\"user\"}]}",
 "POST /api/chats\n{\"messages\":[{\"role\":\"user\",\"content\":\"x\",\"html\":\"<b>\"}]}",
 "POST /api/chats\n{\"messages\":[{\"role\":\"user\",\"content\":\"x\",\"attachments\":\"a\"}]}",
 "POST /api/chats\n{\"messages\":[{\"role\":\"user\",\"content\":\"x\",\"reasoning\":[]}]}",
 "POST /api/chats\n{\"title\":\"" . ("x" x 201) . "\"}",
 "POST /api/chats/1/messages\n{}",
 "POST /api/chats/1/messages\n{\"messages\":[]}",
 "POST /api/chats/9/messages\n{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
 "PATCH /api/chats/1\n{}",
 "PATCH /api/chats/9\n{\"title\":\"x\"}",
 "PATCH /api/chats/abc\n{\"title\":\"x\"}",
 "DELETE /api/chats/9",
 "GET /api/chats/0",
 "PUT /api/chats/1\n{}",
 "GET /api/chats"]
--- error_code eval
[400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 404, 400, 404, 404, 404, 404, 405, 200]
--- response_body_like eval
[qr/^\{"error":\{"message":"[^"]+","code":"invalid_json"\}\}$/,
 qr/^\{"error":\{"message":"[^"]+","code":"invalid_json"\}\}$/,
 qr/"message":"\\"title\\" must be a string of at most 200 bytes","code":"invalid_value"/,
 qr/"message":"\\"messages\\" must be an array of 1 to 200 messages","code":"invalid_value"/,
 qr/"message":"messages\[0\]\.role must be \\"user\\" or \\"assistant\\"","code":"invalid_value"/,
 qr/"message":"messages\[0\]\.content must be a string","code":"invalid_value"/,
 qr/"message":"messages\[0\] has an unknown field \\"html\\"","code":"invalid_value"/,
 qr/"message":"messages\[0\]\.attachments must be an array of at most 32 items"/,
 qr/"message":"messages\[0\]\.reasoning must be a string"/,
 qr/"code":"invalid_value"/,
 qr/"message":"\\"messages\\" is required: an array of messages","code":"missing_field"/,
 qr/"message":"\\"messages\\" must be an array of 1 to 200 messages"/,
 qr/^\{"error":\{"message":"no chat \\"9\\"","code":"not_found"\}\}$/,
 qr/"message":"send \\"title\\" or \\"model\\"","code":"missing_field"/,
 qr/"code":"not_found"/,
 qr/"message":"no chat \\"abc\\"","code":"not_found"/,
 qr/"code":"not_found"/,
 qr/"code":"not_found"/,
 qr/"error":\{/,
 qr/^\{"chats":\[\{"id":1,"title":"kept",[^\]]*"messages":0\}\]\}$/]
--- no_error_log
[alert]
[crit]


=== TEST 3: nothing without a login; the cookie's writes need this Origin
--- config
    location /api/ { gemini_pool_admin; }
--- request eval
["GET /api/chats",
 "POST /api/chats\n{}",
 "GET /api/chats/1",
 "DELETE /api/chats/1",
 "POST /api/chats/token\n{}"]
--- error_code eval
[401, 401, 401, 401, 401]
--- response_body_like eval
[qr/"code":"unauthorized"/, qr/"code":"unauthorized"/,
 qr/"code":"unauthorized"/, qr/"code":"unauthorized"/,
 qr/"code":"unauthorized"/]


=== TEST 4: the admin secret has no session: no chat credential for it
--- config
    location /api/ { gemini_pool_admin; }
--- more_headers
X-Admin-Token: chats-admin-secret-0123456789
--- request eval
["POST /api/chats/token\n{}"]
--- error_code eval
[403]
--- response_body_like eval
[qr/^\{"error":\{"message":"a chat credential belongs to a console session: log in first","code":"no_session"\}\}$/]
