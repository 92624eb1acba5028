package GeminiPool::Network;

# The network edge of the upstream, for plain Test::More files: real
# forward proxies from Debian, a private PKI and a TLS instance of the
# mock, all on 127.0.0.1 and all children of the test that are always
# reaped.
#
#   use lib 't/lib';
#   use Test::More;
#   use GeminiPool ':plain';
#   use GeminiPool::Server;
#   use GeminiPool::Network;
#
#   my $pki = GeminiPool::Network::pki();     # openssl CLI, once per process
#   #   {dir, ca, ca_key, cert, key,          # test CA, server cert for
#   #    other_ca, other_ca_key,              #   127.0.0.1 / localhost
#   #    other_cert, other_key}               # an unrelated CA and a server
#   #                                         #   cert it signed
#
#   my $mock = GeminiPool::Network->tls_mock; # t/mock/server.py over TLS
#   $mock->port; $mock->url;                  # https://127.0.0.1:<port>
#   $mock->reset; $mock->requests('streamAssist'); $mock->stats;
#   $mock->get('/__mock/...'); $mock->post('/__mock/inject', {...});
#
#   my $http = GeminiPool::Network->tinyproxy(connect_ports => [$mock->port],
#                                             auth => ['user', 'pass']);
#   my $socks = GeminiPool::Network->dante;
#   my $https = GeminiPool::Network->tls_front(backend => $http->port);
#   $https->url;                              # https://127.0.0.1:N, an HTTPS
#   $https->accept_count;                     #   proxy in front of tinyproxy
#   $http->port; $http->url;                  # http://[user:pass@]127.0.0.1:N
#   $http->connects;                          # ['127.0.0.1:443', ...]
#   $http->connect_count('127.0.0.1:' . $mock->port);
#   $socks->sessions;                         # [{client, target}, ...]
#   $socks->session_count('127.0.0.1:' . $mock->port);
#   $x->log_text; $x->stop;                   # (stop is also done at exit)
#
#   GeminiPool::Network::http_config($mock, ca => $pki->{ca}, extra => '');
#   #   the gemini_pool_* http-level lines of GeminiPool::http_config(),
#   #   pointed at the TLS mock: use with GeminiPool::Server gp_http => 0
#
#   GeminiPool::Network::free_port();         # a port nothing listens on
#   GeminiPool::Network::dead_port();         # one that refuses connections
#                                             #   (bound, not listening)
#
# Every daemon runs in the foreground as our child, in its own process
# group, with its log in a temporary directory (kept when GP_NET_KEEP is
# set; its path is in $GeminiPool::Network::DIR).  stop() sends TERM,
# waits, then KILLs the group; an END block (and INT/TERM/HUP handlers
# that exit through it, when none are set) stops whatever is left.

use strict;
use warnings;

use File::Temp qw(tempdir);
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);
use HTTP::Tiny;
use JSON::PP;

use GeminiPool ();

our $TINYPROXY = $ENV{GP_TINYPROXY} || _which('tinyproxy')
                 || '/usr/bin/tinyproxy';
our $DANTED = $ENV{GP_DANTED} || _which('danted') || _which('sockd')
              || '/usr/sbin/danted';
our $OPENSSL = _which('openssl') || '/usr/bin/openssl';
our $PYTHON = '/usr/bin/python3';

our $DIR;          # the temporary directory of this process
my %LIVE;          # pid => daemon, so an early exit still reaps them
my $PKI;
my $SEQ = 0;
my $JSON = JSON::PP->new->utf8->canonical;

my %SIGNUM = (HUP => 1, INT => 2, TERM => 15);
for my $sig (sort keys %SIGNUM) {
    my $h = $SIG{$sig};
    $SIG{$sig} = sub { exit 128 + $SIGNUM{$sig} }
        if !defined $h || $h eq '' || $h eq 'DEFAULT';
}

