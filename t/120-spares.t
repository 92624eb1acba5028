# Spare sessions (issue 19, part 2): a new conversation takes a session the
# helper made ahead of need, so widgetCreateSession is not on its path; the
# spare is replaced, expires, and is forgotten on 401/403, on renewed
# cookies and on a session the upstream refuses (the turn then creates
# one: no failed request); spare_sessions 0 turns it off.  Each block's
# scenario runs in a response_body_filters function and prints what it
# saw, one line per fact.

use lib 't/lib';
BEGIN { $ENV{ADMIN_SECRET_KEY} = 'spares-admin-secret-0123456789' }
use Test::Nginx::Socket 'no_plan';
use GeminiPool;
use HTTP::Tiny;
use JSON::PP;
use Time::HiRes ();

my $http = HTTP::Tiny->new(timeout => 30);
my $json = JSON::PP->new->utf8;

# valgrind makes everything slower
my $slow = $ENV{TEST_NGINX_USE_VALGRIND} ? 6 : 1;

sub url { "http://127.0.0.1:" . Test::Nginx::Socket::server_port() . $_[0] }

sub new_chat {
    my ($text, $conversation) = @_;
    my $res = $http->post(url('/v1/chat/completions'), {
        headers => { 'Content-Type' => 'application/json' },
        content => $json->encode({ messages => [{ role => 'user',
                                                  content => $text }],
                                   $conversation
                                   ? (conversation_id => $conversation)
                                   : () }),
    });
    my $ok = $res->{status} == 200 && $res->{content} =~ /echo: \Q$text\E/;
    return $ok ? 200 : "$res->{status} $res->{content}";
}

sub health_account {
    my ($name) = @_;
    my $h = $json->decode($http->get(url('/health?detail=1'))->{content});
    my ($a) = grep { $_->{name} eq $name } @{ $h->{pool} };
    return $a;
}

sub spares_of { health_account($_[0])->{spare_sessions} }

sub metric {
    my ($event) = @_;
    my $m = $http->get(url('/metrics'))->{content};
    return $m =~ /^gemini_pool_spare_sessions_total\{event="$event"\} (\d+)$/m
           ? $1 : -1;
}

sub requests_since {
    my ($seq, $endpoint) = @_;
    return [ grep { $_->{seq} > $seq
                    && (!$endpoint || $_->{endpoint} eq $endpoint) }
             @{ GeminiPool::mock_get('/__mock/requests') } ];
}

sub last_seq {
    my $r = GeminiPool::mock_get('/__mock/requests');
    return @$r ? $r->[-1]{seq} : 0;
}

