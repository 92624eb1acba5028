/*
 * ngx_gemini_pool console: every user-visible string, in English and
 * Simplified Chinese.  t(key, vars) looks a key up in the current
 * language ("{name}" placeholders are filled from vars); a key missing
 * there falls back to English, then to the key itself.
 */

const en = {
    'app.title': 'Gemini Pool console',
    'app.brand': 'Gemini Pool',
    'demo.banner': 'Demo mode: the upstream is the bundled mock of Google '
        + 'and the accounts are fake (gemini_pool_demo on). Not for real '
        + 'use.',

    'nav.dashboard': 'Dashboard',
    'nav.accounts': 'Accounts',
    'nav.models': 'Models',
    'nav.settings': 'Settings',
    'nav.keys': 'API keys',
    'nav.logs': 'Call logs',
    'nav.history': 'Chat history',
    'nav.config': 'Import / export',
    'nav.security': 'Password',

    'top.language': 'Language',
    'top.theme': 'Theme',
    'top.theme.light': 'Light',
    'top.theme.dark': 'Dark',
    'top.logout': 'Log out',

    'login.title': 'Log in',
    'login.password': 'Password',
    'login.secret': 'Admin secret',
    'login.with_password': 'With the password',
    'login.with_secret': 'With the admin secret',
    'login.submit': 'Log in',
    'login.help.title': 'First start?',
    'login.help.body': 'There is no password until you set one. Log in '
        + 'with the admin secret: nginx generated it into the file '
        + '<database>.admin-secret next to the database (with scripts/run: '
        + 'run/gemini_pool.db.admin-secret), unless ADMIN_SECRET_KEY was '
        + 'set. Read it on the server with: cat run/gemini_pool.db.admin-secret',
    'login.help.then': 'Then set a password under "Password". Both give a '
        + 'session of 12 hours; the secret itself is not kept in the browser.',
    'login.expired': 'The session has ended. Log in again.',
    'login.no_password': 'No password is set yet: log in with the admin '
        + 'secret, then set one under "Password".',

    'common.refresh': 'Refresh',
    'common.save': 'Save',
    'common.cancel': 'Cancel',
    'common.close': 'Close',
    'common.add': 'Add',
    'common.edit': 'Edit',
    'common.delete': 'Delete',
    'common.confirm': 'Confirm',
    'common.yes': 'Yes',
    'common.no': 'No',
    'common.none': 'none',
    'common.never': 'never',
    'common.actions': 'Actions',
    'common.loading': 'Loading…',
    'common.empty': 'Nothing here yet.',
    'common.saved': 'Saved.',
    'common.deleted': 'Deleted.',
    'common.enabled': 'Enabled',
    'common.disabled': 'Disabled',
    'common.name': 'Name',
    'common.id': 'ID',
    'common.time': 'Time',
    'common.status': 'Status',
    'common.model': 'Model',
    'common.account': 'Account',
    'common.key': 'API key',
    'common.error': 'Error',
    'common.more': 'More',
    'common.previous': 'Previous',
    'common.next': 'Next',
    'common.copy': 'Copy',
    'common.copied': 'Copied.',
    'common.unchanged': 'leave empty to keep',
    'common.seconds': '{n} s',
    'common.page': '{from}–{to} of {total}',

    'err.network': 'The server could not be reached: {msg}',
    'err.http': 'The server answered {status}: {msg}',
    'err.not_available': 'This part is not available on this server '
        + '(it answered 404 for {path}): the module is older than the '
        + 'console.',
    'err.bad_json_file': 'The file is neither JSON nor a SQLite database: '
        + '{msg}',

    'dash.title': 'Dashboard',
    'dash.version': 'Version',
    'dash.accounts': 'Accounts',
    'dash.usable': 'Usable',
    'dash.enabled': 'Enabled',
    'dash.expired': 'Cookie expired',
    'dash.cooling': 'Cooling down',
    'dash.proxy': 'Global proxy',
    'dash.proxy.off': 'off',
    'dash.proxy.none': 'not set',
    'dash.requests': 'Requests (since start)',
    'dash.failures': 'Failures (since start)',
    'dash.auto': 'Refreshes every 15 s.',

    'acc.title': 'Accounts',
    'acc.add': 'Add account',
    'acc.edit': 'Edit account',
    'acc.index': '#',
    'acc.team_id': 'Team ID',
    'acc.csesidx': 'csesidx',
    'acc.secure_c_ses': '__Secure-C_SES cookie',
    'acc.host_c_oses': '__Host-C_OSES cookie',
    'acc.team_id.hint': 'Log in at business.gemini.google: the address bar then shows …/cid/<Team ID>?csesidx=…; the Team ID is the part after /cid/.',
    'acc.csesidx.hint': 'The digits after csesidx= in the same address.',
    'acc.secure_c_ses.hint': 'Cookie __Secure-C_SES of business.gemini.google: DevTools (F12) → Application → Cookies, or the Cookie header of a request in the Network tab.',
    'acc.host_c_oses.hint': 'Cookie __Host-C_OSES, beside the other one (optional; give it when the browser has it).',
    'acc.paste': 'Paste the account',
    'acc.paste.hint': 'Any of: the account as JSON (an account of business_gemini_session.json, or of an export with credentials), the Cookie header of business.gemini.google (or the two cookies), the product page\'s address. Paste them together or one after the other: the fields below are filled in this browser, nothing is sent until you save.',
    'acc.paste.found': 'Found: {list}',
    'acc.paste.nothing': 'Nothing recognised in the pasted text.',
    'acc.paste.missing': 'Still missing: {list}',
    'acc.paste.complete': 'Every required field is filled.',
    'acc.paste.chars': '{n} characters',
    'acc.paste.first_of': 'The file holds {n} accounts: the first was taken (Config → Import adds them all).',
    'acc.paste.no_secrets': 'This export holds no cookies: export with credentials, or paste the cookies too.',
    'acc.paste.bad_json': 'Not valid JSON: {msg}',
    'acc.paste.bad_csesidx': 'The pasted csesidx is not digits: it was left out.',
    'acc.user_agent': 'User agent',
    'acc.proxy': 'Proxy',
    'acc.proxy.hint': 'http://, https://, socks5:// URL, or "direct"',
    'acc.proxy.clear': 'Remove the account\'s proxy',
    'acc.state': 'State',
    'acc.cooldowns': 'Cooldowns',
    'acc.requests': 'Requests',
    'acc.failures': 'Failures',
    'acc.spares': 'Spare sessions',
    'acc.last_error': 'Last error',
    'acc.available': 'available',
    'acc.off': 'disabled',
    'acc.expired': 'cookie expired',
    'acc.cooling': 'cooling down',
    'acc.cookie_set': 'set',
    'acc.cookie_unset': 'not set',
    'acc.cookies': 'Cookies',
    'acc.toggle': 'Enabled',
    'acc.test': 'Test',
    'acc.quota': 'Quota',
    'acc.test.ok': 'Account "{name}": the upstream accepted its cookies '
        + '(HTTP {status}).',
    'acc.test.fail': 'Account "{name}": {error} (HTTP {status})',
    'acc.quota.title': 'Quota of "{name}"',
    'acc.quota.text': 'Text',
    'acc.quota.images': 'Images',
    'acc.quota.videos': 'Videos',
    'acc.quota.ready': 'ready',
    'acc.quota.until': 'cooling until {time} ({left})',
    'acc.delete.confirm': 'Delete the account "{name}"? Its cookies are '
        + 'removed from the database.',
    'acc.added': 'Account added.',
    'acc.renewed': 'New credentials: the account is back in rotation.',
    'acc.secret.note': 'Cookies and the proxy are never shown again; '
        + 'leave them empty to keep the stored values.',

    'models.title': 'Models',
    'models.add': 'Add model',
    'models.edit': 'Edit model',
    'models.model_id': 'Upstream model ID',
    'models.kind': 'Kind',
    'models.kind.text': 'text',
    'models.kind.image': 'image',
    'models.kind.video': 'video',
    'models.pin': 'Pinned account',
    'models.pin.none': 'no pin',
    'models.position': 'Position',
    'models.description': 'Description',
    'models.delete.confirm': 'Delete the model "{name}"?',
    'models.aliases': 'Aliases',
    'models.aliases.hint': 'other names it answers to, comma-separated; '
        + 'a final * matches a prefix (claude-*), * alone any name',

    'settings.title': 'Settings',
    'settings.secret.set': 'set',
    'settings.secret.unset': 'not set',
    'settings.secret.clear': 'clear',
    'settings.secret.hint': 'write-only: type a new value to replace it',
    'settings.none_changed': 'Nothing changed.',
    'settings.saved': 'Settings saved.',
    'settings.proxy_test': 'Test proxy',
    'settings.proxy_test.ok': 'The upstream answered HTTP {status} through '
        + '{proxy} in {ms} ms.',
    'settings.proxy_test.fail': 'Through {proxy}: {error}',
    'settings.d.default_model': 'The model used when a request names none',
    'settings.d.show_thoughts': 'Return thoughts as reasoning_content',
    'settings.d.selection_strategy': 'How the next account is chosen',
    'settings.d.max_attempts': 'Accounts tried per request',
    'settings.d.cooldown_text_429': 'Seconds a text quota 429 cools an '
        + 'account (0: until midnight in Los Angeles)',
    'settings.d.cooldown_server_error': 'Seconds a 5xx cools an account',
    'settings.d.cooldown_network': 'Seconds a network error cools an account',
    'settings.d.cooldown_rate_limit': 'Seconds an overload 429, or a first '
        + '429 that does not say why, cools an account',
    'settings.d.rate_limit_window': 'A second unexplained 429 within this '
        + 'many seconds cools until the quota resets (0: at once)',
    'settings.d.session_max_age': 'Seconds an upstream session serves a '
        + 'conversation (0: no limit)',
    'settings.d.spare_sessions': 'Ready upstream sessions kept per account '
        + 'in use, so that a new conversation waits for one call to Google, '
        + 'not two (0: off), 0 to 4',
    'settings.d.proxy': 'Global outbound proxy URL',
    'settings.d.proxy_enabled': 'Use the global proxy',
    'settings.d.proxy_for': 'Traffic that uses the global proxy: google, '
        + 'images, tempmail, sync',
    'settings.d.history_retention_days': 'Days call logs are kept (0: '
        + 'forever)',
    'settings.d.history_max_rows': 'Most call log entries kept (0: no '
        + 'limit)',
    'settings.d.history_enabled': 'Record the text of chats (chat history)',
    'settings.d.remote_sync_api_key': 'Key of the remote-sync peer',
    'settings.d.image_base_url': 'Base URL of links to generated media',
    'settings.d.image_format': 'How generated media reach clients: '
        + 'markdown, url, array or b64_json',
    'settings.d.history_max_chars': 'Bytes of prompt and of answer kept per '
        + 'request',
    'settings.d.tool_calls': 'Emulate tool calls (function calling) for '
        + 'clients that send tools; off: such requests get a 400',
    'settings.d.login_attempts': 'Failed console logins per address before '
        + 'it must wait (1 to 1000)',
    'settings.d.login_window': 'Seconds the failed logins of an address are '
        + 'counted from its first; a locked address waits until its end',
    'settings.d.auto_refresh_cookies': 'Re-login of expired accounts by the '
        + 'helper',
    'settings.d.tempmail_worker_url': 'URL of the temp-mail worker',
    'settings.d.remote_sync_url': 'URL of the remote-sync peer',
    'settings.d.sync_only_mode': 'This server only receives accounts (no '
        + 'automatic re-login)',
    'settings.d.cookie_check_interval': 'Seconds between the helper\'s '
        + 'checks of the accounts\' cookies (0: no periodic check)',
    'settings.d.cookie_retry_interval': 'Seconds before a failed re-login '
        + 'of an account is tried again',
    'settings.d.cookie_refresh_concurrency': 'Re-logins at a time (each '
        + 'runs a browser), 1 to 8',
    'settings.d.upload_endpoint': 'Upload URL of an image host '
        + '(CloudFlare-ImgBed, e.g. https://img.example.com/upload); with a '
        + 'token, generated images and videos are linked there',
    'settings.d.upload_api_token': 'The image host\'s upload token '
        + '(authCode)',
    'settings.d.upload_timeout': 'Seconds an upload to the image host may '
        + 'take before the local link is given, 1 to 3600',
    'settings.save_group': 'Save {group}',
    'settings.save_all': 'Save all changes',
    'settings.saved_keys': 'Saved: {keys}',
    'settings.default': 'default {value}',
    'settings.bounds': '{min} to {max}',
    'settings.bounds.min': 'at least {min}',
    'settings.not_number': '{label}: not a whole number',
    'settings.inert': 'does nothing on this server',
    'settings.inert.no_browser': 'does nothing here: no gemini_pool_browser '
        + 'is configured',
    'settings.g.pool': 'Pool and cooldowns',
    'settings.g.media': 'Media',
    'settings.g.history': 'History',
    'settings.g.network': 'Network and proxy',
    'settings.g.relogin': 'Re-login and sync',
    'settings.g.security': 'Security',
    'settings.g.other': 'Other',
    'settings.unit.s': 's',
    'settings.unit.days': 'days',
    'settings.unit.rows': 'entries',
    'settings.unit.bytes': 'bytes',
    'settings.unit.accounts': 'accounts',
    'settings.unit.sessions': 'sessions',
    'settings.unit.logins': 'logins',
    'settings.unit.attempts': 'attempts',
    'settings.v.round_robin': 'Round robin',
    'settings.v.least_in_flight': 'Least busy',
    'settings.v.markdown': 'Markdown image',
    'settings.v.url': 'Link',
    'settings.v.array': 'Content array',
    'settings.v.b64_json': 'Base64 (b64_json)',
    'settings.l.default_model': 'Default model',
    'settings.l.show_thoughts': 'Show thinking',
    'settings.l.selection_strategy': 'Account selection',
    'settings.l.max_attempts': 'Attempts per request',
    'settings.l.cooldown_text_429': 'Cooldown after a text quota 429',
    'settings.l.cooldown_server_error': 'Cooldown after a server error',
    'settings.l.cooldown_network': 'Cooldown after a network error',
    'settings.l.cooldown_rate_limit': 'Cooldown after an overload 429',
    'settings.l.rate_limit_window': 'Repeated 429 window',
    'settings.l.session_max_age': 'Upstream session lifetime',
    'settings.l.spare_sessions': 'Spare sessions per account',
    'settings.l.tool_calls': 'Tool calls',
    'settings.l.proxy': 'Proxy URL',
    'settings.l.proxy_enabled': 'Use the proxy',
    'settings.l.proxy_for': 'Traffic through the proxy',
    'settings.l.history_retention_days': 'Keep call logs for',
    'settings.l.history_max_rows': 'Most call log entries',
    'settings.l.history_enabled': 'Record chat history',
    'settings.l.history_max_chars': 'Text kept per request',
    'settings.l.image_base_url': 'Base URL of media links',
    'settings.l.image_format': 'Media in answers',
    'settings.l.upload_endpoint': 'Image host upload URL',
    'settings.l.upload_api_token': 'Image host token',
    'settings.l.upload_timeout': 'Image host upload timeout',
    'settings.l.auto_refresh_cookies': 'Re-login expired accounts',
    'settings.l.tempmail_worker_url': 'Temp-mail worker URL',
    'settings.l.tempmail_poll_interval': 'Mailbox poll interval',
    'settings.l.tempmail_timeout': 'Wait for the e-mail code',
    'settings.l.remote_sync_url': 'Remote sync URL',
    'settings.l.remote_sync_api_key': 'Remote sync key',
    'settings.l.remote_sync_retry': 'First retry of a failed push',
    'settings.l.sync_only_mode': 'Receive accounts only',
    'settings.l.cookie_check_interval': 'Expiry check interval',
    'settings.l.cookie_retry_interval': 'Retry a failed re-login after',
    'settings.l.cookie_refresh_concurrency': 'Re-logins at a time',
    'settings.l.login_attempts': 'Failed console logins allowed',
    'settings.l.login_window': 'Failed-login window',
    'settings.d.tempmail_poll_interval': 'Seconds between two looks into '
        + 'the mailbox for the login code, 1 to 60',
    'settings.d.tempmail_timeout': 'Seconds a re-login waits for the '
        + 'e-mail code before it fails, 10 to 600',
    'settings.d.remote_sync_retry': 'Seconds before the first retry of a '
        + 'failed push to the peer (then doubling), 1 to 3600',
    'settings.upload_test': 'Test upload',
    'settings.upload_test.ok': 'The image host took the test image in {ms} '
        + 'ms: {url}',
    'settings.upload_test.fail': 'Test upload failed: {error}',

    'keys.title': 'API keys',
    'keys.create': 'Create key',
    'keys.name': 'Name',
    'keys.name.required': 'Give the key a name: "name" is required.',
    'keys.all': 'All keys',
    'keys.models': 'Allowed models',
    'keys.models.hint': 'comma-separated; empty: every model',
    'keys.rpm': 'Requests per minute',
    'keys.rpd': 'Requests per day',
    'keys.limit.hint': '0: no limit',
    'keys.expires': 'Expires',
    'keys.expires.hint': 'empty: never',
    'keys.image_format': 'Image format',
    'keys.image_format.default': 'default',
    'keys.prefix': 'Key',
    'keys.state': 'State',
    'keys.state.active': 'active',
    'keys.state.revoked': 'revoked',
    'keys.state.expired': 'expired',
    'keys.limits': 'Limits',
    'keys.requests': 'Requests',
    'keys.last_used': 'Last used',
    'keys.created': 'Created',
    'keys.revoke': 'Revoke',
    'keys.stats': 'Stats',
    'keys.logs': 'Logs',
    'keys.all_models': 'all',
    'keys.new.title': 'Your new API key',
    'keys.new.once': 'Copy it now: it is shown this once and only its hash '
        + 'is stored.',
    'keys.new.done': 'I have copied it',
    'keys.revoke.confirm': 'Revoke the key "{name}"? Clients using it get '
        + '401 at once.',
    'keys.delete.confirm': 'Delete the key "{name}" and forget it?',
    'keys.stats.title': 'Key "{name}"',
    'keys.stats.requests': 'Requests (counted)',
    'keys.stats.minute': 'This minute',
    'keys.stats.today': 'Today',
    'keys.stats.calls': 'Logged calls',
    'keys.stats.errors': 'Logged errors',
    'keys.stats.prompt': 'Prompt tokens',
    'keys.stats.completion': 'Completion tokens',

    'logs.title': 'Call logs',
    'logs.key': 'API key',
    'logs.limit': 'Rows',
    'logs.filter': 'Filter',
    'logs.clear': 'Clear filter',
    'logs.stream': 'Stream',
    'logs.attempts': 'Attempts',
    'logs.latency': 'Latency',
    'logs.ttfb': 'TTFB',
    'logs.tokens': 'Tokens',
    'logs.older': 'Older',
    'logs.newest': 'Newest',
    'logs.of_key': 'Calls of key {name}',

    'history.title': 'Chat history',
    'history.q': 'Search text',
    'history.search': 'Search',
    'history.prompt': 'Prompt',
    'history.answer': 'Answer',
    'history.latency': 'Latency',
    'history.delete_all': 'Delete all history',
    'history.delete_all.confirm': 'Delete every recorded chat? This cannot '
        + 'be undone.',
    'history.delete.confirm': 'Delete this chat?',
    'history.deleted_n': '{n} chats deleted.',
    'history.detail': 'Chat {id}',
    'history.off': 'Recording is off: turn on the setting history_enabled '
        + 'to record the text of chats.',

    'config.title': 'Import / export',
    'config.export': 'Export configuration',
    'config.export.help': 'Downloads the configuration (accounts, models, '
        + 'settings, API keys) as one JSON file, without credentials unless '
        + 'you include them below.',
    'config.export.secrets': 'Include credentials (account cookies, proxy '
        + 'passwords, secret settings, API key hashes)',
    'config.export.secrets.warn': 'Warning: the file will hold every '
        + 'account\'s login cookies and other secrets in plain text. Anyone '
        + 'who has it can use your accounts. Keep it private, store it '
        + 'encrypted and delete it once imported.',
    'config.export.secrets.confirm': 'Export WITH credentials? The file '
        + 'will hold the accounts\' cookies and other secrets in plain text.',
    'config.exported.secrets': 'Export with credentials downloaded: keep the '
        + 'file private.',
    'config.import': 'Import',
    'config.import.help': 'Our own export, the reference\'s '
        + 'business_gemini_session.json, or its SQLite database '
        + '(geminibusiness.db).',
    'config.import.file': 'File',
    'config.import.confirm': 'Import "{name}"? Existing entries with the '
        + 'same names are replaced.',
    'config.import.done': 'Imported:',
    'config.import.nofile': 'Choose a file first.',
    'config.exported': 'Export downloaded.',

    'security.title': 'Admin password',
    'security.help': 'Sets the password for logging in to this console. '
        + 'Setting it ends every session, this one too.',
    'security.new': 'New password',
    'security.repeat': 'Repeat it',
    'security.short': 'The password needs at least 8 characters.',
    'security.mismatch': 'The two passwords differ.',
    'security.done': 'Password set. Log in with it.',
    'security.method': 'You are logged in with: {method}',

    'nav.relogin': 'Re-login',

    'acc.mailbox': 'Mailbox',
    'acc.mailbox.url': 'Mailbox link (tempmail_url)',
    'acc.mailbox.url.hint': 'The temp-mail link with ?jwt=…, for the '
        + 'e-mail-code re-login; it is a credential and never shown again',
    'acc.mailbox.name': 'Mailbox name (tempmail_name)',
    'acc.mailbox.clear': 'Remove the account\'s mailbox',
    'acc.mailbox.none': 'none',
    'acc.mailbox.set': 'set',
    'acc.mailbox.check': 'Test mailbox',
    'acc.mailbox.check.title': 'Mailbox of "{name}"',

    'rl.title': 'Re-login',
    'rl.refresh': 'Refresh now',
    'rl.refresh.no_mailbox': 'Set a mailbox first (Edit)',
    'rl.refresh.queued': 'Account "{name}": re-login queued.',
    'rl.refresh_all': 'Refresh all expired',
    'rl.refresh_all.done': 'Re-login queued for {n} expired accounts.',
    'rl.queued': 're-login queued',
    'rl.refreshing': 're-login running',
    'rl.failed': 're-login failed',
    'rl.failed.detail': '{status}: {reason}',
    'rl.next_try': 'next try {time}',
    'rl.expired_since': 'expired since {time}',
    'rl.step': 'step: {step}',
    'rl.progress': 'Re-login in progress',
    'rl.idle': 'No re-login running.',
    'rl.waiting': 'Re-logins waiting in the queue',
    'rl.running.item': '{step} ({elapsed})',
    'rl.queue': 'Waiting: {names}',
    'rl.auto.on': 'automatic re-login on',
    'rl.auto.off': 'automatic re-login off',
    'rl.next_check': 'next expiry check {time}',
    'rl.last_check': 'last check {time}',
    'rl.browser.error': 'Chromium cannot be used: {error}',
    'rl.sync_only': 'sync-only',
    'rl.sync_only.title': 'This server receives its accounts from a peer: '
        + 'automatic re-login is off (sync_only_mode); a manual refresh '
        + 'still works.',
    'rl.history': 'Attempts',
    'rl.h.all': 'All accounts',
    'rl.h.limit': 'How many',
    'rl.h.show': 'Show',
    'rl.h.started': 'Started',
    'rl.h.trigger': 'Trigger',
    'rl.h.manual': 'manual',
    'rl.h.auto': 'automatic',
    'rl.h.result': 'Result',
    'rl.h.ok': 'signed in',
    'rl.h.reason': 'Reason',
    'rl.h.step': 'Last step',
    'rl.h.duration': 'Took',
    'rl.h.empty': 'No re-login attempt yet.',

    'sync.title': 'Remote sync',
    'sync.push_all': 'Push all',
    'sync.test': 'Test connection',
    'sync.push_all.done': '{synced} of {total} accounts pushed.',
    'sync.push_all.fail': '{synced} of {total} accounts pushed; the others '
        + 'are retried.',
    'sync.test.ok': 'The peer answered HTTP {status}.',
    'sync.test.fail': 'The peer: {error} (HTTP {status})',
    'sync.url': 'Accounts are pushed to {url} after each re-login.',
    'sync.no_url': 'No remote_sync_url is set: nothing is pushed.',
    'sync.no_key': 'No remote_sync_api_key is set: the peer will refuse '
        + 'the pushes.',
    'sync.last_success': 'Last successful push: {time}',
    'sync.pending': 'Waiting for a retry',
    'sync.p.attempts': 'Attempts',
    'sync.p.next': 'Next try',
    'sync.p.error': 'Last error',

    'settings.d.cookie_check_interval': 'Seconds between two expiry checks '
        + 'of the accounts',
    'settings.d.cookie_retry_interval': 'Seconds before a failed re-login '
        + 'of an account is tried again',
    'settings.d.cookie_refresh_concurrency': 'Re-logins run at the same '
        + 'time',
    /* chat page */
    'nav.chat': 'Chat',
    'chat.new': 'New chat',
    'chat.list': 'Conversations',
    'chat.search': 'Search conversations',
    'chat.none': 'No conversation yet: write a question below to start one.',
    'chat.none_found': 'No conversation matches.',
    'chat.untitled': 'Untitled',
    'chat.rename': 'Rename',
    'chat.title': 'Title',
    'chat.delete_confirm': 'Delete the conversation "{title}" and its '
        + 'messages?',
    'chat.empty': 'Ask anything. Enter sends, Shift+Enter starts a new '
        + 'line; attach images or files (PDF, text) with Attach.',
    'chat.you': 'You',
    'chat.assistant': 'Assistant',
    'chat.reasoning': 'Thoughts',
    'chat.copy': 'Copy',
    'chat.model': 'Model',
    'chat.stream': 'Stream',
    'chat.placeholder': 'Message',
    'chat.attach': 'Attach',
    'chat.unattach': 'Remove {name}',
    'chat.hint': 'Enter sends · Shift+Enter new line',
    'chat.send': 'Send',
    'chat.stop': 'Stop',
    'chat.stopped': 'Stopped.',
    'chat.models_failed': 'The models could not be listed: {msg}',
    'chat.upload_failed': 'The upload of {name} failed: {msg}',

    /* history page: conversations */
    'history.failed': 'Failed ({status}):',
    'history.no_message': 'no error message was recorded',
    'history.empty_answer': 'The answer was empty.',
    'history.turns': 'Turns',
    'history.first': 'Started',
    'history.last': 'Last activity',
    'history.open_chat': 'Open in chat page',
    'history.all_models': 'All models',
    'history.all_accounts': 'All accounts',
    'history.from': 'From',
    'history.to': 'To',
    'history.clear': 'Clear',
    'history.has_failed': 'failed',
    'history.ok': 'ok',
    'history.conversation': 'Conversation',
};

