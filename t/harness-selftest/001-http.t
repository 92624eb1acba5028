# Self-test of the Test::Nginx harness: requests, responses, headers.
# Uses stock nginx directives only (no ngx_gemini_pool needed).
# Must pass under the compat Test::Nginx (t/lib/compat) and the real one.

use Test::Nginx::Socket;

repeat_each(2);

# TEST_NGINX_SELFTEST_WORKERS=2 re-runs this file with a master + 2 workers
if (my $w = $ENV{TEST_NGINX_SELFTEST_WORKERS}) {
    master_on();
    workers($w);
}

plan tests => repeat_each() * (blocks() * 2 + 15);

$ENV{TEST_NGINX_SELFTEST_GREETING} = 'howdy';

run_tests();

__DATA__

=== TEST 1: plain return, headers, absent header
--- config
    location = /t {
        add_header X-Foo bar;
        add_header X-Num 42;
        return 200 "hello\n";
    }
--- request
GET /t
--- response_headers
X-Foo: bar
!X-Absent
--- response_body
hello



=== TEST 2: response_headers_like and raw_response_headers_like
--- config
    location = /t {
        add_header X-Version v1.22;
        return 200 "ok";
    }
--- request
GET /t
--- response_headers_like
X-Version: v\d+\.\d+
Content-Type: text/plain
--- raw_response_headers_like: ^HTTP/1\.1 200 OK\r\n.*Content-Length: 2\r\n
--- response_body chomp
ok



=== TEST 3: chunked response is decoded
--- config
    location = /t {
        sub_filter_types text/plain;
        sub_filter 'world' 'nginx';
        sub_filter_once off;
        return 200 "hello world\nbye world\n";
    }
--- request
GET /t
--- raw_response_headers_like: Transfer-Encoding: chunked\r\n
--- response_body
hello nginx
bye nginx



=== TEST 4: error_code and response_body_like
--- config
--- request
GET /does/not/exist
--- error_code: 404
--- response_body_like: 404 Not Found



=== TEST 5: redirect, $ServerPort in expected headers
--- config
    location = /old {
        return 302 /new;
    }
--- request
GET /old
--- error_code: 302
--- response_headers
Location: http://localhost:$ServerPort/new
--- response_body_like: 302 Found



=== TEST 6: POST body, more_headers, proxy_pass to another location
--- config
    location = /front {
        proxy_set_header X-Body $request_body;
        proxy_set_header X-Len $http_content_length;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/back;
    }
    location = /back {
        return 200 "body=[$http_x_body] len=$http_x_len ua=$http_user_agent\n";
    }
--- more_headers
User-Agent: selftest/1.0
X-Ignored: yes
--- request
POST /front
hello world
--- response_body
body=[hello world] len=11 ua=selftest/1.0



=== TEST 7: request eval with several requests, array expectations
--- config
    location /a {
        return 200 "A\n";
    }
    location /b {
        return 201 "B\n";
    }
--- request eval
["GET /a", "GET /b"]
--- error_code eval
[200, 201]
--- response_body eval
["A\n", "B\n"]



=== TEST 8: request split into packets
--- config
    location = /front {
        proxy_set_header X-Body $request_body;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/back;
    }
    location = /back {
        return 200 "body=[$http_x_body]\n";
    }
--- request eval
[["POST /front\nhel", {value => "lo, there", delay_before => 0.1}]]
--- response_body
body=[hello, there]



=== TEST 9: HEAD request and HTTP/1.0
--- config
    location = /t {
        return 200 "some body\n";
    }
--- request eval
["HEAD /t", "GET /t HTTP/1.0"]
--- response_body eval
["", "some body\n"]
--- response_headers eval
["Content-Length: 10", "Content-Length: 10"]



=== TEST 10: pipelined requests on one keep-alive connection
--- config
    location /p {
        return 200 "uri=$uri conn=$connection_requests\n";
    }
--- pipelined_requests eval
["GET /p1", "GET /p2"]
--- response_body eval
["uri=/p1 conn=1\n", "uri=/p2 conn=2\n"]



=== TEST 11: user_files are served from html/
--- config
    location /static/ {
        root $TEST_NGINX_SERVER_ROOT/html;
    }
--- user_files
>>> static/a.txt
file a
>>> static/b.txt
server root is $TEST_NGINX_SERVER_ROOT
--- request eval
["GET /static/a.txt", "GET /static/b.txt"]
--- response_body eval
["file a\n", "server root is $ENV{TEST_NGINX_SERVER_ROOT}\n"]



=== TEST 12: TEST_NGINX_* variables in config and expected body
--- config
    location = /t {
        return 200 "$TEST_NGINX_SELFTEST_GREETING from $server_port\n";
    }
--- request
    # comments before the request line are allowed
    GET /t
--- response_body
$TEST_NGINX_SELFTEST_GREETING from $TEST_NGINX_SERVER_PORT



=== TEST 13: raw_request
--- config
    location = /t {
        return 200 "raw $http_x_raw\n";
    }
--- raw_request eval
"GET /t HTTP/1.1\r
Host: localhost\r
X-Raw: yes\r
Connection: close\r
\r
"
--- response_body
raw yes



=== TEST 14: http_config and main_config sections
--- main_config
    worker_rlimit_nofile 1024;
--- http_config
    map $arg_x $selftest_mapped {
        default  "other";
        1        "one";
    }
--- config
    location = /t {
        return 200 "$selftest_mapped\n";
    }
--- request
GET /t?x=1
--- response_body
one



=== TEST 15: response_body_unlike, error_code_like
--- config
    location = /t {
        return 200 "nothing to see\n";
    }
--- request
GET /t
--- error_code_like: ^2\d\d$
--- response_body_unlike: error



=== TEST 16: timeout with abort does not fail
--- config
    location = /slow.txt {
        root $TEST_NGINX_SERVER_ROOT/html;
        limit_rate 1;
    }
--- user_files
>>> slow.txt
abcdef
--- request
GET /slow.txt
--- timeout: 300ms
--- abort
--- ignore_response