sub _which {
    my ($name) = @_;
    for my $d (split(/:/, $ENV{PATH} // ''), '/usr/sbin', '/sbin') {
        return "$d/$name" if -x "$d/$name";
    }
    return undef;
}

sub dir {
    return $DIR if $DIR;
    my $base = "$GeminiPool::ROOT/t/tmp";
    mkdir $base unless -d $base;
    $DIR = tempdir('network-XXXXXX', DIR => $base,
                   CLEANUP => !$ENV{GP_NET_KEEP});
    chmod 0755, $DIR;       # daemons that drop privileges read their files
    return $DIR;
}

sub _slurp {
    my ($f) = @_;
    open my $fh, '<', $f or return '';
    local $/;
    my $t = <$fh>;
    return $t // '';
}

sub _spew {
    my ($f, $text) = @_;
    open my $fh, '>', $f or die "GeminiPool::Network: $f: $!\n";
    print $fh $text;
    close $fh or die "GeminiPool::Network: $f: $!\n";
}

# a port on 127.0.0.1 that nothing listens on (right now): for the
# daemons, and as a dead proxy
sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Proto => 'tcp', Listen => 1)
        or die "GeminiPool::Network: cannot bind a port: $!\n";
    my $port = $s->sockport;
    close $s;
    return $port;
}

# a port that refuses connections and stays ours: bound, never listening
# (a dead proxy)
my @DEAD;
sub dead_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Proto => 'tcp')
        or die "GeminiPool::Network: cannot bind a port: $!\n";
    push @DEAD, $s;
    return $s->sockport;
}

sub _need {
    my ($bin, $package) = @_;
    die "GeminiPool::Network: $bin is missing: apt-get install $package\n"
        unless -x $bin;
}

sub _port_open {
    my ($port) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp', Timeout => 1);
    return 0 unless $s;
    close $s;
    return 1;
}

# ------------------------------------------------------------------ PKI

sub _openssl {
    my (@args) = @_;
    _need($OPENSSL, 'openssl');
    my $out = "$DIR/openssl.out";
    my $pid = fork;
    die "GeminiPool::Network: fork: $!\n" unless defined $pid;
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', $out;
        open STDERR, '>>', $out;
        exec { $OPENSSL } $OPENSSL, @args or POSIX::_exit(127);
    }
    waitpid $pid, 0;
    die "GeminiPool::Network: openssl @args failed:\n" . _slurp($out) if $?;
}

sub _ca {
    my ($name, $cn) = @_;
    my $d = dir();
    _openssl('req', '-x509', '-newkey', 'ec',
             '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
             '-keyout', "$d/$name.key", '-out', "$d/$name.pem", '-days', '3',
             '-subj', "/O=GeminiPool tests/CN=$cn",
             '-addext', 'basicConstraints=critical,CA:TRUE',
             '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
             '-addext', 'subjectKeyIdentifier=hash');
    return ("$d/$name.pem", "$d/$name.key");
}

sub _server_cert {
    my ($name, $ca, $ca_key) = @_;
    my $d = dir();
    _spew("$d/$name.ext", <<'END');
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
authorityKeyIdentifier = keyid
subjectKeyIdentifier = hash
END
    _openssl('req', '-new', '-newkey', 'ec',
             '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
             '-keyout', "$d/$name.key", '-out', "$d/$name.csr",
             '-subj', '/O=GeminiPool tests/CN=127.0.0.1');
    _openssl('x509', '-req', '-in', "$d/$name.csr", '-CA', $ca,
             '-CAkey', $ca_key, '-set_serial', 1000 + ++$SEQ, '-days', '2',
             '-extfile', "$d/$name.ext", '-out', "$d/$name.pem");
    return ("$d/$name.pem", "$d/$name.key");
}

# the test CA with a server certificate for 127.0.0.1 and localhost, and
# an unrelated CA with one of its own (same names): made once per process
sub pki {
    return $PKI if $PKI;
    my %p = (dir => dir());
    @p{qw(ca ca_key)} = _ca('ca', 'GeminiPool Test CA');
    @p{qw(cert key)} = _server_cert('server', @p{qw(ca ca_key)});
    @p{qw(other_ca other_ca_key)} = _ca('other-ca', 'Unrelated Test CA');
    @p{qw(other_cert other_key)} =
        _server_cert('other-server', @p{qw(other_ca other_ca_key)});
    chmod 0644, grep { /\.(pem|key)\z/ } values %p;
    return $PKI = \%p;
}

