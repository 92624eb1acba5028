// The official `openai` npm client doing tool calls against nginx with the
// gemini_pool module (the upstream mock behind it answers with calls in the
// gateway's convention).  Used by t/126-tools-sdk.t.
//
//   node t/node/openai-tools.mjs <baseURL, e.g. http://127.0.0.1:19851/v1>
//
// Prints one JSON object on stdout:
//   {sdk_version,
//    round_trip: {calls, finish_reason, content, answer},       (not streamed)
//    round_trip_stream: {calls, finish_reason, chunks, answer},  (streamed)
//    stream_helper: {calls, finish_reason},     (ChatCompletionStream)
//    run_tools: {ran, final},                   (the SDK's runTools loop)
//    measure: {prompts, expected, parsed, parsed_stream, misses},
//    errors: [...]}
// and exits 0; the .t judges the values.

import OpenAI from 'openai';
import { VERSION } from 'openai/version';

const [baseURL] = process.argv.slice(2);

if (!baseURL) {
    console.error('usage: node openai-tools.mjs <baseURL>');
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

const tools = [
    {
        type: 'function',
        function: {
            name: 'get_weather',
            description: 'The weather of a city',
            parameters: {
                type: 'object',
                properties: { city: { type: 'string' }, days: { type: 'integer' } },
                required: ['city'],
            },
        },
    },
    {
        type: 'function',
        function: {
            name: 'search',
            description: 'Searches the web',
            parameters: { type: 'object', properties: { q: { type: 'string' } } },
        },
    },
    {
        type: 'function',
        function: {
            name: 'get_time',
            parameters: { type: 'object', properties: { tz: { type: 'string' } } },
        },
    },
    {
        type: 'function',
        function: {
            name: 'convert',
            description: 'Converts an amount of money',
            parameters: {
                type: 'object',
                properties: {
                    amount: { type: 'number' }, from: { type: 'string' }, to: { type: 'string' },
                },
            },
        },
    },
];

// the tools run here, as an application runs them
function runTool(name, args) {
    if (name === 'get_weather') {
        return `18 C in ${args.city}`;
    }
    return `${name} done`;
}

function calls(msg) {
    return (msg.tool_calls || []).map((c) => ({
        id: c.id, type: c.type, name: c.function.name, arguments: c.function.arguments,
    }));
}

// a streamed completion, its tool calls put together from the deltas by index
async function streamed(body) {
    const s = await client.chat.completions.create({ ...body, stream: true });
    const acc = [];
    let content = '';
    let finish = null;
    let chunks = 0;
    for await (const chunk of s) {
        chunks++;
        const ch = chunk.choices[0];
        if (!ch) {
            continue;
        }
        if (ch.delta.content) {
            content += ch.delta.content;
        }
        for (const d of ch.delta.tool_calls || []) {
            const c = acc[d.index] || (acc[d.index] = { id: '', type: '', name: '', arguments: '' });
            if (d.id) c.id = d.id;
            if (d.type) c.type = d.type;
            if (d.function && d.function.name) c.name += d.function.name;
            if (d.function && d.function.arguments) c.arguments += d.function.arguments;
        }
        if (ch.finish_reason) {
            finish = ch.finish_reason;
        }
    }
    return { content, calls: acc, finish_reason: finish, chunks };
}

const ask = 'What is the weather in Paris? get_weather city=Paris';

// a round trip, not streamed: the call, the tool run, its result sent back
await step('round_trip', async () => {
    const messages = [{ role: 'user', content: ask }];
    const r = await client.chat.completions.create({ model: 'gemini-2.5-flash', messages, tools });
    const msg = r.choices[0].message;
    messages.push(msg);
    for (const c of msg.tool_calls || []) {
        messages.push({
            role: 'tool', tool_call_id: c.id,
            content: runTool(c.function.name, JSON.parse(c.function.arguments)),
        });
    }
    const r2 = await client.chat.completions.create({ model: 'gemini-2.5-flash', messages, tools });
    return {
        calls: calls(msg),
        finish_reason: r.choices[0].finish_reason,
        content: msg.content,
        answer: r2.choices[0].message.content,
        answer_finish: r2.choices[0].finish_reason,
    };
});

// the same, streamed both ways
await step('round_trip_stream', async () => {
    const messages = [{ role: 'user', content: ask + ' streamed' }];
    const s = await streamed({ model: 'gemini-2.5-flash', messages, tools });
    messages.push({
        role: 'assistant',
        content: s.content || null,
        tool_calls: s.calls.map((c) => ({
            id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments },
        })),
    });
    for (const c of s.calls) {
        messages.push({
            role: 'tool', tool_call_id: c.id,
            content: runTool(c.name, JSON.parse(c.arguments)),
        });
    }
    const s2 = await streamed({ model: 'gemini-2.5-flash', messages, tools });
    return {
        calls: s.calls, finish_reason: s.finish_reason, chunks: s.chunks,
        content: s.content, answer: s2.content, answer_finish: s2.finish_reason,
    };
});

