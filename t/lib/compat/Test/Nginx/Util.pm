package Test::Nginx::Util;

# Compat implementation of Test::Nginx::Util for ngx_gemini_pool's test suite.
#
# Written from the public documentation of openresty/test-nginx; it is NOT
# the real module.  It is only put on @INC (via t/lib/compat/run-prove) when
# `perl -MTest::Nginx::Socket -e1` fails.  See t/lib/compat/README.md for
# what is and is not supported.
#
# This file owns the nginx lifecycle: settings, server root, nginx.conf
# generation, starting/stopping nginx (in the foreground, as our child),
# error/access log reading and the valgrind report scan.  The HTTP client
# and the per-request checks live in Test::Nginx::Socket.

use strict;
use warnings;

our $VERSION = '0.33_compat';
our $COMPAT  = 1;

use base 'Exporter';

use POSIX qw( :sys_wait_h SIGQUIT SIGTERM SIGKILL );
use Errno ();
use Fcntl qw( O_WRONLY O_APPEND O_CREAT );
use File::Spec ();
use File::Path qw( make_path remove_tree );
use List::Util qw( shuffle );
use Time::HiRes qw( sleep time );
use Time::Local qw( timegm );
use Scalar::Util qw( looks_like_number );
use IO::Socket::INET ();
use Carp qw( croak );
use Test::More ();
use Test::LongString ();

sub gen_rand_port (;$$);
sub bail_out (@);
sub cleanup ();
sub stop_nginx ($);
sub _reap (;$);
sub run_test ($);
sub valgrind_check ($);
sub _finish_block ($$);
sub _run_must_die ($);

#--------------------------------------------------------------------------
# Settings (names follow the real Test::Nginx::Util package variables so
# that test files poking at $Test::Nginx::Util::Foo keep working).
#--------------------------------------------------------------------------

our $Verbose         = $ENV{TEST_NGINX_VERBOSE};
our $Randomize       = $ENV{TEST_NGINX_RANDOMIZE};
our $NoShuffle       = $ENV{TEST_NGINX_NO_SHUFFLE} || 0;
our $NoNginxManager  = $ENV{TEST_NGINX_NO_NGINX_MANAGER} || 0;
our $UseValgrind     = $ENV{TEST_NGINX_USE_VALGRIND};
our $CheckAccumErrLog = $ENV{TEST_NGINX_CHECK_ACCUM_ERR_LOG};
our $LoadModules     = $ENV{TEST_NGINX_LOAD_MODULES};
our $EventType       = $ENV{TEST_NGINX_EVENT_TYPE};
our $PostponeOutput  = $ENV{TEST_NGINX_POSTPONE_OUTPUT};
our $ReusePort       = $ENV{TEST_NGINX_REUSE_PORT};
our $WorkerUser      = $ENV{TEST_NGINX_WORKER_USER};
our $Timeout         = $ENV{TEST_NGINX_TIMEOUT} || 3;
our $TestNginxSleep  = $ENV{TEST_NGINX_SLEEP} || 0.015;
our $LogLevel        = $ENV{TEST_NGINX_LOG_LEVEL} || 'debug';
our $MasterProcessEnabled = $ENV{TEST_NGINX_MASTER_PROCESS} || 'off';
our $Workers         = 1;
our $WorkerConnections = 64;
our $RepeatEach      = 1;
our $NoRootLocation  = 0;
our $NoLongString;
our $ServerAddr      = '127.0.0.1';
our $ServerName      = 'localhost';
our $ConfigPreamble  = '';
our $FilterHttpConfig;
our $UseHup          = $ENV{TEST_NGINX_USE_HUP};

# Frames that make a valgrind report count as "ours" (see valgrind_check).
our $ValgrindFramePattern = defined $ENV{TEST_NGINX_VALGRIND_FRAMES}
    ? qr/$ENV{TEST_NGINX_VALGRIND_FRAMES}/
    : qr/ngx_http_gemini_pool|ngx_gp_/;

sub _default_binary {
    for my $dir (split /:/, $ENV{PATH} || '') {
        next unless length $dir;
        my $f = "$dir/nginx";
        return $f if -f $f && -x _;
    }
    return '/usr/sbin/nginx';
}

our $NginxBinary = $ENV{TEST_NGINX_BINARY} || _default_binary();

our $ServerPort = $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT} || 1984;
our $ServerPortForClient = $ENV{TEST_NGINX_CLIENT_PORT} || $ENV{TEST_NGINX_PORT}
                           || $ServerPort;

if ($Randomize) {
    my $p = gen_rand_port(1000);
    defined $p or die "Cannot find a free port for TEST_NGINX_RANDOMIZE\n";
    $ServerPort = $ServerPortForClient = $p;
}

our $ServRoot;
if ($Randomize) {
    $ServRoot = File::Spec->rel2abs("t/servroot_$ServerPort");
} else {
    $ServRoot = File::Spec->rel2abs($ENV{TEST_NGINX_SERVROOT} || 't/servroot');
}
$ServRoot =~ s{/+$}{};
$ENV{TEST_NGINX_SERVER_ROOT} = $ServRoot;

our $LogDir     = "$ServRoot/logs";
our $ErrLogFile = "$LogDir/error.log";
our $AccLogFile = "$LogDir/access.log";
our $HtmlDir    = "$ServRoot/html";
our $ConfDir    = "$ServRoot/conf";
our $ConfFile   = "$ConfDir/nginx.conf";
our $PidFile    = "$LogDir/nginx.pid";

# run-time state
our ($NginxVersion, $NginxRawVersion, $OpenSSLVersion, $NginxV);
our ($PcreVersion);
our $RandPorts = {};
our $ErrLogFilePos = 0;
our $AccLogFilePos = 0;
our $PrevConfig;
our $ChildPid;           # pid of the nginx we started (master or single)
our $ChildStatus;        # wait status once reaped
our $InSubprocess = 0;
our $FirstTime = 1;
our $MainPid = $$;
our $KeepRunning = 0;    # TEST_NGINX_NO_CLEAN: leave the last nginx up
our $TotalConnectingTimeouts = 0;

our @EnvToNginx;
our @BlockPreprocessors;
our @CleanupHandlers;
our @TestCleanupHandlers;

# hooks filled in by Test::Nginx::Socket
our $RunTestHelper;
our $CheckErrorLog;
our $CheckShutdownErrorLog;