# ------------------------------------------------------- child processes

# forks @cmd in its own process group, stdin from /dev/null, stdout and
# stderr to $o{output} (or a pipe whose first line must match $o{ready_line}:
# that is returned); waits until $o{port} accepts connections
sub _spawn {
    my ($self, %o) = @_;

    my ($r, $w);
    pipe($r, $w) or die "pipe: $!" if $o{ready_line};

    my $pid = fork;
    die "GeminiPool::Network: fork: $!\n" unless defined $pid;

    if ($pid == 0) {
        setpgrp(0, 0);
        open STDIN, '<', '/dev/null';
        if ($w) {
            close $r;
            POSIX::dup2(fileno($w), 1) or POSIX::_exit(126);
        } else {
            open STDOUT, '>>', $o{output};
        }
        open STDERR, '>>', $o{output};
        exec { $o{cmd}[0] } @{ $o{cmd} } or POSIX::_exit(127);
    }

    $self->{pid} = $pid;
    $self->{owner} = $$;
    $LIVE{$pid} = $self;

    my $deadline = time + ($o{timeout} || 10);
    my $what = $self->{what};

    if ($w) {
        close $w;
        my $line;
        my $ok = eval {
            local $SIG{ALRM} = sub { die "timeout\n" };
            alarm($o{timeout} || 10);
            $line = <$r>;
            alarm 0;
            1;
        };
        alarm 0;
        unless ($ok && defined $line && $line =~ $o{ready_line}) {
            $self->stop;
            die "GeminiPool::Network: $what did not start:\n"
                . _slurp($o{output});
        }
        $self->{ready} = $line;
        $self->{pipe} = $r;     # the mock writes nothing else to stdout
    }

    while ($o{port} && !_port_open($o{port})) {
        if (waitpid($pid, WNOHANG) == $pid) {
            my $st = $?;
            delete $LIVE{$pid};
            $self->{pid} = undef;
            die "GeminiPool::Network: $what exited during start-up "
                . "(status $st):\n" . _slurp($o{output})
                . ($o{log} ? _slurp($o{log}) : '');
        }
        if (time > $deadline) {
            $self->stop;
            die "GeminiPool::Network: $what does not listen on port "
                . "$o{port}:\n" . _slurp($o{output})
                . ($o{log} ? _slurp($o{log}) : '');
        }
        sleep 0.05;
    }

    return $self;
}

sub pid     { $_[0]{pid} }
sub port    { $_[0]{port} }
sub running { defined $_[0]{pid} }
sub log_file { $_[0]{log} }
sub log_text { _slurp($_[0]{log}) }

# TERM to the leader (it tells its own children), KILL to the group after
# a grace; the leader is always reaped, leftovers of the group killed
sub stop {
    my ($self, $grace) = @_;
    my $pid = $self->{pid} or return;
    $grace //= 5;

    my $reaped = sub { waitpid($pid, WNOHANG) == $pid || !kill(0, $pid) };

    kill 'TERM', $pid;
    my $deadline = time + $grace;
    my $done;
    until ($done = $reaped->()) {
        last if time > $deadline;
        sleep 0.02;
    }
    unless ($done) {
        kill 'KILL', -$pid;
        kill 'KILL', $pid;
        waitpid $pid, 0;
    }

    # children of the leader (dante's negotiate/request/io processes)
    if (kill 0, -$pid) {
        kill 'TERM', -$pid;
        for (1 .. 50) { last unless kill 0, -$pid; sleep 0.02 }
        kill 'KILL', -$pid if kill 0, -$pid;
    }

    close $self->{pipe} if $self->{pipe};
    delete $self->{pipe};
    delete $LIVE{$pid};
    $self->{pid} = undef;
    return 1;
}