const zh = {
    'app.title': 'Gemini Pool 控制台',
    'app.brand': 'Gemini Pool',
    'demo.banner': '演示模式：上游是自带的 Google 模拟服务，账号均为假账号（gemini_pool_demo on），不可用于实际用途。',

    'nav.dashboard': '概览',
    'nav.accounts': '账号',
    'nav.models': '模型',
    'nav.settings': '设置',
    'nav.keys': 'API 密钥',
    'nav.logs': '调用日志',
    'nav.history': '对话记录',
    'nav.config': '导入 / 导出',
    'nav.security': '密码',

    'top.language': '语言',
    'top.theme': '主题',
    'top.theme.light': '浅色',
    'top.theme.dark': '深色',
    'top.logout': '退出登录',

    'login.title': '登录',
    'login.password': '密码',
    'login.secret': '管理密钥',
    'login.with_password': '使用密码',
    'login.with_secret': '使用管理密钥',
    'login.submit': '登录',
    'login.help.title': '首次启动？',
    'login.help.body': '在设置密码之前没有密码。请使用管理密钥登录：除非设置了 '
        + 'ADMIN_SECRET_KEY，nginx 会把它生成到数据库旁边的 '
        + '<数据库>.admin-secret 文件中（使用 scripts/run 时为 '
        + 'run/gemini_pool.db.admin-secret）。在服务器上查看：'
        + 'cat run/gemini_pool.db.admin-secret',
    'login.help.then': '然后在“密码”页设置密码。两种方式都会得到 12 小时的会话；'
        + '浏览器不会保存管理密钥本身。',
    'login.expired': '会话已结束，请重新登录。',
    'login.no_password': '尚未设置密码：请先用管理密钥登录，再在“密码”页设置。',

    'common.refresh': '刷新',
    'common.save': '保存',
    'common.cancel': '取消',
    'common.close': '关闭',
    'common.add': '添加',
    'common.edit': '编辑',
    'common.delete': '删除',
    'common.confirm': '确认',
    'common.yes': '是',
    'common.no': '否',
    'common.none': '无',
    'common.never': '从不',
    'common.actions': '操作',
    'common.loading': '加载中…',
    'common.empty': '暂无数据。',
    'common.saved': '已保存。',
    'common.deleted': '已删除。',
    'common.enabled': '已启用',
    'common.disabled': '已禁用',
    'common.name': '名称',
    'common.id': 'ID',
    'common.time': '时间',
    'common.status': '状态',
    'common.model': '模型',
    'common.account': '账号',
    'common.key': 'API 密钥',
    'common.error': '错误',
    'common.more': '更多',
    'common.previous': '上一页',
    'common.next': '下一页',
    'common.copy': '复制',
    'common.copied': '已复制。',
    'common.unchanged': '留空则保持不变',
    'common.seconds': '{n} 秒',
    'common.page': '第 {from}–{to} 条，共 {total} 条',

    'err.network': '无法连接服务器：{msg}',
    'err.http': '服务器返回 {status}：{msg}',
    'err.not_available': '此服务器不提供该功能（{path} 返回 404）：'
        + '模块版本比控制台旧。',
    'err.bad_json_file': '该文件既不是 JSON 也不是 SQLite 数据库：{msg}',

    'dash.title': '概览',
    'dash.version': '版本',
    'dash.accounts': '账号',
    'dash.usable': '可用',
    'dash.enabled': '已启用',
    'dash.expired': 'Cookie 已过期',
    'dash.cooling': '冷却中',
    'dash.proxy': '全局代理',
    'dash.proxy.off': '关闭',
    'dash.proxy.none': '未设置',
    'dash.requests': '请求数（自启动）',
    'dash.failures': '失败数（自启动）',
    'dash.auto': '每 15 秒自动刷新。',

    'acc.title': '账号',
    'acc.add': '添加账号',
    'acc.edit': '编辑账号',
    'acc.index': '#',
    'acc.team_id': 'Team ID',
    'acc.csesidx': 'csesidx',
    'acc.secure_c_ses': '__Secure-C_SES Cookie',
    'acc.host_c_oses': '__Host-C_OSES Cookie',
    'acc.team_id.hint': '登录 business.gemini.google 后，地址栏显示 …/cid/<Team ID>?csesidx=…；/cid/ 之后的部分就是 Team ID。',
    'acc.csesidx.hint': '同一地址中 csesidx= 之后的数字。',
    'acc.secure_c_ses.hint': 'business.gemini.google 的 Cookie __Secure-C_SES：开发者工具（F12）→ 应用 → Cookie，或“网络”面板中任一请求的 Cookie 请求头。',
    'acc.host_c_oses.hint': 'Cookie __Host-C_OSES，在前者旁边（可选；浏览器里有就填上）。',
    'acc.paste': '粘贴账号',
    'acc.paste.hint': '可粘贴：JSON 格式的账号（business_gemini_session.json 中的账号，或带凭据导出的账号）、business.gemini.google 的 Cookie 请求头（或这两个 Cookie）、产品页面的地址。可一起粘贴，也可先后粘贴：下面的字段在本浏览器中填好，保存前不会发送任何内容。',
    'acc.paste.found': '已识别：{list}',
    'acc.paste.nothing': '粘贴的内容中没有可识别的信息。',
    'acc.paste.missing': '仍缺少：{list}',
    'acc.paste.complete': '必填字段均已填写。',
    'acc.paste.chars': '{n} 个字符',
    'acc.paste.first_of': '文件中有 {n} 个账号：已取第一个（“配置 → 导入”可全部导入）。',
    'acc.paste.no_secrets': '此导出文件不含 Cookie：请带凭据导出，或同时粘贴 Cookie。',
    'acc.paste.bad_json': '不是有效的 JSON：{msg}',
    'acc.paste.bad_csesidx': '粘贴的 csesidx 不是数字：已忽略。',
    'acc.user_agent': 'User-Agent',
    'acc.proxy': '代理',
    'acc.proxy.hint': 'http://、https://、socks5:// 地址，或 "direct"',
    'acc.proxy.clear': '移除该账号的代理',
    'acc.state': '状态',
    'acc.cooldowns': '冷却',
    'acc.requests': '请求',
    'acc.failures': '失败',
    'acc.spares': '备用会话',
    'acc.last_error': '最近错误',
    'acc.available': '可用',
    'acc.off': '已禁用',
    'acc.expired': 'Cookie 已过期',
    'acc.cooling': '冷却中',
    'acc.cookie_set': '已设置',
    'acc.cookie_unset': '未设置',
    'acc.cookies': 'Cookie',
    'acc.toggle': '启用',
    'acc.test': '测试',
    'acc.quota': '配额',
    'acc.test.ok': '账号“{name}”：上游接受了它的 Cookie（HTTP {status}）。',
    'acc.test.fail': '账号“{name}”：{error}（HTTP {status}）',
    'acc.quota.title': '“{name}”的配额',
    'acc.quota.text': '文本',
    'acc.quota.images': '图片',
    'acc.quota.videos': '视频',
    'acc.quota.ready': '可用',
    'acc.quota.until': '冷却至 {time}（剩余 {left}）',
    'acc.delete.confirm': '删除账号“{name}”？它的 Cookie 将从数据库中移除。',
    'acc.added': '账号已添加。',
    'acc.renewed': '凭据已更新：账号重新参与轮换。',
    'acc.secret.note': 'Cookie 和代理不会再显示；留空则保留已存储的值。',

    'models.title': '模型',
    'models.add': '添加模型',
    'models.edit': '编辑模型',
    'models.model_id': '上游模型 ID',
    'models.kind': '类型',
    'models.kind.text': '文本',
    'models.kind.image': '图片',
    'models.kind.video': '视频',
    'models.pin': '绑定账号',
    'models.pin.none': '不绑定',
    'models.position': '排序',
    'models.description': '描述',
    'models.delete.confirm': '删除模型“{name}”？',
    'models.aliases': '别名',
    'models.aliases.hint': '该模型也接受的其他名称，逗号分隔；'
        + '末尾的 * 匹配前缀（claude-*），单独的 * 匹配任何名称',

    'settings.title': '设置',
    'settings.secret.set': '已设置',
    'settings.secret.unset': '未设置',
    'settings.secret.clear': '清除',
    'settings.secret.hint': '只写：输入新值以替换',
    'settings.none_changed': '没有改动。',
    'settings.saved': '设置已保存。',
    'settings.proxy_test': '测试代理',
    'settings.proxy_test.ok': '通过 {proxy} 访问上游：HTTP {status}，耗时 {ms} 毫秒。',
    'settings.proxy_test.fail': '通过 {proxy}：{error}',
    'settings.d.default_model': '请求未指定模型时使用的模型',
    'settings.d.show_thoughts': '以 reasoning_content 返回思考过程',
    'settings.d.selection_strategy': '选择下一个账号的方式',
    'settings.d.max_attempts': '每个请求最多尝试的账号数',
    'settings.d.cooldown_text_429': '文本配额 429 后账号冷却的秒数（0：到洛杉矶时间午夜）',
    'settings.d.cooldown_server_error': '5xx 后账号冷却的秒数',
    'settings.d.cooldown_network': '网络错误后账号冷却的秒数',
    'settings.d.cooldown_rate_limit': '过载 429 或未说明原因的首次 429 后账号冷却的秒数',
    'settings.d.rate_limit_window': '此秒数内再次出现未说明原因的 429 则冷却到配额重置（0：立即）',
    'settings.d.session_max_age': '一个上游会话服务一段对话的秒数（0：不限）',
    'settings.d.spare_sessions': '每个使用中的账号预先准备的上游会话数，新对话只需等待一次 Google 调用（0：关闭），0 到 4',
    'settings.d.proxy': '全局出站代理地址',
    'settings.d.proxy_enabled': '使用全局代理',
    'settings.d.proxy_for': '使用全局代理的流量：google、images、tempmail、sync',
    'settings.d.history_retention_days': '调用日志保留天数（0：永久）',
    'settings.d.history_max_rows': '调用日志最多保留条数（0：不限）',
    'settings.d.history_enabled': '记录对话文本（对话记录）',
    'settings.d.remote_sync_api_key': '远程同步对端的密钥',
    'settings.d.image_base_url': '生成媒体链接的基础 URL',
    'settings.d.image_format': '生成媒体交给客户端的方式：markdown、url、array 或 b64_json',
    'settings.d.history_max_chars': '每个请求保留的提问和回答字节数',
    'settings.d.tool_calls': '为发送 tools 的客户端模拟工具调用；关闭时此类请求返回 400',
    'settings.d.login_attempts': '同一地址在需要等待前允许的控制台登录失败次数（1 到 1000）',
    'settings.d.login_window': '从某地址第一次登录失败起计数的秒数；被锁定的地址等到其结束',
    'settings.d.auto_refresh_cookies': '由辅助进程重新登录过期账号',
    'settings.d.tempmail_worker_url': '临时邮箱 Worker 的 URL',
    'settings.d.remote_sync_url': '远程同步对端的 URL',
    'settings.d.sync_only_mode': '本服务器只接收账号（不自动重新登录）',
    'settings.d.cookie_check_interval': '辅助进程检查账号 Cookie 的间隔秒数（0：不定期检查）',
    'settings.d.cookie_retry_interval': '账号重新登录失败后再次尝试前等待的秒数',
    'settings.d.cookie_refresh_concurrency': '同时进行的重新登录数（每个运行一个浏览器），1 到 8',
    'settings.d.upload_endpoint': '图床的上传地址（CloudFlare-ImgBed，如 https://img.example.com/upload）；与令牌一同设置后，生成的图片和视频链接指向图床',
    'settings.d.upload_api_token': '图床的上传令牌（authCode）',
    'settings.d.upload_timeout': '上传到图床允许的秒数，超时则给出本地链接，1 到 3600',
    'settings.save_group': '保存{group}',
    'settings.save_all': '保存全部改动',
    'settings.saved_keys': '已保存：{keys}',
    'settings.default': '默认 {value}',
    'settings.bounds': '{min} 到 {max}',
    'settings.bounds.min': '至少 {min}',
    'settings.not_number': '{label}：不是整数',
    'settings.inert': '在此服务器上不起作用',
    'settings.inert.no_browser': '在此不起作用：未配置 gemini_pool_browser',
    'settings.g.pool': '账号池与冷却',
    'settings.g.media': '媒体',
    'settings.g.history': '历史记录',
    'settings.g.network': '网络与代理',
    'settings.g.relogin': '重新登录与同步',
    'settings.g.security': '安全',
    'settings.g.other': '其他',
    'settings.unit.s': '秒',
    'settings.unit.days': '天',
    'settings.unit.rows': '条',
    'settings.unit.bytes': '字节',
    'settings.unit.accounts': '个账号',
    'settings.unit.sessions': '个会话',
    'settings.unit.logins': '个',
    'settings.unit.attempts': '次',
    'settings.v.round_robin': '轮询',
    'settings.v.least_in_flight': '最少并发',
    'settings.v.markdown': 'Markdown 图片',
    'settings.v.url': '链接',
    'settings.v.array': '内容数组',
    'settings.v.b64_json': 'Base64（b64_json）',
    'settings.l.default_model': '默认模型',
    'settings.l.show_thoughts': '返回思考过程',
    'settings.l.selection_strategy': '账号选择方式',
    'settings.l.max_attempts': '每个请求的尝试次数',
    'settings.l.cooldown_text_429': '文本配额 429 后的冷却',
    'settings.l.cooldown_server_error': '服务器错误后的冷却',
    'settings.l.cooldown_network': '网络错误后的冷却',
    'settings.l.cooldown_rate_limit': '过载 429 后的冷却',
    'settings.l.rate_limit_window': '重复 429 的判定窗口',
    'settings.l.session_max_age': '上游会话时长',
    'settings.l.spare_sessions': '每个账号的备用会话',
    'settings.l.tool_calls': '工具调用',
    'settings.l.proxy': '代理地址',
    'settings.l.proxy_enabled': '启用代理',
    'settings.l.proxy_for': '走代理的流量',
    'settings.l.history_retention_days': '调用日志保留时间',
    'settings.l.history_max_rows': '调用日志最多条数',
    'settings.l.history_enabled': '记录对话',
    'settings.l.history_max_chars': '每个请求保留的文本',
    'settings.l.image_base_url': '媒体链接的基础地址',
    'settings.l.image_format': '回答中媒体的形式',
    'settings.l.upload_endpoint': '图床上传地址',
    'settings.l.upload_api_token': '图床令牌',
    'settings.l.upload_timeout': '图床上传超时',
    'settings.l.auto_refresh_cookies': '自动重新登录过期账号',
    'settings.l.tempmail_worker_url': '临时邮箱 Worker 地址',
    'settings.l.tempmail_poll_interval': '邮箱轮询间隔',
    'settings.l.tempmail_timeout': '等待邮件验证码的时间',
    'settings.l.remote_sync_url': '远程同步地址',
    'settings.l.remote_sync_api_key': '远程同步密钥',
    'settings.l.remote_sync_retry': '推送失败后的首次重试',
    'settings.l.sync_only_mode': '仅接收账号',
    'settings.l.cookie_check_interval': '过期检查间隔',
    'settings.l.cookie_retry_interval': '重新登录失败后的重试间隔',
    'settings.l.cookie_refresh_concurrency': '同时进行的重新登录',
    'settings.l.login_attempts': '允许的控制台登录失败次数',
    'settings.l.login_window': '登录失败的计数窗口',
    'settings.d.tempmail_poll_interval': '两次查看邮箱中登录验证码之间的秒数，1 到 60',
    'settings.d.tempmail_timeout': '重新登录等待邮件验证码的秒数，超时则失败，10 到 600',
    'settings.d.remote_sync_retry': '推送到对端失败后首次重试前的秒数（之后每次加倍），1 到 3600',
    'settings.upload_test': '测试上传',
    'settings.upload_test.ok': '图床在 {ms} 毫秒内接收了测试图片：{url}',
    'settings.upload_test.fail': '测试上传失败：{error}',

    'keys.title': 'API 密钥',
    'keys.create': '创建密钥',
    'keys.name': '名称',
    'keys.name.required': '请为密钥命名：“名称”为必填项。',
    'keys.all': '全部密钥',
    'keys.models': '允许的模型',
    'keys.models.hint': '逗号分隔；留空：全部模型',
    'keys.rpm': '每分钟请求数',
    'keys.rpd': '每天请求数',
    'keys.limit.hint': '0：不限',
    'keys.expires': '过期时间',
    'keys.expires.hint': '留空：永不过期',
    'keys.image_format': '图片格式',
    'keys.image_format.default': '默认',
    'keys.prefix': '密钥',
    'keys.state': '状态',
    'keys.state.active': '有效',
    'keys.state.revoked': '已吊销',
    'keys.state.expired': '已过期',
    'keys.limits': '限额',
    'keys.requests': '请求',
    'keys.last_used': '最近使用',
    'keys.created': '创建时间',
    'keys.revoke': '吊销',
    'keys.stats': '统计',
    'keys.logs': '日志',
    'keys.all_models': '全部',
    'keys.new.title': '新的 API 密钥',
    'keys.new.once': '请立即复制：密钥只显示这一次，服务器只保存它的哈希。',
    'keys.new.done': '我已复制',
    'keys.revoke.confirm': '吊销密钥“{name}”？使用它的客户端将立即收到 401。',
    'keys.delete.confirm': '删除密钥“{name}”？',
    'keys.stats.title': '密钥“{name}”',
    'keys.stats.requests': '请求数（计数）',
    'keys.stats.minute': '本分钟',
    'keys.stats.today': '今天',
    'keys.stats.calls': '已记录调用',
    'keys.stats.errors': '已记录错误',
    'keys.stats.prompt': '提示词 token',
    'keys.stats.completion': '回复 token',

    'logs.title': '调用日志',
    'logs.key': 'API 密钥',
    'logs.limit': '行数',
    'logs.filter': '筛选',
    'logs.clear': '清除筛选',
    'logs.stream': '流式',
    'logs.attempts': '尝试次数',
    'logs.latency': '耗时',
    'logs.ttfb': '首字节',
    'logs.tokens': 'Token',
    'logs.older': '更早',
    'logs.newest': '最新',
    'logs.of_key': '密钥 {name} 的调用',

    'history.title': '对话记录',
    'history.q': '搜索文本',
    'history.search': '搜索',
    'history.prompt': '提问',
    'history.answer': '回答',
    'history.latency': '耗时',
    'history.delete_all': '删除全部记录',
    'history.delete_all.confirm': '删除所有对话记录？此操作无法撤销。',
    'history.delete.confirm': '删除这条对话？',
    'history.deleted_n': '已删除 {n} 条对话。',
    'history.detail': '对话 {id}',
    'history.off': '记录已关闭：打开设置 history_enabled 以记录对话文本。',

    'config.title': '导入 / 导出',
    'config.export': '导出配置',
    'config.export.help': '把配置（账号、模型、设置、API 密钥）下载为一个 '
        + 'JSON 文件；除非在下面选择包含，否则不含凭据。',
    'config.export.secrets': '包含凭据（账号 Cookie、代理密码、机密设置、'
        + 'API 密钥哈希）',
    'config.export.secrets.warn': '警告：文件将以明文保存所有账号的登录 '
        + 'Cookie 和其他机密。任何拿到它的人都能使用你的账号。请私密保存、'
        + '加密存放，导入后立即删除。',
    'config.export.secrets.confirm': '确定导出包含凭据的配置？文件将以明文保存'
        + '账号的 Cookie 和其他机密。',
    'config.exported.secrets': '含凭据的导出文件已下载：请私密保管。',
    'config.import': '导入',
    'config.import.help': '本系统的导出文件、参考实现的 '
        + 'business_gemini_session.json，或其 SQLite 数据库'
        + '（geminibusiness.db）。',
    'config.import.file': '文件',
    'config.import.confirm': '导入“{name}”？同名的现有条目将被替换。',
    'config.import.done': '已导入：',
    'config.import.nofile': '请先选择文件。',
    'config.exported': '导出文件已下载。',

    'security.title': '管理密码',
    'security.help': '设置登录本控制台的密码。设置后所有会话（包括当前会话）'
        + '都会结束。',
    'security.new': '新密码',
    'security.repeat': '再次输入',
    'security.short': '密码至少需要 8 个字符。',
    'security.mismatch': '两次输入的密码不一致。',
    'security.done': '密码已设置，请用它登录。',
    'security.method': '当前登录方式：{method}',

    'nav.relogin': '重新登录',

    'acc.mailbox': '邮箱',
    'acc.mailbox.url': '邮箱链接（tempmail_url）',
    'acc.mailbox.url.hint': '带 ?jwt=… 的临时邮箱链接，用于验证码重新登录；它是凭据，保存后不再显示',
    'acc.mailbox.name': '邮箱名称（tempmail_name）',
    'acc.mailbox.clear': '移除该账号的邮箱',
    'acc.mailbox.none': '未设置',
    'acc.mailbox.set': '已设置',
    'acc.mailbox.check': '测试邮箱',
    'acc.mailbox.check.title': '“{name}”的邮箱',

    'rl.title': '重新登录',
    'rl.refresh': '立即刷新',
    'rl.refresh.no_mailbox': '请先设置邮箱（编辑）',
    'rl.refresh.queued': '账号“{name}”：已加入重新登录队列。',
    'rl.refresh_all': '刷新全部过期账号',
    'rl.refresh_all.done': '已为 {n} 个过期账号排队重新登录。',
    'rl.queued': '等待重新登录',
    'rl.refreshing': '正在重新登录',
    'rl.failed': '重新登录失败',
    'rl.failed.detail': '{status}：{reason}',
    'rl.next_try': '下次尝试 {time}',
    'rl.expired_since': '自 {time} 起过期',
    'rl.step': '步骤：{step}',
    'rl.progress': '正在重新登录',
    'rl.idle': '没有正在进行的重新登录。',
    'rl.waiting': '等待重新登录的账号',
    'rl.running.item': '{step}（{elapsed}）',
    'rl.queue': '等待中：{names}',
    'rl.auto.on': '自动重新登录已开启',
    'rl.auto.off': '自动重新登录已关闭',
    'rl.next_check': '下次过期检查 {time}',
    'rl.last_check': '上次检查 {time}',
    'rl.browser.error': '无法使用 Chromium：{error}',
    'rl.sync_only': '仅同步',
    'rl.sync_only.title': '本服务器从对端接收账号：自动重新登录已关闭（sync_only_mode），仍可手动刷新。',
    'rl.history': '尝试记录',
    'rl.h.all': '全部账号',
    'rl.h.limit': '条数',
    'rl.h.show': '显示',
    'rl.h.started': '开始',
    'rl.h.trigger': '触发',
    'rl.h.manual': '手动',
    'rl.h.auto': '自动',
    'rl.h.result': '结果',
    'rl.h.ok': '已登录',
    'rl.h.reason': '原因',
    'rl.h.step': '最后步骤',
    'rl.h.duration': '耗时',
    'rl.h.empty': '还没有重新登录记录。',

    'sync.title': '远程同步',
    'sync.push_all': '全部推送',
    'sync.test': '测试连接',
    'sync.push_all.done': '已推送 {synced}/{total} 个账号。',
    'sync.push_all.fail': '已推送 {synced}/{total} 个账号，其余将重试。',
    'sync.test.ok': '对端返回 HTTP {status}。',
    'sync.test.fail': '对端：{error}（HTTP {status}）',
    'sync.url': '每次重新登录后账号推送到 {url}。',
    'sync.no_url': '未设置 remote_sync_url：不推送。',
    'sync.no_key': '未设置 remote_sync_api_key：对端会拒绝推送。',
    'sync.last_success': '上次成功推送：{time}',
    'sync.pending': '等待重试',
    'sync.p.attempts': '尝试次数',
    'sync.p.next': '下次尝试',
    'sync.p.error': '最近错误',

    'settings.d.cookie_check_interval': '两次账号过期检查之间的秒数',
    'settings.d.cookie_retry_interval': '账号重新登录失败后再次尝试前等待的秒数',
    'settings.d.cookie_refresh_concurrency': '同时进行的重新登录数',
    /* chat page */
    'nav.chat': '对话',
    'chat.new': '新对话',
    'chat.list': '对话列表',
    'chat.search': '搜索对话',
    'chat.none': '还没有对话：在下方输入问题即可开始。',
    'chat.none_found': '没有匹配的对话。',
    'chat.untitled': '未命名',
    'chat.rename': '重命名',
    'chat.title': '标题',
    'chat.delete_confirm': '删除对话“{title}”及其全部消息？',
    'chat.empty': '随便问。Enter 发送，Shift+Enter 换行；用“附件”添加图片或'
        + '文件（PDF、文本）。',
    'chat.you': '你',
    'chat.assistant': '助手',
    'chat.reasoning': '思考过程',
    'chat.copy': '复制',
    'chat.model': '模型',
    'chat.stream': '流式',
    'chat.placeholder': '消息',
    'chat.attach': '附件',
    'chat.unattach': '移除 {name}',
    'chat.hint': 'Enter 发送 · Shift+Enter 换行',
    'chat.send': '发送',
    'chat.stop': '停止',
    'chat.stopped': '已停止。',
    'chat.models_failed': '无法列出模型：{msg}',
    'chat.upload_failed': '{name} 上传失败：{msg}',

    /* history page: conversations */
    'history.failed': '失败（{status}）：',
    'history.no_message': '没有记录错误信息',
    'history.empty_answer': '回答为空。',
    'history.turns': '轮数',
    'history.first': '开始于',
    'history.last': '最近活动',
    'history.open_chat': '在对话页打开',
    'history.all_models': '全部模型',
    'history.all_accounts': '全部账号',
    'history.from': '从',
    'history.to': '到',
    'history.clear': '清除',
    'history.has_failed': '失败',
    'history.ok': '正常',
    'history.conversation': '对话',
};

