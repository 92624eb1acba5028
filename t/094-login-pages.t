# The fake of Google's login pages (t/mock/login.py in the upstream mock)
# and the helper that sets it up with the fake temp-mail worker
# (t/lib/GeminiPool/Login.pm), driven in Debian's real Chromium the way
# the re-login must drive it (protocol section 13.3): the host names of
# Google mapped to the loopback, the test CA's leaf trusted, HSTS and the
# __Secure-/__Host- cookie rules as on the real site.  The e-mail form,
# the reCAPTCHA field the page fills, the code page with its toast and
# resend button, the mail, a wrong code, the limit, the challenge frame,
# the error page, zh-CN and en; the cookies Chromium keeps become the
# mock account's valid cookies, and the old ones answer 401.
#
# Without Chromium the file is skipped, unless CI=true: then it fails.

use strict;
use warnings;
use utf8;

use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use JSON::PP;

use GeminiPool ':plain';
use GeminiPool::Chromium;
use GeminiPool::Login;

binmode(Test::More->builder->$_, ':encoding(UTF-8)')
    for qw(output failure_output todo_output);

my $CI = ($ENV{CI} // '') =~ /^(?:1|true|yes)$/i;
my $json = JSON::PP->new->utf8->canonical;
my $js = JSON::PP->new->ascii->allow_nonref;   # a string in an expression
my $http = HTTP::Tiny->new(timeout => 10);

# the mock's own self test, which walks the login pages with plain HTTP
# requests (no browser needed)
is(system('/usr/bin/python3', "$GeminiPool::ROOT/t/mock/selftest.py"), 0,
   't/mock/selftest.py passes');

unless (-f "$GeminiPool::ROOT/t/mock/tempmail.py" || $ENV{GP_TEST_TEMPMAIL}) {
    fail('t/mock/tempmail.py is there') if $CI;
    diag('t/mock/tempmail.py (the fake temp-mail worker) is missing');
    done_testing;
    exit 0;
}

unless (GeminiPool::Chromium::find_binary()) {
    fail('chromium is installed') if $CI;
    diag('chromium is not installed');
    done_testing;
    exit 0;
}

my $login = GeminiPool::Login->start(
    accounts => [qw(acc1 acc2)],
    ($ENV{GP_TEST_TEMPMAIL} ? (tempmail => $ENV{GP_TEST_TEMPMAIL}) : ()));
ok($login, 'the login pages and the temp-mail worker start')
    or BAIL_OUT("GeminiPool::Login: $@");

is($login->login_url, 'https://auth.business.gemini.google',
   'login_url for gemini_pool_login_url: Google\'s own');
like($login->chromium_args->[0],
     qr{^--host-resolver-rules=MAP \*\.gemini\.google 127\.0\.0\.1:\d+$},
     'the names mapped to the listener, port included');
is(length $login->spki, 44, 'the SPKI hash of the test leaf');
ok(-f $login->ca, 'the test CA on disk');
my $box1 = $login->mailbox('acc1');
like($box1->{url}, qr{^http://127\.0\.0\.1:\d+/\?jwt=[\w-]+\.[\w-]+\.[\w-]+$},
     'a mailbox URL with its JWT');

my %acct = map { $_->{name} => $_ } @{ mock_get('/__mock/accounts') };
my $FORM = '/login?continueUrl=https://business.gemini.google/';

sub browser {
    my (%o) = @_;
    my $b = GeminiPool::Chromium->new(
        lang => $o{lang} // 'en-US',
        args => [ @{ $login->chromium_args },
                  '--accept-lang=' . ($o{accept} // 'en-US,en') ]);
    ok($b, 'chromium starts') or BAIL_OUT("chromium: $@");
    return $b;
}

sub click { $_[0]->eval("document.querySelector(\"$_[1]\").click(), true") }

sub type_in {
    my ($b, $sel, $text) = @_;
    $b->eval("document.querySelector(\"$sel\").focus(), true");
    $b->call('Input.insertText', { text => $text });
}

# types a code and clicks "verify"; returns when the next page has loaded
sub submit_code {
    my ($b, $code) = @_;
    ok($b->wait_for('document.readyState == "complete" '
                    . '&& !!document.querySelector("input[name=pinInput]")', 15),
       "the code field is there for $code");
    $b->eval('window.__gp_old = 1');
    type_in($b, 'input[name=pinInput]', $code);
    click($b, '#verify-button');
    $b->wait_for('!window.__gp_old && document.readyState == "complete"', 15);
}

sub href { $_[0]->eval('location.href') }

sub text_has {
    my ($b, $s, $t) = @_;
    return $b->wait_for('document.body && document.body.innerText.includes('
                        . $js->encode($s) . ')', $t // 10);
}

sub codes_for {
    my ($addr) = @_;
    my @codes;
    for my $m (@{ $login->mails->{mails} }) {
        next unless $m->{address} eq $addr;
        push @codes, $1
            if $m->{raw} =~ /(?:\x{9a8c}\x{8bc1}\x{7801}\x{4e3a}|code is)[:\x{ff1a}\s]*([A-Z0-9]{6})/;
    }
    return @codes;
}

sub wait_codes {
    my ($addr, $n) = @_;
    for (1 .. 100) {
        my @c = codes_for($addr);
        return @c if @c >= $n;
        select undef, undef, undef, 0.1;
    }
    return codes_for($addr);
}

sub submit_email {
    my ($b, $addr) = @_;
    $b->goto($login->login_url . $FORM);
    ok($b->wait_for('!!document.querySelector("#email-input")'),
       'the e-mail form');
    type_in($b, '#email-input', $addr);
    ok($b->wait_for('!!document.querySelector("iframe[title=reCAPTCHA]")', 5),
       'the reCAPTCHA frame');
    click($b, 'button#log-in-button');
}

sub getoxsrf {
    my ($cses, $ses, $oses) = @_;
    return $http->get(mock_url() . "/auth/getoxsrf?csesidx=$cses", {
        headers => { cookie => "__Secure-C_SES=$ses; __Host-C_OSES=$oses" } });
}

# ---- without the trust of the leaf, Chromium refuses the site -------------

{
    my $b = GeminiPool::Chromium->new(
        args => [ $login->chromium_args->[0] ]);     # the mapping only
    ok($b, 'chromium starts without the SPKI flag');
    my $r = $b->call('Page.navigate', { url => $login->login_url . $FORM });
    like($r->{errorText} // '', qr/ERR_CERT/,
         'without the SPKI flag: a certificate error');
    $b->quit;
    my @r = grep { $_->{host} eq 'auth.business.gemini.google' }
            @{ $login->requests };
    is(scalar @r, 0, 'and no request reached the login pages');
}

# ---- the happy path in English, one wrong code first ------------------------

{
    my $b = browser();
    submit_email($b, $box1->{address});
    ok($b->wait_for('document.querySelector("#g-recaptcha-response").value'
                    . '.startsWith("03A")', 10)
       || href($b) =~ m{/login/email}, 'the page fills #g-recaptcha-response');
    ok($b->wait_for('location.href.includes("accountverification.business.'
                    . 'gemini.google") && location.pathname == "/v1/verify-oob-code"',
                    15), 'on the code page') or diag(href($b));
    ok($b->wait_for('!!document.querySelector("input[name=pinInput]")'),
       'input[name=pinInput]');
    ok($b->eval('!!document.querySelector("button[aria-label=\'重新发送验证码\']")'),
       'the resend button by its aria-label');
    ok(text_has($b, 'Verification code sent, please check your email'),
       'the toast');
    my ($code) = wait_codes($box1->{address}, 1);
    like($code, qr/^[A-Z0-9]{6}$/, 'the code arrived in the mailbox');

    submit_code($b, 'QQQQ77');
    ok(text_has($b, 'The code is incorrect'), 'a wrong code: "incorrect"');

    submit_code($b, $code);
    ok($b->wait_for('location.hostname == "business.gemini.google" '
                    . '&& location.pathname.startsWith("/home/cid/")', 15),
       'signed in: on business.gemini.google/home/cid/') or diag(href($b));
    my $url = href($b);
    my ($team, $cses) = $url =~ m{/home/cid/([^/?]+)\?csesidx=(\d+)$};
    is($team, $acct{acc1}{team_id}, 'cid is the team id');
    ok($cses && $cses ne $acct{acc1}{csesidx}, 'a new csesidx');
    ok(text_has($b, 'Welcome to Gemini Enterprise'), 'the home page');

    my %c = map { $_->{name} => $_ }
            @{ $b->call('Network.getAllCookies')->{cookies} };
    my ($ses, $oses) = @c{qw(__Secure-C_SES __Host-C_OSES)};
    ok($ses && $ses->{secure} && $ses->{httpOnly}, '__Secure-C_SES kept');
    ok($oses && $oses->{secure} && $oses->{httpOnly}
       && $oses->{domain} eq 'business.gemini.google' && $oses->{path} eq '/',
       '__Host-C_OSES kept, host-only');
    is($b->eval('document.cookie'), '', 'both HttpOnly: not in document.cookie');

    is(getoxsrf($cses, $ses->{value}, $oses->{value})->{status}, 200,
       'the harvested cookies pass getoxsrf');
    is(getoxsrf($acct{acc1}{csesidx}, $acct{acc1}{secure_c_ses},
                $acct{acc1}{host_c_oses})->{status}, 401,
       'the old cookies answer 401');

    # business.gemini.google/ with the session goes home (the harvest's nudge)
    $b->goto($login->home_url . '/');
    is(href($b), $url, 'business.gemini.google/ redirects home with csesidx');
    $b->quit;

    my $ev = $login->events(event => 'signed_in');
    is(scalar @$ev, 1, 'one signed_in event');
    is($ev->[0]{account}, 'acc1', 'for acc1');
}

# ---- zh-CN: the limit, resend, the older code dead, then success -----------

{
    my $box = $login->mailbox('acc2');
    $login->script({ account => 'acc2', limit_after => 2, toast_ms => 1500 });
    my $b = browser(lang => 'zh-CN', accept => 'zh-CN,zh');
    submit_email($b, $box->{address});
    ok($b->wait_for('!!document.querySelector("input[name=pinInput]")', 15),
       'zh-CN: the code page');
    ok(!text_has($b, '验证码已发送', 0.5), 'the slow toast is not there yet');
    ok(text_has($b, '验证码已发送，请查收您的邮件', 5), 'then the toast (zh-CN)');
    my ($code) = wait_codes($box->{address}, 1);
    for my $n (1, 2) {
        submit_code($b, 'QQQQ7' . $n);
    }
    ok(text_has($b, '验证码输入次数已超出上限'), 'limit exceeded after 2');
    click($b, "button[aria-label='重新发送验证码']");
    my @codes = wait_codes($box->{address}, 2);
    is(scalar @codes, 2, 'resend mails a second code');
    ok(text_has($b, '验证码已发送'), 'the toast after resend');
    submit_code($b, $codes[0]);
    ok(text_has($b, '验证码有误'), 'the first code is dead after resend');
    submit_code($b, $codes[1]);
    ok($b->wait_for('location.pathname.startsWith("/home/cid/")', 15),
       'the second code signs in');
    ok(text_has($b, '欢迎使用 Gemini Enterprise'), 'the home page in zh-CN');
    $b->quit;
}

# ---- a challenge frame, solved by a click in it; the error page -----------

{
    $login->script({ challenge => JSON::PP::true });
    my $b = browser();
    submit_email($b, $box1->{address});
    ok($b->wait_for('getComputedStyle(document.querySelector("#challenge"))'
                    . '.display != "none"', 5), 'a visible challenge frame');
    select undef, undef, undef, 1;
    is($b->eval('document.querySelector("#g-recaptcha-response").value'), '',
       'no token while the challenge waits');
    like(href($b), qr{/login\?}, 'still on the login page');
    # the person's click inside the frame
    $b->eval('document.querySelector("#challenge iframe").contentDocument'
                         . '.querySelector("#recaptcha-verify-button").click(), true');
    ok($b->wait_for('location.pathname == "/v1/verify-oob-code"', 15),
       'after the challenge: the code page');

    $login->script({ account => 'acc1', error_at => 'verify' });
    submit_email($b, $box1->{address});
    submit_code($b, 'ABCDEF');
    ok(text_has($b, 'server cannot process'), 'the scripted error page');
    $b->quit;
}

# ---- the log of the login pages ----------------------------------------------

{
    my $req = $login->requests;
    my @posts = grep { $_->{method} eq 'POST' && $_->{path} eq '/login/email' }
                @$req;
    ok(@posts >= 4, 'POST /login/email logged');
    ok(!grep({ !$_->{form}{'g-recaptcha-response'} } @posts),
       'each with the token the page filled');
    my ($zh) = grep { ($_->{accept_language} // '') =~ /^zh/ } @$req;
    ok($zh, 'Chromium sent the Accept-Language it was given');
}

done_testing;
