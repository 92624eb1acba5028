# nginx.conf.example (issue #18): the configuration scripts/run uses
# passes "nginx -t" with the module once scripts/run has filled in its
# paths (scripts/run --check); so does it with its commented examples
# uncommented (the rate limit on /v1/, the HTTPS server with a
# certificate made here), and that configuration then runs: HTTPS
# answers, the rate limit answers 429 as an OpenAI error object.  The
# env lines are there, and a binary upgrade keeps ADMIN_SECRET_KEY
# through them (and loses it without).  scripts/run keeps a hand-edited
# run/nginx.conf (and says so) and writes an untouched one again.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use Config ();
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Path qw(make_path remove_tree);
use HTTP::Tiny;
use IO::Socket::INET;
use JSON::PP;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);

my $ROOT = abs_path(dirname(__FILE__) . '/..');
my $json = JSON::PP->new->utf8->canonical;

sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Proto => 'tcp', Listen => 1)
        or die "no free port: $!";
    my $p = $s->sockport;
    close $s;
    return $p;
}

sub slurp {
    my ($f) = @_;
    open my $fh, '<', $f or return undef;
    local $/;
    return <$fh>;
}

sub spew {
    my ($f, $text) = @_;
    open my $fh, '>', $f or die "$f: $!";
    print $fh $text;
    close $fh;
}

sub run_sh {
    my ($cmd) = @_;
    my $out = `$cmd 2>&1`;
    return ($? >> 8, $out);
}

my $example = slurp("$ROOT/nginx.conf.example") // die "example: $!";

# ----------------------------------------------------------------------
# what the example carries

for my $v (qw(ADMIN_SECRET_KEY API_KEY_ENCRYPTION_KEY
              API_KEY_ENCRYPTION_KEY_OLD FORCE_HEADED FORCE_HEADLESS
              DISPLAY))
{
    like($example, qr/^env $v;$/m, "env $v;");
}

