#!/usr/bin/perl
# Measures what accounts take of the shared zone: /health's zone.used
# with 0, 1,000 and 10,000 accounts of typical sizes (a 400-byte
# __Secure-C_SES, a 250-byte __Host-C_OSES, a 120-byte user agent), for
# docs/directives.md.  Run: perl t/tools/zone_measure.pl

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use HTTP::Tiny;
use JSON::PP;
use GeminiPool ':plain';
use GeminiPool::Server;

my $http = HTTP::Tiny->new(timeout => 60);
my $json = JSON::PP->new->utf8;

sub fill {
    my ($n) = @_;
    sql("DELETE FROM account_state; DELETE FROM accounts");
    return unless $n;
    my $sql = "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 "
        . "FROM c WHERE i < $n) INSERT INTO accounts (name, team_id, "
        . "csesidx, secure_c_ses, host_c_oses, user_agent, enabled) "
        . "SELECT 'm' || i, 'team-' || i, i, printf('%.400c', 'c') || i, "
        . "printf('%.250c', 'h'), printf('%.120c', 'u'), 1 FROM c";
    sql($sql);
}

my %used;
for my $n (0, 1000, 10000) {
    fill($n);
    my $c = GeminiPool::http_config();
    $c =~ s/gemini_pool_zone \S+;/gemini_pool_zone gp_measure:64m;/;
    my $srv = GeminiPool::Server->new(name => 'zone-measure', gp_http => 0,
        http => $c, master => 1, workers => 1,
        server => "location = /health { gemini_pool_health; }\n");
    $srv->start;
    my $h = $json->decode($http->get($srv->url('/health'))->{content});
    $used{$n} = $h->{zone}{used};
    printf "%6d accounts: zone used %8.1f KiB\n", $n, $used{$n} / 1024;
    $srv->stop;
}
printf "per 1,000 accounts: %.0f KiB (from 1,000), %.0f KiB (from 10,000)\n",
    ($used{1000} - $used{0}) / 1024,
    ($used{10000} - $used{0}) / 10 / 1024;
ok(1);
done_testing();