our @EXPORT = qw(
    expand_env_in_text env_to_nginx is_str check_accum_error_log is_running
    $NoLongString no_long_string $ServerAddr server_addr $ServerName
    server_name parse_time verbose sleep_time bail_out add_cleanup_handler
    add_test_cleanup_handler access_log_data error_log_data
    setup_server_root write_config_file get_canon_version get_nginx_version
    trim show_all_chars parse_headers run_tests get_pid_from_pidfile
    $ServerPortForClient $ServerPort $NginxVersion $PcreVersion $PidFile
    $ServRoot $ConfFile $RunTestHelper $CheckErrorLog $CheckShutdownErrorLog
    $FilterHttpConfig $NoNginxManager $RepeatEach
    add_block_preprocessor timeout worker_connections workers master_on
    master_off config_preamble repeat_each master_process_enabled log_level
    no_shuffle no_root_location html_dir server_root server_port
    server_port_for_client no_nginx_manager use_hup
    is_tcp_port_used run_test
);

#--------------------------------------------------------------------------
# Small setters/getters (same calling conventions as the real ones)
#--------------------------------------------------------------------------

sub repeat_each (@) { $RepeatEach = shift if @_; return $RepeatEach }
sub workers (@) { if (@_) { $Workers = shift } else { return $Workers } }
sub worker_connections (@) {
    if (@_) { $WorkerConnections = shift } else { return $WorkerConnections }
}
sub log_level (@) { if (@_) { $LogLevel = shift } else { return $LogLevel } }
sub master_on () { $MasterProcessEnabled = 'on' }
sub master_off () { $MasterProcessEnabled = 'off' }
sub master_process_enabled (@) {
    if (@_) { $MasterProcessEnabled = shift() ? 'on' : 'off' }
    else { return $MasterProcessEnabled }
}
sub no_shuffle () { $NoShuffle = 1 }
sub no_root_location () { $NoRootLocation = 1 }
sub no_long_string () { $NoLongString = 1 }
sub no_nginx_manager () { $NoNginxManager = 1 }
sub check_accum_error_log () { $CheckAccumErrLog = 1 }
sub config_preamble ($) { $ConfigPreamble = shift }
sub timeout (@) { if (@_) { $Timeout = shift } else { return $Timeout } }
sub server_addr (@) { if (@_) { $ServerAddr = shift } else { return $ServerAddr } }
sub server_name (@) { if (@_) { $ServerName = shift } else { return $ServerName } }
sub server_port (@) { if (@_) { $ServerPort = shift } else { return $ServerPort } }
sub server_port_for_client (@) {
    if (@_) { $ServerPortForClient = shift } else { return $ServerPortForClient }
}
sub html_dir () { return $HtmlDir }
sub server_root () { return $ServRoot }
sub sleep_time { return $TestNginxSleep }
sub verbose { return $Verbose }
sub add_cleanup_handler ($) { unshift @CleanupHandlers, shift }
sub add_test_cleanup_handler ($) { unshift @TestCleanupHandlers, shift }
sub add_block_preprocessor (&) { unshift @BlockPreprocessors, shift }

sub use_hup () {
    warn "WARNING: use_hup()/TEST_NGINX_USE_HUP is not supported by the "
       . "compat Test::Nginx; nginx is restarted for every block instead.\n";
}

sub env_to_nginx (@) {
    croak "env_to_nginx: no arguments specified" if !@_;
    for my $v (@_) {
        croak "env_to_nginx: bad argument value: $v\n"
            if $v !~ /^[A-Za-z_]/ || $v =~ /\n/;
        push @EnvToNginx, $v;
    }
}

sub parse_time ($) {
    my $t = shift;
    return $t if !defined $t;
    if ($t =~ /^\s*([\d.]+)\s*ms\s*$/) { return $1 / 1000 }
    if ($t =~ /^\s*([\d.]+)\s*s?\s*$/) { return $1 + 0 }
    return $t;
}

sub trim ($) {
    my $s = shift;
    return undef if !defined $s;
    $s =~ s/^\s+|\s+$//g;
    $s =~ s/\n/ /g;
    $s =~ s/\s{2,}/ /g;
    return $s;
}

sub show_all_chars ($) {
    my $s = shift;
    $s =~ s/\n/\\n/g;
    $s =~ s/\r/\\r/g;
    $s =~ s/\t/\\t/g;
    return $s;
}

# "Name: value" lines -> { Name => value }; "!Name" -> { Name => undef }
sub parse_headers ($) {
    my $s = shift;
    my %h;
    for my $line (split /\n/, $s // '') {
        $line =~ s/^\s+|\s+$//g;
        next if $line eq '';
        if ($line =~ s/^!\s*//) {
            $h{$line} = undef;
        } else {
            my ($k, $v) = split /\s*:\s*/, $line, 2;
            $h{$k} = $v;
        }
    }
    return \%h;
}

sub is_str (@) {
    my ($got, $expected, $desc) = @_;
    if (ref $expected && ref $expected eq 'Regexp') {
        return Test::More::like($got, $expected, $desc);
    }
    if ($NoLongString) {
        # Test::Base::is shows a Text::Diff diff for multi-line strings
        # (unless no_diff() was called).
        return Test::Base::is($got, $expected, $desc);
    }
    my $ok = Test::LongString::is_string($got, $expected, $desc);
    if (!$ok && defined $got && defined $expected
        && ($got =~ /\n./ || $expected =~ /\n./)
        && !$ENV{TEST_SHOW_NO_DIFFS})
    {
        local $@;
        eval {
            require Text::Diff;
            Test::More::diag(Text::Diff::diff(\$expected, \$got,
                { STYLE => 'Unified', FILENAME_A => 'expected',
                  FILENAME_B => 'got' }));
        };
    }
    return $ok;
}

sub is_running ($) {
    my $pid = shift;
    return 0 if !$pid;
    return kill(0, $pid) ? 1 : 0;
}

sub bail_out (@) {
    cleanup();
    # prove only shows the first line of a bail-out message: send the rest
    # (e.g. the tail of error.log) as diagnostics first
    my ($first, $rest) = split /\n/, join('', @_), 2;
    Test::More::diag($rest) if defined $rest && $rest =~ /\S/;
    Test::More::BAIL_OUT($first);
}

#--------------------------------------------------------------------------
# Ports
#--------------------------------------------------------------------------

