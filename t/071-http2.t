# Connection reuse: HTTP/2 to a TLS upstream that offers it, with the
# streams of concurrent requests multiplexed over one connection; and
# HTTP/1.1 keep-alive when HTTP/2 is off.
#
# The upstream here is a stock nginx terminating TLS with HTTP/2 in front
# of the mock; its access log tells which connection each call used.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use JSON::PP;
use POSIX ();
use Time::HiRes qw(time);
use GeminiPool ':plain';
use GeminiPool::Server;
use GeminiPool::Network;

my $pki = GeminiPool::Network::pki();
my $mock_port = GeminiPool::mock_port();
my $json = JSON::PP->new->utf8;

# the calls counted are the requests' own: no spare sessions of the
# helper (it makes them on its own ticks, which may land among them)
GeminiPool::setting('spare_sessions', 'int', '0');

my $front = GeminiPool::Server->new(
    name => 'h2-front', gp_http => 0,
    port => GeminiPool::Network::free_port(),
    listen => 'ssl http2',
    http => <<"END",
    log_format conn '\$connection \$server_protocol \$request_method \$uri '
                    '\$msec \$request_time';
END
    server => <<"END");
        ssl_certificate $pki->{cert};
        ssl_certificate_key $pki->{key};
        access_log logs/conn.log conn;
        location / {
            proxy_pass http://127.0.0.1:$mock_port;
            proxy_http_version 1.1;
            proxy_buffering off;
        }
END
$front->start;

sub gateway {
    my ($name, $extra) = @_;
    my $conf = GeminiPool::http_config();
    my $url = 'https://127.0.0.1:' . $front->port;
    $conf =~ s{http://127\.0\.0\.1:\d+}{$url}g;
    my $srv = GeminiPool::Server->new(
        name => $name, gp_http => 0,
        port => GeminiPool::Network::free_port(),
        http => $conf . "    gemini_pool_ssl_trusted_certificate $pki->{ca};\n"
                . ($extra // ''),
        server => 'location /v1/ { gemini_pool_api; }');
    $srv->start;
    return $srv;
}

sub concurrent_chats {
    my ($srv, $n, $text) = @_;
    my @kids;
    for my $i (1 .. $n) {
        my $pid = fork // die "fork: $!";
        if ($pid == 0) {
            my $res = HTTP::Tiny->new(timeout => 20)->post(
                $srv->url('/v1/chat/completions'),
                {content => $json->encode({messages => [{role => 'user',
                    content => "$text $i MOCK:gap=300"}]})});
            POSIX::_exit($res->{status} == 200
                         && $res->{content} =~ /echo: \Q$text\E/ ? 0 : 1);
        }
        push @kids, $pid;
    }
    my $fails = 0;
    for (@kids) { waitpid $_, 0; $fails++ if $? }
    return $fails;
}

# the front's log lines of one kind of call: [connection, protocol, end, duration]
sub calls {
    my ($what) = @_;
    my $log = GeminiPool::slurp($front->root . '/logs/conn.log');
    my @c;
    for (split /\n/, $log) {
        my ($conn, $proto, $m, $uri, $msec, $rt) = split / /;
        push @c, [$conn, $proto, $msec, $rt] if $uri =~ /\Q$what\E/;
    }
    return @c;
}

GeminiPool::set_accounts(1);

# HTTP/2 (the default)

my $gw = gateway('h2-gw');
is(concurrent_chats($gw, 4, 'multiplexed'), 0,
   'four concurrent chats through an HTTP/2 upstream succeed');

my @s = calls('widgetStreamAssist');
is(scalar @s, 4, 'four streams reached the upstream');
is(scalar(grep { $_->[1] eq 'HTTP/2.0' } @s), 4, 'all over HTTP/2');

my %conns = map { $_->[0] => 1 } @s, calls('getoxsrf'), calls('widgetCreateSession');
is(scalar keys %conns, 1, 'every call of the four requests shared one connection');

# the four streams were in flight together (each lasted ~2 s)
my ($first_start, $last_start) = (1e20, 0);
for (@s) {
    my $start = $_->[2] - $_->[3];
    $first_start = $start if $start < $first_start;
    $last_start = $start if $start > $last_start;
}
cmp_ok($last_start - $first_start, '<', 1.0,
       'and they overlapped in time (multiplexed, not one after another)');
cmp_ok($s[0][3], '>', 1.0, sprintf('each stream lasted %.1f s', $s[0][3]));

$gw->stop;

# HTTP/1.1 with keep-alive when HTTP/2 is off

truncate $front->root . '/logs/conn.log', 0;
$gw = gateway('h1-gw', "    gemini_pool_http2 off;\n");

my $http = HTTP::Tiny->new(timeout => 20);
for my $i (1 .. 3) {
    $http->post($gw->url('/v1/chat/completions'),
                {content => $json->encode({messages => [{role => 'user',
                    content => "sequential $i"}]})});
}

# the front logs a call when it has finished it, which may be a moment
# after the gateway has answered its client
my @all;
for (1 .. 30) {
    @all = (calls('widgetStreamAssist'), calls('widgetCreateSession'),
            calls('getoxsrf'));
    last if @all >= 7;
    select(undef, undef, undef, 0.1);
}
is(scalar @all, 7, 'three sequential chats made seven upstream calls');
is(scalar(grep { $_->[1] eq 'HTTP/1.1' } @all), 7, 'over HTTP/1.1');
%conns = map { $_->[0] => 1 } @all;
is(scalar keys %conns, 1, 'all on one kept-alive connection');

$gw->stop;
$front->stop;

done_testing();
