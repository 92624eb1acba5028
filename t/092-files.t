# /v1/files: multipart upload into an upstream session, list, get,
# delete; the mapping survives a restart; a chat that names an uploaded
# file runs on the file's account and session, without failover; files of
# one API key are invisible to another.

use strict;
use warnings;
use lib 't/lib';
use Test::More;
use HTTP::Tiny;
use JSON::PP;
use MIME::Base64 qw(decode_base64);
use GeminiPool ':plain';
use GeminiPool::Server;

my $SECRET = 'test-admin-secret-0123456789';
$ENV{ADMIN_SECRET_KEY} = $SECRET;

my $json = JSON::PP->new->utf8->canonical;
my $http = HTTP::Tiny->new(timeout => 20);

my $PNG = decode_base64('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlE'
                        . 'QVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==');

my $srv = GeminiPool::Server->new(
    name => 'files', master => 1, workers => 2,
    port => ($ENV{TEST_NGINX_PORT} || 20140) + 1,
    server => <<'END');
    client_body_buffer_size 16k;
    location /v1/ { gemini_pool_api; }
    location /k/v1/ { gemini_pool_api_keys on; gemini_pool_api; }
    location /api/ { gemini_pool_admin; }
    location /image/ { gemini_pool_media; }
END
$srv->start;

mock_post('/__mock/reset');

sub req {
    my ($method, $path, $body, %h) = @_;
    my $res = $http->request($method, $srv->url($path), {
        headers => {%h},
        (defined $body ? (content => $body) : ()),
    });
    my $data = eval { $json->decode($res->{content}) };
    return ($res->{status}, $data, $res);
}

sub multipart {
    my (@parts) = @_;
    my $b = 'gp-test-' . int(rand(1e9));
    my $body = '';
    while (my ($name, $p) = splice @parts, 0, 2) {
        $body .= "--$b\r\nContent-Disposition: form-data; name=\"$name\"";
        if (ref $p) {
            $body .= "; filename=\"$p->{filename}\"" if defined $p->{filename};
            $body .= "\r\nContent-Type: $p->{type}" if defined $p->{type};
            $body .= "\r\n\r\n$p->{data}\r\n";
        } else {
            $body .= "\r\n\r\n$p\r\n";
        }
    }
    $body .= "--$b--\r\n";
    return ($body, 'Content-Type' => "multipart/form-data; boundary=$b");
}

