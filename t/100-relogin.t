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
like($d->{error}{message},
     qr/cookie_refresh_concurrency"?: must be from 1 to 8/,
     'with what it must be');

($st, $d) = admin('PUT', '/api/settings', {cookie_refresh_concurrency => 2,
                                           cookie_check_interval => 600});
is($st, 200, 'two logins at a time, a check every 10 min');
is($d->{settings}{cookie_refresh_concurrency}{value}, 2, 'stored');

$srv->stop;

# 2. the expiry checks: only an authentication answer marks an account

sub accounts {
    my (undef, $d) = admin('GET', '/api/accounts');
    return { map { $_->{name} => $_ } @{ $d->{accounts} || [] } };
}

sub relogin { (admin('GET', '/api/relogin'))[1] }

# waits for n more finished checks; the count then
sub checks_after {
    my ($n, $secs) = @_;
    my $from = relogin()->{checks};
    return wait_for($secs // 20, sub {
        my $c = relogin()->{checks};
        $c >= $from + $n ? $c : undef });
}

sub mock_stop {
    kill 'TERM', $GeminiPool::MOCK_PID;
    waitpid $GeminiPool::MOCK_PID, 0;
    $GeminiPool::MOCK_PID = undef;
}

# the mock again, on its port
sub mock_restart {
    pipe(my $r, my $w) or die "pipe: $!";
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        close $r;
        POSIX::dup2(fileno($w), 1) or POSIX::_exit(1);
        exec '/usr/bin/python3', "$GeminiPool::ROOT/t/mock/server.py",
             '--port', $GeminiPool::MOCK_PORT, '--host', '127.0.0.1'
            or POSIX::_exit(1);
    }
    close $w;
    my $line = <$r>;
    die "the mock did not start again\n" unless $line && $line =~ /^READY/;
    $GeminiPool::MOCK_PID = $pid;
}