# Is some socket LISTENing on the TCP port?  Reads /proc/net/tcp{,6} so that
# the check does not open a connection (which would add lines to the
# error log of the nginx under test).  Falls back to a connect() probe.
sub is_tcp_port_used ($) {
    my $port = shift;
    my $hexport = sprintf '%04X', $port;
    my $seen_proc;
    for my $f ('/proc/net/tcp', '/proc/net/tcp6') {
        open my $in, '<', $f or next;
        $seen_proc = 1;
        while (<$in>) {
            my @f = split ' ';
            next if @f < 4 || $f[1] !~ /:([0-9A-F]{4})$/;
            return 1 if $1 eq $hexport && $f[3] eq '0A';
        }
    }
    return 0 if $seen_proc;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp', Timeout => 1);
    return $s ? 1 : 0;
}

# Does process $pid itself hold a socket LISTENing on the TCP port?  (Maps
# the /proc/net/tcp inodes to /proc/$pid/fd.)  Returns undef when /proc
# cannot tell, so that callers can fall back to is_tcp_port_used().
sub _pid_listens_on ($$) {
    my ($pid, $port) = @_;
    my $hexport = sprintf '%04X', $port;
    my (%inodes, $seen);
    for my $f ('/proc/net/tcp', '/proc/net/tcp6') {
        open my $in, '<', $f or next;
        $seen = 1;
        while (<$in>) {
            my @f = split ' ';
            next if @f < 10 || $f[1] !~ /:([0-9A-F]{4})$/;
            $inodes{$f[9]} = 1 if $1 eq $hexport && $f[3] eq '0A';
        }
    }
    return undef if !$seen;
    return 0 if !%inodes;
    opendir my $dh, "/proc/$pid/fd" or return undef;
    for my $fd (readdir $dh) {
        my $l = readlink "/proc/$pid/fd/$fd" or next;
        return 1 if $l =~ /^socket:\[(\d+)\]$/ && $inodes{$1};
    }
    return 0;
}

sub gen_rand_port (;$$) {
    my ($tries, $used) = @_;
    $tries ||= 1000;
    $used ||= {};
    for (1 .. $tries) {
        my $port = 1985 + int(rand(65535 - 1985));
        next if $used->{$port};
        next if is_tcp_port_used($port);
        my $sock = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                         LocalPort => $port, Proto => 'tcp',
                                         ReuseAddr => 1, Listen => 1);
        next if !$sock;
        close $sock;
        return $port;
    }
    return undef;
}

#--------------------------------------------------------------------------
# $TEST_NGINX_* expansion
#--------------------------------------------------------------------------

sub expand_env_in_text ($$$) {
    my ($text, $name, $rand_ports) = @_;
    return $text if !defined $text || ref $text;
    $rand_ports ||= $RandPorts;

    $text =~ s{\$(TEST_NGINX_[_A-Z0-9]+)}{
        my $var = $1;
        my $val;
        if ($var =~ /^TEST_NGINX_RAND_PORT_\d+$/) {
            if (!defined $rand_ports->{$var}) {
                my %used = ($ServerPort => 1, map { $_ => 1 } values %$rand_ports);
                my $p = gen_rand_port(1000, \%used);
                bail_out("$name - Cannot find an available listening port "
                         . "number for $var.\n") if !defined $p;
                $rand_ports->{$var} = $p;
            }
            $val = $rand_ports->{$var};
        } else {
            bail_out("$name - No environment $var defined.\n")
                if !defined $ENV{$var};
            $val = $ENV{$var};
        }
        $val;
    }ge;

    return $text;
}

#--------------------------------------------------------------------------
# nginx version
#--------------------------------------------------------------------------

sub get_canon_version (@) { sprintf "%d.%03d%03d", $_[0], $_[1], $_[2] }

sub _canon_openssl (@) {
    my ($a, $b, $c, $d) = @_;
    return defined $d
        ? sprintf("%d.%03d%03d%03d", $a, $b, $c, ord($d) - ord('a'))
        : get_canon_version($a, $b, $c);
}

sub _nginx_V () {
    return $NginxV if defined $NginxV;
    my $out = `"$NginxBinary" -V 2>&1`;
    if (!defined $out || $? != 0) {
        bail_out("Failed to run \"$NginxBinary -V\": " . ($out // $!)
                 . "\n(set TEST_NGINX_BINARY to the nginx to test)");
    }
    return $NginxV = $out;
}

sub get_nginx_version () {
    my $out = _nginx_V();
    if ($out =~ m{built with OpenSSL (\d+)\.(\d+)\.(\d+)([a-z])?}) {
        $OpenSSLVersion = _canon_openssl($1, $2, $3, $4);
    }
    if ($out =~ m{(?:nginx|openresty)[^/\s]*/(\d+)\.(\d+)\.(\d+)}
        || $out =~ m{\w+/(\d+)\.(\d+)\.(\d+)})
    {
        $NginxRawVersion = "$1.$2.$3";
        return get_canon_version($1, $2, $3);
    }
    bail_out("Failed to parse the output of \"nginx -V\": $out\n");
}

sub get_pid_from_pidfile ($) {
    my $name = shift;
    open my $in, '<', $PidFile or return undef;
    my $pid = do { local $/; <$in> };
    close $in;
    $pid =~ s/\s+//g if defined $pid;
    return $pid;
}

#--------------------------------------------------------------------------
# Server root
#--------------------------------------------------------------------------

sub _write_file ($$) {
    my ($path, $data) = @_;
    open my $out, '>', $path or bail_out("Can't open $path for writing: $!\n");
    binmode $out;
    print $out $data;
    close $out or bail_out("Can't write $path: $!\n");
}

# Called once per test file (first block).  Only removes the directories
# the harness itself creates, never an arbitrary TEST_NGINX_SERVROOT tree.
sub setup_server_root ($) {
    my $first_time = shift;

    if ($first_time) {
        kill_stale_nginx();
        if (-d $ServRoot) {
            if ($ENV{GP_KEEP}) {
                # the last file's logs, for the secrets gate
                require GeminiPool::Keep;
                GeminiPool::Keep::logs($LogDir);
            }
            remove_tree($ConfDir, $HtmlDir, $LogDir, "$ServRoot/cache",
                        glob("$ServRoot/*_temp"), glob("$ServRoot/*_cache"));
        }
    }

    for my $d ($ServRoot, $LogDir, $ConfDir) {
        next if -d $d;
        make_path($d) or bail_out("Failed to do mkdir $d: $!\n");
    }

    # html/ is recreated for every block: it holds index.html plus the
    # current block's --- user_files (the real Test::Nginx wipes it on
    # every restart too, so blocks cannot depend on each other's files).
    remove_tree($HtmlDir) if -d $HtmlDir;
    make_path($HtmlDir) or bail_out("Failed to do mkdir $HtmlDir: $!\n");
    _write_file("$HtmlDir/index.html",
        '<html><head><title>It works!</title></head><body>It works!</body></html>');

    # logs are per block: the checks only ever see this block's output
    unlink $ErrLogFile, $AccLogFile, $PidFile;
    $ErrLogFilePos = 0;
    $AccLogFilePos = 0;
}

# An nginx left behind by an earlier, interrupted run of this servroot.
sub kill_stale_nginx () {
    my $pid = get_pid_from_pidfile('');
    return if !$pid || $pid !~ /^\d+$/ || !is_running($pid);
    my $cmd = '';
    if (open my $in, '<', "/proc/$pid/cmdline") {
        local $/; $cmd = <$in> // ''; close $in;
    }
    return if $cmd !~ /nginx/;
    warn "WARNING: stopping stale nginx $pid from a previous run ($PidFile)\n";
    kill SIGQUIT, $pid;
    for (1 .. 60) { last if !is_running($pid); sleep 0.05 }
    kill SIGKILL, $pid if is_running($pid);
}

sub run_customer_init_script ($) {
    my $block = shift;
    my $code = $block->post_setup_server_root;
    return if !$code;
    eval $code;
    bail_out($block->name . " - post_setup_server_root failed: $@") if $@;
}

# touch -t style stamp: [[CC]YY]MMDDhhmm[.ss], interpreted as GMT
sub _parse_touch_time ($) {
    my $s = shift;
    my ($main, $sec) = split /\./, $s, 2;
    $sec ||= 0;
    my ($y, $mo, $d, $h, $mi);
    if ($main =~ /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)$/) {
        ($y, $mo, $d, $h, $mi) = ($1, $2, $3, $4, $5);
    } elsif ($main =~ /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)$/) {
        ($y, $mo, $d, $h, $mi) = ($1 < 69 ? 2000 + $1 : 1900 + $1, $2, $3, $4, $5);
    } elsif ($main =~ /^(\d\d)(\d\d)(\d\d)(\d\d)$/) {
        $y = (gmtime)[5] + 1900;
        ($mo, $d, $h, $mi) = ($1, $2, $3, $4);
    } else {
        return undef;
    }
    return timegm($sec, $mi, $h, $d, $mo - 1, $y);
}