sub DESTROY {
    my ($self) = @_;
    local ($?, $!, $@);
    $self->stop(2) if $self->{pid} && $self->{owner} == $$;
}

END {
    local $?;
    for my $d (values %LIVE) {
        $d->stop(2) if $d->{owner} == $$;
    }
}

# ----------------------------------------------------------- tinyproxy

# An HTTP forward proxy (CONNECT).  Options: connect_ports => [..] (the
# ports CONNECT may reach; tinyproxy allows 443 and 563 without it), auth =>
# [user, pass] (BasicAuth), port.
sub tinyproxy {
    my ($class, %o) = @_;
    _need($TINYPROXY, 'tinyproxy');
    my $d = dir();
    my $n = ++$SEQ;
    my $self = bless {
        what  => 'tinyproxy',
        port  => $o{port} || free_port(),
        auth  => $o{auth},
        log   => "$d/tinyproxy-$n.log",
        conf  => "$d/tinyproxy-$n.conf",
        output => "$d/tinyproxy-$n.out",
    }, 'GeminiPool::Network::Tinyproxy';

    my $conf = <<"END";
Port $self->{port}
Listen 127.0.0.1
Bind 127.0.0.1
Timeout 60
Allow 127.0.0.1
MaxClients 100
LogFile "$self->{log}"
LogLevel Info
PidFile "$d/tinyproxy-$n.pid"
END
    $conf .= "ConnectPort $_\n" for @{ $o{connect_ports} || [] };
    $conf .= "BasicAuth $o{auth}[0] $o{auth}[1]\n" if $o{auth};
    _spew($self->{conf}, $conf);

    return $self->_spawn(cmd => [$TINYPROXY, '-d', '-c', $self->{conf}],
                         output => $self->{output}, log => $self->{log},
                         port => $self->{port});
}

# ---------------------------------------------------------------- dante

# A SOCKS5 proxy without authentication (danted, in the foreground with
# one mother process).  Options: port.
sub dante {
    my ($class, %o) = @_;
    _need($DANTED, 'dante-server');
    my $d = dir();
    my $n = ++$SEQ;
    my $self = bless {
        what  => 'danted',
        port  => $o{port} || free_port(),
        log   => "$d/dante-$n.log",
        conf  => "$d/dante-$n.conf",
        output => "$d/dante-$n.out",
    }, 'GeminiPool::Network::Dante';

    my $users = $> == 0 ? "user.privileged: root\nuser.unprivileged: nobody\n"
                        : '';
    _spew($self->{conf}, <<"END");
logoutput: $self->{log}
internal: 127.0.0.1 port = $self->{port}
external: 127.0.0.1
socksmethod: none
clientmethod: none
$users
client pass {
    from: 127.0.0.1/32 to: 127.0.0.1/32
    log: connect disconnect error
}
socks pass {
    from: 127.0.0.1/32 to: 127.0.0.1/32
    command: connect
    log: connect disconnect error
}
socks block {
    from: 0.0.0.0/0 to: 0.0.0.0/0
    log: connect error
}
END

    return $self->_spawn(cmd => [$DANTED, '-f', $self->{conf}, '-N', '1',
                                 '-p', "$d/dante-$n.pid"],
                         output => $self->{output}, log => $self->{log},
                         port => $self->{port});
}

# ------------------------------------------------------------ TLS front

# A TLS terminator in front of a plain TCP service (python3, stdlib): with
# backend => a tinyproxy port it makes an HTTPS proxy (TLS to the proxy,
# CONNECT inside).  Options: backend (required), cert, key (the test
# CA's server certificate by default).  Its log has "accept" and "closed"
# lines.
my $FRONT_PY = <<'END';
import asyncio, ssl, sys, time
cert, key, backend = sys.argv[1], sys.argv[2], int(sys.argv[3])
log = open(sys.argv[4], "a", buffering=1)

def say(msg):
    log.write("%.3f %s\n" % (time.time(), msg))

