# The temp-mail worker API client through POST /api/mailbox/check, against
# the fake worker t/mock/tempmail.py: the mailbox of a URL, the answer
# shapes, the detail call, the failures (bad URL, HTML, 401, 503, a worker
# that is down), and waiting for a code above the baseline.

use strict;
use warnings;
use utf8;
use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use JSON::PP;
use POSIX ();
use Time::HiRes qw(time sleep);
use GeminiPool ':plain';
use GeminiPool::Server;

my $SECRET = 'test-admin-secret-mailbox-0123';
$ENV{ADMIN_SECRET_KEY} = $SECRET;

my $json = JSON::PP->new->utf8->canonical;
my $http = HTTP::Tiny->new(timeout => 30, max_redirect => 0);

# the fake worker

my ($tm_pid, $TM);
{
    pipe(my $r, my $w) or die "pipe: $!";
    $tm_pid = fork() // die "fork: $!";
    if (!$tm_pid) {
        close $r;
        open STDOUT, '>&', $w or die;
        { exec '/usr/bin/python3', "$GeminiPool::ROOT/t/mock/tempmail.py",
               '--port', '0' }
        POSIX::_exit(127);
    }
    close $w;
    my $line = <$r>;
    die "tempmail.py did not start\n" unless $line && $line =~ /^READY (\d+)/;
    $TM = "http://127.0.0.1:$1";
}
END { if ($tm_pid) { kill 'TERM', $tm_pid; waitpid $tm_pid, 0; } }

sub fake {
    my ($method, $path, $body) = @_;
    my $res = $http->request($method, "$TM$path", {
        (defined $body ? (content => $json->encode($body)) : ()),
    });
    die "fake $method $path: $res->{status} $res->{content}\n"
        unless $res->{success};
    return $json->decode($res->{content});
}

sub deliver { fake('POST', '/__fake/deliver', {@_})->{id} }
sub fconfig { fake('POST', '/__fake/config', {@_}) }
sub requests { fake('GET', '/__fake/requests')->{requests} }

my $srv = GeminiPool::Server->new(
    name => 'mailbox', master => 1, workers => 1,
    server => 'location /api/ { gemini_pool_admin; }');
$srv->start;

sub check {
    my ($body) = @_;
    my $res = $http->request('POST', $srv->url('/api/mailbox/check'), {
        headers => {'X-Admin-Token' => $SECRET},
        content => ref $body ? $json->encode($body) : $body,
    });
    my $d = eval { $json->decode($res->{content}) };
    return ($res->{status}, $d);
}

my ($st, $d);
my $box = fake('POST', '/__fake/mailbox', {address => 'tmpk8x2q@mail.test'});
my $url = $box->{url};

# bad input

($st, $d) = check({});
is($st, 400, 'no tempmail_url: 400');
is($d->{error}{code}, 'invalid_value', 'a JSON error');

($st, $d) = check({tempmail_url => "$TM/"});
is($st, 400, 'a URL without jwt: 400');
is($d->{error}{code}, 'invalid_mailbox', 'invalid_mailbox');
like($d->{error}{message}, qr/no jwt parameter/, 'it says why');

($st, $d) = check({tempmail_url => "$TM/?jwt=abc"});
like($d->{error}{message}, qr/not a JWT/, 'a jwt that is not a JWT');

($st, $d) = check({tempmail_url => $url, wait => 'soon'});
is($st, 400, 'a wrong "wait": 400');

# an empty mailbox

($st, $d) = check({tempmail_url => $url});
is($st, 200, 'an empty mailbox is read');
ok($d->{ok}, 'ok');
is($d->{address}, 'tmpk8x2q@mail.test', 'the address from the JWT');
is($d->{api_base}, $TM, 'the API base is the URL\'s origin');
is($d->{newest}, undef, 'no newest mail');
is($d->{status}, 200, 'the worker\'s status');
my $r = requests()->[-1];
is($r->{path}, '/api/mails', 'the list call');
is($r->{query}{limit}, '5', 'the newest 5');
is($r->{authorization}, "Bearer $box->{jwt}", 'with the mailbox JWT');

# the newest mail and its code, every answer shape

my $id1 = deliver(address => 'tmpk8x2q@mail.test', subject => 'old code',
                  text => "您的一次性验证码为：\n\nVACBHW\n\n此验证码将在 10 分钟后失效。");
($st, $d) = check({tempmail_url => $url});
is($d->{newest}{id}, $id1, 'the newest mail');
is($d->{newest}{subject}, 'old code', 'its subject');
is($d->{newest}{code}, 'VACBHW', 'the code in it (zh-CN text, raw)');

for my $shape (qw(array mails data result)) {
    fconfig(shape => $shape);
    ($st, $d) = check({tempmail_url => $url});
    ok($d->{ok} && $d->{newest}{code} eq 'VACBHW', "the shape \"$shape\"");
}

fconfig(shape => 'wrong');
($st, $d) = check({tempmail_url => $url});
ok(!$d->{ok}, 'an unknown shape is an error');
like($d->{error}, qr/unknown shape/, 'it says so');

