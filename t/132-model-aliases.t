# The model alias table: a model of the models admin lists other names it
# answers to (a client asking for another vendor's model: "gpt-4o",
# "claude-*" prefixes, "*" for any name).  Served by the model they name
# on every surface; an exact alias beats a prefix, a longer prefix a
# shorter; a disabled model's aliases serve nothing; a key restricted to
# models is checked against the model served; /v1/models lists the
# models, and a retrieve by alias answers with the name asked for.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use JSON::PP;
use Digest::SHA qw(sha256_hex);
use GeminiPool ':plain';
use GeminiPool::Server;

my $SECRET = 'test-admin-secret-0123456789';
$ENV{ADMIN_SECRET_KEY} = $SECRET;

my $json = JSON::PP->new->utf8->canonical;
my $http = HTTP::Tiny->new(timeout => 20);

sql("DELETE FROM api_keys; INSERT INTO api_keys (name, key_hash, models) "
    . "VALUES ('flash-only', '" . sha256_hex('sk-flash') . "', "
    . "'gemini-2.5-flash')");

my $srv = GeminiPool::Server->new(
    name => 'aliases',
    server => <<'END');
    location /v1/ { gemini_pool_api; }
    location /k/v1/ { gemini_pool_api_keys on; gemini_pool_api; }
    location /api/ { gemini_pool_admin; }
END
$srv->start;

mock_post('/__mock/reset');

sub req {
    my ($method, $path, $body, %h) = @_;
    my $res = $http->request($method, $srv->url($path), {
        headers => { 'Content-Type' => 'application/json', %h },
        (defined $body ? (content => ref $body ? $json->encode($body) : $body) : ()),
    });
    my $data = eval { $json->decode($res->{content}) };
    return ($res->{status}, $data, $res);
}

sub admin { req(@_[0 .. 2], 'X-Admin-Token' => $SECRET) }

sub model_of { [ map { $_->{model_id} } @{ mock_requests('streamAssist') } ]->[-1] }

# ----------------------------------------------------------------------
# the admin API

my ($st, $d) = admin('PUT', '/api/models/gemini-2.5-pro',
                     { aliases => ['gpt-4o', 'claude-*'] });
is($st, 200, 'aliases set on gemini-2.5-pro') or diag explain $d;
($st, $d) = admin('PUT', '/api/models/gemini-2.5-flash',
                  { aliases => ['claude-3-5-haiku*', 'gpt-4o-mini'] });
is($st, 200, 'and on gemini-2.5-flash');
($st, $d) = admin('PUT', '/api/models/gemini-auto', { aliases => ['*'] });
is($st, 200, 'a catch-all on gemini-auto');

($st, $d) = admin('GET', '/api/models');
my ($pro) = grep { $_->{name} eq 'gemini-2.5-pro' } @{ $d->{models} || [] };
is_deeply($pro->{aliases}, ['gpt-4o', 'claude-*'], 'the list shows them');
my ($img) = grep { $_->{name} eq 'gemini-image' } @{ $d->{models} || [] };
is_deeply($img->{aliases}, [], 'a model without aliases: []');

for my $bad (['not a list', 'gpt-5', 400, 'invalid_value'],
             ['a blank', ['gpt 5'], 400, 'invalid_value'],
             ['a comma', ['a,b'], 400, 'invalid_value'],
             ['a star inside', ['gpt-*-mini'], 400, 'invalid_value'],
             ['too long', ['x' x 64], 400, 'invalid_value'],
             ["a model's name", ['gemini-2.5-flash'], 409, 'alias_conflict'],
             ["another model's alias", ['gpt-4o'], 409, 'alias_conflict'])
{
    ($st, $d) = admin('PUT', '/api/models/gemini-3-pro-preview',
                      { aliases => $bad->[1] });
    is($st, $bad->[2], "refused: $bad->[0]");
    is($d->{error}{code} // $d->{code} // $d->{error}, $bad->[3],
       "refused: $bad->[0]: its code") or diag explain $d;
}

