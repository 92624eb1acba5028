package GeminiPool::Redis;

# A real redis-server for the cluster suites (docs/cluster.md), and
# gateways of ours on it: each an nginx with the module, its own SQLite
# database and zone, the suite's mock upstream, and a gemini_pool_cluster
# line pointing at this Redis.
#
#   use lib 't/lib';
#   use Test::More;
#   use GeminiPool ':plain';
#   use GeminiPool::Redis;
#
#   my $redis = GeminiPool::Redis->new(name => '160')->start;
#                                  # (unixsocket => 1: also $redis->socket)
#                                  # loopback, a free port, its own
#                                  # directory t/servroot-redis-160/, no
#                                  # persistence; password => 'pw' for
#                                  # requirepass
#   $redis->port; $redis->url;     # redis://127.0.0.1:PORT
#   $redis->cli('GET', 'gp:x');    # redis-cli's answer, trimmed
#   $redis->stop; $redis->kill;    # TERM (waited for) or KILL
#   $redis->start;                 # again, on the same port, empty
#   $redis->pause; $redis->resume; # SIGSTOP / SIGCONT: a Redis that does
#                                  # not answer
#
#   my $a = $redis->gateway(name => 'a');   # a GeminiPool::Server, started
#   my $b = $redis->gateway(name => 'b', accounts => 3,
#               cluster => "prefix=t160:",  # more directive parameters
#               address => "unix:" . $redis->socket,   # instead of url
#               http => '...', server => '...', master => 1, workers => 2,
#               no_cluster => 1,            # the same without the directive
#               settings => {spare_sessions => ['int', 0]},
#               sql => ["INSERT INTO api_keys ..."]);   # before it starts
#   $a->url('/v1/chat/completions');
#
# A gateway's database is t/tmp/<name>.db with the mock's first N
# accounts (3), as GeminiPool::create_db makes the suite's own.

use strict;
use warnings;

use File::Path qw(make_path remove_tree);
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);

use GeminiPool ();
use GeminiPool::Server;

our $SERVER = $ENV{TEST_REDIS_SERVER} || '/usr/bin/redis-server';
our $CLI = $ENV{TEST_REDIS_CLI} || '/usr/bin/redis-cli';

my %LIVE;

sub free_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                  LocalPort => 0, Proto => 'tcp')
        or die "free_port: $!";
    my $p = $s->sockport;
    close $s;
    return $p;
}

sub new {
    my ($class, %o) = @_;
    my $self = bless { name => 'default', password => undef, %o }, $class;
    $self->{name} =~ /^[\w.-]+$/ or die "GeminiPool::Redis: bad name\n";
    $self->{dir} = "$GeminiPool::ROOT/t/servroot-redis-$self->{name}";
    return $self;
}

sub port { $_[0]{port} }
sub socket { "$_[0]{dir}/redis.sock" }
sub pid  { $_[0]{pid} }
sub dir  { $_[0]{dir} }

sub url {
    my ($self) = @_;
    my $auth = defined $self->{password} ? ":$self->{password}@" : '';
    return "redis://$auth" . "127.0.0.1:$self->{port}";
}

sub start {
    my ($self) = @_;
    die "GeminiPool::Redis: already running\n" if $self->{pid};

    $self->{port} //= free_port();
    remove_tree($self->{dir});
    make_path($self->{dir});

    my @cmd = ($SERVER, '--port', $self->{port}, '--bind', '127.0.0.1',
               '--dir', $self->{dir}, '--save', '', '--appendonly', 'no',
               '--daemonize', 'no', '--logfile', "$self->{dir}/redis.log",
               (defined $self->{password}
                ? ('--requirepass', $self->{password}) : ()),
               ($self->{unixsocket}
                ? ('--unixsocket', $self->socket, '--unixsocketperm', '777')
                : ()));

    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        setpgrp(0, 0);
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', '/dev/null';
        exec { $cmd[0] } @cmd or POSIX::_exit(127);
    }

    $self->{pid} = $pid;
    $self->{owner} = $$;
    $LIVE{$pid} = $self;

    my $end = time + 10;
    while (time < $end) {
        die "GeminiPool::Redis: redis-server exited\n"
            if waitpid($pid, WNOHANG) == $pid;
        return $self if ($self->cli('PING') // '') eq 'PONG';
        sleep 0.05;
    }
    die "GeminiPool::Redis: redis-server did not answer on "
        . "$self->{port}\n";
}

# redis-cli's raw answer, trailing newline removed (undef: no answer)
sub cli {
    my ($self, @args) = @_;
    my @auth = defined $self->{password}
               ? ('--no-auth-warning', '-a', $self->{password}) : ();
    my $pid = open my $fh, '-|';
    return undef unless defined $pid;
    if ($pid == 0) {
        open STDERR, '>', '/dev/null';
        exec({ $CLI } $CLI, '-h', '127.0.0.1', '-p', $self->{port}, @auth,
             '--raw', @args) or POSIX::_exit(127);
    }
    local $/;
    my $out = <$fh>;
    close $fh;
    return undef unless defined $out;
    $out =~ s/\n\z//;
    return $out;
}

