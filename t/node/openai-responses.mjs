// The official `openai` npm client's Responses API (client.responses)
// against nginx with the gemini_pool module and the upstream mock.  Used
// by t/133-responses-sdk.t.
//
//   node t/node/openai-responses.mjs <baseURL, e.g. http://127.0.0.1:19851/v1> <prompt> <png base64>
//
// Prints one JSON object on stdout:
//   {sdk_version, node_version,
//    nonstream: {id, object, status, model, output_text, items, usage},
//    stream: {events, types, seq_ok, text, completed_text, id},
//    stream_helper: {output_text, status},
//    image: {output_text},
//    follow: {previous_response_id, output_text},
//    not_found: {thrown, is_api_error, status, code, param},
//    cut: {types, thrown, failed, error_code},
//    tools: {items, name, call_id, arguments, answer},
//    tools_stream: {types, name, arguments},
//    errors: [...]}      (one entry per step that threw unexpectedly)
// and exits 0; the .t judges the values.

import OpenAI, { APIError } from 'openai';
import { VERSION } from 'openai/version';

const [baseURL, prompt, png] = process.argv.slice(2);

if (!baseURL || prompt === undefined || !png) {
    console.error('usage: node openai-responses.mjs <baseURL> <prompt> <png>');
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

await step('nonstream', async () => {
    const r = await client.responses.create({
        model: 'gemini-2.5-flash',
        instructions: 'Answer briefly.',
        input: prompt,
    });
    return {
        id: r.id,
        object: r.object,
        status: r.status,
        model: r.model,
        output_text: r.output_text,
        items: r.output.map((i) => i.type),
        usage: r.usage,
    };
});

await step('stream', async () => {
    const s = await client.responses.create({
        model: 'gemini-2.5-flash',
        input: [{ role: 'user', content: [{ type: 'input_text', text: prompt }] }],
        stream: true,
    });
    const res = { events: 0, types: [], seq_ok: true, text: '', completed_text: null, id: null };
    for await (const ev of s) {
        if (ev.sequence_number !== res.events) res.seq_ok = false;
        res.events++;
        if (res.types[res.types.length - 1] !== ev.type) res.types.push(ev.type);
        if (ev.type === 'response.output_text.delta') res.text += ev.delta;
        if (ev.type === 'response.completed') {
            res.completed_text = ev.response.output_text
                ?? ev.response.output[0].content[0].text;
            res.id = ev.response.id;
        }
    }
    return res;
});

// the SDK's own accumulator (ResponseStream)
await step('stream_helper', async () => {
    const s = client.responses.stream({
        model: 'gemini-2.5-flash',
        input: prompt,
    });
    const final = await s.finalResponse();
    // finalResponse() adds no output_text unless it parses: the items
    const text = final.output.filter((i) => i.type === 'message')
        .flatMap((i) => i.content).filter((c) => c.type === 'output_text')
        .map((c) => c.text).join('');
    return { output_text: text, status: final.status };
});

await step('image', async () => {
    const r = await client.responses.create({
        model: 'gemini-2.5-flash',
        input: [{
            role: 'user',
            content: [
                { type: 'input_text', text: 'what is this?' },
                { type: 'input_image', image_url: `data:image/png;base64,${png}` },
            ],
        }],
    });
    return { output_text: r.output_text };
});

await step('follow', async () => {
    const first = await client.responses.create({ input: 'remember me' });
    const r = await client.responses.create({
        input: 'and now?',
        previous_response_id: first.id,
    });
    return { previous_response_id: r.previous_response_id, first: first.id,
             output_text: r.output_text };
});

await step('not_found', async () => {
    try {
        await client.responses.create({
            input: 'x',
            previous_response_id: 'resp_00000000000000000000000000000000',
        });
        return { thrown: false };
    } catch (e) {
        return {
            thrown: true,
            is_api_error: e instanceof APIError,
            status: e.status ?? null,
            code: e.code ?? null,
            param: e.param ?? null,
        };
    }
});

// an answer cut after it started: the events end with response.failed
await step('cut', async () => {
    const res = { types: [], thrown: false, failed: false, error_code: null };
    try {
        const s = await client.responses.create({
            input: 'cut MOCK:stream_error',
            stream: true,
        });
        for await (const ev of s) {
            if (res.types[res.types.length - 1] !== ev.type) res.types.push(ev.type);
            if (ev.type === 'response.failed') {
                res.failed = true;
                res.error_code = ev.response.error && ev.response.error.code;
            }
        }
    } catch (e) {
        res.thrown = true;
    }
    return res;
});

// a tool round trip: the call, then its result continuing the response
const tools = [{
    type: 'function',
    name: 'get_weather',
    description: 'The weather of a city',
    parameters: {
        type: 'object',
        properties: { city: { type: 'string' } },
        required: ['city'],
    },
}];

await step('tools', async () => {
    const r1 = await client.responses.create({
        tools,
        input: 'How warm is it? get_weather city=Paris',
    });
    const call = r1.output.find((i) => i.type === 'function_call');
    const r2 = await client.responses.create({
        tools,
        previous_response_id: r1.id,
        input: [{ type: 'function_call_output', call_id: call.call_id, output: '18 C' }],
    });
    return {
        items: r1.output.map((i) => i.type),
        name: call.name,
        call_id: call.call_id,
        arguments: JSON.parse(call.arguments),
        answer: r2.output_text,
    };
});

// streamed, through the SDK's accumulator
await step('tools_stream', async () => {
    const s = client.responses.stream({
        tools,
        input: 'get_weather city=Oslo',
    });
    const types = [];
    s.on('event', (ev) => { if (types[types.length - 1] !== ev.type) types.push(ev.type); });
    const final = await s.finalResponse();
    const call = final.output.find((i) => i.type === 'function_call');
    return {
        types,
        name: call && call.name,
        arguments: call && JSON.parse(call.arguments),
    };
});

console.log(JSON.stringify(out));
