# The Debian package (scripts/package, debian/): built from this tree,
# installed into the machine's nginx with apt-get, Debian's own nginx
# binary started with its default /etc/nginx/nginx.conf plus the
# package's site example pointed at the mock, a chat served through it;
# then "apt-get remove" keeps the operator's data, a new install serves
# with them again (the same API key, the sealed accounts) and "apt-get
# purge" deletes them.  The machine is left as it was found: /etc/nginx
# as before, the appended lines of /var/log/nginx cut off again (kept for
# the secrets gate), the package gone.
#
# When Debian's nginx service runs (/run/nginx.pid), the test reloads it
# with its site and without it instead of starting the binary, and leaves
# it running.  Needs root (it installs a package); skipped, with the
# reason, when the package or its data are already on the machine, or,
# without the service, when port 80 (the default site's) is taken.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Digest::MD5 qw(md5_hex);
use File::Basename qw(basename);
use File::Copy qw(copy);
use File::Find ();
use HTTP::Tiny;
use IO::Socket::INET;
use JSON::PP;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);
use GeminiPool ();    # the mock and its helpers, no database of its own

my $PKG = 'libnginx-mod-http-gemini-pool';
my $NGINX = '/usr/sbin/nginx';
my $DATA = '/var/lib/ngx-gemini-pool';
my $DB = "$DATA/gemini_pool.db";
my $SITE = '/etc/nginx/sites-available/gemini-pool';
my $TEST_SITE = '/etc/nginx/sites-enabled/gemini-pool-test';
my $LINK = '/etc/nginx/modules-enabled/50-mod-http-gemini-pool.conf';
my $ROOT = $GeminiPool::ROOT;
my $TMP = "$ROOT/t/tmp/package";
my @LOGS = ('/var/log/nginx/error.log', '/var/log/nginx/access.log');

my $http = HTTP::Tiny->new(timeout => 10);
my $json = JSON::PP->new->utf8->canonical;

plan skip_all => 'the package test installs a package: run it as root'
    if $> != 0;
plan skip_all => "the package test runs Debian's own nginx binary"
    if ($ENV{TEST_NGINX_BINARY} // $NGINX) ne $NGINX;
plan skip_all => "$NGINX is missing (apt-get install nginx)"
    unless -x $NGINX;

sub dpkg_status {
    my $s = `dpkg-query -W -f '\${Status}' $PKG 2>/dev/null`;
    return $s // '';
}

plan skip_all => "$PKG is on this machine already (" . dpkg_status()
                 . "): the test leaves an operator's package alone"
    if dpkg_status() ne '';
plan skip_all => "$DATA exists: the test leaves an operator's data alone"
    if -e $DATA;
plan skip_all => "$SITE exists: the test leaves it alone"
    if -e $SITE;

# Debian's nginx service, when it runs, serves the test (reloaded with the
# test's site, then without it); otherwise the test runs the binary
my $service;
if (open my $fh, '<', '/run/nginx.pid') {
    my $pid = <$fh> // '';
    chomp $pid;
    $service = $pid if $pid =~ /^\d+$/ && kill 0, $pid;
}

sub port_free {
    my ($addr, $port) = @_;
    my $s = IO::Socket::INET->new(LocalAddr => $addr, LocalPort => $port,
                                  Proto => 'tcp', Listen => 1,
                                  ReuseAddr => 1) or return 0;
    close $s;
    return 1;
}

plan skip_all => "port 80 is taken: Debian's default site "
                 . "(sites-enabled/default) listens there"
    if !$service && -e '/etc/nginx/sites-enabled/default'
       && !port_free('0.0.0.0', 80);

my $port = $ENV{TEST_NGINX_GP_SERVER_PORT};
unless ($port) {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Proto => 'tcp', Listen => 1);
    $port = $s->sockport;
    close $s;
}

system('rm', '-rf', $TMP);
system('mkdir', '-p', $TMP) == 0 or die "mkdir $TMP\n";