sub write_user_files ($$) {
    my ($block, $rand_ports) = @_;
    my $name = $block->name;
    my $files = $block->user_files;
    return if !$files;

    if (!ref $files) {
        my @list;
        my ($fname, $body, $date);
        for my $line (split /^/, $files) {
            if ($line =~ /^>>> (\S+)(?:\s+(.+?))?\s*$/) {
                push @list, [$fname, $body, $date] if defined $fname;
                ($fname, $date, $body) = ($1, $2, undef);
            } else {
                $body .= $line;
            }
        }
        push @list, [$fname, $body, $date] if defined $fname;
        $files = \@list;
    } elsif (ref $files ne 'ARRAY') {
        bail_out("$name - wrong value type: " . ref($files)
                 . ", only scalar or ARRAY are accepted");
    }

    for my $f (@$files) {
        my ($fname, $body, $date) = @$f;
        $body = '' if !defined $body;
        my $path = $fname =~ m{^/} ? $fname : "$HtmlDir/$fname";
        if ($path =~ m{^(.*)/[^/]+$} && !-d $1) {
            make_path($1) or bail_out("$name - Cannot create directory $1");
        }
        _write_file($path, expand_env_in_text($body, $name, $rand_ports));
        if ($date) {
            my $t = _parse_touch_time($date);
            bail_out("$name - bad user_files timestamp: $date") if !defined $t;
            utime $t, $t, $path;
        }
    }
}

#--------------------------------------------------------------------------
# nginx.conf
#--------------------------------------------------------------------------

