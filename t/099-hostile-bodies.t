# Hostile bodies on every route that reads one (issue #14's matrix,
# docs/reliability.md): for each, a valid seed body and 400 mutations of
# it (bytes flipped, cut, repeated; values swapped for wrong types, huge
# numbers, deep nesting, NULs, invalid UTF-8; duplicate keys), the same
# every run.  Every answer must be a JSON object, with an error or a
# result, never a 500 and never a dropped connection; afterwards no
# worker has died and nothing worse than an error was logged.  This
# reaches the nginx-side readers libFuzzer cannot (admin bodies, the
# import's readers of our export and the reference's JSON, multipart
# uploads); "scripts/test --asan t/099-hostile-bodies.t" runs it under
# ASan and UBSan (GP_099_N=<mutations per route>, GP_099_ONLY=<regex of
# "METHOD /path">; a body that broke a rule is kept in t/tmp/099-bad-<n>).

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use JSON::PP;
use Time::HiRes qw(time);
use IO::Socket::INET;
use IO::Select;
use Socket qw(IPPROTO_TCP TCP_NODELAY);
use GeminiPool ':plain';
use GeminiPool::Server;

my $SECRET = 'hostile-admin-secret-0123456789';
$ENV{ADMIN_SECRET_KEY} = $SECRET;

my $N = $ENV{GP_099_N} || 400;
my $json = JSON::PP->new->utf8->canonical;
my $http = HTTP::Tiny->new(timeout => 20);

my $srv = GeminiPool::Server->new(
    name => 'hostile', master => 1, workers => 2,
    server => <<'END');
    location /v1/ { gemini_pool_api; }
    location /api/ { gemini_pool_admin; }
END
$srv->start;

# a deterministic PRNG (so a failure is the same on every run)
my $rs = 20261206;
sub rnd { $rs = ($rs * 1103515245 + 12345) % 2147483648; $_[0] ? $rs % $_[0] : 0 }

my @tokens = ('null', 'true', '[]', '{}', '""', '-1', '0', '1e999',
              '18446744073709551616', '-9223372036854775809', '"\u0000"',
              "\"\xff\xfe\"", '"' . ('x' x 4096) . '"', '[' x 200,
              '{"a":' x 70, '"\ud800"', '0.5', '"a\\u0000b"', ',', ':');

sub mutate {
    my ($s) = @_;
    my $n = 1 + rnd(4);
    for (1 .. $n) {
        my $len = length $s;
        my $pos = rnd($len + 1);
        my $m = rnd(9);
        if ($m == 0) {                       # flip a byte
            substr($s, $pos, 1) = chr(rnd(256)) if $pos < $len;
        } elsif ($m == 1) {                  # cut
            $s = substr($s, 0, $pos);
        } elsif ($m == 2) {                  # insert a token
            substr($s, $pos, 0) = $tokens[rnd(scalar @tokens)];
        } elsif ($m == 3) {                  # a value replaced
            $s =~ s/(:\s*)("(?:[^"\\]|\\.)*"|-?\d[\d.eE+-]*|true|false|null|\[\]|\{\})/$1 . $tokens[rnd(scalar @tokens)]/e
                for 1 .. 1 + rnd(3);
        } elsif ($m == 4) {                  # repeat a piece
            my $l = rnd(64);
            substr($s, $pos, 0) = substr($s, $pos, $l) x (1 + rnd(20));
        } elsif ($m == 5) {                  # delete a piece
            substr($s, $pos, rnd(16)) = '' if $pos < $len;
        } elsif ($m == 6) {                  # a duplicate member
            $s =~ s/^(\s*\{)("[^"]*"\s*:\s*[^,{}\[\]]*)(,?)/$1$2,$2$3/;
        } elsif ($m == 7) {                  # a quote or a backslash
            substr($s, $pos, 0) = rnd(2) ? '"' : '\\';
        } else {                             # deep nesting
            my $d = 1 + rnd(300);
            $s = ('[' x $d) . $s . (']' x $d) if rnd(4) == 0;
        }
    }
    return $s;
}

