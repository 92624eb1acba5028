# Adding an account in the console without pain, in Debian's real
# Chromium: the add dialog's paste box (admin-ui/js/views/accounts-paste.js
# over js/extract.js) fills the fields from a pasted cookie header and the
# product URL, says what it found, names every missing field at once (and
# so does the API's error when the dialog is saved anyway); the account is
# added with the pasted values and listed.  Kept short (CI time): the
# extractor's cases are t/154-account-extract.t's.  Without Chromium the
# file is skipped, unless CI=true: then it fails.
use strict;
use warnings;
use utf8;

use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use JSON::PP;

my $SECRET;

BEGIN {
    $SECRET = 'console-addacct-secret-0123456789';
    $ENV{ADMIN_SECRET_KEY} = $SECRET;
}

use GeminiPool ':plain';
use GeminiPool::Server;
use GeminiPool::Chromium;
use GeminiPool::Console;
use GeminiPool::Network;

binmode(Test::More->builder->$_, ':encoding(UTF-8)')
    for qw(output failure_output todo_output);

my $CI = ($ENV{CI} // '') =~ /^(?:1|true|yes)$/i;
my $json = JSON::PP->new->utf8->canonical->allow_nonref;
my $http = HTTP::Tiny->new(timeout => 10);

my $console = GeminiPool::Console::location();

my $srv = GeminiPool::Server->new(
    name => 'console-addacct', port => GeminiPool::Network::free_port(),
    server => "    location /api/ { gemini_pool_admin; }\n$console");
$srv->start;

sub admin {
    my ($method, $path, $body) = @_;
    my $res = $http->request($method, $srv->url($path), {
        headers => { 'X-Admin-Token' => $SECRET },
        (defined $body ? (content => $json->encode($body)) : ()),
    });
    return ($res->{status}, eval { $json->decode($res->{content}) });
}

my $b = GeminiPool::Chromium->new(lang => 'en-US');

unless ($b) {
    my $why = $@ || 'chromium did not start';
    $srv->stop;
    if ($CI) {
        fail("$why (required when CI=true)");
        done_testing;
        exit 1;
    }
    plan skip_all => "no browser: $why";
}

$b->call('Runtime.enable');
GeminiPool::Console::use_browser($b);

$b->goto($srv->url('/admin/'));
ok(wait_js('!!document.querySelector("#login-input")'), 'the login form');
click('input[name="login-mode"][value="secret"]');
fill('#login-input', $SECRET);
click('#login-submit');
ok(wait_js('!!document.querySelector("#stat-total")'), 'logged in');

my $TEAM = '36cc1840-8078-4a90-ad0a-6f995a52af32';
my $URL = "https://business.gemini.google/home/cid/$TEAM?csesidx=1404564754";

js('location.hash = "#/accounts"');
ok(wait_js('document.querySelectorAll("table.accounts tbody tr").length '
           . '=== 3'), 'the accounts list: three rows');

click('#account-add');
ok(wait_js('!!document.querySelector("dialog[open] #account-paste")'),
   'the add dialog has the paste box');
is(js('document.activeElement && document.activeElement.id'),
   'account-paste', 'and it has the focus');
like(js('document.querySelector(\'dialog[open] [name="team_id"]\')'
        . '.closest(".field").querySelector(".hint").textContent'),
     qr{/cid/}, 'the Team ID says where it comes from');
like(js('document.querySelector(\'dialog[open] [name="secure_c_ses"]\')'
        . '.closest(".field").querySelector(".hint").textContent'),
     qr/__Secure-C_SES.*DevTools/, 'so does the cookie');

# a paste with parts missing: all of them named at once
fill('dialog[open] #account-paste', 'Cookie: NID=1; __Host-C_OSES=COS.only');
ok(wait_js('!!document.querySelector("dialog[open] .paste-missing")'
           . '.textContent'), 'the paste is read at once');
like(text_of('dialog[open] .paste-found'), qr/__Host-C_OSES cookie \(8 /,
     'what it found (a cookie by its length)');
is(js('document.querySelector("dialog[open] .paste-missing")'
      . '.dataset.missing'), 'team_id csesidx secure_c_ses',
   'every missing field at once');
is(text_of('dialog[open] .paste-missing'),
   'Still missing: Team ID, csesidx, __Secure-C_SES cookie',
   'named in words');
is(js('document.querySelector(\'dialog[open] [name="host_c_oses"]\').value'),
   'COS.only', 'the found cookie is filled in');

# saved anyway: the API names them all too
click('dialog[open] button[type="submit"]');
ok(wait_js('!document.querySelector("dialog[open] .form-error").hidden'),
   'saved with parts missing: the API\'s error is shown');
like(text_of('dialog[open] .form-error'),
     qr/400.*"team_id", "csesidx" and "secure_c_ses" are required/,
     'naming every missing field');

# the URL and the cookie header pasted together: complete
fill('dialog[open] #account-paste',
     "$URL\nCookie: NID=1; __Secure-C_SES=CSE.pasted-1; "
     . "__Host-C_OSES=COS.pasted-2; OTHER=x");
ok(wait_js('document.querySelector("dialog[open] .paste-missing")'
           . '.dataset.missing === ""'), 'nothing missing');
is(text_of('dialog[open] .paste-missing'), 'Every required field is filled.',
   'says so');
my %v = map { $_ => js('document.querySelector(\'dialog[open] [name="'
                       . $_ . '"]\').value') }
        qw(team_id csesidx secure_c_ses host_c_oses);
is_deeply(\%v, { team_id => $TEAM, csesidx => '1404564754',
                 secure_c_ses => 'CSE.pasted-1',
                 host_c_oses => 'COS.pasted-2' }, 'the four fields filled');
like(text_of('dialog[open] .paste-found'),
     qr/Team ID \(\Q$TEAM\E\), csesidx \(1404564754\), __Secure-C_SES cookie/,
     'the found values shown');

fill('dialog[open] [name="name"]', 'pasted-account');
click('dialog[open] button[type="submit"]');
ok(wait_js('!document.querySelector("dialog[open]") && [...document'
           . '.querySelectorAll("table.accounts tbody tr")].some((tr) => '
           . '[...tr.cells].some((c) => c.textContent === "pasted-account"))'),
   'the account is added and listed');

my ($st, $d) = admin('GET', '/api/config/export?secrets=1');
my ($acc) = grep { $_->{name} eq 'pasted-account' } @{ $d->{accounts} // [] };
ok($acc, 'in the export');
is($acc && $acc->{team_id}, $TEAM, 'its team id');
is($acc && $acc->{csesidx}, '1404564754', 'its csesidx');
is($acc && $acc->{secure_c_ses}, 'CSE.pasted-1', 'its __Secure-C_SES');
is($acc && $acc->{host_c_oses}, 'COS.pasted-2', 'its __Host-C_OSES');

# Chinese: the hints and the missing fields in words
js('localStorage.setItem("gp-console-lang", "zh-CN"); location.reload()');
ok(wait_js('(document.querySelector("#account-add") || {}).textContent '
           . '=== "添加账号" && document.querySelectorAll('
           . '"table.accounts tbody tr").length === 4', 15),
   'reloaded in Chinese');
click('#account-add');
ok(wait_js('!!document.querySelector("dialog[open] #account-paste")'),
   'the add dialog');
like(js('document.querySelector(\'dialog[open] [name="csesidx"]\')'
        . '.closest(".field").querySelector(".hint").textContent'),
     qr/csesidx= 之后的数字/, 'the csesidx hint in Chinese');
fill('dialog[open] #account-paste', $URL);
ok(wait_js('/^仍缺少：__Secure-C_SES Cookie$/.test(document.querySelector('
           . '"dialog[open] .paste-missing").textContent)'),
   'the URL alone: the cookie named missing, in Chinese');

$srv->stop;
done_testing;
