# Input images in chat messages: data: URLs, the reference's image parts,
# remote URLs behind the fetch guard, upstream file ids; uploads with
# widgetAddContextFile into the session of the turn; the errors.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use GeminiPool;

# a 1x1 PNG: 70 bytes, sha256 497790947d46...
$::PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhf'
         . 'DwAChwGA60e6kgAAAABJRU5ErkJggg==';
$::MOCK = "127.0.0.1:$ENV{TEST_NGINX_MOCK_PORT}";
$::LOCAL = "localhost:$ENV{TEST_NGINX_MOCK_PORT}";

sub img_chat {
    my ($part, %o) = @_;
    my $stream = $o{stream} ? '"stream":true,' : '';
    return "POST /v1/chat/completions\n"
        . "{$stream\"messages\":[{\"role\":\"user\",\"content\":["
        . "{\"type\":\"text\",\"text\":\"" . ($o{text} // 'what is it') . "\"},"
        . "$part]}]}";
}

sub url_part {
    my ($url) = @_;
    return "{\"type\":\"image_url\",\"image_url\":{\"url\":\"$url\"}}";
}

no_long_string();
no_shuffle();
$::PNG .= ''; $::MOCK .= ''; $::LOCAL .= '';
log_level('info');
run_tests();

__DATA__

=== TEST 1: an image_url part with a data: URL is uploaded into the turn's session
--- config
    location /v1/ { gemini_pool_api; }
    location /mock/ { proxy_pass http://127.0.0.1:$TEST_NGINX_MOCK_PORT/__mock/; }
--- request eval
[main::img_chat(main::url_part("data:image/png;base64,$::PNG")),
 "GET /mock/requests?endpoint=addContextFile",
 "GET /mock/requests?endpoint=streamAssist"]
--- error_code eval
[200, 200, 200]
--- response_body_like eval
[qr/"content":"echo: what is it \[attached: image\/png 70 bytes sha256:497790947d46\]\\n-- mock tail/,
 qr/"fileName":\s*"inline_[0-9a-f]{8}\.png".*"mimeType":\s*"image\/png".*"size":\s*70/s,
 qr/"file_ids":\s*\[\s*"\d{19}"\s*\]/s]
--- no_error_log
[error]


=== TEST 2: the reference's {"type":"image","data"} part and an upstream file id in one message
--- config
    location /v1/ { gemini_pool_api; }
    location /mock/ { proxy_pass http://127.0.0.1:$TEST_NGINX_MOCK_PORT/__mock/; }
--- request eval
[main::img_chat("{\"type\":\"image\",\"data\":\"data:image/png;base64,$::PNG\"}"),
 "GET /mock/requests?endpoint=streamAssist"]
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/"content":"echo: what is it \[attached: image\/png 70 bytes sha256:497790947d46\]\\n/,
 qr/"file_ids":\s*\[\s*"\d{19}"\s*\]/s]


=== TEST 3: a remote http URL allowed by gemini_pool_fetch_allow is fetched and uploaded
--- http_config
    gemini_pool_fetch_allow 127.0.0.1;
--- config
    location /v1/ { gemini_pool_api; }
    location /mock/ { proxy_pass http://127.0.0.1:$TEST_NGINX_MOCK_PORT/__mock/; }
--- request eval
[main::img_chat(main::url_part("http://$::MOCK/remote/cat.png")),
 "GET /mock/requests?endpoint=remote",
 "GET /mock/requests?endpoint=addContextFile"]
--- error_code eval
[200, 200, 200]
--- response_body_like eval
[qr/"content":"echo: what is it \[attached: image\/png 1\d\d bytes sha256:[0-9a-f]{12}\]\\n/,
 qr/"path":\s*"\/remote\/cat\.png".*"ngx_gemini_pool\//s,
 qr/"fileName":\s*"url_[0-9a-f]{8}\.png"/]


=== TEST 4: the fetch guard refuses a loopback URL: no connection is made
--- config
    location /v1/ { gemini_pool_api; }
    location /mock/ { proxy_pass http://127.0.0.1:$TEST_NGINX_MOCK_PORT/__mock/; }
--- request eval
[main::img_chat(main::url_part("http://$::MOCK/remote/cat.png")),
 "GET /mock/stats"]
--- error_code eval
[400, 200]
--- response_body_like eval
[qr/^\{"error":\{"message":"The image URL http:\/\/127\.0\.0\.1:\d+\/remote\/cat\.png was refused: 127\.0\.0\.1 is a loopback address \(gemini_pool_fetch_allow can permit it\)","type":"invalid_request_error","param":"messages","code":"invalid_image_url"\}\}$/,
 qr/^(?!.*"remote")(?!.*"addContextFile")(?!.*"streamAssist").*"counts"/s]


=== TEST 5: metadata, private, IPv6 loopback addresses, and names that resolve to them, are refused too
--- config
    location /v1/ { gemini_pool_api; }
--- request eval
[main::img_chat(main::url_part("http://169.254.169.254/latest/meta-data/")),
 main::img_chat(main::url_part("http://10.1.2.3/a.png")),
 main::img_chat(main::url_part("http://[::1]:1/a.png")),
 main::img_chat(main::url_part("http://[::ffff:127.0.0.1]:1/a.png")),
 main::img_chat(main::url_part("http://localhost:1/a.png"))]
--- error_code eval
[400, 400, 400, 400, 400]
--- response_body_like eval
[qr/refused: 169\.254\.169\.254 is a metadata address/,
 qr/refused: 10\.1\.2\.3 is a private address/,
 qr/refused: ::1 is a loopback address/,
 qr/refused: ::ffff:127\.0\.0\.1 is a loopback address/,
 qr/The image URL http:\/\/localhost:1\/a\.png was refused: (127\.0\.0\.1|::1) is a loopback address/]


=== TEST 6: a host allowed by name works while its address stays refused
--- http_config
    gemini_pool_fetch_allow localhost;
--- config
    location /v1/ { gemini_pool_api; }
--- request eval
[main::img_chat(main::url_part("http://$::LOCAL/remote/dog.png")),
 main::img_chat(main::url_part("http://$::MOCK/remote/dog.png"))]
--- error_code eval
[200, 400]
--- response_body_like eval
[qr/\[attached: image\/png 1\d\d bytes/,
 qr/127\.0\.0\.1 is a loopback address/]


=== TEST 7: a redirect is judged again: an allowed host cannot bounce to a refused address
--- http_config
    gemini_pool_fetch_allow localhost;
--- config
    location /v1/ { gemini_pool_api; }
--- request eval
main::img_chat(main::url_part("http://$::LOCAL/remote/a.png?redirect=http://$::MOCK/remote/b.png"))
--- error_code: 400
--- response_body_like: The image URL http://127\.0\.0\.1:\d+/remote/b\.png was refused: 127\.0\.0\.1 is a loopback address


=== TEST 8: a network allowed by CIDR; redirects within it are followed
--- http_config
    gemini_pool_fetch_allow 127.0.0.0/8 ::1;
--- config
    location /v1/ { gemini_pool_api; }
--- request eval
main::img_chat(main::url_part("http://$::MOCK/remote/a.png?redirect=/remote/b.jpg"))
--- error_code: 200
--- response_body_like: \[attached: image/jpeg 45 bytes


=== TEST 9: images over gemini_pool_fetch_max_size (one, or all of a request) are a clear 400, with or without Content-Length
--- http_config
    gemini_pool_fetch_allow 127.0.0.1;
    gemini_pool_fetch_max_size 4k;
--- config
    location /v1/ { gemini_pool_api; }
--- request eval
[main::img_chat(main::url_part("http://$::MOCK/remote/big.png?size=5000")),
 main::img_chat(main::url_part("http://$::MOCK/remote/big.png?size=100000&chunked=1")),
 main::img_chat(main::url_part("http://$::MOCK/remote/small.png?size=4000")),
 main::img_chat(main::url_part("http://$::MOCK/remote/a.png?size=3000") . ","
                . main::url_part("http://$::MOCK/remote/b.png?size=3000"))]
--- error_code eval
[400, 400, 200, 400]
--- response_body_like eval
[qr/"message":"The image at http:[^"]+ is larger than gemini_pool_fetch_max_size \(4096 bytes for all the image URLs of a request\)","type":"invalid_request_error","param":"messages","code":"image_too_large"/,
 qr/"code":"image_too_large"/,
 qr/\[attached: image\/png 4000 bytes/,
 qr/"message":"The image at http:[^"]+b\.png\?size=3000 is larger than gemini_pool_fetch_max_size/]


=== TEST 10: a URL that is not an image, or fails, is a clear 400
--- http_config
    gemini_pool_fetch_allow 127.0.0.1;
    gemini_pool_fetch_timeout 300ms;
--- config
    location /v1/ { gemini_pool_api; }
--- request eval
[main::img_chat(main::url_part("http://$::MOCK/remote/page.html")),
 main::img_chat(main::url_part("http://$::MOCK/remote/gone.png?status=404")),
 main::img_chat(main::url_part("http://$::MOCK/remote/slow.png?delay_ms=2000")),
 main::img_chat(main::url_part("http://$::MOCK/remote/raw?type=application/octet-stream"))]
--- error_code eval
[400, 400, 400, 200]
--- response_body_like eval
[qr/"message":"The image URL [^"]+page\.html returned text\/html, not an image",.*"code":"unsupported_file_type"/,
 qr/"message":"The image URL [^"]+ answered HTTP 404",.*"code":"invalid_image_url"/,
 qr/did not answer within gemini_pool_fetch_timeout \(300 ms\)/,
 qr/\[attached: image\/png 1\d\d bytes/]


=== TEST 11: a type the gateway does not pass on is refused before any upstream call
--- config
    location /v1/ { gemini_pool_api; }
    location /mock/ { proxy_pass http://127.0.0.1:$TEST_NGINX_MOCK_PORT/__mock/; }
--- request eval
[main::img_chat(main::url_part("data:application/zip;base64,UEsDBA==")),
 "GET /mock/stats"]
--- error_code eval
[400, 200]
--- response_body_like eval
[qr/^\{"error":\{"message":"Unsupported file type application\/zip in image 1 of the last user message: send an image, a PDF or text","type":"invalid_request_error","param":"messages","code":"unsupported_file_type"\}\}$/,
 qr/^(?!.*"getoxsrf")(?!.*"addContextFile").*"counts"/s]


=== TEST 12: the upstream's "Unsupported file type" is a 400 without cooldown or failover
--- config
    location /v1/ { gemini_pool_api; }
    location = /health { gemini_pool_health; }
    location /mock/ { proxy_pass http://127.0.0.1:$TEST_NGINX_MOCK_PORT/__mock/; }
--- request eval
[main::img_chat(main::url_part("data:image/bmp;base64,Qk0AAAA=")),
 "GET /health?detail=1",
 "GET /mock/stats"]
--- error_code eval
[400, 200, 200]
--- response_body_like eval
[qr/"message":"widgetAddContextFile answered 400: Unsupported file type: image\/bmp","type":"invalid_request_error","param":"messages","code":"unsupported_file_type"/,
 qr/^(?!.*"cooldown_until":\{"text":[1-9]).*"name":"acc1"/s,
 qr/"addContextFile":\s*\{\s*"acc1":\s*1\s*\}/s]


=== TEST 13: a file the upstream finds too large is a 400 file_too_large
--- gp_setup
mock_post('/__mock/config', {max_upload => 32});
--- config
    location /v1/ { gemini_pool_api; }
--- request eval
main::img_chat(main::url_part("data:image/png;base64,$::PNG"))
--- error_code: 400
--- response_body_like: "message":"The upstream refused a file as too large: widgetAddContextFile answered 413: File exceeds the maximum upload size of 32 bytes\.".*"code":"file_too_large"


=== TEST 14: an upstream file id the session lacks is a 400 file_not_found without cooldown
--- config
    location /v1/ { gemini_pool_api; }
    location = /health { gemini_pool_health; }
    location /mock/ { proxy_pass http://127.0.0.1:$TEST_NGINX_MOCK_PORT/__mock/; }
--- request eval
[main::img_chat("{\"type\":\"file\",\"file_id\":\"1234567890123456789\"}"),
 "GET /health?detail=1",
 "GET /mock/requests?endpoint=streamAssist"]
--- error_code eval
[400, 200, 200]
--- response_body_like eval
[qr/"message":"A file of this message is not in the upstream session \(it may have expired\): widgetStreamAssist answered 400: File with ID \\"1234567890123456789\\" not found",.*"code":"file_not_found"/,
 qr/^(?!.*"cooldown_until":\{"text":[1-9]).*"name":"acc1"/s,
 qr/^\[\s*\{(?!.*"seq":\s*2\b).*"file_ids":\s*\[\s*"1234567890123456789"\s*\]/s]


=== TEST 15: an unknown file-... id is a 400 before any upstream call
--- config
    location /v1/ { gemini_pool_api; }
--- request eval
main::img_chat("{\"type\":\"file\",\"file\":{\"file_id\":\"file-doesnotexist\"}}")
--- error_code: 400
--- response_body_like: ^\{"error":\{"message":"No such file: file-doesnotexist \(upload it with POST /v1/files, or pass an upstream file id\)","type":"invalid_request_error","param":"messages","code":"file_not_found"\}\}$


=== TEST 16: after a failover the images are uploaded again into the new session
--- gp_setup
mock_post('/__mock/inject', {account => 'acc1', endpoint => 'streamAssist',
                             action => {status => 429, body => {error => {code => 429, message => 'quota', status => 'RESOURCE_EXHAUSTED'}}}});
--- config
    location /v1/ { gemini_pool_api; }
    location /mock/ { proxy_pass http://127.0.0.1:$TEST_NGINX_MOCK_PORT/__mock/; }
--- request eval
[main::img_chat(main::url_part("data:image/png;base64,$::PNG")),
 "GET /mock/stats"]
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/\[attached: image\/png 70 bytes sha256:497790947d46\]/,
 qr/"addContextFile":\s*\{\s*"acc1":\s*1,\s*"acc2":\s*1\s*\}.*"streamAssist":\s*\{\s*"acc1":\s*1,\s*"acc2":\s*1\s*\}/s]


=== TEST 17: streamed answers with images and several images in order
--- http_config
    gemini_pool_fetch_allow 127.0.0.1;
--- config
    location /v1/ { gemini_pool_api; }
--- request eval
[main::img_chat(main::url_part("data:image/png;base64,$::PNG") . ","
                . main::url_part("http://$::MOCK/remote/b.jpg"), stream => 1),
 main::img_chat(main::url_part("data:image/png;base64,$::PNG") . ","
                . main::url_part("http://$::MOCK/remote/b.jpg"))]
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/\Adata: .*"content":"echo: what is it \[attached: image\/png.*data: \[DONE\]\n\n\z/s,
 qr/"content":"echo: what is it \[attached: image\/png 70 bytes sha256:497790947d46\] \[attached: image\/jpeg 45 bytes sha256:[0-9a-f]{12}\]\\n/]


=== TEST 18: bad data: URLs and too many images are 400s naming the field
--- config
    location /v1/ { gemini_pool_api; }
--- request eval
[main::img_chat(main::url_part("data:image/png;base64,!!!!")),
 main::img_chat(main::url_part("ftp://example.com/a.png")),
 main::img_chat(CORE::join(",", (main::url_part("data:image/png;base64,$::PNG")) x 17))]
--- error_code eval
[400, 400, 400]
--- response_body_like eval
[qr/"code":"invalid_value"/,
 qr/expected a base64 data: URL or an http\(s\) URL/,
 qr/"message":"A message may carry at most 16 images or files; this one has 17",.*"code":"too_many_files"/]


=== TEST 19: a client that goes away during a slow fetch cancels it cleanly
--- http_config
    gemini_pool_fetch_allow 127.0.0.1;
--- config
    location /v1/ { gemini_pool_api; }
--- request eval
main::img_chat(main::url_part("http://$::MOCK/remote/slow.png?delay_ms=3000"))
--- timeout: 0.5
--- abort
--- ignore_response
--- wait: 0.5
--- no_error_log
[alert]
[error]
[crit]


=== TEST 20: the reference's "prompts" input with files
--- config
    location /v1/ { gemini_pool_api; }
--- request eval
"POST /v1/chat/completions\n{\"prompts\":[{\"role\":\"user\",\"text\":\"what is it\",\"files\":[{\"type\":\"image\",\"data\":\"data:image/png;base64,$::PNG\"}]}]}"
--- error_code: 200
--- response_body_like: "content":"echo: what is it \[attached: image/png 70 bytes sha256:497790947d46\]


=== TEST 21: through a proxy the guard judges literal addresses; names are the proxy's
--- http_config eval
"gemini_pool_proxy http://$::MOCK;"
--- config
    location /v1/ { gemini_pool_api; }
    location /mock/ { proxy_pass http://127.0.0.1:$TEST_NGINX_MOCK_PORT/__mock/; }
--- request eval
[main::img_chat(main::url_part("http://10.9.8.7/remote/a.png")),
 main::img_chat(main::url_part("http://localhost/remote/a.png")),
 main::img_chat(main::url_part("http://images.example/remote/cat.png")),
 "GET /mock/requests?endpoint=remote"]
--- error_code eval
[400, 400, 200, 200]
--- response_body_like eval
[qr/refused: 10\.9\.8\.7 is a private address/,
 qr/refused: localhost is a loopback address/,
 qr/\[attached: image\/png 1\d\d bytes/,
 qr/^\[\s*\{[^\]]*"target":\s*"http:\/\/images\.example\/remote\/cat\.png"/s]


=== TEST 22: an allowed IPv4 address holds for its IPv4-mapped IPv6 form too
--- http_config
    gemini_pool_fetch_allow 127.0.0.1;
--- config
    location /v1/ { gemini_pool_api; }
    location /mock/ { proxy_pass http://127.0.0.1:$TEST_NGINX_MOCK_PORT/__mock/; }
--- request eval
[main::img_chat(main::url_part("http://[::ffff:127.0.0.1]:$ENV{TEST_NGINX_MOCK_PORT}/remote/cat.png")),
 "GET /mock/requests?endpoint=remote"]
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/"content":"echo: what is it \[attached: image\/png 1\d\d bytes sha256:[0-9a-f]{12}\]\\n/,
 qr/"path":\s*"\/remote\/cat\.png"/]
--- no_error_log
[error]