// the SDK's own accumulator of streamed tool calls
await step('stream_helper', async () => {
    const s = client.chat.completions.stream({
        model: 'gemini-2.5-flash',
        messages: [{ role: 'user', content: 'search q=nginx and get_time tz=UTC' }],
        tools,
    });
    const final = await s.finalChatCompletion();
    return { calls: calls(final.choices[0].message), finish_reason: final.choices[0].finish_reason };
});

// the SDK's tool loop: it runs the functions and sends the results back
await step('run_tools', async () => {
    const ran = [];
    const runner = client.chat.completions.runTools({
        model: 'gemini-2.5-flash',
        messages: [{ role: 'user', content: 'get_weather city=Kyoto please' }],
        tools: [{
            type: 'function',
            function: {
                name: 'get_weather',
                parameters: tools[0].function.parameters,
                parse: JSON.parse,
                function: (args) => { ran.push(args); return runTool('get_weather', args); },
            },
        }],
    });
    const final = await runner.finalContent();
    return { ran, final };
});

// the measurement: a fixed set of tool-use prompts, every call parsed?
const prompts = [
    ['get_weather city=Paris', [['get_weather', { city: 'Paris' }]]],
    ['search q=llamas', [['search', { q: 'llamas' }]]],
    ['get_time tz=UTC', [['get_time', { tz: 'UTC' }]]],
    ['convert amount=3 from=EUR to=USD', [['convert', { amount: 3, from: 'EUR', to: 'USD' }]]],
    ['get_weather city=Oslo days=2 MOCK:tool_format=fenced', [['get_weather', { city: 'Oslo', days: 2 }]]],
    ['search q=tea MOCK:tool_format=bare', [['search', { q: 'tea' }]]],
    ['get_weather city=Lima MOCK:tool_format=prose', [['get_weather', { city: 'Lima' }]]],
    ['get_time tz=CET MOCK:tool_format=unclosed', [['get_time', { tz: 'CET' }]]],
    ['search q=x MOCK:tool_format=fenced_tag', [['search', { q: 'x' }]]],
    ['convert amount=10 from=JPY to=EUR MOCK:tool_format=plain', [['convert', { amount: 10, from: 'JPY', to: 'EUR' }]]],
    ['search q=news then get_weather city=Rome', [['search', { q: 'news' }], ['get_weather', { city: 'Rome' }]]],
    ['get_time tz=PST and search q=time MOCK:tool_format=array', [['get_time', { tz: 'PST' }], ['search', { q: 'time' }]]],
    ['get_weather city=Bern and get_time tz=CET MOCK:tool_format=fenced', [['get_weather', { city: 'Bern' }], ['get_time', { tz: 'CET' }]]],
    ['convert amount=5 from=USD to=GBP then search q=rates MOCK:tool_format=prose', [['convert', { amount: 5, from: 'USD', to: 'GBP' }], ['search', { q: 'rates' }]]],
    ['search q=a get_weather city=b get_time tz=c MOCK:tool_format=bare', [['search', { q: 'a' }], ['get_weather', { city: 'b' }], ['get_time', { tz: 'c' }]]],
    ['get_weather city=Zürich', [['get_weather', { city: 'Zürich' }]]],
    ['search q="quoted" MOCK:tool_format=unclosed', [['search', { q: '"quoted"' }]]],
    ['get_weather city=東京 MOCK:tool_format=fenced_tag', [['get_weather', { city: '東京' }]]],
    ['convert amount=7 MOCK:tool_format=plain and get_time tz=UTC', [['convert', { amount: 7 }], ['get_time', { tz: 'UTC' }]]],
    ['get_weather days=4 city=Nice MOCK:tool_format=array', [['get_weather', { days: 4, city: 'Nice' }]]],
];

function same(got, want) {
    if (got.length !== want.length) {
        return 0;
    }
    let n = 0;
    for (let i = 0; i < want.length; i++) {
        let args;
        try {
            args = JSON.parse(got[i].arguments);
        } catch (e) {
            continue;
        }
        const w = want[i][1];
        const ok = got[i].name === want[i][0]
            && Object.keys(w).length === Object.keys(args).length
            && Object.keys(w).every((k) => args[k] === w[k]);
        if (ok) {
            n++;
        }
    }
    return n;
}

await step('measure', async () => {
    const m = { prompts: prompts.length, expected: 0, parsed: 0, parsed_stream: 0, misses: [] };
    for (const [p, want] of prompts) {
        m.expected += want.length;
        const body = { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: p }], tools };
        const r = await client.chat.completions.create(body);
        const n = same(calls(r.choices[0].message), want);
        const s = await streamed(body);
        const ns = same(s.calls, want);
        m.parsed += n;
        m.parsed_stream += ns;
        if (n !== want.length || ns !== want.length) {
            m.misses.push({ prompt: p, parsed: n, parsed_stream: ns, got: calls(r.choices[0].message) });
        }
    }
    return m;
});

console.log(JSON.stringify(out));
