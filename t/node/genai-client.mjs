// The official `@google/genai` client against nginx with the gemini_pool
// module (and the upstream mock behind it), its base URL pointed at
// nginx.  Used by t/137-surfaces-sdk.t.
//
//   node t/node/genai-client.mjs <baseUrl, e.g. http://127.0.0.1:19851> <prompt> <png base64>
//
// Prints one JSON object on stdout (the steps' results and an "errors"
// list of the steps that threw unexpectedly) and exits 0; the .t judges
// the values.

import { GoogleGenAI, ApiError } from '@google/genai';
import { readFileSync } from 'node:fs';

const [baseUrl, prompt, png] = process.argv.slice(2);

if (!baseUrl || prompt === undefined || !png) {
    console.error('usage: node genai-client.mjs <baseUrl> <prompt> <png>');
    process.exit(2);
}

const sdk_version = JSON.parse(readFileSync(new URL(
    './node_modules/@google/genai/package.json', import.meta.url))).version;

const ai = new GoogleGenAI({
    apiKey: process.env.GEMINI_POOL_API_KEY || 'sk-gemini-pool-test',
    httpOptions: { baseUrl, timeout: 20000 },
});

const out = { sdk_version, node_version: process.version, errors: [] };

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
    functionDeclarations: [{
        name: 'get_weather',
        description: 'The weather of a city',
        parameters: {
            type: 'object',
            properties: { city: { type: 'string' } },
            required: ['city'],
        },
    }],
}];

await step('nonstream', async () => {
    const r = await ai.models.generateContent({
        model, contents: prompt, config: { systemInstruction: 'be brief' },
    });
    return {
        text: r.text,
        finish_reason: r.candidates[0].finishReason,
        role: r.candidates[0].content.role,
        usage: r.usageMetadata,
        model_version: r.modelVersion,
    };
});

await step('stream', async () => {
    const s = await ai.models.generateContentStream({ model, contents: prompt });
    const res = { chunks: 0, text: '', finish_reason: null, usage: null };
    for await (const c of s) {
        res.chunks++;
        res.text += c.text ?? '';
        if (c.candidates && c.candidates[0].finishReason) {
            res.finish_reason = c.candidates[0].finishReason;
        }
        if (c.usageMetadata) res.usage = c.usageMetadata;
    }
    return res;
});

await step('image', async () => {
    const r = await ai.models.generateContent({
        model,
        contents: [{
            role: 'user',
            parts: [{ inlineData: { mimeType: 'image/png', data: png } }, { text: 'what is it' }],
        }],
    });
    return { text: r.text };
});

// a tool round trip: the call, then its functionResponse in the next turn
await step('tools', async () => {
    const ask = { role: 'user', parts: [{ text: 'get_weather city=Paris' }] };
    const r = await ai.models.generateContent({ model, contents: [ask], config: { tools } });
    const calls = r.functionCalls || [];
    const call = calls[0] || {};
    const r2 = await ai.models.generateContent({
        model,
        contents: [
            ask,
            r.candidates[0].content,
            {
                role: 'user',
                parts: [{ functionResponse: { id: call.id, name: call.name, response: { result: '18 C and sunny' } } }],
            },
        ],
        config: { tools },
    });
    return {
        ncalls: calls.length, name: call.name, args: call.args, id: call.id,
        finish_reason: r.candidates[0].finishReason, answer: r2.text,
    };
});

await step('tools_stream', async () => {
    const s = await ai.models.generateContentStream({
        model, contents: 'get_weather city=Oslo', config: { tools },
    });
    const res = { calls: [] };
    for await (const c of s) {
        for (const f of c.functionCalls || []) res.calls.push({ name: f.name, args: f.args });
    }
    return res;
});

await step('count', async () => {
    const r = await ai.models.countTokens({ model, contents: prompt });
    return { total: r.totalTokens };
});

await step('models', async () => {
    const pager = await ai.models.list();
    const names = [];
    for await (const m of pager) names.push(m.name);
    return { names };
});

await step('not_found', async () => {
    try {
        await ai.models.generateContent({ model: 'nope', contents: prompt });
        return { thrown: false };
    } catch (e) {
        return {
            thrown: true, is_api_error: e instanceof ApiError,
            name: e.constructor.name, status: e.status ?? null,
            message: e.message,
        };
    }
});

// an answer cut after it started: the text so far, then an ApiError
await step('cut', async () => {
    const res = { text: '', thrown: false, finish_reason: null };
    try {
        const s = await ai.models.generateContentStream({
            model, contents: 'cut MOCK:stream_error',
        });
        for await (const c of s) {
            res.text += c.text ?? '';
            if (c.candidates && c.candidates[0].finishReason) {
                res.finish_reason = c.candidates[0].finishReason;
            }
        }
    } catch (e) {
        res.thrown = true;
        res.is_api_error = e instanceof ApiError;
        res.name = e.constructor.name;
        res.status = e.status ?? null;
        res.message = e.message;
    }
    return res;
});

process.stdout.write(JSON.stringify(out) + '\n');