async def pipe(r, w):
    try:
        while True:
            data = await r.read(65536)
            if not data:
                break
            w.write(data)
            await w.drain()
    except Exception:
        pass
    finally:
        try:
            w.close()
        except Exception:
            pass

async def handle(r, w):
    peer = "%s:%d" % w.get_extra_info("peername")[:2]
    try:
        br, bw = await asyncio.open_connection("127.0.0.1", backend)
    except Exception as e:
        say("backend-failed %s %s" % (peer, e))
        w.close()
        return
    say("accept %s" % peer)
    await asyncio.gather(pipe(r, bw), pipe(br, w))
    say("closed %s" % peer)

async def main():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=ctx)
    sys.stdout.write("READY %d\n" % srv.sockets[0].getsockname()[1])
    sys.stdout.flush()
    await srv.serve_forever()

asyncio.run(main())
END

sub tls_front {
    my ($class, %o) = @_;
    my $pki = pki();
    my $d = dir();
    my $n = ++$SEQ;
    my $self = bless {
        what   => 'TLS front',
        log    => "$d/front-$n.log",
        output => "$d/front-$n.out",
    }, 'GeminiPool::Network::TLSFront';
    _spew("$d/front.py", $FRONT_PY);
    _spew($self->{log}, '');

    $self->_spawn(cmd => [$PYTHON, "$d/front.py", $o{cert} || $pki->{cert},
                          $o{key} || $pki->{key}, $o{backend},
                          $self->{log}],
                  output => $self->{output},
                  ready_line => qr/^READY (\d+)/);
    ($self->{port}) = $self->{ready} =~ /^READY (\d+)/;
    return $self;
}

# ------------------------------------------------------------- TLS mock

# An extra instance of t/mock/server.py over TLS (the test CA's server
# certificate unless cert/key are given), with its own state: reach its
# control API through the methods below, not GeminiPool::mock_*.
sub tls_mock {
    my ($class, %o) = @_;
    my $pki = pki();
    my $d = dir();
    my $n = ++$SEQ;
    my $self = bless {
        what   => 'TLS mock',
        cert   => $o{cert} || $pki->{cert},
        key    => $o{key} || $pki->{key},
        ca     => $o{ca} || $pki->{ca},
        output => "$d/mock-$n.out",
    }, 'GeminiPool::Network::TLSMock';

    my @cmd = ($PYTHON, "$GeminiPool::ROOT/t/mock/server.py", '--port', '0',
               '--host', '127.0.0.1', '--tls-cert', $self->{cert},
               '--tls-key', $self->{key}, @{ $o{args} || [] });

    $self->_spawn(cmd => \@cmd, output => $self->{output},
                  ready_line => qr/^READY (\d+)/);
    ($self->{port}) = $self->{ready} =~ /^READY (\d+)/;
    $self->{log} = $self->{output};
    $self->{http} = HTTP::Tiny->new(timeout => 10, verify_SSL => 1,
                                    SSL_options => {
                                        SSL_ca_file => $self->{ca} });
    return $self;
}

