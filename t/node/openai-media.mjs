// The official `openai` npm client and generated media: images.generate
// (url and b64_json), and chat completions whose media come as content
// parts (image_format "array") or Markdown, plain and streamed.  Used by
// t/091-media-sdk.t.
//
//   node t/node/openai-media.mjs <baseURL, e.g. http://127.0.0.1:19851/v1>
//
// Prints one JSON object on stdout and exits 0; the .t judges the values:
//   {sdk_version,
//    generate_url: {created, n, url}, generate_b64: {n, b64_prefix},
//    chat_array: {types, url}, chat_markdown: {content},
//    stream_markdown: {content}, errors: [...]}

import OpenAI from 'openai';
import { VERSION } from 'openai/version';

const [baseURL] = process.argv.slice(2);

if (!baseURL) {
    console.error('usage: node openai-media.mjs <baseURL>');
    process.exit(2);
}

const client = new OpenAI({
    baseURL,
    apiKey: process.env.GEMINI_POOL_API_KEY || 'sk-gemini-pool-test',
    maxRetries: 0,
    timeout: 20000,
});

const out = { sdk_version: VERSION, errors: [] };

async function step(name, fn) {
    try {
        out[name] = await fn();
    } catch (e) {
        out[name] = null;
        out.errors.push(`${name}: ${e && e.constructor ? e.constructor.name : ''}: ${e && e.message}`);
    }
}

await step('generate_url', async () => {
    const r = await client.images.generate({
        model: 'dall-e-3', prompt: 'a red fox', n: 1, size: '1024x1024',
    });
    return { created: r.created, n: r.data.length, url: r.data[0].url };
});

await step('generate_b64', async () => {
    const r = await client.images.generate({
        prompt: 'two foxes MOCK:images=2', n: 2, response_format: 'b64_json',
    });
    return {
        n: r.data.length,
        b64_prefix: r.data.map((d) => d.b64_json.slice(0, 12)),
    };
});

const messages = [{ role: 'user', content: 'draw a cat' }];

await step('chat_array', async () => {
    const r = await client.chat.completions.create({
        model: 'gemini-image', messages, image_format: 'array',
    });
    const parts = r.choices[0].message.content;
    return {
        types: parts.map((p) => p.type),
        url: parts.filter((p) => p.type === 'image_url')[0].image_url.url,
    };
});

await step('chat_markdown', async () => {
    const r = await client.chat.completions.create({
        model: 'gemini-image', messages,
    });
    return { content: r.choices[0].message.content };
});

await step('stream_markdown', async () => {
    const s = await client.chat.completions.create({
        model: 'gemini-image', messages, stream: true,
    });
    let content = '';
    for await (const chunk of s) {
        const d = chunk.choices[0] && chunk.choices[0].delta;
        if (d && typeof d.content === 'string') content += d.content;
    }
    return { content };
});

console.log(JSON.stringify(out));
