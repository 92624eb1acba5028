package GeminiPool;

# Shared set-up of the ngx_gemini_pool suites, for the real
# Test::Nginx::Socket and the compatible one in t/lib/compat alike:
#
# - starts the upstream mock (t/mock/server.py) once per test file;
# - creates a fresh SQLite database per test file with the mock's first
#   three accounts (through scripts/gemini-pool-account, so the schema is
#   the module's own);
# - adds to every block the load_module line and the http-level
#   directives pointing the module at the mock;
# - before every block (and before its nginx starts) resets the mock and
#   the accounts, then runs the block's "--- gp_setup" Perl code (mock
#   injections, SQL on the database);
# - GP_TEST_MASTER=1 runs every block with a master and two workers.
#
# Use:   use lib 't/lib'; use Test::Nginx::Socket 'no_plan'; use GeminiPool;
# or, in a plain Test::More file that runs nginx through GeminiPool::Server:
#        use lib 't/lib'; use Test::More; use GeminiPool ':plain';

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname basename);
use File::Path qw(make_path);
use HTTP::Tiny;
use JSON::PP;
use POSIX ();
use Time::HiRes ();

our $ROOT = abs_path(dirname(__FILE__) . '/../..');
our $MODULE = $ENV{TEST_NGINX_GP_MODULE}
              || "$ROOT/build/ngx_http_gemini_pool_module.so";
our ($MOCK_PID, $MOCK_PORT, $DB);
our $JSON = JSON::PP->new->utf8->canonical;

sub import {
    my $class = shift;
    my $plain = grep { $_ eq ':plain' } @_;

    die "GeminiPool: $MODULE is missing: run scripts/build\n"
        unless -f $MODULE;

    $ENV{TEST_NGINX_GP_MODULE} = $MODULE;

    start_mock();
    create_db();

    # "use GeminiPool ':plain'": plain Test::More files (with
    # GeminiPool::Server) get the mock, the database and the helpers,
    # but no Test::Nginx hooks
    if ($plain) {
        export_helpers(scalar caller);
        return;
    }

    if ($ENV{GP_TEST_MASTER}) {
        Test::Nginx::Socket::master_on();
        Test::Nginx::Socket::workers(2);
    }

    Test::Nginx::Socket::add_block_preprocessor(\&preprocess);

    export_helpers(scalar caller);
}

sub export_helpers {
    my ($caller) = @_;

    no strict 'refs';
    *{"${caller}::$_"} = \&{"GeminiPool::$_"}
        for qw(mock_get mock_post mock_requests mock_stats sql
               set_accounts mock_url chat pool_summary pool_account
               wait_for);
}

sub start_mock {
    return if $MOCK_PID;

    pipe(my $r, my $w) or die "pipe: $!";

    my $pid = fork();
    die "fork: $!" unless defined $pid;

    if ($pid == 0) {
        close $r;
        POSIX::dup2(fileno($w), 1) or POSIX::_exit(1);
        exec '/usr/bin/python3', "$ROOT/t/mock/server.py", '--port', '0',
             '--host', '127.0.0.1'
            or POSIX::_exit(1);
    }

    close $w;

    my $line = <$r>;
    die "GeminiPool: the mock did not start\n"
        unless defined $line && $line =~ /^READY (\d+)/;

    $MOCK_PID = $pid;
    $MOCK_PORT = $1;
    $ENV{TEST_NGINX_MOCK_PORT} = $MOCK_PORT;
}

END {
    if ($MOCK_PID) {
        kill 'TERM', $MOCK_PID;
        waitpid $MOCK_PID, 0;
    }
}

sub mock_url { "http://127.0.0.1:$MOCK_PORT" }

sub mock_port { $MOCK_PORT }

sub create_db {
    my $dir = "$ROOT/t/tmp";
    make_path($dir);

    my $name = basename($0);
    $name =~ s/\W/_/g;
    $DB = "$dir/$name.db";
    $ENV{TEST_NGINX_GP_DB} = $DB;

    unlink $DB, "$DB-wal", "$DB-shm", "$DB-journal";

    local $ENV{GEMINI_POOL_MODULE} = $MODULE;
    system("'$ROOT/scripts/gemini-pool-account' --db '$DB' init >/dev/null")
        == 0 or die "GeminiPool: cannot create $DB\n";

    set_accounts(3);
}

# the mock's accounts file, decoded
sub accounts_file {
    return $JSON->decode(slurp("$ROOT/t/mock/accounts.json"));
}

# the first N accounts of the mock (all enabled, no state)
sub set_accounts {
    my ($n) = @_;

    my $all = $JSON->decode(slurp("$ROOT/t/mock/accounts.json"));
    my @some = @$all[0 .. $n - 1];

    my $file = "$DB.accounts.json";
    open my $fh, '>', $file or die "$file: $!";
    print $fh $JSON->encode(\@some);
    close $fh;

    sql("DELETE FROM account_state; DELETE FROM accounts; "
        . "DELETE FROM sqlite_sequence WHERE name = 'accounts'");
    system("'$ROOT/scripts/gemini-pool-account' --db '$DB' import "
           . "'$file' >/dev/null") == 0
        or die "GeminiPool: cannot import accounts\n";
}

