// Starfire's server through the official `openai` npm client, unmodified.
// Run by tests/server/test_openai_client.cpp, which starts `starfire serve`
// with a random-weight model and sets:
//   STARFIRE_URL        http://127.0.0.1:PORT
//   STARFIRE_API_KEY    the key the server requires
//   STARFIRE_MODEL_ID   the id /v1/models reports
//   STARFIRE_EXPECTED   JSON file: {prompt_ids, logprobs, n_embd} from the engine itself
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import OpenAI from 'openai';

const url = process.env.STARFIRE_URL;
const model = process.env.STARFIRE_MODEL_ID;
const expected = JSON.parse(fs.readFileSync(process.env.STARFIRE_EXPECTED, 'utf8'));
const client = new OpenAI({
  baseURL: `${url}/v1`,
  apiKey: process.env.STARFIRE_API_KEY,
  maxRetries: 0,
  timeout: 60_000,
});
const user = (content) => [{ role: 'user', content }];

test('models lists the served model', async () => {
  const page = await client.models.list();
  const ids = page.data.map((m) => m.id);
  assert.deepEqual(ids, [model]);
  const one = await client.models.retrieve(model);
  assert.equal(one.id, model);
});

test('chat completion, plain', async () => {
  const r = await client.chat.completions.create({
    model, messages: user('Tell me a story'), max_tokens: 12, temperature: 0,
  });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.choices.length, 1);
  const c = r.choices[0];
  assert.equal(c.message.role, 'assistant');
  assert.equal(typeof c.message.content, 'string');
  assert.ok(['stop', 'length'].includes(c.finish_reason));
  assert.ok(r.usage.prompt_tokens > 0);
  assert.ok(r.usage.completion_tokens > 0 && r.usage.completion_tokens <= 12);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
});

test('chat streamed gives the same text as plain, and a usage chunk', async () => {
  const params = { model, messages: user('Stream this'), max_tokens: 16, temperature: 0 };
  const plain = await client.chat.completions.create(params);
  const stream = await client.chat.completions.create({
    ...params, stream: true, stream_options: { include_usage: true },
  });
  let text = '';
  let finish = null;
  let usage = null;
  let chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    assert.equal(chunk.object, 'chat.completion.chunk');
    if (chunk.usage) {
      usage = chunk.usage;
      assert.equal(chunk.choices.length, 0);
      continue;
    }
    const c = chunk.choices[0];
    if (c.delta?.content) text += c.delta.content;
    if (c.finish_reason) finish = c.finish_reason;
  }
  assert.ok(chunks > 2);
  assert.equal(text, plain.choices[0].message.content);
  assert.equal(finish, plain.choices[0].finish_reason);
  assert.ok(usage, 'a usage chunk arrives last');
  assert.equal(usage.completion_tokens, plain.usage.completion_tokens);
  assert.equal(usage.prompt_tokens, plain.usage.prompt_tokens);
});

test('stop strings cut the text before the stop and are not returned', async () => {
  const params = { model, messages: user('Say something long'), max_tokens: 40, temperature: 0 };
  const full = (await client.chat.completions.create(params)).choices[0].message.content;
  assert.ok(full.length >= 12, `need some text, got ${JSON.stringify(full)}`);
  const stop = full.slice(6, 9);
  const cut = await client.chat.completions.create({ ...params, stop: [stop, 'never-appears'] });
  assert.equal(cut.choices[0].message.content, full.slice(0, full.indexOf(stop)));
  assert.equal(cut.choices[0].finish_reason, 'stop');
  // The same through the stream.
  const stream = await client.chat.completions.create({ ...params, stop, stream: true });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  assert.equal(text, full.slice(0, full.indexOf(stop)));
});