sub upload {
    my ($path, %o) = @_;
    my ($body, @h) = multipart(
        purpose => $o{purpose} // 'vision',
        file => {filename => $o{filename} // 'cat.png',
                 type => $o{type} // 'image/png', data => $o{data} // $PNG});
    return req('POST', $path // '/v1/files', $body, @h, %{$o{headers} || {}});
}

sub chat_with_file {
    my ($id, %o) = @_;
    my $body = $json->encode({messages => [{role => 'user', content => [
        {type => 'text', text => $o{text} // 'describe it'},
        {type => 'file', file => {file_id => $id}}]}]});
    return req('POST', ($o{prefix} // '') . '/v1/chat/completions', $body,
               'Content-Type' => 'application/json', %{$o{headers} || {}});
}

sub last_record {
    my ($endpoint) = @_;
    my $r = mock_requests($endpoint);
    return $r->[-1];
}

my ($st, $d, $res);

# upload

($st, $d) = upload();
is($st, 200, 'POST /v1/files: 200');
like($d->{id} // '', qr/^file-[0-9a-f]{24}$/, 'an id of ours');
is($d->{object}, 'file', 'a file object');
is($d->{bytes}, 70, 'its size');
is($d->{filename}, 'cat.png', 'its name');
is($d->{purpose}, 'vision', 'its purpose');
is($d->{status}, 'processed', 'processed');
like($d->{created_at}, qr/^\d+$/, 'created_at');
my $f1 = $d;

my $up = last_record('addContextFile');
is($up->{account}, 'acc1', 'uploaded through the first account');
is($up->{upload}{fileName}, 'cat.png', 'under its file name');
is($up->{upload}{size}, 70, 'the bytes arrived');
my $f1_session = $up->{session};
my $f1_upstream = $up->{upload}{fileId};

is(sql("SELECT upstream_id || ' ' || account_id || ' ' || session FROM files "
       . "WHERE id = '$f1->{id}'"),
   "$f1_upstream 1 $f1_session", 'the mapping is in SQLite');

# a second file lands on the next account (round robin)
($st, $d) = upload(undef, filename => 'notes.txt', type => 'text/plain',
                   data => "plain text notes\n", purpose => 'assistants');
is($st, 200, 'a text file: 200');
my $f2 = $d;
my $up2 = last_record('addContextFile');
is($up2->{account}, 'acc2', 'the second upload went to acc2');
is($up2->{upload}{mimeType}, 'text/plain', 'as text/plain');

# a purpose that is not UTF-8 text would be echoed and listed as bytes
# that are no JSON: refused (found by t/099-hostile-bodies.t)
for my $bad ("v\xa4sion", "a\x01b", "a\x{7f}") {
    ($st, $d) = upload(undef, purpose => $bad);
    is($st, 400, 'a purpose that is not UTF-8 text: 400');
    is($d->{error}{param}, 'purpose', 'naming purpose');
}
($st, $d) = upload(undef, purpose => "vis\xc3\xafon");
is($st, 200, 'a UTF-8 purpose: 200');
is($d->{purpose}, "vis\x{ef}on", 'echoed as JSON text');
req('DELETE', "/v1/files/$d->{id}");

# a body over client_body_buffer_size (a temporary file)
my $big = $PNG . ("\0" x 200_000);
($st, $d) = upload(undef, filename => 'big.png', data => $big);
is($st, 200, 'a 200 kB file (body in a temporary file): 200');
is($d->{bytes}, length $big, 'every byte');
is(last_record('addContextFile')->{upload}{size}, length $big,
   'every byte reached the upstream');
my $f3 = $d;

# a client's file name: its last component, no quotes, valid UTF-8
($st, $d) = upload(undef, filename => "..\\dir/../x/\xffna\xc3\xafve.png");
is($st, 200, 'an odd file name: 200');
is($d->{filename}, "_na\x{ef}ve.png", 'cleaned');
req('DELETE', "/v1/files/$d->{id}");

# list and get

($st, $d) = req('GET', '/v1/files');
is($st, 200, 'GET /v1/files: 200');
is($d->{object}, 'list', 'a list');
is(scalar @{$d->{data}}, 3, 'three files');
is_deeply([sort map { $_->{id} } @{$d->{data}}],
          [sort ($f1->{id}, $f2->{id}, $f3->{id})], 'the three ids');

($st, $d) = req('GET', '/v1/files?purpose=assistants');
is(scalar @{$d->{data}}, 1, '?purpose= filters');

($st, $d) = req('GET', "/v1/files/$f1->{id}");
is($st, 200, 'GET /v1/files/{id}: 200');
is_deeply($d, $f1, 'the same object as the upload answered');

($st, $d) = req('GET', '/v1/files/file-000000000000000000000000');
is($st, 404, 'an unknown id: 404');
is($d->{error}{code}, 'file_not_found', 'file_not_found');

# a chat naming the file runs on its account and in its session

for (1 .. 2) {
    req('POST', '/v1/chat/completions',
        '{"messages":[{"role":"user","content":"move the cursor"}]}',
        'Content-Type' => 'application/json');
}

($st, $d) = chat_with_file($f1->{id});
is($st, 200, 'a chat with the file: 200');
like($d->{choices}[0]{message}{content},
     qr/^echo: describe it \[attached: image\/png 70 bytes sha256:497790947d46\]/,
     'the upstream saw the file');
my $sa = last_record('streamAssist');
is($sa->{account}, 'acc1', 'on the account that holds the file');
is($sa->{session}, $f1_session, 'in the session that holds the file');
is_deeply($sa->{file_ids}, [$f1_upstream], 'with its upstream id');

($st, $d) = chat_with_file($f2->{id}, text => 'summarise');
is($st, 200, 'the text file: 200');
is(last_record('streamAssist')->{account}, 'acc2', 'on acc2');

# an upstream file id (numeric) is passed through: it works in the
# session that holds it, here a conversation's bound follow-up turn

my $turn1 = {role => 'user', content => [{type => 'text', text => 'look'},
    {type => 'image_url', image_url => {url => 'data:image/png;base64,'
        . MIME::Base64::encode_base64($PNG, '')}}]};
($st, $d) = req('POST', '/v1/chat/completions',
                $json->encode({messages => [$turn1]}),
                'Content-Type' => 'application/json');
is($st, 200, 'turn 1 with an image: 200');
my $answer = $d->{choices}[0]{message}{content};
my $t1 = last_record('streamAssist');
my $upstream_id = last_record('addContextFile')->{upload}{fileId};
like($upstream_id, qr/^\d+$/, 'the upstream id of its image');

($st, $d) = req('POST', '/v1/chat/completions', $json->encode({messages => [
    $turn1, {role => 'assistant', content => $answer},
    {role => 'user', content => [{type => 'text', text => 'again'},
        {type => 'file', file_id => $upstream_id}]}]}),
    'Content-Type' => 'application/json');
is($st, 200, 'turn 2 naming that upstream id: 200');
like($d->{choices}[0]{message}{content},
     qr/^echo: again \[attached: image\/png 70 bytes/,
     'the upstream found the file in the session');
my $t2 = last_record('streamAssist');
is($t2->{session}, $t1->{session}, 'the conversation\'s session');
is_deeply($t2->{file_ids}, [$upstream_id], 'the id passed through');

# restart: the mapping comes back from SQLite

$srv->stop;
$srv->start;

($st, $d) = req('GET', '/v1/files');
is($st, 200, 'after a restart: GET /v1/files: 200');
is(scalar @{$d->{data}}, 3, 'still three files');

($st, $d) = req('GET', "/v1/files/$f1->{id}");
is_deeply($d, $f1, 'the same object after a restart');

($st, $d) = chat_with_file($f1->{id}, text => 'after restart');
is($st, 200, 'a chat with the file after a restart: 200');
like($d->{choices}[0]{message}{content}, qr/\[attached: image\/png 70 bytes/,
     'the file is still attached');
$sa = last_record('streamAssist');
is($sa->{account}, 'acc1', 'on the file\'s account');
is($sa->{session}, $f1_session, 'in the file\'s session');

# the chat path reads the zone's ring of uploads, never SQLite: with the
# files table out of the way a chat naming a file still runs

sql("ALTER TABLE files RENAME TO files_away");
($st, $d) = chat_with_file($f1->{id}, text => 'no sqlite');
is($st, 200, 'a chat with a file while SQLite has no files table: 200');
is(last_record('streamAssist')->{session}, $f1_session,
   'in the file\'s session');
sql("ALTER TABLE files_away RENAME TO files");

# no failover for a file-bound turn: no other account holds the file

mock_post('/__mock/inject', {account => 'acc1', endpoint => 'streamAssist',
    action => {status => 429, body => {error => {code => 429,
        message => 'quota', status => 'RESOURCE_EXHAUSTED'}}}});
my $before = mock_stats()->{counts}{streamAssist}{acc2} // 0;
($st, $d) = chat_with_file($f1->{id}, text => 'limited');
is($st, 429, 'the file\'s account answers 429: the client gets 429');
is($d->{error}{code}, 'upstream_rate_limited', 'upstream_rate_limited');
is(mock_stats()->{counts}{streamAssist}{acc2} // 0, $before,
   'no other account was tried');

($st, $d) = chat_with_file($f1->{id}, text => 'cooling');
is($st, 429, 'while it cools down: 429');
is($d->{error}{code}, 'no_account_available', 'no_account_available');
like($d->{error}{message}, qr/The account holding the file is cooling down/,
     'the message says why');
ok($res = $http->get($srv->url('/v1/files')), 'list still works');
sql("DELETE FROM account_state");

# errors

($st, $d) = upload(undef, filename => 'a.zip', type => 'application/zip',
                   data => "PK\x03\x04zip");
is($st, 400, 'a zip file: 400');
is($d->{error}{code}, 'unsupported_file_type', 'unsupported_file_type');
like($d->{error}{message}, qr/Unsupported file type application\/zip/,
     'the message names the type');

($st, $d) = upload(undef, filename => 'a.bmp', type => 'image/bmp',
                   data => "BM\0\0\0\0");
is($st, 400, 'a type the upstream refuses: 400');
is($d->{error}{code}, 'unsupported_file_type', 'unsupported_file_type');
like($d->{error}{message}, qr/Unsupported file type: image\/bmp/,
     'the upstream\'s message');

my ($body, @h) = multipart(purpose => 'vision');
($st, $d) = req('POST', '/v1/files', $body, @h);
is($st, 400, 'no file part: 400');
is($d->{error}{param}, 'file', 'param: file');

($st, $d) = req('POST', '/v1/files', '{"file":"x"}',
                'Content-Type' => 'application/json');
is($st, 400, 'not multipart: 400');
like($d->{error}{message}, qr/multipart\/form-data/, 'the message says so');

mock_post('/__mock/config', {max_upload => 16});
($st, $d) = upload();
is($st, 400, 'a file the upstream finds too large: 400');
is($d->{error}{code}, 'file_too_large', 'file_too_large');
mock_post('/__mock/config', {max_upload => 20 * 1024 * 1024});

# delete

($st, $d) = req('DELETE', "/v1/files/$f2->{id}");
is($st, 200, 'DELETE: 200');
is_deeply($d, {id => $f2->{id}, object => 'file', deleted => JSON::PP::true},
          'deleted: true');
($st) = req('GET', "/v1/files/$f2->{id}");
is($st, 404, 'gone');
($st, $d) = chat_with_file($f2->{id});
is($st, 400, 'a chat naming a deleted file: 400');
is($d->{error}{code}, 'file_not_found', 'file_not_found');

# two files of different sessions in one message

($st, $d) = req('POST', '/v1/chat/completions', $json->encode({messages => [
    {role => 'user', content => [{type => 'text', text => 'both'},
        {type => 'file', file_id => $f1->{id}},
        {type => 'file', file_id => $f3->{id}}]}]}),
    'Content-Type' => 'application/json');
is($st, 400, 'files of two sessions in one message: 400');
is($d->{error}{code}, 'file_conflict', 'file_conflict');

# an upload that fails on one account moves to the next

my $seq0 = mock_requests('addContextFile')->[-1]{seq};
mock_post('/__mock/inject', {endpoint => 'addContextFile',
    action => {status => 500, body => {error => {code => 500,
        message => 'Internal error encountered.', status => 'INTERNAL'}}}});
($st, $d) = upload(undef, filename => 'retry.png');
is($st, 200, 'an upload after a 500 on the first account: 200');
my @tries = grep { $_->{seq} > $seq0 } @{mock_requests('addContextFile')};
is(scalar @tries, 2, 'two attempts');
isnt($tries[0]{account}, $tries[1]{account}, 'on two accounts');
is($tries[0]{status}, 500, 'the first failed');
is(sql("SELECT a.name FROM files f JOIN accounts a ON a.id = f.account_id "
       . "WHERE f.id = '$d->{id}'"),
   $tries[1]{account}, 'the mapping names the account that holds it');
like($srv->error_log_text,
     qr/account "$tries[0]{account}" failed: widgetAddContextFile answered 500: Internal error encountered\.; trying the next account \(file upload, attempt 1 of 3\)/,
     'one warn line for the failover');
like($srv->error_log_text,
     qr/\(file upload, attempt 1 of 3\) while uploading a file, client: /,
     'it says what the request was doing');

# POST /v1/images/edits: the images go up with the prompt, as an image turn

my $seq1 = mock_requests('addContextFile')->[-1]{seq};
($body, @h) = multipart(prompt => 'make it blue', response_format => 'b64_json',
                        image => {filename => 'in.png', type => 'image/png',
                                  data => $PNG});
($st, $d) = req('POST', '/v1/images/edits', $body, @h);
is($st, 200, 'POST /v1/images/edits: 200');
like($d->{created} // '', qr/^\d+$/, 'created');
is(scalar @{$d->{data} || []}, 1, 'one image');
like(MIME::Base64::decode_base64($d->{data}[0]{b64_json} // ''),
     qr/^\x89PNG/, 'b64_json holds the generated PNG');
my @ups = grep { $_->{seq} > $seq1 } @{mock_requests('addContextFile')};
is(scalar @ups, 1, 'the input image was uploaded');
is($ups[0]{upload}{size}, 70, 'every byte of it');
is($ups[0]{upload}{mimeType}, 'image/png', 'as image/png');
$sa = last_record('streamAssist');
is($sa->{query_text}, 'make it blue', 'the prompt is the query');
is_deeply($sa->{file_ids}, [$ups[0]{upload}{fileId}], 'with the image');
is_deeply([sort keys %{$sa->{tools_spec}}], ['imageGenerationSpec'],
          'on the image model');
is($sa->{session}, $ups[0]{session}, 'in the session the image is in');

($body, @h) = multipart(prompt => 'merge them', n => 2, size => '512x512',
                        'image[]' => {filename => 'a.png', type => 'image/png',
                                      data => $PNG},
                        'image[]' => {filename => 'b.jpg',
                                      type => 'application/octet-stream',
                                      data => "\xff\xd8\xff\xe0jpeg"});
($st, $d) = req('POST', '/v1/images/edits', $body, @h);
is($st, 200, 'two images as image[]: 200');
like($d->{data}[0]{url} // '', qr{^http://[^/]+/image/}, 'a URL by default');
$sa = last_record('streamAssist');
is(scalar @{$sa->{file_ids}}, 2, 'both images went up');
like($sa->{query_text}, qr/^merge them\n\n\(Generate 2 separate images\.\)\n\(Size: 512x512\.\)$/,
     'n and size as hints');
my @ups2 = @{mock_requests('addContextFile')}[-2, -1];
is_deeply([map { $_->{upload}{mimeType} } @ups2],
          ['image/png', 'image/jpeg'], 'the JPEG told by its bytes');

for my $case (
    [[prompt => 'x'], 'image', 'missing_required_parameter', 'no image'],
    [[image => {type => 'image/png', data => $PNG}], 'prompt',
     'missing_required_parameter', 'no prompt'],
    [[prompt => 'x', image => {type => 'image/png', data => $PNG},
      mask => {type => 'image/png', data => $PNG}], 'mask',
     'unsupported_parameter', 'a mask'],
    [[prompt => 'x', image => {type => 'text/plain', data => 'hello'}],
     'image', 'unsupported_file_type', 'a text file as the image'],
    [[prompt => 'x', n => 11, image => {type => 'image/png', data => $PNG}],
     'n', 'invalid_value', 'n = 11'],
    [[prompt => 'x', response_format => 'png',
      image => {type => 'image/png', data => $PNG}],
     'response_format', 'invalid_value', 'a bad response_format'],
) {
    my ($parts, $param, $code, $what) = @$case;
    ($body, @h) = multipart(@$parts);
    ($st, $d) = req('POST', '/v1/images/edits', $body, @h);
    is($st, 400, "edits with $what: 400");
    is($d->{error}{param} // '', $param, "  param $param");
    is($d->{error}{code} // '', $code, "  code $code");
}

($st, $d) = req('POST', '/v1/images/edits', '{"prompt":"x"}',
                'Content-Type' => 'application/json');
is($st, 400, 'edits with a JSON body: 400');
like($d->{error}{message}, qr/multipart\/form-data/, 'the message says why');

($st) = req('GET', '/v1/images/edits');
is($st, 405, 'GET /v1/images/edits: 405');

# API keys: a key sees only its own files

my ($ka, $kb);
for my $name (qw(a b)) {
    my $r = $http->post($srv->url('/api/keys'), {
        headers => {'X-Admin-Token' => $SECRET,
                    'Content-Type' => 'application/json'},
        content => $json->encode({name => "files-$name"})});
    my $k = $json->decode($r->{content})->{key};
    $name eq 'a' ? ($ka = $k) : ($kb = $k);
}
ok($ka && $kb, 'two API keys');

($st, $d) = upload('/k/v1/files',
                   headers => {Authorization => "Bearer $ka"});
is($st, 200, 'key a uploads');
my $fa = $d;

($st, $d) = req('GET', '/k/v1/files', undef, Authorization => "Bearer $ka");
is_deeply([map { $_->{id} } @{$d->{data}}], [$fa->{id}],
          'key a lists its file only');

($st, $d) = req('GET', '/k/v1/files', undef, Authorization => "Bearer $kb");
is_deeply($d->{data}, [], 'key b lists none');

($st) = req('GET', "/k/v1/files/$fa->{id}", undef,
            Authorization => "Bearer $kb");
is($st, 404, 'key b cannot get key a\'s file');

($st) = req('DELETE', "/k/v1/files/$fa->{id}", undef,
            Authorization => "Bearer $kb");
is($st, 404, 'nor delete it');

($st, $d) = chat_with_file($fa->{id}, prefix => '/k',
                           headers => {Authorization => "Bearer $kb"});
is($st, 400, 'nor chat with it');

($st, $d) = chat_with_file($fa->{id}, prefix => '/k',
                           headers => {Authorization => "Bearer $ka"});
is($st, 200, 'key a chats with it');

($st) = req('GET', '/k/v1/files');
is($st, 401, 'no key: 401');

unlike($srv->error_log_text, qr/\[(alert|crit|emerg)\]/,
       'no alert in the error log');

$srv->stop;

done_testing();