# the machine as found: /etc/nginx (paths, link targets, contents) and
# the sizes of Debian's logs
sub etc_snapshot {
    my %s;
    File::Find::find({ no_chdir => 1, wanted => sub {
        my $p = $File::Find::name;
        if (-l $p) {
            $s{$p} = 'link ' . readlink $p;
        } elsif (-d $p) {
            $s{$p} = 'dir';
        } else {
            open my $fh, '<', $p or return;
            binmode $fh;
            local $/;
            $s{$p} = 'file ' . md5_hex(<$fh> // '');
        }
    } }, '/etc/nginx');
    return join '', map { "$_ $s{$_}\n" } sort keys %s;
}

my $etc_before = etc_snapshot();
my %log_size = map { $_ => (-e $_ ? -s $_ : undef) } @LOGS;

my $nginx_pid;

sub run_log {
    my ($name, @cmd) = @_;
    my $log = "$TMP/$name.log";
    my $rc = system("@cmd > '$log' 2>&1");
    diag(GeminiPool::slurp($log)) if $rc != 0;
    return $rc == 0;
}

sub apt {
    my ($name, @args) = @_;
    local $ENV{DEBIAN_FRONTEND} = 'noninteractive';
    return run_log($name, 'apt-get', '-y', '-q',
                   '--no-install-recommends', '-o',
                   'DPkg::Lock::Timeout=120', @args);
}

sub port_open {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp', Timeout => 2) or return 0;
    close $s;
    return 1;
}

sub stop_nginx {
    if ($service) {
        # the service goes on, without the test's site
        return unless $nginx_pid;
        unlink $TEST_SITE;
        kill 'HUP', $service;
        GeminiPool::wait_for(10, sub { !port_open() });
        undef $nginx_pid;
        return;
    }
    return unless $nginx_pid;
    kill 'QUIT', $nginx_pid;
    my $end = time + 10;
    while (time < $end) {
        last if waitpid($nginx_pid, WNOHANG) == $nginx_pid;
        sleep 0.1;
    }
    if (kill 0, $nginx_pid) {
        kill 'KILL', -$nginx_pid;
        waitpid $nginx_pid, 0;
    }
    undef $nginx_pid;
}

my ($armed, $cleaned);

# everything back as it was, whatever failed before (only once the test
# has begun to change the machine: a skip touches nothing)
sub cleanup {
    return if !$armed || $cleaned++;
    stop_nginx();
    unlink $TEST_SITE;
    if (dpkg_status() ne '') {
        apt('cleanup', 'purge', $PKG)
            or diag("could not purge $PKG: see $TMP/cleanup.log");
    }
    system('rm', '-rf', $DATA) if -d $DATA;
    for my $f (@LOGS) {
        next unless -e $f;
        my $was = $log_size{$f};
        if ($ENV{GP_KEEP} && -s $f > ($was // 0)) {
            # what this run appended, for the secrets gate
            open my $in, '<', $f or next;
            binmode $in;
            seek $in, $was // 0, 0;
            local $/;
            my $part = <$in>;
            close $in;
            mkdir $ENV{GP_KEEP};
            if (open my $out, '>', "$ENV{GP_KEEP}/145-debian-package-$$-"
                                   . basename($f)) {
                print $out $part;
                close $out;
            }
        }
        if (defined $was) {
            truncate $f, $was;
        } else {
            unlink $f;
        }
    }
    # the service as it was: its configuration without the module
    kill 'HUP', $service if $service;
}

END {
    local $?;    # the test's exit status, whatever cleanup runs
    cleanup();
}
$SIG{INT} = $SIG{TERM} = sub { cleanup(); exit 1 };

# -- the build ---------------------------------------------------------

$armed = 1;

my $t0 = time;
my $deb = `'$ROOT/scripts/package' --out '$TMP' 2>'$TMP/package.log'`;
chomp $deb;
$deb = (split /\n/, $deb)[-1] // '';
ok($deb =~ m{/\Q$PKG\E_[^/]+\.deb$} && -f $deb, 'scripts/package builds '
   . basename($deb || 'no package') . sprintf(' (%.0f s)', time - $t0))
    or BAIL_OUT('no package: ' . GeminiPool::slurp("$TMP/package.log"));

my ($version) = GeminiPool::slurp(
    "$ROOT/ngx_gemini_pool_module/ngx_http_gemini_pool_module.h")
    =~ /NGX_GP_VERSION\s+"([^"]+)"/;
