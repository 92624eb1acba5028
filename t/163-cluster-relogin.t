# Several gateways on one Redis: exactly one gateway runs the re-login of
# an account that expired everywhere (the lease in Redis, SET NX PX);
# the other says so and does not start one; the lease is kept a little
# after the attempt (the result reaches the others first), then expires.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use MIME::Base64 ();
use Time::HiRes qw(sleep);
use GeminiPool ':plain';
use GeminiPool::Redis;

my $J = $GeminiPool::JSON;

sub b64url {
    my $t = MIME::Base64::encode_base64($_[0], '');
    $t =~ tr{+/}{-_};
    $t =~ s/=+\z//;
    return $t;
}

my $jwt = join '.', b64url('{"alg":"HS256","typ":"JWT"}'),
    b64url($J->encode({address => 'acc2@mail.example.test', address_id => 7})),
    b64url('signature-bytes');
my $mailbox = "https://mail.example.test/?jwt=$jwt";

my @sql = (
    "UPDATE accounts SET tempmail_url = '$mailbox', tempmail_name = 'box2' "
    . "WHERE name = 'acc2'");
my %settings = (cookie_check_interval => ['int', 2],
                auto_refresh_cookies => ['bool', 'true'],
                cookie_retry_interval => ['int', 3600],
                spare_sessions => ['int', 0]);

mock_post('/__mock/reset');
my $redis = GeminiPool::Redis->new(name => '163')->start;
my @gw = map { $redis->gateway(name => "163-$_", sql => \@sql,
                               settings => \%settings) } qw(a b c);
ok(wait_for(5, sub { !grep { !($_->health->{cluster} || {})->{up} } @gw }),
   'three gateways up');

# acc2 expires for everyone
mock_post('/__mock/inject', {account => 'acc2', endpoint => 'getoxsrf',
    times => -1, action => {expired => JSON::PP::true}});

sub attempts {
    my @n = map {
        GeminiPool::Redis::sqlite($_->{gp_db},
            "SELECT count(*) FROM relogin_history WHERE account = 'acc2'")
    } @gw;
    return \@n;
}

ok(wait_for(20, sub { my $n = 0; $n += $_ for @{ attempts() }; $n }),
   'a re-login of acc2 ran');
ok(wait_for(10, sub { my $t = join '', map { $_->error_log_text } @gw;
                      my $c = () = $t =~ /acc2" runs on another gateway/g;
                      $c >= 2 }),
   'the two others say it runs on another gateway')
    or diag join "\n", map { $_->error_log_text =~ /(.*re-login.*)/g } @gw;
sleep 3;    # more expiry checks: still one
my $n = attempts();
my $total = 0;
$total += $_ for @$n;
is($total, 1, 'exactly one attempt on the three gateways')
    or diag "@$n";
my @started = map { scalar(() = $_->error_log_text
                       =~ /re-login of account "acc2" \(expired\)/g) } @gw;
is(scalar(grep { $_ } @started), 1, 'one gateway started a login');

my $ttl = $redis->cli('PTTL', 'gp:lease:acc2');
cmp_ok($ttl, '>', 0, 'the lease is kept after the attempt');
cmp_ok($ttl, '<=', 15000, '... for the settle time only');
like($redis->cli('GET', 'gp:lease:acc2'), qr{/\d+/[0-9a-f]{16}$},
     '... holding host/pid/random');

$_->stop for @gw;

# a login that succeeds (Chromium, the fake login pages and mailbox):
# one of two gateways runs it, and the expired flag leaves Redis
SKIP: {
    require GeminiPool::Login;
    require GeminiPool::Chromium;
    my $chromium = GeminiPool::Chromium::find_binary();
    skip 'chromium is not installed', 5 unless $chromium;
    my $login = GeminiPool::Login->start(accounts => ['acc1']);
    skip "the login pages: $@", 5 unless $login;

    my $home = $login->home_url;
    my $recipe = GeminiPool::slurp("$GeminiPool::ROOT/scripts/signin.recipe");
    $recipe =~ s{^login_page .*$}{login_page {login_url}/login?continueUrl=$home/}m;
    $recipe =~ s{^home_page .*$}{home_page $home/}m;
    my %t = (mail_poll => '1s', timeout_mail => '40s',
             timeout_challenge => '3s', timeout_login => '3m');
    for my $k (sort keys %t) {
        $recipe =~ s/^\Q$k\E .*\n//mg;
        $recipe .= "$k $t{$k}\n";
    }
    my $rfile = "$GeminiPool::ROOT/t/tmp/163-signin.recipe";
    open my $fh, '>', $rfile or die;
    print $fh $recipe;
    close $fh;
    my $args = join ' ', map { "\"arg=$_\"" } @{ $login->chromium_args };
    my $http = "    gemini_pool_login_url " . $login->login_url . ";\n"
             . "    gemini_pool_browser $chromium headless $args;\n"
             . "    gemini_pool_signin_recipe $rfile;\n";
    my $url = $login->mailbox('acc1')->{url};

    mock_post('/__mock/reset');
    $redis->cli('FLUSHALL');
    my %s2 = (%settings, cookie_retry_interval => ['int', 1],
              tempmail_worker_url => ['string', $login->tempmail_url]);
    my @two = map {
        $redis->gateway(name => "163-l$_", accounts => 1, http => $http,
                        settings => \%s2,
                        sql => ["UPDATE accounts SET tempmail_url = '$url', "
                                . "tempmail_name = 'box1' WHERE name = 'acc1'"])
    } 1 .. 2;
    ok(wait_for(5, sub { !grep { !($_->health->{cluster} || {})->{up} } @two }),
       'two gateways with a browser up');

    # the mock stops taking acc1's cookies: both find it expired
    mock_post('/__mock/accounts', {name => 'acc1',
                                   secure_c_ses => 'CSE.rotated-' . time});
    ok(wait_for(20, sub { ($redis->cli('HGETALL', 'gp:cooldowns') // '')
                          =~ /^acc1\/expired$/m }),
       'acc1 expired: the flag in Redis');
    ok(wait_for(120, sub { join('', map { $_->error_log_text } @two)
                           =~ /re-login of account "acc1" succeeded/ }),
       'a login succeeded')
        or diag join "\n", map { $_->error_log_text =~ /(.*re-login.*)/g } @two;
    my @ran = grep { $_->error_log_text
                     =~ /re-login of account "acc1" \((?:expired|asked for)\)/ } @two;
    is(scalar @ran, 1, 'on one gateway only');
    ok(wait_for(5, sub { ($redis->cli('HGETALL', 'gp:cooldowns') // '')
                         !~ /^acc1\/expired$/m }),
       'the expired flag left Redis');
    $_->stop for @two;
    $login->stop if $login->can('stop');
}

done_testing;