# sets a setting for the block (before nginx starts, after the reset)
sub setting {
    my ($key, $type, $value) = @_;
    sql("INSERT OR REPLACE INTO settings (key, type, value) VALUES "
        . "('$key', '$type', '$value')");
}

sub slurp {
    my ($f) = @_;
    open my $fh, '<', $f or die "$f: $!";
    local $/;
    return scalar <$fh>;
}

sub sql {
    my ($stmt) = @_;
    # the helper may be writing (its state, the call log): wait for it
    open my $fh, '-|', 'sqlite3', '-batch', '-cmd', '.timeout 5000', $DB,
        $stmt
        or die "sqlite3: $!";
    local $/;
    my $out = <$fh>;
    close $fh or die "sqlite3 failed: $stmt\n";
    $out //= '';
    $out =~ s/\s+\z//;
    return $out;
}

my $http = HTTP::Tiny->new(timeout => 10);

sub mock_get {
    my ($path) = @_;
    my $res = $http->get(mock_url() . $path);
    die "mock GET $path: $res->{status}\n" unless $res->{success};
    return $JSON->decode($res->{content});
}

sub mock_post {
    my ($path, $data) = @_;
    my $res = $http->post(mock_url() . $path, {
        headers => { 'Content-Type' => 'application/json' },
        content => $JSON->encode($data // {}),
    });
    die "mock POST $path: $res->{status}\n" unless $res->{success};
    return $JSON->decode($res->{content});
}

sub mock_requests {
    my ($endpoint) = @_;
    return mock_get('/__mock/requests'
                    . ($endpoint ? "?endpoint=$endpoint" : ''));
}

sub mock_stats { mock_get('/__mock/stats') }

# a chat completion sent to the block's nginx (from --- init), body text
sub chat {
    my ($json, $path) = @_;
    my $port = Test::Nginx::Socket::server_port();
    my $res = $http->post("http://127.0.0.1:$port" . ($path // '/v1/chat/completions'), {
        headers => { 'Content-Type' => 'application/json' },
        content => $json,
    });
    return $res->{content};
}

# one account of a /health?detail=1 answer ({} when it is not there)
sub pool_account {
    my ($h, $name) = @_;
    my ($a) = grep { $_->{name} eq $name } @{ $h->{pool} || [] };
    return $a || {};
}

# calls cond every 0.1 s until it returns true or secs pass; its last value
sub wait_for {
    my ($secs, $cond) = @_;
    my $end = Time::HiRes::time() + $secs;
    my $v;
    while (!($v = $cond->()) && Time::HiRes::time() < $end) {
        Time::HiRes::sleep(0.1);
    }
    return $v;
}

# the next midnight in America/Los_Angeles, from the system's tz data
sub pt_midnight {
    my ($now) = @_;
    local $ENV{TZ} = 'America/Los_Angeles';
    POSIX::tzset();
    my @t = localtime($now // time);
    my $m = POSIX::mktime(0, 0, 0, $t[3] + 1, $t[4], $t[5], 0, 0, -1);
    delete local $ENV{TZ};
    POSIX::tzset();
    return $m;
}

# /health?detail=1 as one line per account, times relative to now:
#   acc1 expired=0 text=midnight images=0 videos=0
# "~N": about N seconds from now (rounded up to tens)
sub pool_summary {
    my ($body) = @_;
    my $h = eval { $JSON->decode($body) } or return "not JSON: $body";
    my $now = time;
    my $mid = pt_midnight($now);
    my $out = '';
    for my $a (@{$h->{pool} || []}) {
        my @q;
        for my $q (qw(text images videos)) {
            my $u = $a->{cooldown_until}{$q};
            my $v = $u <= $now ? 0
                    : abs($u - $mid) <= 1 ? 'midnight'
                    : '~' . int(($u - $now + 9) / 10) * 10;
            push @q, "$q=$v";
        }
        $out .= sprintf "%s expired=%d %s\n", $a->{name},
                        $a->{cookie_expired} ? 1 : 0, join ' ', @q;
    }
    return $out;
}

sub http_config {
    my $port = $MOCK_PORT;
    return <<"END";
    gemini_pool_zone gemini_pool:4m;
    gemini_pool_database $DB;
    gemini_pool_auth_url http://127.0.0.1:$port;
    gemini_pool_api_url http://127.0.0.1:$port;
    gemini_pool_helper_interval 200ms;
    gemini_pool_api_keys off;
END
}

sub preprocess {
    my ($block) = @_;

    my $main = $block->main_config // '';
    $block->set_value('main_config', "load_module $MODULE;\n$main")
        unless $main =~ /load_module/;

    unless (defined $block->no_gp_http_config) {
        my $http = $block->http_config // '';
        $block->set_value('http_config', http_config() . $http);
    }

    # runs right before the block, before nginx starts: a fresh mock, the
    # three default accounts, then the block's own set-up
    mock_post('/__mock/reset');
    set_accounts(3);
    # the module inserts the settings' defaults again when it starts
    sql("DELETE FROM settings; UPDATE models SET account_id = NULL, "
        . "enabled = 1");

    if (defined(my $code = $block->gp_setup)) {
        eval "package GeminiPool; $code; 1"
            or die "GeminiPool: gp_setup of \"" . $block->name . "\": $@";
    }
}

1;