test('a seed reproduces a sampled completion; n gives several choices', async () => {
  const params = {
    model, messages: user('Random please'), max_tokens: 16, temperature: 1.0, top_p: 0.95,
    seed: 1234, n: 3,
  };
  const a = await client.chat.completions.create(params);
  const b = await client.chat.completions.create(params);
  assert.equal(a.choices.length, 3);
  assert.deepEqual(a.choices.map((c) => c.index), [0, 1, 2]);
  assert.deepEqual(a.choices.map((c) => c.message.content), b.choices.map((c) => c.message.content));
  const texts = new Set(a.choices.map((c) => c.message.content));
  assert.ok(texts.size > 1, 'the n choices of one call differ');
});

test('penalties, logit_bias and logprobs are accepted and reported', async () => {
  const r = await client.chat.completions.create({
    model, messages: user('Penalize'), max_tokens: 8, temperature: 0,
    frequency_penalty: 1.5, presence_penalty: 0.5, logit_bias: { 2: -100 },
    logprobs: true, top_logprobs: 3,
  });
  const lp = r.choices[0].logprobs.content;
  assert.equal(lp.length, r.usage.completion_tokens);
  for (const t of lp) {
    assert.ok(t.logprob <= 0);
    assert.equal(t.top_logprobs.length, 3);
    assert.ok(Array.isArray(t.bytes));
  }
});

test('completions with echo + logprobs equal the engine\'s own logits', async () => {
  const r = await client.completions.create({
    model, prompt: expected.prompt_ids, max_tokens: 0, echo: true, logprobs: 1,
  });
  const lp = r.choices[0].logprobs;
  assert.equal(lp.token_logprobs.length, expected.prompt_ids.length);
  assert.equal(lp.token_logprobs[0], null);
  for (let i = 1; i < expected.logprobs.length; i++) {
    assert.ok(Math.abs(lp.token_logprobs[i] - expected.logprobs[i]) < 1e-4,
      `position ${i}: ${lp.token_logprobs[i]} vs ${expected.logprobs[i]}`);
  }
  assert.equal(r.usage.completion_tokens, 0);
});

test('completions: text prompt, streaming, suffix refused', async () => {
  const r = await client.completions.create({ model, prompt: 'Once upon', max_tokens: 6, temperature: 0 });
  assert.equal(r.object, 'text_completion');
  const stream = await client.completions.create({
    model, prompt: 'Once upon', max_tokens: 6, temperature: 0, stream: true,
  });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
  assert.equal(text, r.choices[0].text);
  await assert.rejects(
    client.completions.create({ model, prompt: 'x', suffix: 'y', max_tokens: 2 }),
    (e) => e.status === 400 && /suffix/.test(e.message));
});

test('embeddings: float and base64 (the client decodes it), unit length', async () => {
  const f = await client.embeddings.create({ model, input: ['hello', 'world'], encoding_format: 'float' });
  assert.equal(f.data.length, 2);
  assert.equal(f.data[0].embedding.length, expected.n_embd);
  const norm = Math.sqrt(f.data[0].embedding.reduce((s, x) => s + x * x, 0));
  assert.ok(Math.abs(norm - 1) < 1e-4);
  const b = await client.embeddings.create({ model, input: 'hello' });  // base64 by default
  assert.equal(b.data[0].embedding.length, expected.n_embd);
  for (let i = 0; i < expected.n_embd; i++)
    assert.ok(Math.abs(b.data[0].embedding[i] - f.data[0].embedding[i]) < 1e-6);
  assert.ok(f.usage.prompt_tokens > 0);
});

const weather = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string', maxLength: 8 }, days: { type: 'integer' } },
      required: ['city', 'days'],
    },
  },
};