# ----------------------------------------------------------------------
# served on the surfaces

($st, $d) = req('POST', '/v1/chat/completions',
                { model => 'gpt-4o', messages => [{ role => 'user', content => 'hi' }] });
is($st, 200, 'chat completions: gpt-4o answers');
is($d->{model}, 'gpt-4o', 'under the name asked for');
is(model_of(), 'gemini-2.5-pro', 'served by gemini-2.5-pro');

($st, $d) = req('POST', '/v1/responses',
                { model => 'claude-sonnet-4-5', input => 'hi' });
is($st, 200, 'responses: a claude-* name answers');
is(model_of(), 'gemini-2.5-pro', 'by the prefix, gemini-2.5-pro');

req('POST', '/v1/responses', { model => 'claude-3-5-haiku-latest', input => 'hi' });
is(model_of(), 'gemini-2.5-flash', 'the longer prefix wins');

req('POST', '/v1/responses', { model => 'gpt-4o-mini', input => 'hi' });
is(model_of(), 'gemini-2.5-flash', 'an exact alias beats a prefix');

($st, $d) = req('POST', '/v1/responses', { model => 'o3-whatever', input => 'hi' });
is($st, 200, 'any other name: the catch-all');
is(model_of(), undef, 'gemini-auto (no model id upstream)');

($st, $d) = req('POST', '/v1/responses', { model => 'gemini-2.5-pro', input => 'hi' });
is(model_of(), 'gemini-2.5-pro', "a model's own name is itself");

# a key restricted to gemini-2.5-flash: checked against the model served
($st, $d) = req('POST', '/k/v1/responses', { model => 'gpt-4o-mini', input => 'hi' },
                Authorization => 'Bearer sk-flash');
is($st, 200, 'a restricted key: an alias of its model');
($st, $d) = req('POST', '/k/v1/responses', { model => 'gpt-4o', input => 'hi' },
                Authorization => 'Bearer sk-flash');
is($st, 403, 'a restricted key: an alias of another model is refused');
is($d->{error}{code}, 'model_not_allowed', 'model_not_allowed');

# /v1/models: the models only; a retrieve by alias
($st, $d) = req('GET', '/v1/models');
my @ids = map { $_->{id} } @{ $d->{data} || [] };
ok(!(grep { /gpt|claude|\*/ } @ids), '/v1/models lists no alias') or diag "@ids";
($st, $d) = req('GET', '/v1/models/gpt-4o');
is($st, 200, 'GET /v1/models/gpt-4o');
is($d->{id}, 'gpt-4o', 'answers with the name asked for');

# a disabled model: its aliases serve nothing (the catch-all goes too)
admin('PUT', '/api/models/gemini-auto', { aliases => undef });
($st, $d) = admin('PUT', '/api/models/gemini-2.5-pro', { enabled => JSON::PP::false });
is($st, 200, 'gemini-2.5-pro disabled');
($st, $d) = req('POST', '/v1/responses', { model => 'gpt-4o', input => 'hi' });
is($st, 404, "its alias is not served");
is($d->{error}{code}, 'model_not_found', 'model_not_found');

# the call log names the model served
my $n = wait_for(10, sub { sql("SELECT count(*) FROM call_logs WHERE status = 200") >= 7 });
ok($n, 'the call log has the turns');
is(sql("SELECT count(*) FROM call_logs WHERE model LIKE 'gpt%' "
       . "OR model LIKE 'claude%' OR model LIKE 'o3%'"), 0,
   'no alias as a model in the call log');
is(sql("SELECT count(*) FROM call_logs WHERE status = 200 "
       . "AND model = 'gemini-2.5-pro'"), 3,
   'the served model instead (gpt-4o, claude-sonnet-4-5, itself)');

$srv->stop;

my @bad = grep { /\[(?:alert|crit|emerg)\]/ } split /^/, $srv->error_log_text;
ok(!@bad, 'no [alert]/[crit]/[emerg]') or diag @bad;

done_testing;