my @bad;        # what broke a rule, at most a few

# one request on its own connection, written at once (HTTP::Tiny's two
# writes meet the peer's delayed ACK: 40 ms a request)
sub raw_request {
    my ($method, $path, $body, $ctype) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $srv->port, Proto => 'tcp',
                                  Timeout => 20)
        or return {status => 599, content => "connect: $!"};
    $s->setsockopt(IPPROTO_TCP, TCP_NODELAY, 1);
    print $s "$method $path HTTP/1.1\r\nHost: localhost\r\n"
             . "Content-Type: $ctype\r\nX-Admin-Token: $SECRET\r\n"
             . "Connection: close\r\nContent-Length: " . length($body)
             . "\r\n\r\n$body";
    my $raw = '';
    my $sel = IO::Select->new($s);
    while ($sel->can_read(20)) {
        my $n = sysread($s, my $buf, 65536);
        last unless $n;
        $raw .= $buf;
    }
    close $s;
    my ($head, $content) = split /\r\n\r\n/, $raw, 2;
    my ($status) = ($head // '') =~ m{^HTTP/1\.1 (\d+)};
    return {status => 599, content => "no answer: $raw"} unless $status;
    if ($head =~ /^Transfer-Encoding: chunked/mi) {
        my $out = '';
        while ($content =~ s/^([0-9a-fA-F]+)\r\n//) {
            my $n = hex $1;
            last if $n == 0;
            $out .= substr($content, 0, $n, '');
            $content =~ s/^\r\n//;
        }
        $content = $out;
    }
    return {status => $status, content => $content // ''};
}

sub send_body {
    my ($method, $path, $body, $ctype) = @_;
    my $res = raw_request($method, $path, $body,
                          $ctype // 'application/json');
    my $d = eval { $json->decode($res->{content}) };
    my $why = $res->{status} == 599 ? "no answer: $res->{content}"
            : $res->{status} == 500 ? '500'
            : ref $d ne 'HASH' ? "not a JSON object ($res->{status})"
            : $res->{status} >= 400 && !$d->{error} ? 'an error without error'
            : undef;
    if ($why) {
        # kept for replay: t/tmp/099-bad-<n>
        my $f = "$GeminiPool::ROOT/t/tmp/099-bad-" . scalar(@bad);
        if (open my $fh, '>', $f) {
            binmode $fh;
            print $fh "$method $path\n$body";
            close $fh;
        }
        push @bad, "$method $path ($why, $f): "
                   . substr($body, 0, 120) =~ s/[^\x20-\x7e]/./gr
            if @bad < 10;
    }
    # an account added is removed again: the zone holds what it holds
    if ($path eq '/api/accounts' && $res->{status} == 201) {
        my $d = eval { $json->decode($res->{content}) } || {};
        my $id = $d->{id} // ($d->{account} || {})->{id};
        raw_request('DELETE', "/api/accounts/id:$id", '',
                    'application/json') if defined $id;
    }
    return $res->{status};
}

sub route {
    my ($method, $path, $seed, $ctype) = @_;
    return if $ENV{GP_099_ONLY} && "$method $path" !~ /$ENV{GP_099_ONLY}/;
    my %st;
    my $t0 = time;
    $st{send_body($method, $path, $seed, $ctype)}++;
    for (1 .. $N) {
        $st{send_body($method, $path, mutate($seed), $ctype)}++;
    }
    my $seen = join ', ', map { "$_: $st{$_}" } sort keys %st;
    note(sprintf("%s %s: %s; %.1f s", $method, $path, $seen, time - $t0));
    ok(!grep({ $_ == 500 || $_ == 599 } keys %st),
       "$method $path: $N hostile bodies, no 500, no dropped connection"
       . " ($seen)");
}

my $ref = GeminiPool::slurp(
    "$GeminiPool::ROOT/t/fixtures/reference/business_gemini_session.json");
my $export = $http->get($srv->url('/api/config/export?secrets=1'),
                        { headers => { 'X-Admin-Token' => $SECRET } })
             ->{content};
like($export, qr/"format":"ngx_gemini_pool"/, 'an export to mutate');

my $png = "\x89PNG\r\n\x1a\n" . ("\0" x 64);
my $mp = "--XyZ\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n"
       . "vision\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; "
       . "filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n$png\r\n"
       . "--XyZ--\r\n";
my $edit = "--XyZ\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\n"
         . "a hat\r\n--XyZ\r\nContent-Disposition: form-data; name=\"image\";"
         . " filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n$png\r\n"
         . "--XyZ--\r\n";
my $mpt = 'multipart/form-data; boundary=XyZ';

# the client API first (the admin routes below change settings)
route('POST', '/v1/chat/completions',
      '{"model":"gemini-auto","stream":false,"messages":[{"role":"system",'
      . '"content":"be brief"},{"role":"user","content":[{"type":"text",'
      . '"text":"hi"},{"type":"image_url","image_url":{"url":'
      . '"data:image/png;base64,iVBORw0KGgo="}}]}],"stream_options":'
      . '{"include_usage":true}}');
route('POST', '/v1/images/generations',
      '{"prompt":"a cat","n":2,"size":"1024x1024","response_format":'
      . '"b64_json","model":"gemini-image"}');
route('POST', '/v1/responses',
      '{"model":"gemini-auto","instructions":"be brief","store":true,'
      . '"metadata":{"k":"v"},"input":[{"role":"user","content":['
      . '{"type":"input_text","text":"hi"},{"type":"input_image",'
      . '"image_url":"data:image/png;base64,iVBORw0KGgo="}]},'
      . '{"type":"message","role":"assistant","content":[{"type":'
      . '"output_text","text":"x"}]},{"type":"function_call","call_id":'
      . '"c1","name":"f","arguments":"{}"},{"type":"function_call_output",'
      . '"call_id":"c1","output":"r"}],"tools":[{"type":"function",'
      . '"name":"f","parameters":{"type":"object"}}],"tool_choice":'
      . '{"type":"function","name":"f"}}');
route('POST', '/v1/files', $mp, $mpt);
route('POST', '/v1/images/edits', $edit, $mpt);

route('POST', '/api/config/import?dry_run=1', $ref);
route('POST', '/api/config/import?dry_run=1', $export);
route('POST', '/api/accounts',
      '{"name":"h1","team_id":"t-1","csesidx":"123","secure_c_ses":"CSE.h",'
      . '"host_c_oses":"COS.h","user_agent":"ua","proxy":"http://u:p@h:1",'
      . '"enabled":false}');
route('PUT', '/api/accounts/0',
      '{"secure_c_ses":"CSE.acc1-x","csesidx":"1404564701"}');
route('POST', '/api/keys',
      '{"name":"k","expires_at":null,"models":["gemini-auto"],"rpm":5,'
      . '"image_format":"url"}');
route('POST', '/api/models',
      '{"name":"m-h","model_id":"x","kind":"text","account_id":null,'
      . '"enabled":true,"position":9,"description":"d"}');
route('PUT', '/api/settings',
      '{"max_attempts":3,"proxy":"","image_format":"markdown",'
      . '"history_enabled":false,"proxy_for":"google,images",'
      . '"cooldown_network":120}');
route('POST', '/api/auth/login', '{"password":"nope","secret":"nope"}');
route('POST', '/api/proxy/test', '{"proxy":"http://127.0.0.1:9"}');

ok(!@bad, 'every answer a JSON object, errors with an error')
    or diag join "\n", @bad;

my @log = grep { /\[alert\]|\[crit\]|\[emerg\]|exited on signal/ }
          split /\n/, $srv->error_log_text;
ok(!@log, 'no worker died, nothing worse than an error logged')
    or diag join "\n", @log[0 .. ($#log < 9 ? $#log : 9)];

$srv->stop;
done_testing();