sub write_config_file ($$$) {
    my ($block, $config, $rand_ports) = @_;
    my $name = $block->name;

    my $http_config = expand_env_in_text(scalar($block->http_config), $name, $rand_ports) // '';
    $http_config = $FilterHttpConfig->($http_config) if $FilterHttpConfig;
    my $main_config = $block->main_config // '';
    if ($LoadModules) {
        my @m = map { "load_module $_;" } grep { length } split /\s+/, $LoadModules;
        $main_config = join("\n", @m, $main_config);
    }
    $main_config = expand_env_in_text($main_config, $name, $rand_ports);
    my $post_main_config =
        expand_env_in_text(scalar($block->post_main_config), $name, $rand_ports) // '';
    my $err_log_file =
        expand_env_in_text($block->error_log_file || $ErrLogFile, $name, $rand_ports);
    my $server_name = $block->server_name // $ServerName;
    (my $qsn = $server_name) =~ s/(['\\])/\\$1/g;
    $config //= '';

    my $nginx_V = _nginx_V();
    my @temp;
    for my $t (qw(client_body proxy fastcgi uwsgi scgi)) {
        next if $t ne 'client_body' && $t ne 'proxy'
                && $nginx_V =~ /--without-http_${t}_module/;
        next if $http_config =~ /\b${t}_temp_path\b/;
        push @temp, "${t}_temp_path $ServRoot/${t}_temp;";
    }

    my $extra_http = '';
    if (defined $PostponeOutput && $http_config !~ /\bpostpone_output\b/) {
        bail_out("Bad TEST_NGINX_POSTPONE_OUTPUT value: $PostponeOutput\n")
            if $PostponeOutput !~ /^\d+$/;
        $extra_http .= "    postpone_output $PostponeOutput;\n";
    }

    my $listen_opts = $ReusePort ? ' reuseport' : '';

    my @env = qw(MOCKEAGAIN_VERBOSE MOCKEAGAIN MOCKEAGAIN_WRITE_TIMEOUT_PATTERN
                 LD_PRELOAD LD_LIBRARY_PATH ASAN_OPTIONS
                 MOCKNOEAGAIN_VERBOSE MOCKNOEAGAIN);
    my $env = join '', map { "env $_;\n" } @env;
    for my $v (@EnvToNginx) {
        my $q = $v =~ /\s/ ? "'$v'" : $v;
        $env .= "env $q;\n";
    }

    my $user = '';
    if (defined $WorkerUser) {
        $user = "user $WorkerUser;\n";
    } elsif ($> == 0) {
        # Without this, root-started workers would run as "nobody" and could
        # not write to servroot (temp files, logs).  Harmless with
        # master_process off (no privilege switch happens then).
        $user = "user root;\n";
    }

    my $root_location = $NoRootLocation ? '' : <<"_EOC_";
        location / {
            root $HtmlDir;
            index index.html index.htm;
        }
_EOC_

    my $events = "    accept_mutex off;\n    worker_connections $WorkerConnections;\n";
    $events .= "    use $EventType;\n" if $EventType;

    my $temp = join "\n    ", @temp;

    my $conf = <<"_EOC_";
# Generated by the compat Test::Nginx (t/lib/compat) for:
# $name
daemon off;
master_process $MasterProcessEnabled;
worker_processes $Workers;
error_log $err_log_file $LogLevel;
pid $PidFile;
$user$env
$main_config

http {
    access_log $AccLogFile;
    $temp
    default_type text/plain;
    keepalive_timeout 68000ms;
$extra_http
$http_config

    server {
        listen $ServerAddr:$ServerPort$listen_opts;
        server_name '$qsn';
        client_max_body_size 30M;

        # Begin preamble config...
$ConfigPreamble
        # End preamble config...

        # Begin test case config...
$config
        # End test case config.

$root_location    }
}

$post_main_config

events {
$events}
_EOC_

    _write_file($ConfFile, $conf);
}

#--------------------------------------------------------------------------
# nginx process management
#--------------------------------------------------------------------------

sub _valgrind_prefix () {
    return () if !$UseValgrind;
    if ($UseValgrind =~ /^\d+$/) {
        my @cmd = ('valgrind', '-q', '--tool=memcheck', '--leak-check=full',
                   '--show-possibly-lost=no', '--keep-debuginfo=yes',
                   '--num-callers=100', '--gen-suppressions=all');
        push @cmd, '--suppressions=valgrind.suppress' if -f 'valgrind.suppress';
        if ($ENV{TEST_NGINX_VALGRIND_EXIT_ON_FIRST_ERR}) {
            push @cmd, '--exit-on-first-error=yes', '--error-exitcode=1';
        }
        return @cmd;
    }
    # a non-numeric value is taken as the valgrind options (as the real one)
    my @cmd = ('valgrind', '-q', split(' ', $UseValgrind));
    push @cmd, '--suppressions=valgrind.suppress'
        if -f 'valgrind.suppress' && $UseValgrind !~ /--suppressions/;
    return @cmd;
}

sub _startup_wait () { $UseValgrind ? 30 : 5 }
sub _stop_grace ()   { $UseValgrind ? 60 : ($Timeout > 5 ? $Timeout : 5) }

sub _nginx_cmd () {
    my @cmd = ($NginxBinary, '-p', "$ServRoot/", '-c', $ConfFile);
    # "-e stderr" (nginx >= 1.19.5) keeps start-up messages on stderr,
    # which we point at error.log, instead of the compiled-in default.
    push @cmd, '-e', 'stderr'
        if defined $NginxVersion && $NginxVersion >= 1.019005;
    return (_valgrind_prefix(), @cmd);
}

# fork/exec nginx in the foreground ("daemon off") as our own child, in its
# own process group.  stdout -> /dev/null, stderr -> error.log (append), so
# valgrind's reports end up in the error log too.
sub spawn_nginx ($) {
    my $block = shift;
    my @cmd = _nginx_cmd();
    warn "spawning: @cmd\n" if $Verbose;

    my %env = %ENV;
    if (defined $ENV{TEST_NGINX_LD_PRELOAD}) {
        $env{LD_PRELOAD} = join ' ', grep { defined && length }
                           $ENV{TEST_NGINX_LD_PRELOAD}, $ENV{LD_PRELOAD};
    }

    my $pid = fork;
    bail_out($block->name . " - fork() failed: $!") if !defined $pid;

    if ($pid == 0) {
        $InSubprocess = 1;
        eval {
            setpgrp(0, 0);
            %ENV = %env;
            open STDIN, '<', '/dev/null';
            open STDOUT, '>', '/dev/null';
            if (defined $block->suppress_stderr) {
                open STDERR, '>', '/dev/null';
            } else {
                sysopen my $fh, $ErrLogFile, O_WRONLY | O_APPEND | O_CREAT, 0644;
                open STDERR, '>&', $fh if $fh;
            }
            exec { $cmd[0] } @cmd;
        };
        print STDERR "failed to exec $cmd[0]: $!\n";
        POSIX::_exit(127);
    }

    $ChildPid = $pid;
    undef $ChildStatus;
    return $pid;
}

# Reap our nginx if it has exited.  Returns true if it is gone.
sub _reap (;$) {
    my $block = shift;
    return 1 if !$ChildPid;
    return 1 if defined $ChildStatus;
    my $r = waitpid($ChildPid, WNOHANG);
    if ($r == $ChildPid) { $ChildStatus = $?; return 1 }
    if ($r == -1) { $ChildStatus = -1; return 1 }
    return 0;
}

# Is the nginx under test (still) up?  True when we do not manage nginx.
sub _nginx_alive () {
    return 1 if $NoNginxManager;
    return $ChildPid && !_reap() ? 1 : 0;
}

sub _status_str ($) {
    my $st = shift;
    return 'unknown status' if !defined $st || $st == -1;
    return 'exit code ' . ($st >> 8) if !($st & 127);
    return 'signal ' . ($st & 127) . (($st & 128) ? ' (core dumped)' : '');
}

sub _log_tail (;$) {
    my $n = shift || 30;
    open my $in, '<', $ErrLogFile or return '';
    my @l = <$in>;
    close $in;
    @l = grep { !/\[debug\]/ } @l;
    @l = @l[-$n .. -1] if @l > $n;
    return join '', @l;
}

# Start nginx and wait until it LISTENs on the server port.
# Returns undef on success, or an error message (nginx is reaped then).
sub start_nginx ($) {
    my $block = shift;
    my $name = $block->name;

    if (is_tcp_port_used($ServerPort)) {
        for (1 .. 40) { last if !is_tcp_port_used($ServerPort); sleep 0.05 }
        if (is_tcp_port_used($ServerPort)) {
            bail_out("$name - port $ServerPort is already in use by another "
                     . "process; set TEST_NGINX_PORT (or stop it)");
        }
    }

    spawn_nginx($block);

    my $deadline = time + _startup_wait();
    my $step = 0.01;
    while (1) {
        if (_reap()) {
            return "nginx exited during start-up (" . _status_str($ChildStatus)
                   . ")";
        }
        my $mine = _pid_listens_on($ChildPid, $ServerPort);
        last if $mine || (!defined $mine && is_tcp_port_used($ServerPort));
        if (time > $deadline) {
            stop_nginx($name);
            return "nginx did not listen on port $ServerPort within "
                   . _startup_wait() . "s";
        }
        sleep $step;
        $step *= 1.5 if $step < 0.1;
    }
    sleep $TestNginxSleep;
    return undef;
}

# SIGQUIT (graceful; SIGTERM with TEST_NGINX_FAST_SHUTDOWN), then SIGTERM,
# then SIGKILL to the whole process group.  Always reaps.
# Returns the wait status (or undef if nothing was running).
sub stop_nginx ($) {
    my $name = shift // '';
    return undef if !$ChildPid;
    my $pid = $ChildPid;

    if (!_reap()) {
        kill($ENV{TEST_NGINX_FAST_SHUTDOWN} ? SIGTERM : SIGQUIT, $pid);
        my $deadline = time + _stop_grace();
        while (!_reap() && time < $deadline) { sleep 0.02 }

        if (!_reap()) {
            warn "$name - WARNING: nginx $pid did not exit after "
                 . _stop_grace() . "s; sending SIGTERM\n";
            kill SIGTERM, -$pid;
            $deadline = time + 2;
            while (!_reap() && time < $deadline) { sleep 0.02 }
        }
        if (!_reap()) {
            warn "$name - WARNING: killing nginx $pid with SIGKILL\n";
            kill SIGKILL, -$pid;
            waitpid($pid, 0);
            $ChildStatus = $? if !defined $ChildStatus;
        }
    }

    # leftovers of the process group (e.g. workers of a killed master)
    if (kill 0, -$pid) {
        for (1 .. 50) { last if !kill(0, -$pid); sleep 0.02 }
        kill SIGKILL, -$pid if kill 0, -$pid;
    }

    my $st = $ChildStatus;
    undef $ChildPid;
    unlink $PidFile;
    return $st;
}

sub cleanup_test ($) {
    my $block = shift;
    $_->($block) for @TestCleanupHandlers;
}

sub cleanup () {
    return if $InSubprocess || $$ != $MainPid;
    $_->() for @CleanupHandlers;
    @CleanupHandlers = ();
    if ($ChildPid && !$KeepRunning) {
        stop_nginx('cleanup');
    }
}

#--------------------------------------------------------------------------
# Logs
#--------------------------------------------------------------------------

sub _read_lines_from ($$) {
    my ($file, $pos) = @_;
    open my $in, '<', $file or return ([], $pos);
    seek $in, $pos, 0 if $pos;
    my @lines = <$in>;
    my $new = tell $in;
    close $in;
    return (\@lines, $new);
}

# Lines written since the previous call (or since the block started, with
# check_accum_error_log).  Sleeps a little first for log-phase output.
sub error_log_data () {
    sleep $TestNginxSleep * 3;
    my ($lines, $pos) = _read_lines_from($ErrLogFile,
                                         $CheckAccumErrLog ? 0 : $ErrLogFilePos);
    $ErrLogFilePos = $pos if !$CheckAccumErrLog;
    return $lines;
}

sub access_log_data () {
    sleep $TestNginxSleep * 3;
    my ($lines, $pos) = _read_lines_from($AccLogFile,
                                         $CheckAccumErrLog ? 0 : $AccLogFilePos);
    $AccLogFilePos = $pos if !$CheckAccumErrLog;
    return $lines;
}

#--------------------------------------------------------------------------
# valgrind
#--------------------------------------------------------------------------

# Split valgrind output (interleaved with anything else) into records, per
# pid, separated by "==PID== " blank lines.  Returns the records that are
# errors (Invalid read/write, uninitialised values, bad frees, ...) or
# "definitely lost" leaks and that have a stack frame matching $frame_re.
sub valgrind_problems ($;$) {
    my ($text, $frame_re) = @_;
    $frame_re ||= $ValgrindFramePattern;

    my (%cur, @records);
    my $last;               # last finished record, to attach suppressions
    my $in_supp;
    for my $line (split /\n/, $text) {
        if ($line =~ /^==(\d+)== ?(.*)$/) {
            my ($pid, $body) = ($1, $2);
            $in_supp = undef;
            if ($body =~ /^\s*$/) {
                if ($cur{$pid}) { push @records, $last = delete $cur{$pid} }
                next;
            }
            push @{ ($cur{$pid} ||= { pid => $pid, lines => [], supp => '' })->{lines} },
                 $body;
            next;
        }
        if ($line =~ /^\{\s*$/ && $last) { $in_supp = $last; }
        if ($in_supp) {
            $in_supp->{supp} .= "$line\n";
            $in_supp = undef if $line =~ /^\}\s*$/;
        }
    }
    push @records, values %cur;

    my @bad;
    for my $r (@records) {
        my @l = @{ $r->{lines} };
        my $head = $l[0];
        my $kind;
        if ($head =~ /are definitely lost in loss record/) {
            $kind = 'leak';
        } elsif ($head =~ /lost in loss record|still reachable in loss record/) {
            next;
        } elsif (grep { /^\s+(?:at|by) 0x/ } @l) {
            $kind = 'error';
        } else {
            next;       # summaries, warnings, banners
        }
        next if !grep { /^\s+(?:at|by) 0x/ && /$frame_re/ } @l;
        push @bad, { kind => $kind, pid => $r->{pid},
                     text => join('', map { "==$r->{pid}== $_\n" } @l) . $r->{supp} };
    }
    return @bad;
}

#--------------------------------------------------------------------------
# Main loop
#--------------------------------------------------------------------------

sub run_tests () {
    srand($$ ^ int(time * 1000));
    $NginxVersion = get_nginx_version();
    $ENV{TEST_NGINX_SERVER_PORT} = $ServerPort
        if !defined $ENV{TEST_NGINX_SERVER_PORT};

    for my $var (qw(TEST_NGINX_USE_HTTP2 TEST_NGINX_USE_HTTP3 TEST_NGINX_USE_STAP
                    TEST_NGINX_CHECK_LEAK TEST_NGINX_BENCHMARK TEST_NGINX_USE_RR
                    TEST_NGINX_USE_HUP))
    {
        warn "WARNING: $var is not supported by the compat Test::Nginx; ignored\n"
            if $ENV{$var};
    }
    if (defined $ENV{TEST_NGINX_FORCE_RESTART_ON_TEST}
        && !$ENV{TEST_NGINX_FORCE_RESTART_ON_TEST})
    {
        warn "WARNING: the compat Test::Nginx always restarts nginx per block\n";
    }

    _install_signal_handlers();

    my @blocks = Test::Base::blocks();
    @blocks = shuffle @blocks if !$NoShuffle;

    for my $i (0 .. $#blocks) {
        my $block = $blocks[$i];
        $_->($block) for @BlockPreprocessors;
        $block->set_value('name', "$0 " . $block->name);
        # TEST_NGINX_NO_CLEAN: leave the last block's nginx running
        $KeepRunning = ($ENV{TEST_NGINX_NO_CLEAN} && !$UseValgrind
                        && $i == $#blocks) ? 1 : 0;
        run_test($block);
        cleanup_test($block);
    }
    cleanup();
}

sub _install_signal_handlers () {
    # nginx runs in its own process group, so a Ctrl-C on the terminal does
    # not reach it; stop it ourselves before dying.
    for my $sig (qw(INT TERM HUP)) {
        next if defined $SIG{$sig} && $SIG{$sig} ne '' && $SIG{$sig} ne 'DEFAULT';
        $SIG{$sig} = sub {
            $KeepRunning = 0;
            cleanup();
            my $num = { INT => 2, HUP => 1, TERM => 15 }->{$sig};
            print STDERR "# interrupted by SIG$sig; nginx stopped\n";
            exit(128 + $num);
        };
    }
}

sub _parse_skip ($$) {
    my ($block, $name) = @_;
    my ($n, $skip, $reason);
    my $ver_re = qr/([<>]=?)\s*(\d+)\.(\d+)\.(\d+)/;

    if (defined(my $s = $block->skip_eval)) {
        if ($s =~ /^\s*(\d+)\s*:\s*(.*)/s) {
            $n = $1;
            my $code = $2;
            $reason = 'skip_eval';
            $skip = eval $code;
            bail_out("$name - skip_eval - failed to eval the Perl code \"$code\": $@")
                if $@;
        }
    }
    if (defined(my $s = $block->skip_nginx)) {
        $s =~ /^\s*(\d+)\s*:\s*$ver_re(?:\s*:\s*(.*))?\s*$/
            or bail_out("$name - Invalid --- skip_nginx spec: $s");
        $n = $1;
        my ($op, $v) = ($2, get_canon_version($3, $4, $5));
        $reason = $6 || "nginx version $op $3.$4.$5";
        $skip = 1 if eval "$NginxVersion $op $v";
    } elsif (defined(my $s2 = $block->skip_nginx2)) {
        $s2 =~ /^\s*(\d+)\s*:\s*$ver_re\s*(or|and)\s*$ver_re(?:\s*:\s*(.*))?\s*$/
            or bail_out("$name - Invalid --- skip_nginx2 spec: $s2");
        $n = $1;
        my ($a, $b) = (eval("$NginxVersion $2 " . get_canon_version($3, $4, $5)),
                       eval("$NginxVersion $7 " . get_canon_version($8, $9, $10)));
        $reason = $11;
        $skip = 1 if $6 eq 'or' ? ($a || $b) : ($a && $b);
    }
    if (defined(my $s = $block->skip_openssl)) {
        $s =~ /^\s*(\d+)\s*:\s*([<>]=?)\s*(\d+)\.(\d+)\.(\d+)([a-z])?(?:\s*:\s*(.*))?\s*$/
            or bail_out("$name - Invalid --- skip_openssl spec: $s");
        $n = $1;
        my $v = _canon_openssl($3, $4, $5, $6);
        $reason = $7 || (defined $OpenSSLVersion
                         ? "OpenSSL version $2 $3.$4.$5" . ($6 // '')
                         : "Not built with OpenSSL");
        $skip = 1 if !defined $OpenSSLVersion || eval "$OpenSSLVersion $2 $v";
    }
    return ($n, $skip, $reason // 'various reasons');
}

sub _parse_todo ($$) {
    my ($block, $name) = @_;
    my ($todo, $reason, $n);
    if (defined(my $t = $block->todo_nginx)) {
        $t =~ /^\s*([<>]=?)\s*(\d+)\.(\d+)\.(\d+)(?:\s*:\s*(.*))?\s*$/
            or bail_out("$name - Invalid --- todo_nginx spec: $t");
        $reason = $5;
        $todo = 1 if eval "$NginxVersion $1 " . get_canon_version($2, $3, $4);
    }
    if (defined(my $t = $block->todo)) {
        $t =~ /^\s*(\d+)\s*:\s*(.*)/s
            or bail_out("$name - Invalid --- todo spec: $t");
        ($todo, $n, $reason) = (1, $1, $2);
    }
    return ($todo, $n, $reason // 'various reasons');
}

my @Unsupported = qw(udp_listen tcp_listen udp_reply tcp_reply);

sub run_test ($) {
    my $block = shift;
    return if defined $block->SKIP;

    my $name = $block->name;
    my $rand_ports = {};
    $RandPorts = $rand_ports;

    local $LogLevel = $block->log_level || $LogLevel;

    for my $sec (@Unsupported) {
        next if !defined $block->$sec;
        bail_out("$name - section --- $sec is not supported by the compat "
                 . "Test::Nginx (t/lib/compat/README.md)");
    }
    for my $sec (qw(http2 http3)) {
        warn "WARNING: $name - --- $sec is not supported by the compat "
             . "Test::Nginx; sending HTTP/1.1\n" if defined $block->$sec;
    }

    my $config = expand_env_in_text(scalar($block->config), $name, $rand_ports);
    my $reuse_conf;
    if (!defined $config && !$NoNginxManager) {
        bail_out("$name - No '--- config' section specified and could not get "
                 . "previous one. Use TEST_NGINX_NO_NGINX_MANAGER ?")
            if !defined $PrevConfig;
        $reuse_conf = 1;
    }

    my ($tests_to_skip, $should_skip, $skip_reason) = _parse_skip($block, $name);
    my ($should_todo, $todo_n, $todo_reason) = _parse_todo($block, $name);
    $tests_to_skip = $todo_n if defined $todo_n;

    my $dry_run = 0;
    my $first_time = $FirstTime;
    undef $FirstTime;

    my $run_nginx = !$NoNginxManager && !($should_skip && defined $tests_to_skip)
                    && !$should_todo;

    if ($run_nginx) {
        stop_nginx($name) if $ChildPid;     # should not happen, but be safe
        setup_server_root($first_time);
        run_customer_init_script($block);
        write_user_files($block, $rand_ports);
        if (!$reuse_conf || !-f $ConfFile) {
            write_config_file($block, $config, $rand_ports);
            $PrevConfig = $config;
        }

        if (defined $block->must_die) {
            _run_must_die($block);
            _finish_block($block, 0);
            return;
        }

        if (my $err = start_nginx($block)) {
            my $tail = _log_tail();
            my $dir;
            if ($ENV{TEST_NGINX_IGNORE_MISSING_DIRECTIVES}
                && $tail =~ /\[emerg\] \S+?: unknown directive "([^"]+)"/)
            {
                $dir = $1;
                $dry_run = "the lack of directive $dir";
            } else {
                bail_out("$name - Cannot start nginx using command \""
                         . join(' ', _nginx_cmd()) . "\": $err\n"
                         . "--- tail of $ErrLogFile:\n$tail");
            }
        }
    } elsif (!$NoNginxManager && !-d $LogDir) {
        make_path($LogDir);
    }

    # like the real one: --- init runs once per block, after nginx started
    if (my $init = $block->init) {
        eval $init;
        bail_out("$name - init failed: $@") if $@;
    }

    $ErrLogFilePos = 0;
    $AccLogFilePos = 0;
    for my $i (0 .. $RepeatEach - 1) {
        write_user_files($block, $rand_ports) if $i > 0 && $run_nginx;
        if ($should_skip && defined $tests_to_skip) {
          SKIP: { Test::More::skip("$name - $skip_reason", $tests_to_skip); }
        } elsif ($should_todo) {
          TODO: { Test::More::todo_skip("$name - $todo_reason", $tests_to_skip); }
        } else {
            $RunTestHelper->($block, $dry_run, $i);
        }
    }

    _finish_block($block, $dry_run) if $run_nginx;
}

# must_die: nginx is started once per repetition and must exit by itself.
sub _run_must_die ($) {
    my $block = shift;
    my $name = $block->name;
    my $must_die = $block->must_die;
    local $UseValgrind;     # like the real one: no valgrind for must_die

    $ErrLogFilePos = 0;
    for my $i (0 .. $RepeatEach - 1) {
        spawn_nginx($block);
        my $deadline = time + 5;
        my $listening;
        while (!_reap()) {
            if (_pid_listens_on($ChildPid, $ServerPort) // is_tcp_port_used($ServerPort)) {
                # give it a moment in case it is about to die anyway
                sleep 0.2;
                $listening = !_reap();
                last;
            }
            last if time > $deadline;
            sleep 0.02;
        }
        my $alive = !_reap();
        my $status = $alive ? 0 : $ChildStatus;
        if ($alive) {
            warn "WARNING: $name - nginx must die but it does not; killing it (req $i)\n";
            stop_nginx($name);
        }
        undef $ChildPid;

        if ($status == -1) {
            Test::More::fail("$name - failed to execute the nginx command line");
        } elsif (!$alive && ($status & 128)) {
            Test::More::fail("$name - nginx core dumped");
        } elsif (looks_like_number($must_die)) {
            Test::More::is($must_die, $alive ? 0 : ($status >> 8),
                           "$name - die with the expected exit code");
        } else {
            Test::More::isnt($alive ? 0 : $status, 0, "$name - die as expected");
        }
        $CheckErrorLog->($block, undef, 0, $i, 0);
    }
}

# Stop nginx (unless TEST_NGINX_NO_CLEAN keeps the last one), then run the
# checks that need nginx to be gone.
sub _finish_block ($$) {
    my ($block, $dry_run) = @_;
    my $name = $block->name;

    if ($ChildPid && !$KeepRunning) {
        my $was_alive = !_reap();
        my $early_status = $was_alive ? undef : $ChildStatus;
        my $st = stop_nginx($name);
        if (!$was_alive && !$dry_run) {
            # nginx died on its own while the block was running
            Test::More::fail("$name - nginx exited unexpectedly ("
                             . _status_str($early_status) . ")");
            Test::More::diag(_log_tail(15));
        } elsif (defined $st && ($st & 127) && ($st & 127) != SIGQUIT
                 && ($st & 127) != SIGTERM && ($st & 127) != SIGKILL)
        {
            Test::More::fail("$name - nginx terminated by " . _status_str($st)
                             . " while shutting down");
        }

        # a worker crashing while shutting down (master_on) is only visible
        # in the log written after the last check
        if (!$dry_run) {
            my ($lines) = _read_lines_from($ErrLogFile, $ErrLogFilePos);
            for my $l (@$lines) {
                next if $l !~ /worker process \d+ exited on signal \d+/
                        && $l !~ /\bAssertion .*?failed\b/;
                (my $c = $l) =~ s/\s+$//;
                Test::More::fail("$name - $c (during shutdown)");
            }
        }

        $CheckShutdownErrorLog->($block, $dry_run) if $CheckShutdownErrorLog;

        valgrind_check($block) if $UseValgrind && !$dry_run;
    } elsif ($ChildPid && $KeepRunning && $CheckShutdownErrorLog) {
        # nginx is left running: skip the shutdown checks (keeps the count)
        $CheckShutdownErrorLog->($block, 'TEST_NGINX_NO_CLEAN');
    }

    if (my $total = $ENV{TEST_NGINX_ERROR_LOG}) {
        if (-s $ErrLogFile && open my $out, '>>', $total) {
            print $out "\n=== $0 $name\n";
            if (open my $in, '<', $ErrLogFile) {
                local $/ = \65536;
                print $out $_ while <$in>;
                close $in;
            }
            close $out;
        }
    }
}

# After nginx exited: fail "valgrind clean" if valgrind reported an error or
# a definite leak with one of our module's frames in its stack.  To keep
# fixed plans (plan tests => N) valid, a passing check is only emitted when
# the file does not declare a fixed number of tests.
sub valgrind_check ($) {
    my $block = shift;
    my $name = $block->name;
    open my $in, '<', $ErrLogFile or return;
    my $text = do { local $/; <$in> };
    close $in;

    my @bad = valgrind_problems($text);
    my $plan = Test::More->builder->has_plan;
    my $fixed = defined $plan && $plan =~ /^\d+$/;
    if (@bad) {
        Test::More::fail("$name - valgrind clean");
        Test::More::diag(scalar(@bad) . " valgrind report(s) with frames matching "
                         . "$ValgrindFramePattern:\n" . join("\n", map { $_->{text} } @bad));
    } elsif (!$fixed) {
        Test::More::pass("$name - valgrind clean");
    }
}

END {
    if (!$InSubprocess && $$ == $MainPid) {
        local $?;
        cleanup();
    }
}

1;
