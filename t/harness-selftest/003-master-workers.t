# Self-test of the Test::Nginx harness with a master and two workers.
# Stock nginx only; must pass under the compat and the real Test::Nginx.

use Test::Nginx::Socket;

master_on();
workers(2);
repeat_each(2);

# shutdown_error_log is checked once per block, not per repetition
plan tests => repeat_each() * (blocks() * 2 + 2) + 2;

run_tests();

__DATA__

=== TEST 1: requests are served by worker processes
--- config
    location = /t {
        return 200 "master_on workers=2\n";
    }
--- request
GET /t
--- response_body
master_on workers=2
--- no_error_log
[alert]



=== TEST 2: workers can write temp files under servroot
--- config
    location = /front {
        client_body_in_file_only on;
        proxy_set_header X-Body-File $request_body_file;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/back;
    }
    location = /back {
        return 200 "file=$http_x_body_file\n";
    }
--- request
POST /front
some request body
--- response_body_like: ^file=/.+/client_body_temp/\d+$
--- no_error_log
[crit]



=== TEST 3: worker shutdown is logged
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- response_body
ok
--- shutdown_error_log
gracefully shutting down
exiting
