# The console chat page's credential for /v1 (issue 15, item 1): the page
# has an admin session cookie, not an API key, and /v1 never takes the
# cookie.  POST /api/chats/token mints a short-lived API key named
# "console" tied to the admin session: the cookie's write needs this
# Origin, the admin secret itself gets none, it works on /v1 (and only
# there: never on the admin API), its calls are logged under "console",
# a new one replaces the old (same key id), it expires after its ttl and
# ends with a logout.  Also: a deleted chat's messages go with it.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use JSON::PP;
use Time::HiRes qw(sleep);

my $SECRET;

BEGIN {
    $SECRET = 'chat-credential-secret-0123456789';
    $ENV{ADMIN_SECRET_KEY} = $SECRET;
}

use GeminiPool ':plain';
use GeminiPool::Server;
use GeminiPool::Network;

my $json = JSON::PP->new->utf8->canonical;
my $http = HTTP::Tiny->new(timeout => 10);

my $srv = GeminiPool::Server->new(
    name => 'chat-credential', port => GeminiPool::Network::free_port(),
    server => <<'END');
    location /api/ { gemini_pool_admin; }
    location /v1/ { gemini_pool_api_keys on; gemini_pool_api; }
END
$srv->start;

my $ORIGIN = $srv->url('');
$ORIGIN =~ s{/+$}{};

sub req {
    my ($method, $path, $body, %h) = @_;
    my $res = $http->request($method, $srv->url($path), {
        headers => { 'Content-Type' => 'application/json', %h },
        (defined $body ? (content => $json->encode($body)) : ()),
    });
    return ($res->{status}, eval { $json->decode($res->{content}) } // {},
            $res);
}

sub v1chat {
    my (%h) = @_;
    return req('POST', '/v1/chat/completions',
               { model => 'gemini-2.5-flash',
                 messages => [{ role => 'user', content => 'hello' }] }, %h);
}

sub login {
    my ($st, $d, $res) = req('POST', '/api/auth/login',
                             { secret => $SECRET });
    is($st, 200, 'logged in with the secret');
    like($res->{headers}{'set-cookie'} // '', qr/^gp_admin=/,
         'a session cookie');
    return "gp_admin=$d->{token}";
}

my $cookie = login();

# ----------------------------------------------------------------------
# minting: the session, the Origin

my ($st, $d) = req('POST', '/api/chats/token', {}, Cookie => $cookie);
is($st, 403, 'the cookie without an Origin: refused');
is($d->{error}{code}, 'cross_origin', 'as any cookie write');

($st, $d) = req('POST', '/api/chats/token', {}, Cookie => $cookie,
                Origin => 'http://evil.example');
is($st, 403, 'another Origin: refused');

($st, $d) = req('POST', '/api/chats/token', {},
                'X-Admin-Token' => $SECRET);
is($st, 403, 'the admin secret itself: no credential');
is($d->{error}{code}, 'no_session', 'no_session');

($st, $d) = req('POST', '/api/chats/token', { ttl => 0 }, Cookie => $cookie,
                Origin => $ORIGIN);
is($st, 400, 'a ttl of 0: refused');
like($d->{error}{message} // '', qr/"ttl" must be a number of seconds from 1 to 3600/,
     'naming the field and the range');
($st) = req('POST', '/api/chats/token', { ttl => 'x' }, Cookie => $cookie,
            Origin => $ORIGIN);
is($st, 400, 'a ttl not a number: refused');

($st, $d) = req('POST', '/api/chats/token', {}, Cookie => $cookie,
                Origin => $ORIGIN);