test('tool calls come back in tool_calls with finish_reason tool_calls', async () => {
  const r = await client.chat.completions.create({
    model, messages: user('Weather in Oslo?'), tools: [weather], tool_choice: 'required',
    max_tokens: 200, temperature: 0.7, seed: 3,
  });
  const c = r.choices[0];
  assert.equal(c.finish_reason, 'tool_calls');
  assert.equal(c.message.tool_calls.length, 1);
  const call = c.message.tool_calls[0];
  assert.equal(call.type, 'function');
  assert.equal(call.function.name, 'get_weather');
  assert.match(call.id, /^call_/);
  const args = JSON.parse(call.function.arguments);
  assert.equal(typeof args.city, 'string');
  assert.ok(Number.isInteger(args.days));
  // A named function, streamed: the client's accumulator sees a tool call delta.
  const stream = await client.chat.completions.create({
    model, messages: user('Weather?'), tools: [weather],
    tool_choice: { type: 'function', function: { name: 'get_weather' } },
    max_tokens: 200, stream: true, seed: 4,
  });
  let name = '';
  let argText = '';
  let finish = null;
  for await (const chunk of stream) {
    const ch = chunk.choices[0];
    for (const tc of ch?.delta?.tool_calls ?? []) {
      name += tc.function?.name ?? '';
      argText += tc.function?.arguments ?? '';
    }
    if (ch?.finish_reason) finish = ch.finish_reason;
  }
  assert.equal(name, 'get_weather');
  assert.equal(finish, 'tool_calls');
  assert.equal(typeof JSON.parse(argText).city, 'string');
});

test('json_schema output parses and matches the schema', async () => {
  const schema = {
    type: 'object',
    properties: {
      name: { type: 'string', maxLength: 10 },
      age: { type: 'integer' },
      mood: { enum: ['happy', 'sad'] },
      tags: { type: 'array', items: { type: 'boolean' }, maxItems: 3 },
    },
    required: ['name', 'age', 'mood', 'tags'],
    additionalProperties: false,
  };
  for (const seed of [1, 2, 3]) {
    const r = await client.chat.completions.create({
      model, messages: user('Describe a person as JSON'), max_tokens: 300, temperature: 0.8, seed,
      response_format: { type: 'json_schema', json_schema: { name: 'person', schema, strict: true } },
    });
    const c = r.choices[0];
    assert.equal(c.finish_reason, 'stop', c.message.content);
    const v = JSON.parse(c.message.content);
    assert.deepEqual(Object.keys(v).sort(), ['age', 'mood', 'name', 'tags']);
    assert.equal(typeof v.name, 'string');
    assert.ok(Number.isInteger(v.age));
    assert.ok(['happy', 'sad'].includes(v.mood));
    assert.ok(Array.isArray(v.tags) && v.tags.length <= 3 && v.tags.every((t) => typeof t === 'boolean'));
  }
  const o = await client.chat.completions.create({
    model, messages: user('Any JSON object'), max_tokens: 300, temperature: 0, seed: 9,
    response_format: { type: 'json_object' },
  });
  if (o.choices[0].finish_reason === 'stop') {
    const v = JSON.parse(o.choices[0].message.content);
    assert.equal(typeof v, 'object');
  }
});

test('bad requests are API errors with OpenAI\'s shape', async () => {
  const cases = [
    [{ model, messages: 'not a list' }, 400, /messages/],
    [{ model, messages: user('x'), n: 1000 }, 400, /'n'/],
    [{ model, messages: user('x'), temperature: 'hot' }, 400, /temperature/],
    [{ model, messages: user('x'), max_tokens: 1e9 }, 400, /max_tokens/],
    [{ model, messages: [{ role: 'robot', content: 'x' }] }, 400, /role/],
    [{ model, messages: user('x'), tool_choice: 'required' }, 400, /tools/],
  ];
  for (const [body, status, re] of cases) {
    await assert.rejects(client.chat.completions.create(body), (e) => {
      assert.ok(e instanceof OpenAI.APIError, String(e));
      assert.equal(e.status, status);
      assert.match(e.message, re);
      assert.equal(e.type, 'invalid_request_error');
      return true;
    });
  }
  const noKey = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'wrong', maxRetries: 0 });
  await assert.rejects(noKey.models.list(), (e) => e instanceof OpenAI.AuthenticationError);
});
