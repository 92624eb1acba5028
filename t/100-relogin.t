# Re-login (issue #13): the settings, the helper's expiry checks, the
# queue of logins and its record, the mailbox fields, the admin API.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use JSON::PP;
use POSIX ();
use Time::HiRes qw(sleep time);
use GeminiPool ':plain';
use GeminiPool::Server;

my $SECRET = 'test-admin-secret-0123456789';
$ENV{ADMIN_SECRET_KEY} = $SECRET;

my $json = JSON::PP->new->utf8->canonical;
my $http = HTTP::Tiny->new(timeout => 10, max_redirect => 0);

my $server = <<'END';
    location /api/ { gemini_pool_admin; }
    location /v1/ { gemini_pool_api; }
    location = /health { gemini_pool_health; }
END

my $srv;

sub req {
    my ($method, $path, $body, %h) = @_;
    my $res = $http->request($method, $srv->url($path), {
        headers => {%h},
        (defined $body ? (content => ref $body ? $json->encode($body) : $body)
                       : ()),
    });
    my $data = eval { $json->decode($res->{content}) };
    return ($res->{status}, $data, $res);
}

sub admin { req(@_[0 .. 2], 'X-Admin-Token' => $SECRET) }

sub start_server {
    my (%o) = @_;
    $srv = GeminiPool::Server->new(name => 'relogin', server => $server,
                                   master => 1, workers => 2, %o);
    $srv->start;
}

my ($st, $d);

# 1. the settings of the re-login

start_server();

($st, $d) = admin('GET', '/api/settings');
is($d->{settings}{cookie_check_interval}{value}, 1800,
   'cookie_check_interval: 30 min by default');
is($d->{settings}{cookie_retry_interval}{value}, 1800,
   'cookie_retry_interval: 30 min by default');
is($d->{settings}{cookie_refresh_concurrency}{value}, 1,
   'cookie_refresh_concurrency: one login at a time by default');

($st, $d) = admin('PUT', '/api/settings', {cookie_refresh_concurrency => 0});
is($st, 400, 'no login at a time is refused');
like($d->{error}{message}, qr/cookie_refresh_concurrency"?: must be from 1 to 8/,
     'with what it must be');

($st, $d) = admin('PUT', '/api/settings', {cookie_refresh_concurrency => 2,
                                           cookie_check_interval => 600});
is($st, 200, 'two logins at a time, a check every 10 min');
is($d->{settings}{cookie_refresh_concurrency}{value}, 2, 'stored');

$srv->stop;

done_testing();
