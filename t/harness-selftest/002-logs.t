# Self-test of the Test::Nginx harness: error log, access log, init,
# block preprocessors, must_die, shutdown_error_log.
# Stock nginx only; must pass under the compat and the real Test::Nginx.

use Test::Nginx::Socket 'no_plan';

repeat_each(2);

# TEST_NGINX_SELFTEST_WORKERS=2 re-runs this file with a master + 2 workers
if (my $w = $ENV{TEST_NGINX_SELFTEST_WORKERS}) {
    master_on();
    workers($w);
}
no_shuffle();

# default --- config for blocks that have none (see TEST 6)
add_block_preprocessor(sub {
    my $block = shift;
    if (!defined $block->config) {
        $block->set_value("config", <<'_END_');
    location = /default {
        return 200 "from preprocessor\n";
    }
_END_
    }
});

run_tests();

__DATA__

=== TEST 1: error_log (string, several lines) and no_error_log
--- config
    location /static/ {
        root $TEST_NGINX_SERVER_ROOT/html;
    }
--- request
GET /static/missing.txt
--- error_code: 404
--- error_log
[error]
No such file or directory
--- no_error_log
[alert]
[crit]



=== TEST 2: error_log eval with regexes
--- config
    location /static/ {
        root $TEST_NGINX_SERVER_ROOT/html;
    }
--- request
GET /static/missing.txt
--- error_code: 404
--- error_log eval
[qr/open\(\) ".*?missing\.txt" failed \(2: No such file or directory\)/,
 "client: 127.0.0.1"]



=== TEST 3: grep_error_log (debug log) for each repetition
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t?a=1
--- grep_error_log eval
qr/http request line: "[^"]*"/
--- grep_error_log_out
http request line: "GET /t?a=1 HTTP/1.1"
--- response_body
ok



=== TEST 4: per-block log_level hides debug lines
--- log_level: warn
--- config
    location = /t {
        return 200 "ok\n";
    }
--- request
GET /t
--- response_body
ok
--- no_error_log
[debug]
[info]



=== TEST 5: access_log / no_access_log
--- config
    location = /t {
        return 204;
    }
--- request
DELETE /t?mark=selftest
--- error_code: 204
--- response_body chomp
--- access_log
"DELETE /t?mark=selftest HTTP/1.1" 204
--- no_access_log
GET /t



=== TEST 6: config from add_block_preprocessor
--- request
GET /default
--- response_body
from preprocessor



=== TEST 7: init runs once per block (after nginx started)
--- config
    location = /init.txt {
        root $TEST_NGINX_SERVER_ROOT/html;
    }
--- init
open my $fh, '>>', "$ENV{TEST_NGINX_SERVER_ROOT}/html/init.txt" or die $!;
print $fh "init ran\n";
close $fh;
--- request
GET /init.txt
--- response_body
init ran



=== TEST 8: must_die with a broken config
--- config
    location = /t {
        return a b c;
    }
--- request
GET /t
--- must_die
--- error_log
[emerg]
invalid number of arguments in "return" directive



=== TEST 9: shutdown_error_log is checked after nginx exits
--- config
    location = /t {
        return 200 "bye\n";
    }
--- request
GET /t
--- response_body
bye
--- shutdown_error_log eval
qr/\[notice\] .*\bexit(?:ing)?$/
--- no_shutdown_error_log
[alert]



=== TEST 10: wait, and a proxied request logs two request lines
--- config
    location = /front {
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/back;
    }
    location = /back {
        return 200 "back\n";
    }
--- request
GET /front
--- wait: 0.1
--- grep_error_log eval
qr/http request line: "[^"]*"/
--- grep_error_log_out
http request line: "GET /front HTTP/1.1"
http request line: "GET /back HTTP/1.0"
--- response_body
back



=== TEST 11: skip_eval skips the given number of tests
--- config
    location = /t {
        return 500;
    }
--- request
GET /t
--- skip_eval: 2: 1
--- response_body
this would fail if it were not skipped



=== TEST 12: skip_nginx does not skip on a newer nginx
--- config
    location = /t {
        return 200 "new enough\n";
    }
--- request
GET /t
--- skip_nginx: 2: < 1.0.0
--- response_body
new enough