# the first turn makes acc1 an account in use; its spares follow
sub first_turn_and_spare {
    my ($out, $conversation, $want) = @_;
    $want //= 1;
    push @$out, "first turn: " . new_chat('one', $conversation);
    push @$out, "spares made: " . (GeminiPool::wait_for(10 * $slow, sub {
        spares_of('acc1') >= $want ? spares_of('acc1') : 0 }) // 0);
}

# the sessions the helper made, oldest first
sub spare_names {
    return map { $_->{session} }
           grep { $_->{status} == 200 }
           @{ GeminiPool::mock_requests('createSession') };
}

# the session a streamAssist named (an injected answer has no record of it)
sub assist_session {
    my ($r) = @_;
    return $r->{session} // $r->{body}{streamAssistRequest}{session} // '';
}

sub used {
    my ($session) = @_;
    return scalar grep { assist_session($_) eq $session }
                  @{ GeminiPool::mock_requests('streamAssist') };
}


# TEST 1

sub spare_used {
    my @out;
    first_turn_and_spare(\@out);

    my $made = GeminiPool::mock_requests('createSession');
    my %before = map { ($_->{session} // '') => 1 } @$made;
    my $seq = last_seq();

    push @out, "second turn: " . new_chat('two');

    my $path = requests_since($seq);
    my ($assist) = grep { $_->{endpoint} eq 'streamAssist' } @$path;
    my $first = $path->[0]{endpoint};
    push @out, "first call of its path: $first";
    push @out, "its session was made before it: "
        . ($assist && $before{assist_session($assist)} ? 1 : 0);
    push @out, "used: " . metric('used');

    my $again = GeminiPool::wait_for(10 * $slow, sub {
        @{ requests_since($seq, 'createSession') } && spares_of('acc1') });
    push @out, "replaced: " . ($again // 0);
    push @out, "created: " . metric('created');
    return join("\n", @out) . "\n";
}


# TEST 2

sub spares_off {
    my @out;
    push @out, "first turn: " . new_chat('one');
    Time::HiRes::sleep(1.5);
    push @out, "spares: " . spares_of('acc1');
    push @out, "createSession calls: "
        . scalar @{ GeminiPool::mock_requests('createSession') };
    push @out, "second turn: " . new_chat('two');
    push @out, "createSession calls: "
        . scalar @{ GeminiPool::mock_requests('createSession') };
    push @out, "created: " . metric('created');
    return join("\n", @out) . "\n";
}


# TEST 3: session_max_age 4: a spare lives 2 s

sub spares_expire {
    my @out;
    first_turn_and_spare(\@out);

    my $spare = GeminiPool::mock_requests('createSession')->[-1]{session};
    my $dropped = GeminiPool::wait_for(10 * $slow,
                                       sub { metric('dropped') >= 1 });
    push @out, "dropped unused: " . ($dropped ? 1 : 0);

    # the account is in use: another one is made
    my $next = GeminiPool::wait_for(10 * $slow, sub {
        my $all = GeminiPool::mock_requests('createSession');
        $all->[-1]{session} ne $spare && spares_of('acc1') });
    push @out, "a new one made: " . ($next ? 1 : 0);

    push @out, "next turn: " . new_chat('two');
    my @uses = grep { $_->{session} eq $spare }
               @{ GeminiPool::mock_requests('streamAssist') };
    push @out, "the expired spare used: " . scalar @uses;
    return join("\n", @out) . "\n";
}


# TEST 4 and 5: a 401 or a 403 of the account drops its spares

sub spares_auth {
    my ($status) = @_;
    my @out;

    # a conversation bound to acc1, whose follow-up will get the answer
    first_turn_and_spare(\@out, 'c1');

    my $spare = (spare_names())[-1];
    my $d0 = metric('dropped');

    GeminiPool::mock_post('/__mock/inject', { account => 'acc1',
        endpoint => 'streamAssist', action => { status => $status,
        body => { error => { code => $status, message => 'denied',
                             status => 'PERMISSION_DENIED' } } } });

    push @out, "follow-up, failed over: " . new_chat('two', 'c1');
    push @out, "acc1 expired: "
        . (health_account('acc1')->{cookie_expired} ? 1 : 0);
    push @out, "acc1 spares: " . spares_of('acc1');
    push @out, "dropped: " . (metric('dropped') - $d0);
    Time::HiRes::sleep(1);
    push @out, "acc1 spares a second later: " . spares_of('acc1');
    push @out, "the spare used: " . used($spare);
    return join("\n", @out) . "\n";
}

sub spares_401 { spares_auth(401) }
sub spares_403 { spares_auth(403) }


# TEST 6: cookies saved through the admin API

sub spares_renewed {
    my @out;
    first_turn_and_spare(\@out);

    my $spare = GeminiPool::mock_requests('createSession')->[-1]{session};
    my $d0 = metric('dropped');

    my $adm = { 'X-Admin-Token' => 'spares-admin-secret-0123456789',
                'Content-Type' => 'application/json' };
    my $rows = $json->decode($http->get(url('/api/accounts'),
                                        { headers => $adm })->{content});
    push @out, "admin row: spare_sessions "
        . $rows->{accounts}[0]{spare_sessions};

    # the upstream knows the new cookie, the gateway gets it
    GeminiPool::mock_post('/__mock/accounts', { name => 'acc1',
                                               secure_c_ses => 'CSE.renewed' });
    my $res = $http->request('PUT', url('/api/accounts/0'), {
        headers => $adm,
        content => $json->encode({ secure_c_ses => 'CSE.renewed' }) });
    push @out, "cookie saved: $res->{status}";
    push @out, "dropped: " . (metric('dropped') - $d0);

    my $next = GeminiPool::wait_for(10 * $slow, sub {
        my $all = GeminiPool::mock_requests('createSession');
        $all->[-1]{session} ne $spare && spares_of('acc1') });
    push @out, "a new one made with the new cookie: " . ($next ? 1 : 0);

    push @out, "next turn: " . new_chat('two');
    my @uses = grep { $_->{session} eq $spare }
               @{ GeminiPool::mock_requests('streamAssist') };
    push @out, "the old spare used: " . scalar @uses;
    return join("\n", @out) . "\n";
}


# TEST 9: cookies pasted through the admin API, checked and saved as a
# re-login's harvest is (ngx_gp_relogin_verify())

sub spares_pasted {
    my @out;
    first_turn_and_spare(\@out);

    my $spare = (spare_names())[-1];
    my $d0 = metric('dropped');
    my $acc1 = GeminiPool::accounts_file()->[0];

    GeminiPool::mock_post('/__mock/accounts', { name => 'acc1',
                                               secure_c_ses => 'CSE.pasted' });
    my $res = $http->post(url('/api/accounts/0/cookies'), {
        headers => { 'X-Admin-Token' => 'spares-admin-secret-0123456789',
                     'Content-Type' => 'application/json' },
        content => $json->encode({ secure_c_ses => 'CSE.pasted',
                                   csesidx => $acc1->{csesidx} }) });
    push @out, "cookies pasted: $res->{status} "
        . ($res->{content} =~ /"saved":true/ ? 'saved' : $res->{content});
    push @out, "dropped: " . (metric('dropped') - $d0);

    my $next = GeminiPool::wait_for(10 * $slow, sub {
        (spare_names())[-1] ne $spare && spares_of('acc1') });
    push @out, "a new one made with the new cookie: " . ($next ? 1 : 0);
    push @out, "next turn: " . new_chat('two');
    push @out, "the old spare used: " . used($spare);
    return join("\n", @out) . "\n";
}


# TEST 7 and 8: the upstream refuses the spare: the account's other spares
# go, and the turn makes a new session on the same account

sub spares_refused {
    my ($how) = @_;
    my @out;
    first_turn_and_spare(\@out, undef, 2);

    my ($taken, $other) = (spare_names())[-2, -1];
    my $d0 = metric('dropped');

    if ($how eq 'not owned') {
        GeminiPool::mock_post('/__mock/inject', { account => 'acc1',
            endpoint => 'streamAssist', action => { status => 401,
            body => { error => { code => 401, message => 'Session is not '
                . 'owned by the provided user.',
                status => 'UNAUTHENTICATED' } } } });
    } else {
        $http->request('DELETE', GeminiPool::mock_url() . '/__mock/sessions');
    }

    my $seq = last_seq();
    push @out, "turn: " . new_chat('two');
    my $since = requests_since($seq);
    my @assist = grep { $_->{endpoint} eq 'streamAssist' } @$since;
    push @out, "its streamAssist calls: " . join(' ', map {
        "$_->{status}:$_->{account}" } @assist);
    push @out, "the first in the spare: "
        . (assist_session($assist[0]) eq $taken ? 1 : 0);
    my ($made) = grep { $_->{endpoint} eq 'createSession'
                        && $_->{session} eq assist_session($assist[-1]) }
                 @$since;
    push @out, "the second in a session made after it: "
        . ($made && $made->{seq} > $assist[0]{seq} ? 1 : 0);
    push @out, "the other spare dropped: "
        . (metric('dropped') - $d0 >= 1 ? 1 : 0);
    push @out, "next turn: " . new_chat('three');
    push @out, "the other spare used: " . used($other);
    my $a = health_account('acc1');
    push @out, "acc1 expired: " . ($a->{cookie_expired} ? 1 : 0)
        . ", cooling: " . ($a->{cooldown_until}{text} > time ? 1 : 0)
        . ", failures: $a->{failures}";
    return join("\n", @out) . "\n";
}

sub spares_not_owned { spares_refused('not owned') }
sub spares_gone { spares_refused('gone') }

no_long_string();
log_level('info');
run_tests();

__DATA__

=== TEST 1: a new conversation takes the account's spare: no createSession on its path; the helper replaces it
--- gp_setup
set_accounts(1);
--- config
    location /v1/ { gemini_pool_api; }
    location = /health { gemini_pool_health; }
    location = /metrics { gemini_pool_metrics; }
--- request
GET /health
--- response_body_filters eval
\&main::spare_used
--- response_body
first turn: 200
spares made: 1
second turn: 200
first call of its path: streamAssist
its session was made before it: 1
used: 1
replaced: 1
created: 2
--- no_error_log
[error]
--- timeout: 120


=== TEST 2: spare_sessions 0 turns them off: every new conversation creates its session
--- gp_setup
set_accounts(1);
setting('spare_sessions', 'int', '0');
--- config
    location /v1/ { gemini_pool_api; }
    location = /health { gemini_pool_health; }
    location = /metrics { gemini_pool_metrics; }
--- request
GET /health
--- response_body_filters eval
\&main::spares_off
--- response_body
first turn: 200
spares: 0
createSession calls: 1
second turn: 200
createSession calls: 2
created: 0
--- no_error_log
[error]
--- timeout: 120


=== TEST 3: a spare older than half of session_max_age is dropped unused and replaced
--- gp_setup
set_accounts(1);
setting('session_max_age', 'int', '4');
--- config
    location /v1/ { gemini_pool_api; }
    location = /health { gemini_pool_health; }
    location = /metrics { gemini_pool_metrics; }
--- request
GET /health
--- response_body_filters eval
\&main::spares_expire
--- response_body
first turn: 200
spares made: 1
dropped unused: 1
a new one made: 1
next turn: 200
the expired spare used: 0
--- no_error_log
[error]
--- timeout: 120


=== TEST 4: a 401 sets the account aside and forgets its spares; none is made for it
--- gp_setup
set_accounts(2);
--- config
    location /v1/ { gemini_pool_api; }
    location = /health { gemini_pool_health; }
    location = /metrics { gemini_pool_metrics; }
--- request
GET /health
--- response_body_filters eval
\&main::spares_401
--- response_body
first turn: 200
spares made: 1
follow-up, failed over: 200
acc1 expired: 1
acc1 spares: 0
dropped: 1
acc1 spares a second later: 0
the spare used: 0
--- timeout: 120


=== TEST 5: so does a 403
--- gp_setup
set_accounts(2);
--- config
    location /v1/ { gemini_pool_api; }
    location = /health { gemini_pool_health; }
    location = /metrics { gemini_pool_metrics; }
--- request
GET /health
--- response_body_filters eval
\&main::spares_403
--- response_body
first turn: 200
spares made: 1
follow-up, failed over: 200
acc1 expired: 1
acc1 spares: 0
dropped: 1
acc1 spares a second later: 0
the spare used: 0
--- timeout: 120


=== TEST 6: cookies saved through the admin API forget the spares; the admin rows carry the count
--- gp_setup
set_accounts(1);
--- config
    location /v1/ { gemini_pool_api; }
    location /api/ { gemini_pool_admin; }
    location = /health { gemini_pool_health; }
    location = /metrics { gemini_pool_metrics; }
--- request
GET /health
--- response_body_filters eval
\&main::spares_renewed
--- response_body
first turn: 200
spares made: 1
admin row: spare_sessions 1
cookie saved: 200
dropped: 1
a new one made with the new cookie: 1
next turn: 200
the old spare used: 0
--- no_error_log
[error]
--- timeout: 120


=== TEST 7: a spare "not owned by the provided user": the turn creates a session on the same account, no failure
--- gp_setup
set_accounts(1);
setting('spare_sessions', 'int', '2');
--- config
    location /v1/ { gemini_pool_api; }
    location = /health { gemini_pool_health; }
    location = /metrics { gemini_pool_metrics; }
--- request
GET /health
--- response_body_filters eval
\&main::spares_not_owned
--- response_body
first turn: 200
spares made: 2
turn: 200
its streamAssist calls: 401:acc1 200:acc1
the first in the spare: 1
the second in a session made after it: 1
the other spare dropped: 1
next turn: 200
the other spare used: 0
acc1 expired: 0, cooling: 0, failures: 0
--- error_log
spare session of account "acc1" refused
--- no_error_log
[error]
--- timeout: 120


=== TEST 8: a spare the upstream no longer keeps (404): the turn creates a session, no failure
--- gp_setup
set_accounts(1);
setting('spare_sessions', 'int', '2');
--- config
    location /v1/ { gemini_pool_api; }
    location = /health { gemini_pool_health; }
    location = /metrics { gemini_pool_metrics; }
--- request
GET /health
--- response_body_filters eval
\&main::spares_gone
--- response_body
first turn: 200
spares made: 2
turn: 200
its streamAssist calls: 404:acc1 200:acc1
the first in the spare: 1
the second in a session made after it: 1
the other spare dropped: 1
next turn: 200
the other spare used: 0
acc1 expired: 0, cooling: 0, failures: 0
--- error_log
spare session of account "acc1" refused
--- no_error_log
[error]
--- timeout: 120


=== TEST 9: cookies pasted through the admin API (saved as a re-login's) forget the spares
--- gp_setup
set_accounts(1);
--- config
    location /v1/ { gemini_pool_api; }
    location /api/ { gemini_pool_admin; }
    location = /health { gemini_pool_health; }
    location = /metrics { gemini_pool_metrics; }
--- request
GET /health
--- response_body_filters eval
\&main::spares_pasted
--- response_body
first turn: 200
spares made: 1
cookies pasted: 200 saved
dropped: 1
a new one made with the new cookie: 1
next turn: 200
the old spare used: 0
--- no_error_log
[error]
--- timeout: 120