is($st, 201, 'the cookie with this Origin: a credential');
my $tok = $d->{token};
my $kid = $d->{key_id};
like($tok // '', qr/^sk-gp-\w{20,}$/, 'an API key');
ok($d->{expires_in} > 3500 && $d->{expires_in} <= 3600,
   'for an hour by default') or diag explain $d;

# ----------------------------------------------------------------------
# where it works

($st) = v1chat(Cookie => $cookie);
is($st, 401, '/v1 never takes the admin cookie');
($st, $d) = v1chat(Authorization => "Bearer $tok");
is($st, 200, '/v1 takes the credential');
like($d->{choices}[0]{message}{content} // '', qr/\S/, 'an answer');

($st, $d) = req('GET', '/api/chats', undef, 'X-Admin-Token' => $tok);
is($st, 401, 'the admin API does not take it as X-Admin-Token');
($st) = req('GET', '/api/chats', undef, Authorization => "Bearer $tok");
is($st, 401, 'nor as a Bearer');

($st, $d) = req('GET', '/api/keys', undef, 'X-Admin-Token' => $SECRET);
my ($row) = grep { $_->{id} == $kid } @{ $d->{keys} };
is($row->{name}, 'console', 'the keys list names it "console"');

($st, $d) = req('GET', '/api/config/export?secrets=1', undef,
                'X-Admin-Token' => $SECRET);
is($st, 200, 'an export with the secrets');
ok(!grep({ $_->{name} eq 'console' } @{ $d->{api_keys} // [] }),
   'leaves the credential out (it belongs to its session)');

my $logged = wait_for(10, sub {
    sql("SELECT count(*) FROM call_logs WHERE key_id = $kid AND "
        . "status = 200") >= 1
});
ok($logged, 'the call log has the call under the console key');

# ----------------------------------------------------------------------
# a new one replaces the old; expiry

($st, $d) = req('POST', '/api/chats/token', {}, Cookie => $cookie,
                Origin => $ORIGIN);
is($st, 201, 'a second credential');
is($d->{key_id}, $kid, 'the same key id (the conversations keep their '
   . 'upstream sessions)');
isnt($d->{token}, $tok, 'a new token');
($st) = v1chat(Authorization => "Bearer $tok");
is($st, 401, 'the old token is refused');
$tok = $d->{token};
($st) = v1chat(Authorization => "Bearer $tok");
is($st, 200, 'the new one works');

($st, $d) = req('POST', '/api/chats/token', { ttl => 1 }, Cookie => $cookie,
                Origin => $ORIGIN);
is($st, 201, 'a credential for one second');
$tok = $d->{token};
($st) = v1chat(Authorization => "Bearer $tok");
is($st, 200, 'works at once');
sleep 2.2;
($st, $d) = v1chat(Authorization => "Bearer $tok");
is($st, 401, 'expired: refused');
is($d->{error}{code}, 'invalid_api_key', 'as an OpenAI error');

# ----------------------------------------------------------------------
# a logout ends it

($st, $d) = req('POST', '/api/chats/token', {}, Cookie => $cookie,
                Origin => $ORIGIN);
$tok = $d->{token};
($st) = v1chat(Authorization => "Bearer $tok");
is($st, 200, 'a fresh credential works');
($st) = req('POST', '/api/auth/logout', {}, Cookie => $cookie,
            Origin => $ORIGIN);
is($st, 200, 'logged out');
($st) = v1chat(Authorization => "Bearer $tok");
is($st, 401, 'after the logout: refused');
is(sql("SELECT count(*) FROM api_keys WHERE session <> ''"), 0,
   'its row is gone');
($st) = req('POST', '/api/chats/token', {}, Cookie => $cookie,
            Origin => $ORIGIN);
is($st, 401, 'the ended session gets no new one');

# ----------------------------------------------------------------------
# a deleted chat's messages go with it

($st, $d) = req('POST', '/api/chats',
                { messages => [{ role => 'user', content => 'q' },
                               { role => 'assistant', content => 'a' }] },
                'X-Admin-Token' => $SECRET);
is($st, 201, 'a chat with two messages');
my $cid = $d->{id};
is(sql("SELECT count(*) FROM chat_messages WHERE chat_id = $cid"), 2,
   'stored');
($st) = req('DELETE', "/api/chats/$cid", undef, 'X-Admin-Token' => $SECRET);
is($st, 200, 'deleted');
is(sql("SELECT count(*) FROM chat_messages WHERE chat_id = $cid"), 0,
   'no message left behind');

unlike($srv->error_log_text, qr/\[(?:alert|crit|emerg)\]/,
       'no alert in the error log');

$srv->stop;
done_testing;