export const LANGS = [
    { code: 'en', label: 'English', table: en },
    { code: 'zh-CN', label: '简体中文', table: zh },
];

const STORE = 'gp-console-lang';

let current = null;

function tableOf(code) {
    const l = LANGS.find((x) => x.code === code);
    return l ? l.table : en;
}

/* the stored choice, else the browser's language */
export function initialLang() {
    let stored = null;

    try {
        stored = localStorage.getItem(STORE);
    } catch (e) {
        stored = null;
    }

    if (stored && LANGS.some((l) => l.code === stored)) {
        return stored;
    }

    const nav = (navigator.languages && navigator.languages[0])
                || navigator.language || 'en';

    return /^zh\b/i.test(nav) ? 'zh-CN' : 'en';
}

export function setLang(code, remember) {
    current = LANGS.some((l) => l.code === code) ? code : 'en';
    document.documentElement.lang = current;

    if (remember) {
        try {
            localStorage.setItem(STORE, current);
        } catch (e) {
            /* private mode: the choice lasts for this page */
        }
    }
}

export function getLang() {
    return current || 'en';
}

export function t(key, vars) {
    let s = tableOf(getLang())[key];

    if (s === undefined) {
        s = en[key];
    }

    if (s === undefined) {
        return key;
    }

    if (vars) {
        s = s.replace(/\{(\w+)\}/g, (m, k) =>
            (Object.prototype.hasOwnProperty.call(vars, k)
             ? String(vars[k]) : m));
    }

    return s;
}

export function has(key) {
    return Object.prototype.hasOwnProperty.call(en, key);
}

/*
 * static markup: data-i18n (text), data-i18n-placeholder,
 * data-i18n-title, data-i18n-aria-label
 */
export function applyStatic(root) {
    root.querySelectorAll('[data-i18n]').forEach((n) => {
        n.textContent = t(n.dataset.i18n);
    });

    root.querySelectorAll('[data-i18n-placeholder]').forEach((n) => {
        n.placeholder = t(n.dataset.i18nPlaceholder);
    });

    root.querySelectorAll('[data-i18n-title]').forEach((n) => {
        n.title = t(n.dataset.i18nTitle);
    });

    root.querySelectorAll('[data-i18n-aria-label]').forEach((n) => {
        n.setAttribute('aria-label', t(n.dataset.i18nAriaLabel));
    });

    document.title = t('app.title');
}