# the gemini_pool_* http-level lines pointing the module at a TLS mock:
# GeminiPool::http_config() (so they follow its changes) with the mock's
# URLs over https; ca => the trusted certificate file (the test CA by
# default; '' for none), extra => more lines
sub http_config {
    my ($mock, %o) = @_;
    my $ca = exists $o{ca} ? $o{ca} : pki()->{ca};
    my $url = $mock->url;
    my $conf = GeminiPool::http_config();
    my $n = $conf =~ s{\bhttps?://127\.0\.0\.1:\d+}{$url}g;
    die "GeminiPool::Network: no mock URL in GeminiPool::http_config()\n"
        unless $n;
    $conf .= "    gemini_pool_ssl_trusted_certificate $ca;\n"
        if length($ca // '');
    return $conf . ($o{extra} // '');
}

package GeminiPool::Network::Tinyproxy;
our @ISA = ('GeminiPool::Network');

sub url {
    my ($self, %o) = @_;
    my $auth = $o{auth} || $self->{auth};
    my $cred = $auth && !$o{no_auth} ? "$auth->[0]:$auth->[1]@" : '';
    return "http://${cred}127.0.0.1:$self->{port}";
}

# the start of tinyproxy's line for each request it received
my $req = qr/^CONNECT\s.*?:\ Request\ \(file\ descriptor\ \d+\):\ /mx;

# the targets of the CONNECT requests tinyproxy received, in order
#   CONNECT   ... Request (file descriptor 5): CONNECT 127.0.0.1:4433 HTTP/1.1
sub connects {
    my ($self) = @_;
    return [ $self->log_text =~ /${req}CONNECT\ (\S+)\ /mgx ];
}

sub connect_count {
    my ($self, $target) = @_;
    return scalar grep { !defined $target || $_ eq $target }
                       @{ $self->connects };
}

# plain (absolute-form) requests, "GET http://... HTTP/1.1"
sub requests {
    my ($self) = @_;
    return [ $self->log_text =~ /$req(?!CONNECT\ )(\S+\ \S+)/mgx ];
}

package GeminiPool::Network::Dante;
our @ISA = ('GeminiPool::Network');

sub url {
    my ($self, %o) = @_;
    my $scheme = $o{scheme} || 'socks5';
    return "$scheme://127.0.0.1:$self->{port}";
}

# the sessions dante opened, in order:
#   info: pass(1): tcp/connect [: 127.0.0.1.46924 127.0.0.1.18802 ->
#         127.0.0.1.55943 127.0.0.1.18803
# as {client => '127.0.0.1:46924', target => '127.0.0.1:18803'}
sub sessions {
    my ($self) = @_;
    my @s;
    for my $line (split /\n/, $self->log_text) {
        next unless $line =~ m{tcp/connect \[: (\S+) \S+ -> \S+ (\S+)\s*$};
        my ($c, $t) = ($1, $2);
        s/\.(\d+)\z/:$1/ for $c, $t;
        push @s, { client => $c, target => $t };
    }
    return \@s;
}

sub session_count {
    my ($self, $target) = @_;
    return scalar grep { !defined $target || $_->{target} eq $target }
                       @{ $self->sessions };
}

# refused sessions ("block" rule, or errors)
sub blocked {
    my ($self) = @_;
    return [ grep { /block\(\d+\)/ } split /\n/, $self->log_text ];
}

package GeminiPool::Network::TLSFront;
our @ISA = ('GeminiPool::Network');

sub url { "https://127.0.0.1:$_[0]{port}" }

# the TLS connections it accepted (and passed to the backend)
sub accept_count {
    my ($self) = @_;
    return scalar(() = $self->log_text =~ /^\S+ accept /mg);
}

package GeminiPool::Network::TLSMock;
our @ISA = ('GeminiPool::Network');

sub url {
    my ($self, $path) = @_;
    return "https://127.0.0.1:$self->{port}" . ($path // '');
}

sub target { '127.0.0.1:' . $_[0]{port} }

sub get {
    my ($self, $path) = @_;
    my $res = $self->{http}->get($self->url($path));
    die "TLS mock GET $path: $res->{status} $res->{content}\n"
        unless $res->{success};
    return $JSON->decode($res->{content});
}

sub post {
    my ($self, $path, $data) = @_;
    my $res = $self->{http}->post($self->url($path), {
        headers => { 'Content-Type' => 'application/json' },
        content => $JSON->encode($data // {}),
    });
    die "TLS mock POST $path: $res->{status} $res->{content}\n"
        unless $res->{success};
    return $JSON->decode($res->{content});
}

sub reset { $_[0]->post('/__mock/reset') }
sub stats { $_[0]->get('/__mock/stats') }

# the request records, optionally of one endpoint and after a seq
sub requests {
    my ($self, $endpoint, $since) = @_;
    my @q;
    push @q, "endpoint=$endpoint" if $endpoint;
    push @q, "since=$since" if defined $since;
    return $self->get('/__mock/requests' . (@q ? '?' . join('&', @q) : ''));
}

1;
