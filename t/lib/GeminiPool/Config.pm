package GeminiPool::Config;

# "nginx -t" with the module and a given http block, for configuration
# tests.  Returns (passed, everything nginx printed and logged).

use strict;
use warnings;
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Path qw(make_path);

our $ROOT = abs_path(dirname(__FILE__) . '/../../..');
our $MODULE = $ENV{TEST_NGINX_GP_MODULE}
              || "$ROOT/build/ngx_http_gemini_pool_module.so";

sub nginx_t {
    my ($dir, $http, $server) = @_;

    my $prefix = "$dir/prefix";
    make_path("$prefix/logs", "$prefix/conf");
    unlink "$prefix/logs/error.log";

    open my $fh, '>', "$prefix/conf/nginx.conf" or die $!;
    print $fh <<"END";
load_module $MODULE;
error_log logs/error.log info;
pid logs/nginx.pid;
events { worker_connections 64; }
http {
    $http
    server {
        listen 127.0.0.1:1;
        $server
    }
}
END
    close $fh;

    my $bin = $ENV{TEST_NGINX_BINARY} || 'nginx';
    my $out = `$bin -t -p $prefix/ -c conf/nginx.conf 2>&1`;
    my $ok = $? == 0;

    if (open my $log, '<', "$prefix/logs/error.log") {
        local $/;
        $out .= <$log> // '';
    }

    return ($ok, $out);
}

1;
