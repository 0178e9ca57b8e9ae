/**
 * What `exray serve` gives the agent: `/agent.js` loadable from any site, an agent token that survives
 * restarts (0600 on disk, replaceable), and cross-origin access for that token only, to the model
 * routes and the socket — never to sessions, devices or pairing.
 */
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../src/server/serve.ts';
import { api, Client, tempDataDir } from './server-helpers.ts';

const APP = 'http://127.0.0.1:4999';
let dataDir: string;
let server: RunningServer;

beforeAll(async () => {
  dataDir = await tempDataDir();
  const stat = join(dataDir, 'static');
  await mkdir(stat);
  await writeFile(join(stat, 'index.html'), '<!doctype html>');
  await writeFile(join(stat, 'agent.js'), 'export {};');
  server = await startServer({ dataDir, staticDir: stat, port: 0, locate: null });
});

afterAll(async () => {
  await server?.close();
});

describe('the agent token and cross-origin access', () => {
  it('/agent.js is loadable by another site (CORS and CORP); the token is never in it', async () => {
    const r = await api(server.port, '/agent.js', { origin: APP });
    expect(r.status).toBe(200);
    expect(r.headers['access-control-allow-origin']).toBe('*');
    expect(r.headers['cross-origin-resource-policy']).toBe('cross-origin');
    expect(new TextDecoder().decode(r.bytes)).not.toContain(server.credentials.agentToken);
  });

  it('the desktop gets the one line to paste; phones and other sites do not', async () => {
    const r = await api(server.port, '/api/agent');
    const body = r.json as { token: string; line: string; scriptUrls: string[] };
    expect(body.token).toBe(server.credentials.agentToken);
    expect(body.line).toBe(`<script type="module" src="http://127.0.0.1:${server.port}/agent.js#t=${body.token}"></script>`);
    expect((await api(server.port, '/api/agent', { token: server.credentials.agentToken })).status).toBe(403);
    expect((await api(server.port, '/api/agent', { origin: APP, token: server.credentials.desktopToken })).status).toBe(403);
  });

  it('from the app\'s origin: the agent token reaches the model routes (with CORS), nothing else; other tokens are refused', async () => {
    const sha = 'ab'.repeat(32);
    const pre = await api(server.port, `/api/models/${sha}`, { method: 'OPTIONS', origin: APP });
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-origin']).toBe(APP);
    expect(String(pre.headers['access-control-allow-headers'])).toMatch(/authorization/);
    expect(String(pre.headers['access-control-allow-methods'])).toMatch(/PUT/);
    const got = await api(server.port, `/api/models/${sha}`, { origin: APP, token: server.credentials.agentToken });
    expect(got.status).toBe(404);
    expect(got.headers['access-control-allow-origin']).toBe(APP);
    // No token, the desktop's token, another route: refused from a foreign origin.
    expect((await api(server.port, `/api/models/${sha}`, { origin: APP })).status).toBe(403);
    expect((await api(server.port, `/api/models/${sha}`, { origin: APP, token: server.credentials.desktopToken })).status).toBe(403);
    expect((await api(server.port, '/api/sessions', { origin: APP, token: server.credentials.agentToken })).status).toBe(403);
    expect((await api(server.port, '/api/devices', { origin: APP, token: server.credentials.agentToken })).status).toBe(403);
    expect((await api(server.port, '/api/sessions', { token: server.credentials.agentToken })).status).toBe(403);
  });

  it('a socket from the app\'s origin opens with the agent token only', async () => {
    const c = await Client.connect(server.port, server.credentials.agentToken, { headers: { origin: APP } });
    const hello = await c.next('hello');
    expect(hello).toMatchObject({ role: 'device', deviceId: 'agent' });
    c.ws.close();
    await expect(Client.connect(server.port, server.credentials.desktopToken, { headers: { origin: APP } })).rejects.toThrow('HTTP 403');
    await expect(Client.connect(server.port, 'cd'.repeat(16), { headers: { origin: APP } })).rejects.toThrow('HTTP 403');
  });

  it('the agent token survives a restart (agent.json, mode 0600) and --new-agent-token replaces it', async () => {
    const dir = await tempDataDir();
    let s = await startServer({ dataDir: dir, staticDir: null, port: 0, locate: null });
    const first = s.credentials.agentToken;
    await s.close();
    expect((await stat(join(dir, 'agent.json'))).mode & 0o777).toBe(0o600);
    s = await startServer({ dataDir: dir, staticDir: null, port: 0, locate: null });
    expect(s.credentials.agentToken).toBe(first);
    await s.close();
    s = await startServer({ dataDir: dir, staticDir: null, port: 0, locate: null, newAgentToken: true });
    expect(s.credentials.agentToken).not.toBe(first);
    expect((await api(s.port, '/api/models', { token: first })).status).toBe(401);
    await s.close();
  });
});
