# Docker and Compose (issue #18), without a Docker engine (none on these
# machines: the image is never built here).  The Dockerfile's build steps
# are the README's scripts, the very ones scripts/run runs (no second
# recipe); the host's build/ and run/ stay out of the image; the workers
# run as an unprivileged user (the "user" directive scripts/run --user
# writes); the HEALTHCHECK's command, run here against the image's CMD
# (scripts/run) started on this machine, passes when nginx is up and
# fails when it is not; the database and media are on the VOLUME that
# is scripts/run's directory; the environment values are named (no
# secret declared in the image) and have nginx.conf.example's env lines,
# and ADMIN_SECRET_KEY from the environment is the one nginx uses;
# Chromium comes with a build argument, and without it scripts/run says
# that re-login is off.
# compose.yaml: the gateway from this Dockerfile, on the volume, with the
# environment values; Redis only as a commented option.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Path qw(remove_tree);
use CPAN::Meta::YAML;
use JSON::PP;
use HTTP::Tiny;
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);

my $ROOT = abs_path(dirname(__FILE__) . '/..');

sub slurp {
    my ($f) = @_;
    open my $fh, '<', $f or die "$f: $!";
    local $/;
    return <$fh>;
}

sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Proto => 'tcp', Listen => 1)
        or die "no free port: $!";
    my $p = $s->sockport;
    close $s;
    return $p;
}

sub run_sh {
    my ($cmd) = @_;
    my $out = `$cmd 2>&1`;
    return ($? >> 8, $out);
}

# ----------------------------------------------------------------------
# the Dockerfile's instructions (comments dropped, continuations joined)

my @ins;
{
    my $text = slurp("$ROOT/Dockerfile");
    $text =~ s/^\s*#.*\n//mg;
    $text =~ s/\\\n/ /g;
    for my $line (split /\n/, $text) {
        next unless $line =~ /^(\w+)\s+(.*?)\s*$/;
        push @ins, [uc $1, $2];
    }
}

sub ins { map { $_->[1] } grep { $_->[0] eq $_[0] } @ins }

my ($from) = ins('FROM');
like($from // '', qr/^debian:12(?:-slim)?$/, 'FROM Debian 12, the README\'s '
     . 'platform');
my ($workdir) = ins('WORKDIR');
ok($workdir, 'a WORKDIR');