my ($format) = $example =~ /^\s*log_format\s+gemini_pool\s+(.*?);$/ms;
ok($format, 'a log_format named gemini_pool');
for my $v (qw(account attempts upstream_status model api_key ttfb
              conversation))
{
    like($format // '', qr/\$gemini_pool_$v\b/, "it logs \$gemini_pool_$v");
}
like($example, qr/^\s*access_log\s+logs\/access\.log\s+gemini_pool;$/m,
     'the access log uses it');

like($example, qr/^\s*# limit_req_zone\s+\$binary_remote_addr\s+zone=/m,
     'a limit_req_zone example');
like($example, qr/^\s*# limit_req\s+zone=gemini_pool_v1\b/m,
     'a limit_req example in location /v1/');
like($example, qr/^\s*#\s+listen\s+443 ssl/m, 'an HTTPS server example');

# ----------------------------------------------------------------------
# as scripts/run uses it

my $dir = "$ROOT/t/servroot-example";
remove_tree($dir);
my $port = free_port();

my ($rc, $out) = run_sh("$ROOT/scripts/run --no-build --check --dir $dir "
                        . "--port $port");
is($rc, 0, 'scripts/run --check: nginx -t passes on the example')
    or diag $out;
like($out, qr/configuration file \S+nginx\.conf test is successful/,
     'nginx says so');

my $conf = slurp("$dir/nginx.conf") // '';
like($conf, qr/^load_module \Q$ROOT\E\/build\/ngx_http_gemini_pool_module\.so;$/m,
     'the module of build/');
like($conf, qr/^\s+listen\s+$port;$/m, 'the port of --port');
like($conf, qr/^daemon  off;$/m, 'in the foreground');
like($conf, qr{alias\s+\Q$ROOT\E/admin-ui/;}, 'the console of the repository');
like($conf, qr/^# Written by scripts\/run from nginx\.conf\.example; edits/,
     'and it says who wrote it');

# ----------------------------------------------------------------------
# hand edits are kept; an untouched file follows the example

my $port2 = free_port();
($rc, $out) = run_sh("$ROOT/scripts/run --no-build --check --dir $dir "
                     . "--port $port2");
is($rc, 0, 'a second --check');
like(slurp("$dir/nginx.conf") // '', qr/^\s+listen\s+$port2;$/m,
     'an untouched file is written again (the new port)');

spew("$dir/nginx.conf", (slurp("$dir/nginx.conf") // '')
                        . "# an operator's edit\n");
($rc, $out) = run_sh("$ROOT/scripts/run --no-build --check --dir $dir "
                     . "--port $port");
is($rc, 0, 'a --check after a hand edit');
like($out, qr/nginx\.conf was edited by hand: KEPT AS IT IS/,
     'scripts/run says it keeps the edited file');
my $kept = slurp("$dir/nginx.conf") // '';
like($kept, qr/# an operator's edit\n\z/, 'the edit is still there');
like($kept, qr/^\s+listen\s+$port2;$/m, 'and nothing was applied to it');

unlink "$dir/nginx.conf";
($rc, $out) = run_sh("$ROOT/scripts/run --no-build --check --dir $dir "
                     . "--port $port");
is($rc, 0, 'deleted: written from the example again');
unlike(slurp("$dir/nginx.conf") // '', qr/an operator's edit/,
       'without the edit');

($rc, $out) = run_sh("$ROOT/scripts/run --no-build --check --dir $dir "
                     . "--port nope");
isnt($rc, 0, 'a bad --port is refused');
like($out, qr/--port: not a number: nope/, 'and named');

# ----------------------------------------------------------------------
# the commented examples, uncommented, with a certificate made here

my $tls = "$dir/tls";
make_path($tls);
($rc, $out) = run_sh("openssl req -x509 -newkey ec -pkeyopt "
                     . "ec_paramgen_curve:P-256 -nodes -days 2 "
                     . "-subj /CN=localhost -keyout $tls/privkey.pem "
                     . "-out $tls/fullchain.pem");
is($rc, 0, 'a test certificate') or diag $out;

my $tls_port = free_port();
my $full = $conf;
my $n = 0;
# the rate limit: the lines of limit_req_zone, limit_req_status, and
# limit_req and its error_page in /v1/ and in /v1beta/
$n += $full =~ s/^(\s*)# ((?:limit_req\w*|error_page\s+429)\s.*;)$/$1$2/mg;
is($n, 6, 'the six rate-limit lines uncommented');
# the HTTPS server: from "# server {" to its "# }", line by line
{
    my ($in, $ind, @out) = (0, '');
    $n = 0;
    for my $line (split /^/, $full) {
        if (!$in && $line =~ /^(\s*)# server \{$/) {
            ($in, $ind) = (1, $1);
            $n++;
        }
        if ($in) {
            $in = 0 if $line =~ /^\Q$ind\E# \}$/;
            $line =~ s/^\Q$ind\E#(?: |$)/$ind/;
        }
        push @out, $line;
    }
    $full = join '', @out;
}
is($n, 1, 'the HTTPS server uncommented');
$full =~ s{/etc/ssl/gemini-pool/}{$tls/}g;
$full =~ s/listen\s+443 ssl http2;/listen  127.0.0.1:$tls_port ssl http2;/;
# a burst small enough for a test
$full =~ s/burst=20/burst=2/;
spew("$dir/full.conf", $full);

($rc, $out) = run_sh("nginx -t -p $dir/ -c full.conf");
is($rc, 0, 'nginx -t passes with the examples uncommented') or diag $out;

# and it runs
my $pid = fork;
die "fork: $!" unless defined $pid;
if ($pid == 0) {
    setpgrp(0, 0);
    open STDOUT, '>', '/dev/null';
    open STDERR, '>', "$dir/full.stderr";
    exec 'nginx', '-p', "$dir/", '-c', 'full.conf' or POSIX::_exit(127);
}

my $http = HTTP::Tiny->new(timeout => 10, verify_SSL => 0);
my $up = 0;
for (1 .. 100) {
    my $r = $http->get("http://127.0.0.1:$port/health");
    if ($r->{status} != 599) { $up = 1; last }
    sleep 0.1;
}
ok($up, 'nginx runs the full configuration');

my $r = $http->get("https://127.0.0.1:$tls_port/health");
like($r->{status}, qr/^(?:200|503)$/, '/health over HTTPS');
my $h = eval { $json->decode($r->{content}) } // {};
ok(exists $h->{status}, 'with the module\'s answer');

$r = $http->get("https://127.0.0.1:$tls_port/admin/");
is($r->{status}, 404, 'the console is not on the HTTPS server');

my %seen;
my $limited;
for (1 .. 15) {
    $r = $http->get("http://127.0.0.1:$port/v1/models");
    $seen{$r->{status}}++;
    $limited //= $r if $r->{status} == 429;
}
ok($seen{401}, 'within the burst: the API answers (401 without a key)');
ok($seen{429}, 'beyond it: 429 from limit_req');
my $e = eval { $json->decode($limited ? $limited->{content} : '') } // {};
is($e->{error}{code}, 'rate_limit_exceeded',
   'as an OpenAI error object');
like($limited ? $limited->{headers}{'content-type'} : '',
     qr{^application/json}, 'in JSON');

kill 'QUIT', $pid;
my $end = time + 10;
while (time < $end && waitpid($pid, WNOHANG) != $pid) { sleep 0.1 }
kill 'KILL', -$pid if kill 0, $pid;
waitpid($pid, 0) if kill 0, $pid;

# ----------------------------------------------------------------------
# the env lines: a binary upgrade (USR2) starts the new master with only
# the variables they name; ADMIN_SECRET_KEY set in the environment is
# still the admin secret after it, and would not be without its line

my $NGINX = $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx';
my $SECRET = 'upgrade-env-secret-0123456789';

sub pid_of {
    my ($f) = @_;
    my $p = slurp($f) // return 0;
    return $p =~ /(\d+)/ ? $1 : 0;
}

# a binary upgrade needs a daemon whose parent changed since its start
# (else nginx ignores USR2): nginx daemonises from a shell of its own,
# and this process, a subreaper, reaps what is left
my $SUBREAPER = $^O eq 'linux' && $Config::Config{archname} =~ /^x86_64/
                && syscall(157, 36, 1, 0, 0, 0) == 0;    # PR_SET_CHILD_SUBREAPER

sub reap { 1 while waitpid(-1, WNOHANG) > 0 }

sub gone {
    my ($p) = @_;
    for (1 .. 100) {
        reap();
        return 1 unless kill 0, $p;
        sleep 0.1;
    }
    return 0;
}

sub upgrade_keeps_secret {
    my ($conf_text, $label) = @_;
    my $d = "$dir/upgrade";
    remove_tree($d);
    make_path("$d/logs");
    my $p = free_port();
    $conf_text =~ s/^(\s+listen\s+)\d+;$/$1$p;/m;
    $conf_text =~ s/^daemon  off;\n//m;
    spew("$d/nginx.conf", $conf_text);

    {
        local $ENV{ADMIN_SECRET_KEY} = $SECRET;
        system('sh', '-c', "$NGINX -p $d/ -c nginx.conf 2>$d/stderr; "
                           . 'exit $?');
    }
    my $old = pid_of("$d/logs/nginx.pid");
    ok($old, "$label: nginx started") or diag slurp("$d/stderr");

    my $ask = sub {
        my $r = $http->get("http://127.0.0.1:$p/api/auth/status",
                           { headers => { 'X-Admin-Token' => $SECRET } });
        return $r->{status};
    };
    my $st = 599;
    for (1 .. 100) { $st = $ask->(); last if $st != 599; sleep 0.1 }
    is($st, 200, "$label: the environment's secret before the upgrade");

    kill 'USR2', $old;
    my $new = 0;
    for (1 .. 100) {
        $new = pid_of("$d/logs/nginx.pid");
        last if $new && $new != $old && -e "$d/logs/nginx.pid.oldbin";
        sleep 0.1;
    }
    ok($new && $new != $old, "$label: a new master")
        or diag slurp("$d/logs/error.log");
    sleep 0.5;
    kill 'QUIT', $old;
    ok(gone($old), "$label: the old master leaves");

    $st = $ask->();
    my $generated = -e "$d/gemini_pool.db.admin-secret";

    if ($new && $new != $old) {
        kill 'QUIT', $new;
        kill 'KILL', $new unless gone($new);
    }
    sleep 0.2;
    reap();

    return ($st, $generated);
}

SKIP: {
    skip('needs Linux on x86_64 (a subreaper)', 12) unless $SUBREAPER;

    my ($st, $gen) = upgrade_keeps_secret($conf, 'with the env lines');
    is($st, 200, 'after the upgrade: still the environment\'s secret');
    ok(!$gen, 'and no secret generated');

    (my $without = $conf) =~ s/^env ADMIN_SECRET_KEY;\n//m;
    ($st, $gen) = upgrade_keeps_secret($without,
                                       'without env ADMIN_SECRET_KEY');
    is($st, 401, 'after the upgrade: the secret is gone (what the line is '
       . 'for)');
    ok($gen, 'the new master generated another');
}

remove_tree($dir);
done_testing;