is(`dpkg-deb -f '$deb' Version` =~ s/\s+//gr, $version,
   "the package's version is the module's ($version)");

# the ABI: the one nginx-dev names, which the machine's nginx provides
my ($abi) = GeminiPool::slurp(
    '/usr/share/nginx/src/debian/libnginx-mod.abisubstvars')
    =~ /^nginx:abi=(\S+)/m;
my $depends = `dpkg-deb -f '$deb' Depends`;
like($depends, qr/(^|, )\Q$abi\E(,|$)/m,
     "it depends on Debian's nginx ABI ($abi)");
like(`dpkg-query -W -f '\${Provides}' nginx`, qr/\Q$abi\E/,
     'which the installed nginx provides');
like($depends, qr/libcurl4.*libjansson4.*libsqlite3-0.*libssl3/,
     'and on libcurl, jansson, SQLite and OpenSSL');
like(`dpkg-deb -f '$deb' Suggests`, qr/chromium/,
     'Chromium (the re-login) is suggested');

my $list = `dpkg-deb -c '$deb'`;
for my $f ('./usr/lib/nginx/modules/ngx_http_gemini_pool_module.so',
           './usr/share/nginx/modules-available/mod-http-gemini-pool.conf',
           './usr/share/ngx-gemini-pool/admin-ui/index.html',
           './usr/share/ngx-gemini-pool/scripts/gemini-pool-account',
           './usr/share/ngx-gemini-pool/signin.recipe',
           './usr/sbin/gemini-pool-account',
           './etc/nginx/sites-available/gemini-pool')
{
    like($list, qr/ \Q$f\E$/m, "the package has $f");
}
is(`dpkg-deb -I '$deb' conffiles` =~ s/\s+$//r, $SITE,
   'the site example is its one conffile');

# -- the install -------------------------------------------------------

ok(apt('install', 'install', $deb), "apt-get install $deb")
    or BAIL_OUT('the package did not install');
like(dpkg_status(), qr/install ok installed/, 'installed');

is(readlink $LINK, '/usr/share/nginx/modules-available/'
   . 'mod-http-gemini-pool.conf', "the module's load file is enabled "
   . '(modules-enabled/50-mod-http-gemini-pool.conf)');
like(GeminiPool::slurp($LINK),
     qr{^load_module modules/ngx_http_gemini_pool_module\.so;$}m,
     'it loads the module from /usr/lib/nginx/modules');