# the commands of every RUN, split at &&
my @cmds;
for my $run (ins('RUN')) {
    push @cmds, grep { /\S/ } map { s/^\s+|\s+$//gr } split /&&/, $run;
}
ok(@cmds, 'RUN steps');

# what scripts/run runs to install and build before it starts nginx
my $run_src = slurp("$ROOT/scripts/run");
my ($build_block) = $run_src
    =~ /^if \[ "\$build" -eq 1 \]; then\n(.*?)^fi$/ms;
ok($build_block, 'scripts/run has its install-and-build step');
my %run_scripts = map { $_ => 1 }
                  ($build_block // '') =~ m{"\$top/(scripts/[\w-]+)"}g;
is(join(' ', sort keys %run_scripts), 'scripts/bootstrap scripts/build',
   'scripts/run: scripts/bootstrap and scripts/build');

my %docker_scripts;
my @other;
for my $c (@cmds) {
    if ($c =~ m{^(?:if\ \[\ "\$WITH_CHROMIUM"\ =\ 1\ \];\s+then\s+)?
                (scripts/[\w-]+)(\s+--[\w-]+)?(?:;\s+fi)?$}x)
    {
        $docker_scripts{$1} = 1 unless $2;
        push @other, $c if $2 && $2 !~ /^\s+--browser$/;
        next;
    }
    next if $c =~ /^useradd\s.*\sgemini-pool$/;
    next if $c eq 'rm -rf /var/lib/apt/lists/*';
    push @other, $c;
}
is_deeply(\%docker_scripts, \%run_scripts,
          'the Dockerfile builds with the same scripts');
is("@other", '', 'and nothing else builds or installs (no second recipe)');
unlike(join("\n", ins('RUN')),
       qr/apt-get\s+install|\bconfigure\b|\bmake\b|\bgcc\b|\bcc\s/,
       'no compiler, configure or apt-get install of its own');

# the host's build/ (its Makefile names this machine's paths) and run/
# stay out of the image
my %ignore = map { s{/$}{}r => 1 } grep { /\S/ && !/^#/ }
             split /\n/, slurp("$ROOT/.dockerignore");
ok($ignore{$_}, ".dockerignore leaves out $_") for qw(build run .git);

# ----------------------------------------------------------------------
# the unprivileged user

my ($cmd) = ins('CMD');
my @argv = @{ JSON::PP->new->decode($cmd // '[]') };
is($argv[0], 'scripts/run', 'CMD: scripts/run (the README\'s command)');
my %opt;
for (my $i = 1; $i < @argv; $i++) {
    if ($argv[$i] =~ /^--(?:user|port|dir)$/) {
        $opt{$argv[$i]} = $argv[$i + 1];
        $i++;
    } else {
        $opt{$argv[$i]} = 1;
    }
}
ok($opt{'--no-build'}, 'with the module the image built');
is($opt{'--user'}, 'gemini-pool', 'the workers\' user: gemini-pool');
ok((grep { /^useradd\s.*--system.*\sgemini-pool$/ } @cmds),
   'a system user made in the image');
ok(!(grep { $_ eq 'root' } ins('USER')), 'no USER root');

# ----------------------------------------------------------------------
# the image's CMD on this machine (root: the user directive; another
# user for the workers, since gemini-pool exists only in the image)

my ($health) = ins('HEALTHCHECK');
like($health // '', qr{\bCMD\s+curl\b.*http://127\.0\.0\.1:8000/health\b},
     'a HEALTHCHECK on /health');
my ($probe) = ($health // '') =~ /\bCMD\s+(.*)$/;
my ($expose) = ins('EXPOSE');
is($expose, '8000', 'EXPOSE 8000');
like($run_src, qr/^port=8000$/m, 'scripts/run\'s default port too');
my ($volume) = ins('VOLUME');
is($volume, "$workdir/run", 'the VOLUME is scripts/run\'s directory '
   . '(configuration, database, secrets, logs, media)');
like($run_src, qr{^\s+dir="\$top/run"$}m, 'which scripts/run uses by default');

SKIP: {
    skip('not root: the "user" directive needs a root master', 9)
        if $> != 0;

    my $dir = "$ROOT/t/servroot-docker";
    remove_tree($dir);
    my $port = free_port();
    my $secret = 'docker-admin-secret-0123456789';

    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        setpgrp(0, 0);
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', "$ROOT/t/servroot-docker.stderr";
        $ENV{ADMIN_SECRET_KEY} = $secret;
        $ENV{API_KEY_ENCRYPTION_KEY} = 'ab' x 32;
        exec "$ROOT/$argv[0]", @argv[1 .. $#argv], '--user', 'nobody',
             '--dir', $dir, '--port', $port
            or POSIX::_exit(127);
    }

    (my $p = $probe // 'false') =~ s/:8000\b/:$port/g;
    my $ok = 0;
    for (1 .. 150) {
        my ($rc) = run_sh("($p)");
        if ($rc == 0) { $ok = 1; last }
        sleep 0.1;
    }
    ok($ok, 'the HEALTHCHECK passes against the CMD')
        or diag slurp("$ROOT/t/servroot-docker.stderr");

    my $conf = slurp("$dir/nginx.conf");
    like($conf, qr/^user  nobody \S+;$/m, 'the "user" directive');
    my @workers = grep { /nginx: worker process/ }
                  `ps -o user=,args= --ppid $pid`;
    ok(@workers, 'workers run');
    is(scalar(grep { !/^nobody\s/ } @workers), 0, 'as that user, not root');

    my $http = HTTP::Tiny->new(timeout => 10);
    my $r = $http->get("http://127.0.0.1:$port/api/auth/status",
                       { headers => { 'X-Admin-Token' => $secret } });
    is($r->{status}, 200, 'ADMIN_SECRET_KEY from the environment is the '
       . 'admin secret');
    ok(!-e "$dir/gemini_pool.db.admin-secret", 'none generated');
    ok(!-e "$dir/gemini_pool.db.key", 'nor an encryption key file '
       . '(API_KEY_ENCRYPTION_KEY)');

    kill 'QUIT', -$pid;
    my $end = time + 15;
    while (time < $end && waitpid($pid, WNOHANG) != $pid) { sleep 0.1 }
    if (kill 0, $pid) { kill 'KILL', -$pid; waitpid($pid, 0) }

    my ($rc) = run_sh("($p)");
    isnt($rc, 0, 'and fails once nginx is gone');
    ok(-s "$dir/gemini_pool.db", 'the database stays in the volume\'s '
       . 'directory');
    remove_tree($dir);
    unlink "$ROOT/t/servroot-docker.stderr";
}

# ----------------------------------------------------------------------
# the environment

my $docker_text = slurp("$ROOT/Dockerfile");
my $example = slurp("$ROOT/nginx.conf.example");
my @declared = map { /(\w+)=/g } ins('ENV'), ins('ARG');
is(scalar(grep { /SECRET|KEY/ } @declared), 0,
   'no secret in an ENV or ARG of the image (BuildKit warns of them)');
for my $v (qw(ADMIN_SECRET_KEY API_KEY_ENCRYPTION_KEY FORCE_HEADLESS
              FORCE_HEADED))
{
    like($docker_text, qr/^#.*\b$v\b/m, "the Dockerfile names $v");
    like($example, qr/^env $v;$/m, "and nginx.conf.example passes it on");
}

# ----------------------------------------------------------------------
# Chromium: a build argument; without it re-login is off and said so

like(join(' ', ins('ARG')), qr/\bWITH_CHROMIUM=1\b/,
     'ARG WITH_CHROMIUM, on by default');
ok((grep { /WITH_CHROMIUM.*scripts\/bootstrap --browser/ } @cmds),
   'which installs Chromium with scripts/bootstrap --browser');
like(slurp("$ROOT/scripts/bootstrap"),
     qr/"--browser" \]; then\n\s+pkgs="\$pkgs chromium"/,
     'scripts/bootstrap --browser: Debian\'s chromium');

{
    my $dir = "$ROOT/t/servroot-docker-nobrowser";
    remove_tree($dir);
    my ($rc, $out) = run_sh("GEMINI_POOL_BROWSER=/nonexistent/chromium "
                            . "$ROOT/scripts/run --no-build --check "
                            . "--dir $dir");
    is($rc, 0, 'without Chromium: the configuration passes');
    like($out, qr/re-login is off: no Chromium/, 'scripts/run says '
         . 're-login is off');
    unlike(slurp("$dir/nginx.conf"), qr/^\s*gemini_pool_browser\s/m,
           'and configures no browser');
    remove_tree($dir);

    ($rc, $out) = run_sh("GEMINI_POOL_BROWSER=/bin/true "
                         . "$ROOT/scripts/run --no-build --check "
                         . "--dir $dir");
    is($rc, 0, 'with one: the configuration passes');
    like($out, qr/re-login on: Chromium \/bin\/true/, 'and says so');
    my $c = slurp("$dir/nginx.conf");
    like($c, qr{^\s*gemini_pool_browser\s+/bin/true auto;$}m,
         'gemini_pool_browser');
    like($c, qr{^\s*gemini_pool_signin_recipe\s+\Q$ROOT\E/scripts/signin\.recipe;$}m,
         'with the repository\'s sign-in recipe');
    remove_tree($dir);
}

# ----------------------------------------------------------------------
# compose.yaml

my $y = CPAN::Meta::YAML->read_string(slurp("$ROOT/compose.yaml"))
    or BAIL_OUT('compose.yaml: ' . CPAN::Meta::YAML->errstr);
my $compose = $y->[0];
is(join(' ', sort keys %{ $compose->{services} }), 'gateway',
   'compose.yaml: one service, the gateway');
my $gw = $compose->{services}{gateway} // {};
is($gw->{build}{context}, '.', 'built from the Dockerfile next to it');
is($gw->{build}{args}{WITH_CHROMIUM}, '1', 'with Chromium');
ok((grep { $_ eq '8000:8000' } @{ $gw->{ports} // [] }), 'port 8000');
ok((grep { /^[\w-]+:\Q$volume\E$/ } @{ $gw->{volumes} // [] }),
   'the named volume on the Dockerfile\'s VOLUME');
for my $v (qw(ADMIN_SECRET_KEY API_KEY_ENCRYPTION_KEY FORCE_HEADLESS
              FORCE_HEADED))
{
    is($gw->{environment}{$v}, "\${$v:-}", "$v from the environment or .env");
}
ok($gw->{restart}, 'restarted');
like(slurp("$ROOT/compose.yaml"), qr/^  # redis:\n  #   image: redis/m,
     'Redis only as a commented option (several gateways are not built)');

done_testing;
