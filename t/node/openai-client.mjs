// The official `openai` npm client against nginx with the gemini_pool
// module (and the upstream mock behind it).  Used by t/060-openai-client.t.
//
//   node t/node/openai-client.mjs <baseURL, e.g. http://127.0.0.1:19851/v1> <prompt>
//
// Prints one JSON object on stdout:
//   {sdk_version, node_version,
//    nonstream: {id, object, model, role, content, finish_reason, usage},
//    stream: {chunks, ids, objects, role_first, roles, content, finish_reason},
//    stream_helper: {content, finish_reason},
//    models: {object, ids},
//    not_found: {thrown, is_not_found, is_api_error, name, status, code, type, param, message},
//    cut_error, cut_truncate: {content, chunks, finish_reason, thrown, is_api_error, name, type, code, message},
//    cut_helper: {thrown, is_api_error, name, message},
//    errors: [...]}      (one entry per step that threw unexpectedly)
// and exits 0; the .t judges the values.

import OpenAI, { APIError, NotFoundError } from 'openai';
import { VERSION } from 'openai/version';

const [baseURL, prompt] = process.argv.slice(2);

if (!baseURL || prompt === undefined) {
    console.error('usage: node openai-client.mjs <baseURL> <prompt>');
    process.exit(2);
}

const client = new OpenAI({
    baseURL,
    apiKey: process.env.GEMINI_POOL_API_KEY || 'sk-gemini-pool-test',
    maxRetries: 0,
    timeout: 20000,
});

const out = {
    sdk_version: VERSION,
    node_version: process.version,
    errors: [],
};

async function step(name, fn) {
    try {
        out[name] = await fn();
    } catch (e) {
        out[name] = null;
        out.errors.push(`${name}: ${e && e.constructor ? e.constructor.name : ''}: ${e && e.message}`);
    }
}

const messages = [{ role: 'user', content: prompt }];

await step('nonstream', async () => {
    const r = await client.chat.completions.create({
        model: 'gemini-2.5-flash',
        messages,
    });
    const c = r.choices[0];
    return {
        id: r.id,
        object: r.object,
        model: r.model,
        role: c.message.role,
        content: c.message.content,
        finish_reason: c.finish_reason,
        usage: r.usage,
    };
});

await step('stream', async () => {
    const s = await client.chat.completions.create({
        model: 'gemini-2.5-flash',
        messages,
        stream: true,
    });
    const res = {
        chunks: 0, ids: [], objects: [], roles: [], role_first: false,
        content: '', finish_reason: null,
    };
    for await (const chunk of s) {
        res.chunks++;
        if (!res.ids.includes(chunk.id)) res.ids.push(chunk.id);
        if (!res.objects.includes(chunk.object)) res.objects.push(chunk.object);
        const c = chunk.choices[0];
        if (!c) continue;                       // a usage chunk
        if (c.delta.role) {
            res.roles.push(c.delta.role);
            if (res.chunks === 1) res.role_first = true;
        }
        if (c.delta.content) res.content += c.delta.content;
        if (c.finish_reason) res.finish_reason = c.finish_reason;
    }
    return res;
});

// the SDK's own accumulator (ChatCompletionStream)
await step('stream_helper', async () => {
    const s = client.chat.completions.stream({
        model: 'gemini-2.5-flash',
        messages,
    });
    const final = await s.finalChatCompletion();
    return {
        content: final.choices[0].message.content,
        finish_reason: final.choices[0].finish_reason,
    };
});

await step('models', async () => {
    const page = await client.models.list();
    const ids = [];
    for await (const m of page) ids.push(m.id);
    return { ids };
});

await step('not_found', async () => {
    try {
        await client.chat.completions.create({
            model: 'no-such-model',
            messages,
        });
        return { thrown: false };
    } catch (e) {
        return {
            thrown: true,
            is_not_found: e instanceof NotFoundError,
            is_api_error: e instanceof APIError,
            name: e.constructor.name,
            status: e.status ?? null,
            code: e.code ?? null,
            type: e.type ?? null,
            param: e.param ?? null,
            message: e.message,
        };
    }
});

// an answer cut after it started (the mock's in-stream error, then a
// truncated stream): the chunks so far, then an APIError the caller can
// catch; no chunk says finish_reason "stop"
for (const [name, directive] of [['cut_error', 'MOCK:stream_error'],
                                 ['cut_truncate', 'MOCK:truncate']]) {
    await step(name, async () => {
        const res = {
            content: '', chunks: 0, finish_reason: null, thrown: false,
        };
        try {
            const s = await client.chat.completions.create({
                model: 'gemini-2.5-flash',
                messages: [{ role: 'user', content: `cut ${directive}` }],
                stream: true,
            });
            for await (const chunk of s) {
                res.chunks++;
                const c = chunk.choices[0];
                if (!c) continue;
                if (c.delta.content) res.content += c.delta.content;
                if (c.finish_reason) res.finish_reason = c.finish_reason;
            }
        } catch (e) {
            res.thrown = true;
            res.is_api_error = e instanceof APIError;
            res.name = e.constructor.name;
            res.type = e.type ?? null;
            res.code = e.code ?? null;
            res.message = e.message;
        }
        return res;
    });
}

// the same through the SDK's helper: its promise rejects with the APIError
await step('cut_helper', async () => {
    try {
        const s = client.chat.completions.stream({
            model: 'gemini-2.5-flash',
            messages: [{ role: 'user', content: 'cut MOCK:stream_error' }],
        });
        await s.finalChatCompletion();
        return { thrown: false };
    } catch (e) {
        return {
            thrown: true,
            is_api_error: e instanceof APIError,
            name: e.constructor.name,
            message: e.message,
        };
    }
});

process.stdout.write(JSON.stringify(out) + '\n');
