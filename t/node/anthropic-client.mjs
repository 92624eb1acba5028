// The official `@anthropic-ai/sdk` client against nginx with the
// gemini_pool module (and the upstream mock behind it).  Used by
// t/137-surfaces-sdk.t.
//
//   node t/node/anthropic-client.mjs <baseURL, e.g. http://127.0.0.1:19851> <prompt> <png base64>
//
// Prints one JSON object on stdout (the steps' results and an "errors"
// list of the steps that threw unexpectedly) and exits 0; the .t judges
// the values.

import Anthropic, { APIError } from '@anthropic-ai/sdk';
import { VERSION } from '@anthropic-ai/sdk/version';

const [baseURL, prompt, png] = process.argv.slice(2);

if (!baseURL || prompt === undefined || !png) {
    console.error('usage: node anthropic-client.mjs <baseURL> <prompt> <png>');
    process.exit(2);
}

const client = new Anthropic({
    baseURL,
    apiKey: process.env.GEMINI_POOL_API_KEY || 'sk-gemini-pool-test',
    maxRetries: 0,
    timeout: 20000,
});

const out = { sdk_version: VERSION, node_version: process.version, errors: [] };

async function step(name, fn) {
    try {
        out[name] = await fn();
    } catch (e) {
        out[name] = null;
        out.errors.push(`${name}: ${e && e.constructor ? e.constructor.name : ''}: ${e && e.message}`);
    }
}

const model = 'gemini-2.5-flash';
const tools = [{
    name: 'get_weather',
    description: 'The weather of a city',
    input_schema: {
        type: 'object',
        properties: { city: { type: 'string' } },
        required: ['city'],
    },
}];

function blocks(content) {
    return content.map((b) => b.type);
}

function text(content) {
    return content.filter((b) => b.type === 'text').map((b) => b.text).join('');
}

await step('nonstream', async () => {
    const m = await client.messages.create({
        model, max_tokens: 256, system: 'be brief',
        messages: [{ role: 'user', content: prompt }],
    });
    return {
        id: m.id, type: m.type, role: m.role, model: m.model,
        blocks: blocks(m.content), text: text(m.content),
        stop_reason: m.stop_reason, usage: m.usage,
    };
});

// stream: true, the raw events
await step('stream', async () => {
    const s = await client.messages.create({
        model, max_tokens: 256, stream: true,
        messages: [{ role: 'user', content: prompt }],
    });
    const res = { events: [], text: '', stop_reason: null, usage: null };
    for await (const e of s) {
        if (res.events[res.events.length - 1] !== e.type) res.events.push(e.type);
        if (e.type === 'content_block_delta' && e.delta.type === 'text_delta') {
            res.text += e.delta.text;
        }
        if (e.type === 'message_delta') {
            res.stop_reason = e.delta.stop_reason;
            res.usage = e.usage;
        }
    }
    return res;
});

// the SDK's helper (MessageStream): its own accumulator
await step('stream_helper', async () => {
    const s = client.messages.stream({
        model, max_tokens: 256,
        messages: [{ role: 'user', content: prompt }],
    });
    let texts = '';
    s.on('text', (t) => { texts += t; });
    const m = await s.finalMessage();
    return {
        text: text(m.content), on_text: texts,
        stop_reason: m.stop_reason, usage: m.usage,
    };
});

await step('image', async () => {
    const m = await client.messages.create({
        model, max_tokens: 256,
        messages: [{
            role: 'user',
            content: [
                { type: 'image', source: { type: 'base64', media_type: 'image/png', data: png } },
                { type: 'text', text: 'what is it' },
            ],
        }],
    });
    return { text: text(m.content) };
});

// a tool round trip: the call, then its result in the next turn
await step('tools', async () => {
    const ask = { role: 'user', content: 'get_weather city=Paris' };
    const m = await client.messages.create({
        model, max_tokens: 256, tools, messages: [ask],
    });
    const use = m.content.find((b) => b.type === 'tool_use');
    const r = await client.messages.create({
        model, max_tokens: 256, tools,
        messages: [
            ask,
            { role: 'assistant', content: m.content },
            {
                role: 'user',
                content: [{ type: 'tool_result', tool_use_id: use && use.id, content: '18 C and sunny' }],
            },
        ],
    });
    return {
        stop_reason: m.stop_reason, blocks: blocks(m.content),
        name: use && use.name, input: use && use.input, id: use && use.id,
        answer: text(r.content), answer_stop: r.stop_reason,
    };
});

// the same call streamed: input_json_delta through the helper
await step('tools_stream', async () => {
    const s = client.messages.stream({
        model, max_tokens: 256, tools,
        messages: [{ role: 'user', content: 'get_weather city=Oslo' }],
    });
    let json = '';
    s.on('inputJson', (partial) => { json += partial; });
    const m = await s.finalMessage();
    const use = m.content.find((b) => b.type === 'tool_use');
    return {
        stop_reason: m.stop_reason, blocks: blocks(m.content),
        name: use && use.name, input: use && use.input, json,
    };
});

await step('count', async () => {
    const c = await client.messages.countTokens({
        model, system: 'be brief', messages: [{ role: 'user', content: prompt }],
    });
    return c;
});

await step('not_found', async () => {
    try {
        await client.messages.create({
            model: 'claude-nope', max_tokens: 8,
            messages: [{ role: 'user', content: prompt }],
        });
        return { thrown: false };
    } catch (e) {
        return {
            thrown: true, is_api_error: e instanceof APIError,
            name: e.constructor.name, status: e.status ?? null,
            type: e.error && e.error.error ? e.error.error.type : null,
        };
    }
});

// an answer cut after it started: the text so far, then an APIError
await step('cut', async () => {
    const res = { text: '', events: [], thrown: false };
    try {
        const s = await client.messages.create({
            model, max_tokens: 256, stream: true,
            messages: [{ role: 'user', content: 'cut MOCK:stream_error' }],
        });
        for await (const e of s) {
            res.events.push(e.type);
            if (e.type === 'content_block_delta' && e.delta.type === 'text_delta') {
                res.text += e.delta.text;
            }
        }
    } catch (e) {
        res.thrown = true;
        res.is_api_error = e instanceof APIError;
        res.name = e.constructor.name;
        res.message = e.message;
    }
    return res;
});

// what the SDK's models call gets from GET /v1/models (OpenAI's list)
await step('models', async () => {
    const page = await client.models.list();
    const ids = [];
    for await (const m of page) ids.push(m.id);
    return { ids };
});

process.stdout.write(JSON.stringify(out) + '\n');