sub _signal_wait {
    my ($self, $sig) = @_;
    my $pid = $self->{pid} or return;
    CORE::kill $sig, $pid;
    my $end = time + 10;
    while (time < $end) {
        last if waitpid($pid, WNOHANG) == $pid;
        sleep 0.02;
    }
    if (CORE::kill 0, $pid) {
        CORE::kill 'KILL', $pid;
        waitpid($pid, 0);
    }
    delete $LIVE{$pid};
    $self->{pid} = undef;
}

sub stop   { $_[0]->_signal_wait('TERM') }
sub kill   { $_[0]->_signal_wait('KILL') }
sub pause  { CORE::kill 'STOP', $_[0]{pid} if $_[0]{pid} }
sub resume { CORE::kill 'CONT', $_[0]{pid} if $_[0]{pid} }

# a statement on a gateway's database (sqlite3 with a busy timeout)
sub sqlite {
    my ($db, $stmt) = @_;
    open my $fh, '-|', 'sqlite3', '-batch', '-cmd', '.timeout 5000', $db,
         $stmt or die "sqlite3: $!";
    local $/;
    my $out = <$fh> // '';
    close $fh;
    $out =~ s/\s+\z//;
    return $out;
}

# a database of its own with the mock's first N accounts
sub gateway_db {
    my ($name, $n) = @_;
    my $db = "$GeminiPool::ROOT/t/tmp/$name.db";
    unlink $db, "$db-wal", "$db-shm", "$db-journal";
    local $ENV{GEMINI_POOL_MODULE} = $GeminiPool::MODULE;
    my $tool = "$GeminiPool::ROOT/scripts/gemini-pool-account";
    system("'$tool' --db '$db' init >/dev/null") == 0
        or die "GeminiPool::Redis: cannot create $db\n";
    if ($n) {
        my $all = GeminiPool::accounts_file();
        my $file = "$db.accounts.json";
        open my $fh, '>', $file or die "$file: $!";
        print $fh $GeminiPool::JSON->encode([ @$all[0 .. $n - 1] ]);
        close $fh;
        system("'$tool' --db '$db' import '$file' >/dev/null") == 0
            or die "GeminiPool::Redis: cannot import into $db\n";
    }
    return $db;
}

sub gateway {
    my ($self, %o) = @_;
    my $name = delete $o{name} or die "gateway: a name\n";
    my $n = delete $o{accounts} // 3;
    my $extra = delete $o{cluster} // '';
    my $http = delete $o{http} // '';
    my $no = delete $o{no_cluster};
    my $settings = delete $o{settings} // {};
    my $sql = delete $o{sql} // [];
    my $db = gateway_db("cluster-$name", $n);
    for my $stmt (@$sql) {
        system('sqlite3', $db, $stmt) == 0
            or die "GeminiPool::Redis: $stmt failed\n";
    }
    for my $k (sort keys %$settings) {
        my ($type, $v) = @{ $settings->{$k} };
        system('sqlite3', $db, "INSERT OR REPLACE INTO settings (key, type, "
               . "value) VALUES ('$k', '$type', '$v')") == 0
            or die "GeminiPool::Redis: cannot set $k\n";
    }
    my $mock = GeminiPool::mock_url();
    my $address = delete $o{address} // $self->url;
    my $cluster = $no ? '' : "    gemini_pool_cluster $address $extra;\n";

    my $srv = GeminiPool::Server->new(
        name => "cluster-$name", master => 1, workers => 1, gp_http => 0,
        port => free_port(),
        server => 'location /v1/ { gemini_pool_api; }
                   location /api/ { gemini_pool_admin; }
                   location = /health { gemini_pool_health; }
                   location = /metrics { gemini_pool_metrics; }',
        %o,
        http => <<"END" . $cluster . $http);
    gemini_pool_zone gp_$name:4m;
    gemini_pool_database $db;
    gemini_pool_auth_url $mock;
    gemini_pool_api_url $mock;
    gemini_pool_helper_interval 200ms;
    gemini_pool_api_keys off;
END
    $srv->{gp_db} = $db;
    return $srv->start;
}

sub DESTROY {
    my ($self) = @_;
    local ($?, $!, $@);
    $self->kill if $self->{pid} && $self->{owner} == $$;
}

END {
    local $?;
    for (values %LIVE) {
        next unless $_->{owner} == $$;
        CORE::kill 'CONT', $_->{pid};
        $_->kill;
    }
}

1;