sub xsrf_by_account {
    my %n;
    $n{$_->{account} // '-'}++ for @{ mock_requests('getoxsrf') };
    return \%n;
}

mock_post('/__mock/reset');
set_accounts(3);
sql("DELETE FROM settings");
GeminiPool::setting('cookie_check_interval', 'int', '2');

my $t0 = time;
start_server();

my $first = wait_for(15, sub { relogin()->{checks} });
ok($first, 'a first check runs soon after the start');
cmp_ok(time - $t0, '<', 12, 'within seconds, not 30 minutes');
is_deeply(xsrf_by_account(), {acc1 => 1, acc2 => 1, acc3 => 1},
          'one getoxsrf per account');
is(join(',', map { $_->{relogin}{state} } values %{ accounts() }),
   'valid,valid,valid', 'every account valid');
like($srv->error_log_text,
     qr/cookie check done: 3 account\(s\) checked, 0 expired/,
     'the check is logged');

# a 500 and a 429 say nothing of the cookies

mock_post('/__mock/inject', [
    {account => 'acc1', endpoint => 'getoxsrf', times => -1,
     action => {status => 500, body => {error => {code => 500,
                message => 'boom', status => 'INTERNAL'}}}},
    {account => 'acc2', endpoint => 'getoxsrf', times => -1,
     action => {status => 429, body => {error => {code => 429,
                message => 'slow down', status => 'RESOURCE_EXHAUSTED'}}}},
    {account => 'acc3', endpoint => 'getoxsrf', times => -1,
     action => {malformed => JSON::PP::true}},
]);

ok(checks_after(2), 'two more checks with a 500, a 429 and garbage');
my $acc = accounts();
ok(!$acc->{acc1}{cookie_expired}, 'a 500 does not mark the account');
ok(!$acc->{acc2}{cookie_expired}, 'nor a 429');
ok(!$acc->{acc3}{cookie_expired}, 'nor an unparsable getoxsrf answer');
like($srv->error_log_text,
     qr/cookie check of account "acc1" inconclusive \(server\).*not marked/,
     'the inconclusive check is logged');

# the mock down during a check: nothing marked

mock_stop();
ok(checks_after(2), 'two checks with the upstream down');
$acc = accounts();
is(join(',', map { $acc->{$_}{cookie_expired} ? 1 : 0 } qw(acc1 acc2 acc3)),
   '0,0,0', 'an outage marks no account expired');
is(join(',', map { $acc->{$_}{relogin}{state} } qw(acc1 acc2 acc3)),
   'valid,valid,valid', 'they stay valid');
like($srv->error_log_text, qr/inconclusive \(network\)/,
     'as network failures');
mock_restart();

# a 401 for one account marks it, and only it

mock_post('/__mock/inject', {account => 'acc2', endpoint => 'getoxsrf',
                             times => -1,
                             action => {expired => JSON::PP::true}});
my $marked = wait_for(15, sub { accounts()->{acc2}{cookie_expired} });
ok($marked, 'EXPIRED_SIGN_IN (401) marks the account expired');
$acc = accounts();
ok(!$acc->{acc1}{cookie_expired} && !$acc->{acc3}{cookie_expired},
   'only that one');
is($acc->{acc2}{relogin}{state}, 'expired', 'its state: expired');
cmp_ok($acc->{acc2}{relogin}{expired_since} // 0, '>=', $t0,
       'since when');
is($acc->{acc1}{relogin}{expired_since}, undef, 'the others: no time');

# a getoxsrf answer without keyId refuses the cookies

mock_post('/__mock/inject', {account => 'acc3', endpoint => 'getoxsrf',
                             times => -1,
                             action => {missing_key_id => JSON::PP::true}});
ok(wait_for(15, sub { accounts()->{acc3}{cookie_expired} }),
   'an answer without keyId marks the account expired');
ok(!accounts()->{acc1}{cookie_expired}, 'acc1 is still valid');

my $before = xsrf_by_account();
checks_after(1);
my $after = xsrf_by_account();
is(join(',', map { ($after->{$_} // 0) - ($before->{$_} // 0) } qw(acc2 acc3)),
   '0,0', 'expired accounts are not checked again');
cmp_ok($after->{acc1}, '>', $before->{acc1}, 'the valid one is');

$srv->stop;

# 3. a request that finds an account expired starts a check at once

mock_post('/__mock/reset');
set_accounts(3);
sql("DELETE FROM settings");
GeminiPool::setting('cookie_check_interval', 'int', '0');

start_server();
sleep 7;
is(relogin()->{checks}, 0, 'cookie_check_interval 0: no planned check');
is(relogin()->{next_check}, undef, 'none planned');

mock_post('/__mock/inject', {account => 'acc1', endpoint => 'createSession',
                             action => {expired => JSON::PP::true}});
for (1 .. 3) {
    my $res = $http->post($srv->url('/v1/chat/completions'), {
        content => $json->encode({messages => [{role => 'user',
                                                content => 'hi'}]})});
}
ok(wait_for(5, sub { accounts()->{acc1}{cookie_expired} }),
   'a request marks acc1 expired');
ok(wait_for(5, sub { relogin()->{checks} >= 1 }),
   'and the helper checks the others at once');
like($srv->error_log_text,
     qr/a request found an account expired; checking the others/,
     'it says why');
cmp_ok(accounts()->{acc1}{relogin}{expired_since}, '>', 0,
       'the expiry has its time');

my $c = relogin()->{checks};
($st) = admin('PUT', '/api/settings', {cookie_check_interval => 2});
ok(wait_for(8, sub { relogin()->{checks} > $c }),
   'a check interval set at run time plans the checks at once');
ok(relogin()->{next_check}, 'the next one is planned');

$srv->stop;

# 4. the queue of logins: a mailbox, the switches, the retry interval, the
# record.  This build's login cannot start (no browser): that outcome is
# real and goes through the same path as every failure.

sub b64url {
    my $t = MIME::Base64::encode_base64($_[0], '');
    $t =~ tr{+/}{-_};
    $t =~ s/=+\z//;
    return $t;
}

sub mailbox_url {
    my ($address) = @_;
    my $jwt = join '.', b64url('{"alg":"HS256","typ":"JWT"}'),
                        b64url($json->encode({address => $address,
                                              address_id => 7})),
                        b64url('signature-bytes');
    return ("https://mail.example.test/?jwt=$jwt", $jwt);
}

sub history {
    my ($q) = @_;
    my (undef, $d) = admin('GET', '/api/relogin/history' . ($q // ''));
    return $d->{history} || [];
}

use MIME::Base64 ();

my ($url2, $jwt2) = mailbox_url('acc2@mail.example.test');

mock_post('/__mock/reset');
set_accounts(3);
sql("DELETE FROM settings; DELETE FROM relogin_history");
GeminiPool::setting('cookie_check_interval', 'int', '2');
GeminiPool::setting('auto_refresh_cookies', 'bool', 'true');
GeminiPool::setting('cookie_retry_interval', 'int', '3600');
# written in clear by an outside tool: sealed when the module loads it
sql("UPDATE accounts SET tempmail_url = '$url2', tempmail_name = 'box2' "
    . "WHERE name = 'acc2'");

start_server();

like(sql("SELECT tempmail_url FROM accounts WHERE name = 'acc2'"),
     qr/^enc:v1:/, 'a mailbox link stored in clear is sealed on load');

$acc = accounts();
is_deeply($acc->{acc2}{mailbox}, {set => JSON::PP::true, name => 'box2',
                                  address => 'acc2@mail.example.test'},
          'the account shows its mailbox: set, name, address');
is_deeply($acc->{acc1}{mailbox}, {set => JSON::PP::false, name => '',
                                  address => undef}, 'or that it has none');
my (undef, undef, $raw) = admin('GET', '/api/accounts');
unlike($raw->{content}, qr/\Q$jwt2\E/, 'the mailbox JWT is never shown');

# acc2 (mailbox) and acc3 (none) expire
mock_post('/__mock/inject', [
    {account => 'acc2', endpoint => 'getoxsrf', times => -1,
     action => {expired => JSON::PP::true}},
    {account => 'acc3', endpoint => 'getoxsrf', times => -1,
     action => {expired => JSON::PP::true}}]);

my $h = wait_for(20, sub { my $h = history(); @$h ? $h : undef });
ok($h, 'an expired account with a mailbox gets a login');
is(scalar @$h, 1, 'one attempt');
is($h->[0]{account}, 'acc2', 'of acc2');
is($h->[0]{status}, 'no_browser', 'which ends "no_browser" in this build');
like($h->[0]{reason}, qr/browser/, 'with the reason');
ok(!$h->[0]{manual}, 'an automatic one');

$acc = accounts();
my $r2 = $acc->{acc2}{relogin};
is($r2->{state}, 'failed', 'acc2: state failed');
is($r2->{last_failure}{status}, 'no_browser', 'its last failure');
cmp_ok(abs($r2->{next_try} - $r2->{last_failure}{time} - 3600), '<=', 1,
       'next try: cookie_retry_interval after the failure');
ok($acc->{acc2}{cookie_expired}, 'still expired: the old cookies are kept');
like(sql("SELECT secure_c_ses FROM accounts WHERE name = 'acc2'"),
     qr/^enc:v1:/, 'and stay in the database');
ok(wait_for(10, sub { accounts()->{acc3}{cookie_expired} }),
   'acc3 expired too');
is(accounts()->{acc3}{relogin}{state}, 'expired',
   'acc3 without a mailbox: expired (never queued)');

my $d2;
(undef, $d2) = admin('GET', '/api/relogin');
is($d2->{browser}{ok}, JSON::PP::false, 'GET /api/relogin: the browser is '
   . 'not usable');
like($d2->{browser}{error}, qr/browser/, 'and why');
is_deeply([$d2->{running}, $d2->{queue}], [[], []],
          'no login running or queued') or diag explain $d2;
ok($d2->{auto} && !$d2->{sync_only}, 'the switches');

checks_after(2);
is(scalar @{ history() }, 1, 'not tried again before the retry interval');
is(accounts()->{acc3}{relogin}{state}, 'expired', 'acc3: no login');
like($srv->error_log_text,
     qr/re-login of account "acc2" failed \(no_browser\).*old cookies are kept/,
     'the failure is logged');

# an operator asks: not held back by the retry interval

($st, $d) = admin('POST', '/api/accounts/1/refresh-cookie');
is($st, 202, 'refresh-cookie: 202');
ok($d->{queued}, 'queued');
$h = wait_for(5, sub { my $h = history(); @$h == 2 ? $h : undef });
ok($h, 'the helper runs it within a tick or two');
ok($h && $h->[0]{manual}, 'a manual attempt, newest first');

($st, $d) = admin('POST', '/api/accounts/2/refresh-cookie');
is($st, 400, 'an account without a mailbox: 400');
is($d->{error}{code}, 'no_mailbox', 'no_mailbox');
($st) = admin('POST', '/api/accounts/id:999/refresh-cookie');
is($st, 404, 'an unknown account: 404');

($st, $d) = admin('POST', '/api/accounts/auto-refresh-all');
is($st, 200, 'auto-refresh-all');
is($d->{queued}, 1, 'queues the expired accounts with a mailbox (one)');
ok(wait_for(5, sub { @{ history() } == 3 }), 'and it runs');

my $id2 = $acc->{acc2}{id};
is(scalar @{ history("?account=$id2&limit=2") }, 2,
   'the history by account, limited');
is(scalar @{ history('?account=' . $acc->{acc3}{id}) }, 0,
   'none for acc3');
($st) = admin('GET', '/api/relogin/history?limit=0');
is($st, 400, 'a bad limit: 400');

# sync_only_mode and auto_refresh_cookies off: no automatic attempt

($st) = admin('PUT', '/api/settings', {sync_only_mode => JSON::PP::true,
                                       cookie_retry_interval => 1});
is($st, 200, 'sync_only_mode on, retry after 1 s');
checks_after(2);
is(scalar @{ history() }, 3, 'sync_only_mode: no automatic attempt');

($st) = admin('PUT', '/api/settings', {sync_only_mode => JSON::PP::false,
                                       auto_refresh_cookies =>
                                           JSON::PP::false});
checks_after(2);
is(scalar @{ history() }, 3, 'auto_refresh_cookies off: none either');

($st) = admin('POST', '/api/accounts/1/refresh-cookie');
is($st, 202, 'a manual refresh still runs');
ok(wait_for(5, sub { @{ history() } == 4 }), 'it does');

($st) = admin('PUT', '/api/settings', {auto_refresh_cookies => JSON::PP::true});
ok(wait_for(10, sub { @{ history() } >= 5 }),
   'auto on again, retry interval over: tried again automatically');

# new cookies from elsewhere (the remote-sync receiver) end the failure
$http->request('DELETE', mock_url() . '/__mock/inject');
my $acc2 = GeminiPool::accounts_file()->[1];
($st) = admin('PUT', '/api/accounts/1',
              {map { $_ => $acc2->{$_} } qw(secure_c_ses host_c_oses csesidx
                                              team_id)});
is($st, 200, 'the receiver takes acc2\'s cookies');
ok(wait_for(5, sub { accounts()->{acc2}{relogin}{state} eq 'valid' }),
   'acc2 is valid again, its last failure forgotten');
is(accounts()->{acc2}{relogin}{last_failure}, undef, 'no last failure');

$srv->stop;

# 5. the mailbox through the admin API, export and import

mock_post('/__mock/reset');
set_accounts(1);
sql("DELETE FROM settings; DELETE FROM relogin_history");
start_server();

my ($url4, $jwt4) = mailbox_url('four@mail.example.test');
my %new = (team_id => 'team-4', csesidx => '1404564704',
           secure_c_ses => 'ses-4', name => 'acc4');

($st, $d) = admin('POST', '/api/accounts',
                  {%new, tempmail_url => 'https://mail.example.test/?x=1'});
is($st, 400, 'a mailbox link without "jwt" is refused');
like($d->{error}{message}, qr/tempmail_url.*jwt/, 'saying what it needs');
($st) = admin('POST', '/api/accounts',
              {%new, tempmail_url => "ftp://mail.example.test/?jwt=$jwt4"});
is($st, 400, 'so is one that is not http(s)');
($st) = admin('POST', '/api/accounts', {%new, tempmail_url => 7});
is($st, 400, 'or not a string');

($st, $d) = admin('POST', '/api/accounts',
                  {%new, tempmail_url => $url4, tempmail_name => 'box4'});
is($st, 201, 'an account with its mailbox');
my $id4 = $d->{id};
like(sql("SELECT tempmail_url FROM accounts WHERE id = $id4"),
     qr/^enc:v1:/, 'its link is sealed as it is written');
is(sql("SELECT tempmail_name FROM accounts WHERE id = $id4"), 'box4',
   'its name in clear');
is_deeply(accounts()->{acc4}{mailbox},
          {set => JSON::PP::true, name => 'box4',
           address => 'four@mail.example.test'}, 'GET shows it');

my ($url5) = mailbox_url('five@mail.example.test');
($st) = admin('PUT', "/api/accounts/id:$id4", {tempmail_url => $url5});
is($st, 200, 'PUT changes the mailbox');
is(accounts()->{acc4}{mailbox}{address}, 'five@mail.example.test',
   'to the new address');
is(accounts()->{acc4}{relogin}{state}, 'valid', 'the relogin object');

# export: the link only with secrets, in clear; import seals it again

($st, $d) = admin('GET', '/api/config/export');
my ($e4) = grep { $_->{name} eq 'acc4' } @{ $d->{accounts} };
ok($e4->{tempmail_url_set} && !exists $e4->{tempmail_url},
   'an export without secrets says the link is set, not what it is');
is($e4->{tempmail_name}, 'box4', 'the mailbox name is exported');

($st, $d) = admin('GET', '/api/config/export?secrets=1');
($e4) = grep { $_->{name} eq 'acc4' } @{ $d->{accounts} };
is($e4->{tempmail_url}, $url5, 'with secrets: the link, decrypted');

sql("DELETE FROM accounts WHERE id = $id4");
($st, my $imp) = req('POST', '/api/config/import', $d,
                     'X-Admin-Token' => $SECRET,
                     'Content-Type' => 'application/json');
is($st, 200, 'the export imported again') or diag explain $imp;
like(sql("SELECT tempmail_url FROM accounts WHERE name = 'acc4'"),
     qr/^enc:v1:/, 'the imported link is sealed');
is(accounts()->{acc4}{mailbox}{address}, 'five@mail.example.test',
   'and reads back');

($st) = admin('PUT', "/api/accounts/0", {tempmail_url => ''});
is($st, 200, 'an empty link clears the mailbox');
is(accounts()->{acc1}{mailbox}{set}, JSON::PP::false, 'cleared');

$srv->stop;

# 6. new cookies are checked with a getoxsrf before they are saved (the
# path of a login's harvest; here an operator pastes them)

mock_post('/__mock/reset');
set_accounts(3);
sql("DELETE FROM settings; DELETE FROM relogin_history");
GeminiPool::setting('cookie_check_interval', 'int', '0');
my $far = time + 86400;
sql("UPDATE accounts SET cookie_expired = 1 WHERE name = 'acc2'; "
    . "INSERT INTO account_state (account_id, cooldown_text) "
    . "SELECT id, $far FROM accounts WHERE name = 'acc2'");
# the upstream gave acc2 new cookies: the old ones get 401 now
my %acc2new = (name => 'acc2', csesidx => '1404564702',
               team_id => 'd2d3798a-46bc-5389-9ff4-4ec2b3e213dd',
               secure_c_ses => 'CSE.acc2-new', host_c_oses => 'COS.acc2-new');
mock_post('/__mock/accounts', \%acc2new);
start_server();

my $old = sql("SELECT secure_c_ses FROM accounts WHERE name = 'acc2'");
ok(accounts()->{acc2}{cookie_expired}, 'acc2 is expired');

($st, $d) = admin('POST', '/api/accounts/1/cookies',
                  {secure_c_ses => 'CSE.acc2-bogus', csesidx => '1404564702'});
is($st, 422, 'cookies the getoxsrf refuses: 422');
is($d->{error}{code}, 'cookies_refused', 'cookies_refused');
like($d->{error}{message},
     qr/were refused: getoxsrf answered 401.*old cookies are kept/,
     'with the answer');
is(sql("SELECT secure_c_ses FROM accounts WHERE name = 'acc2'"), $old,
   'nothing was saved');
ok(accounts()->{acc2}{cookie_expired}, 'acc2 is still expired');

($st, $d) = admin('POST', '/api/accounts/1/cookies',
                  {secure_c_ses => 'CSE.acc2-new'});
is($st, 400, 'without csesidx: 400');
($st) = admin('POST', '/api/accounts/1/cookies',
              {secure_c_ses => 'x', csesidx => '12ab'});
is($st, 400, 'csesidx must be digits');

mock_stop();
($st, $d) = admin('POST', '/api/accounts/1/cookies',
                  {map { $_ => $acc2new{$_} }
                   qw(secure_c_ses host_c_oses csesidx)});
is($st, 502, 'the upstream down: 502, the cookies not checked');
is($d->{error}{code}, 'cookies_not_checked', 'cookies_not_checked');
is(sql("SELECT secure_c_ses FROM accounts WHERE name = 'acc2'"), $old,
   'and not saved');
mock_restart();
mock_post('/__mock/accounts', \%acc2new);

($st, $d) = admin('POST', '/api/accounts/1/cookies',
                  {map { $_ => $acc2new{$_} }
                   qw(secure_c_ses host_c_oses csesidx)});
is($st, 200, 'the new cookies pass their check and are saved');
my $new = sql("SELECT secure_c_ses FROM accounts WHERE name = 'acc2'");
ok($new ne $old && $new =~ /^enc:v1:/, 'sealed in the database');
$acc = accounts();
ok(!$acc->{acc2}{cookie_expired}, 'acc2 is no longer expired');
is($acc->{acc2}{cooldown_until}{text}, 0, 'its cooldown is gone');
is($acc->{acc2}{relogin}{state}, 'valid', 'its state: valid');
is(sql("SELECT count(*) FROM account_state s JOIN accounts a "
       . "ON a.id = s.account_id WHERE a.name = 'acc2' AND cooldown_text > 0"),
   0, 'the saved cooldown too');

# every worker uses them at once, without a reload
mock_post('/__mock/reset');
mock_post('/__mock/accounts', \%acc2new);
my @ok;
for (1 .. 6) {
    my $res = $http->post($srv->url('/v1/chat/completions'), {
        content => $json->encode({messages => [{role => 'user',
                                                content => "turn $_"}]})});
    push @ok, $res->{status};
}
is(join(',', @ok), '200,200,200,200,200,200', 'chats succeed');
ok(grep({ ($_->{account} // '') eq 'acc2' } @{ mock_requests('streamAssist') }),
   'acc2 serves chats again with its new cookies');

$srv->stop;

done_testing();