my @st = stat $DATA;
is(sprintf('%s %04o', scalar getpwuid($st[4] // 0), ($st[2] // 0) & 07777),
   'www-data 0700', "$DATA belongs to www-data, mode 0700");
ok(!-e '/etc/nginx/sites-enabled/gemini-pool',
   'the site example is not enabled by the install');

ok(run_log('nginx-t-plain', $NGINX, '-t', '-q'),
   "nginx -t: Debian's configuration with the module loaded");

# the operator's steps: accounts with the packaged command, then the
# site enabled (here a copy pointed at the mock, on the test's port)
my $accounts = "$TMP/accounts.json";
open my $afh, '>', $accounts or die "$accounts: $!";
print $afh $json->encode([@{ GeminiPool::accounts_file() }[0, 1]]);
close $afh;

ok(run_log('account-init', '/usr/sbin/gemini-pool-account', 'init'),
   'gemini-pool-account init creates the database');
ok(run_log('account-import', '/usr/sbin/gemini-pool-account', 'import',
           $accounts), 'gemini-pool-account import adds two accounts');

GeminiPool::start_mock();
my $mock = GeminiPool::mock_port();

my $site = GeminiPool::slurp($SITE);
my $n = 0;
$n += $site =~ s/^( *)listen +8000;/$1listen 127.0.0.1:$port;/m;
$n += $site =~ s{^# (gemini_pool_auth_url +)\S+;}
                {$1http://127.0.0.1:$mock;}m;
$n += $site =~ s{^# (gemini_pool_api_url +)\S+;}
                {$1http://127.0.0.1:$mock;}m;
is($n, 3, 'the site example has the listen and upstream lines to adjust');
open my $sfh, '>', $TEST_SITE or die "$TEST_SITE: $!";
print $sfh $site;
close $sfh;

ok(run_log('nginx-t', $NGINX, '-t', '-q'), 'nginx -t with the site');

# Debian's binary with its default configuration, in the foreground as
# our child (a daemon would not be reaped on these machines), or Debian's
# running service reloaded
my $base = "http://127.0.0.1:$port";

sub start_nginx {
    my ($name) = @_;
    if ($service) {
        $nginx_pid = $service;
        kill 'HUP', $service;
        return GeminiPool::wait_for(10, sub {
            my $r = $http->get("$base/health");
            return $r->{status} == 200;
        });
    }
    $nginx_pid = fork;
    die "fork: $!\n" unless defined $nginx_pid;
    if ($nginx_pid == 0) {
        setpgrp(0, 0);
        open STDOUT, '>', "$TMP/$name.out";
        open STDERR, '>&', \*STDOUT;
        delete @ENV{qw(ADMIN_SECRET_KEY API_KEY_ENCRYPTION_KEY
                       API_KEY_ENCRYPTION_KEY_OLD)};
        exec $NGINX, '-g', 'daemon off;' or POSIX::_exit(127);
    }
    my $up = GeminiPool::wait_for(10, sub {
        return 0 if waitpid($nginx_pid, WNOHANG) == $nginx_pid;
        my $r = $http->get("$base/health");
        return $r->{status} == 200;
    });
    diag(GeminiPool::slurp("$TMP/$name.out")) unless $up;
    return $up;
}

sub chat {
    my ($key, $text) = @_;
    my $res = $http->post("$base/v1/chat/completions", {
        headers => { Authorization => "Bearer $key",
                     'Content-Type' => 'application/json' },
        content => $json->encode({ model => 'gemini-2.5-flash',
            messages => [{ role => 'user', content => $text }] }),
    });
    diag($res->{content}) if $res->{status} != 200;
    my $d = eval { $json->decode($res->{content}) } || {};
    return ($res->{status}, $d->{choices}[0]{message}{content} // '');
}

ok(start_nginx('nginx'), "Debian's nginx serves /health on port $port"
   . ($service ? " (the running service, pid $service, reloaded)" : ''))
    or BAIL_OUT('nginx did not start');

my $secret = GeminiPool::slurp("$DB.admin-secret") =~ s/\s+$//r;
my $res = $http->post("$base/api/keys", {
    headers => { 'X-Admin-Token' => $secret,
                 'Content-Type' => 'application/json' },
    content => $json->encode({ name => 'package' }),
});
is($res->{status}, 201, 'an API key from the admin API (the admin secret '
   . "of $DB.admin-secret)");
my $key = (eval { $json->decode($res->{content}) } || {})->{key} // '';

my ($status, $text) = chat($key, 'hello package');
is($status, 200, 'a chat through the package');
ok(length $text, 'an OpenAI answer with text from the mock');
is(join(',', map { $_->{query_text} // '' }
          @{ GeminiPool::mock_requests('streamAssist') }), 'hello package',
   'the mock served it');

$res = $http->get("$base/v1/models");
is($res->{status}, 401, '/v1 without a key: 401 (the site asks for keys)');

$res = $http->get("$base/admin/");
ok($res->{status} == 200 && $res->{content} =~ /<html/i,
   'the console from /usr/share/ngx-gemini-pool/admin-ui');

for my $f ($DB, "$DB.key", "$DB.admin-secret") {
    my @s = stat $f;
    like(sprintf('%s %04o', scalar getpwuid($s[4] // 0),
                 ($s[2] // 0) & 07777),
         $f eq $DB ? qr/^www-data 0600$/ : qr/^\S+ 0600$/,
         basename($f) . ' is 0600' . ($f eq $DB ? ', owned by www-data'
                                                 : ''));
}

# the backup docs/package.md gives before a purge
my $tool = '/usr/sbin/gemini-pool-account';
my $export = `$tool export --secrets 2>'$TMP/export.log'`;
my $ex = eval { $json->decode($export) } || {};
is(join(',', scalar @{ $ex->{accounts} || [] },
        scalar @{ $ex->{api_keys} || [] }), '2,1',
   'gemini-pool-account export --secrets: the accounts and the API key')
    or diag(GeminiPool::slurp("$TMP/export.log"));

stop_nginx();
ok(!port_open() && ($service || !-e '/run/nginx.pid'),
   $service ? 'the service reloaded without the site' : 'nginx stopped');

# the site still enabled when the package goes
open $sfh, '>', $TEST_SITE or die "$TEST_SITE: $!";
print $sfh $site;
close $sfh;

# -- remove: the operator's data stay ---------------------------------

my $key_file = md5_hex(GeminiPool::slurp("$DB.key"));
ok(apt('remove', 'remove', $PKG), "apt-get remove $PKG");
like(GeminiPool::slurp("$TMP/remove.log"),
     qr{still uses the module in: \Q$TEST_SITE\E},
     'it names the enabled site that still uses the module');
ok(system("$NGINX -t -q > '$TMP/nginx-t-site.log' 2>&1") != 0
   && GeminiPool::slurp("$TMP/nginx-t-site.log")
      =~ /unknown directive "gemini_pool_/,
   'which nginx -t refuses without the module');
unlink $TEST_SITE;
like(dpkg_status(), qr/deinstall ok config-files/,
     'removed, its conffile kept');
ok(!-e '/usr/lib/nginx/modules/ngx_http_gemini_pool_module.so'
   && !-e '/usr/share/ngx-gemini-pool', 'the module and its files are gone');
ok(!-e $LINK, 'the module is no longer enabled');
ok(run_log('nginx-t-removed', $NGINX, '-t', '-q'),
   "nginx -t: Debian's configuration without the module");
ok(-f $DB && -f "$DB.admin-secret", 'the database and the admin secret stay');
is(md5_hex(GeminiPool::slurp("$DB.key")), $key_file,
   'the key of its secrets stays');
is(`sqlite3 '$DB' 'SELECT count(*) FROM accounts'` =~ s/\s+//gr, 2,
   'the accounts are in it');
is(`sqlite3 '$DB' "SELECT count(*) FROM api_keys WHERE name = 'package'"`
   =~ s/\s+//gr, 1, 'the API key is in it');
ok(-f $SITE, 'the site example stays (a conffile)');

# -- a reinstall takes the data back ----------------------------------

ok(apt('reinstall', 'install', $deb), 'apt-get install again');
is(readlink $LINK, '/usr/share/nginx/modules-available/'
   . 'mod-http-gemini-pool.conf', 'the module is enabled again');
open $sfh, '>', $TEST_SITE or die "$TEST_SITE: $!";
print $sfh $site;
close $sfh;
ok(start_nginx('nginx-again'), 'nginx starts with the kept database');
($status, $text) = chat($key, 'hello again');
ok($status == 200 && length $text,
   'the API key and the sealed accounts of before serve a chat');
stop_nginx();
unlink $TEST_SITE;

# -- purge: everything goes -------------------------------------------

ok(apt('purge', 'purge', $PKG), "apt-get purge $PKG");
is(dpkg_status(), '', 'purged');
ok(!-e $DATA, "purge deletes $DATA");
ok(!-e $SITE, 'and the site example');
ok(!-e "$LINK.removed", "and the module's link");

cleanup();
is(etc_snapshot(), $etc_before, '/etc/nginx is as it was found');
for my $f (@LOGS) {
    is(-e $f ? -s $f : undef, $log_size{$f}, "$f is as it was found");
}

done_testing();