# no body in the list: the detail call

fconfig(list_raw => JSON::PP::false);
my $id2 = deliver(address => 'tmpk8x2q@mail.test', subject => 'Gemini code',
                  html => '<p>Your one-time verification code is:</p>'
                          . '<h2 style="x">TJE5R8</h2>', qp => 1);
($st, $d) = check({tempmail_url => $url});
is($d->{newest}{code}, 'TJE5R8', 'the code through the detail call '
                                 . '(en HTML, quoted-printable)');
is(requests()->[-1]{path}, "/api/mails/$id2", 'the detail call was made');

# failures

fconfig(fail => 'html');
($st, $d) = check({tempmail_url => $url});
is($st, 200, 'an HTML answer: 200');
ok(!$d->{ok}, 'not ok');
like($d->{error}, qr/HTML/, 'the error says HTML');

fconfig(fail => 503);
($st, $d) = check({tempmail_url => $url});
ok(!$d->{ok}, '503: not ok');
is($d->{status}, 503, 'the status');
like($d->{error}, qr/HTTP 503/, 'the error');
fconfig();

(my $tampered = $url) =~ s/(.)(....)$/($1 eq 'A' ? 'B' : 'A') . $2/e;
($st, $d) = check({tempmail_url => $tampered});
ok(!$d->{ok}, 'a JWT the worker refuses: not ok');
is($d->{status}, 401, 'the status is 401');
like($d->{error}, qr/refused the mailbox's jwt \(HTTP 401\)/, 'it says so');

($st, $d) = check({tempmail_url => $url,
                   tempmail_worker_url => 'http://127.0.0.1:1'});
ok(!$d->{ok}, 'a worker that is down: not ok');
is($d->{api_base}, 'http://127.0.0.1:1', 'tempmail_worker_url is the base');
like($d->{error}, qr/did not answer/, 'it says so');

($st, $d) = check({tempmail_url => "http://127.0.0.1:1/?jwt=$box->{jwt}",
                   tempmail_worker_url => "$TM/"});
ok($d->{ok}, 'the worker elsewhere than the frontend');

# waiting for a code: only above the baseline

{
    my $res = $http->request('PUT', $srv->url('/api/settings'), {
        headers => {'X-Admin-Token' => $SECRET},
        content => $json->encode({tempmail_poll_interval => 1})});
    is($res->{status}, 200, 'the poll interval is set to 1 s');
}

fake('POST', '/__fake/reset');
deliver(address => 'tmpk8x2q@mail.test', subject => 'old',
        text => 'Your one-time verification code is: OLD9X1');

my $t0 = time;
($st, $d) = check({tempmail_url => $url, wait => 3});
ok($d->{ok}, 'a wait without a new mail ends ok');
is($d->{code}, undef, 'without a code: the old mail is not taken');
like($d->{reason}, qr/no mail with a code/, 'it says why');
ok(time - $t0 >= 2.5, 'after the wait');

my @q = map { $_->{query} } grep { $_->{path} eq '/api/mails' } @{requests()};
is($q[0]{limit}, '5', 'the baseline first');
is_deeply([@{$q[1]}{qw(keyword address)}], ['gemini', 'tmpk8x2q@mail.test'],
          'then a keyword with the address');
is_deeply([@{$q[8]}{qw(keyword address)}], [undef, 'tmpk8x2q@mail.test'],
          'the address alone after the keywords');
is_deeply([@{$q[9]}{qw(keyword address)}], ['gemini', undef],
          'then the keywords alone');
is_deeply([@{$q[16]}{qw(keyword address)}], [undef, undef],
          'then no filter');

# a new mail arrives during the wait: an all-digit one, then the code

# delivers a mail once the worker API has had n calls since the reset
sub later {
    my ($n, @mail) = @_;
    my $pid = fork() // die "fork: $!";
    if (!$pid) {
        for (1 .. 600) {
            last if @{requests()} >= $n;
            sleep 0.1;
        }
        eval { deliver(@mail) };
        POSIX::_exit(0);
    }
    return $pid;
}

fake('POST', '/__fake/reset');
deliver(address => 'tmpk8x2q@mail.test', subject => 'old',
        text => 'Your one-time verification code is: OLD9X1');
fconfig(list_raw => JSON::PP::false);
my @kids = (
    later(2, address => 'tmpk8x2q@mail.test', subject => 'digits',
          text => '您的验证码为 123456'),
    later(20, address => 'tmpk8x2q@mail.test', subject => 'Gemini',
          raw => "Content-Type: text/html; charset=UTF-8\r\n"
                 . "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
                 . "<p>=E6=82=A8=E7=9A=84=E4=B8=80=E6=AC=A1=E6=80=A7=E9=AA=8C"
                 . "=E8=AF=81=E7=A0=81=E4=B8=BA=EF=BC=9A</p>=\r\n"
                 . "<h1>RP9J4H</h1>\r\n"),
);
$t0 = time;
($st, $d) = check({tempmail_url => $url, wait => 20});
waitpid $_, 0 for @kids;
ok($d->{ok}, 'a wait with a new mail ends ok');
is($d->{code}, 'RP9J4H', 'the code of the new mail (zh-CN HTML, qp raw)');
ok(time - $t0 < 15, 'soon after it arrived');
my @details = grep { $_->{path} =~ m{^/api/mails/\d+$} } @{requests()};
ok(scalar @details >= 2, 'both new mails were read through the detail call');

fconfig();

# a baseline known from before ("since"): after 10 s without a newer mail
# the newest one above it is taken, never one at or below it

fake('POST', '/__fake/reset');
my $old = deliver(address => 'tmpk8x2q@mail.test', subject => 'before',
                  text => 'verification code is: BEF0R3');
my $mid = deliver(address => 'tmpk8x2q@mail.test', subject => 'in between',
                  text => 'Your one-time verification code is: M1DDL3');
$t0 = time;
($st, $d) = check({tempmail_url => $url, wait => 15, since => $old});
is($d->{code}, 'M1DDL3', 'a mail above "since" but not newer than the '
                         . 'wait\'s start is taken');
ok(time - $t0 >= 9.5, 'only after 10 s without a newer mail');

$t0 = time;
($st, $d) = check({tempmail_url => $url, wait => 12, since => $mid});
is($d->{code}, undef, 'never the mail at the baseline, also after 10 s');
ok(time - $t0 >= 11, 'the whole wait');

($st, $d) = check({tempmail_url => $url, since => 'x'});
is($st, 400, 'a "since" that is not an id: 400');

# the fake's web UI (spec §13.5) still reads the mailbox while the API fails

fconfig(fail => 503);
{
    my $page = $http->get($url)->{content};
    utf8::decode($page);
    like($page, qr/data-name="mailbox"/, 'the web UI: the inbox tab');
    like($page, qr/刷新/, 'its refresh button');
    my $list = $json->decode($http->get("$TM/ui/mails?jwt=$box->{jwt}")
                             ->{content});
    is($list->{results}[0]{subject}, 'in between',
       'its list while the API fails');
    my $m = $json->decode($http->get("$TM/ui/mails/$list->{results}[0]{id}"
                                     . "?jwt=$box->{jwt}")->{content});
    like($m->{text} // $m->{html} // '', qr/M1DDL3/, 'and a mail');
}
fconfig();

# the client goes away: the wait and its transfer end with the request

sub gone {
    my ($body) = @_;
    my $quick = HTTP::Tiny->new(timeout => 1);
    my $res = $quick->request('POST', $srv->url('/api/mailbox/check'), {
        headers => {'X-Admin-Token' => $SECRET},
        content => $json->encode($body)});
    return $res->{status};
}

is(gone({tempmail_url => $url, wait => 30}), 599,
   'a client leaves during a wait (between rounds)');
fconfig(delay_ms => 3000);
is(gone({tempmail_url => $url}), 599,
   'a client leaves during a transfer');
sleep 3.5;
fconfig();
($st, $d) = check({tempmail_url => $url});
ok($d->{ok}, 'the worker goes on serving checks');

# the stored mailbox of an account: {"account": <position> | "id:<N>"}

sub admin {
    my ($method, $path, $body) = @_;
    my $res = $http->request($method, $srv->url($path), {
        headers => {'X-Admin-Token' => $SECRET},
        (defined $body ? (content => $json->encode($body)) : ()),
    });
    return ($res->{status}, eval { $json->decode($res->{content}) });
}

($st, $d) = admin('POST', '/api/accounts', {
    name => 'with-mailbox', team_id => 'team-mb', csesidx => '1404564799',
    secure_c_ses => 'cookie-mb', tempmail_url => $url});
is($st, 201, 'an account with a mailbox added');
my $with_id = $d->{id};
($st, $d) = admin('POST', '/api/accounts', {
    name => 'no-mailbox', team_id => 'team-nm', csesidx => '1404564798',
    secure_c_ses => 'cookie-nm'});
is($st, 201, 'an account without one added');
my $nid = $d->{id};

($st, $d) = check({account => "id:$with_id"});
is($st, 200, 'a check by the account\'s id');
is($d->{address}, 'tmpk8x2q@mail.test', 'its stored mailbox read');
($st, $d) = check({account => "id:$nid"});
is($st, 400, 'an account without a mailbox: 400');
is($d->{error}{code}, 'no_mailbox', '... no_mailbox');
($st, $d) = check({account => 'id:987654'});
is($st, 404, 'an unknown account: 404');
($st, $d) = check({account => 5});
is($st, 400, 'an account that is not a string: 400');

unlike($srv->error_log_text, qr/\[(alert|crit|emerg)\]/, 'no alerts');
unlike($srv->error_log_text, qr/\Q$box->{jwt}\E/, 'no JWT in the error log');

$srv->stop;

done_testing();
