// Loopback OAuth 2.1 Authorization Server for oscal-mcp end-to-end tests.
//
// Runs oidc-provider (a certified OAuth 2.0 / OpenID Connect server) on 127.0.0.1 only.
// Usage: node server.mjs <config.json>   — prints "READY <port>" on stdout once listening.
//
// Config (JSON):
//   port             integer, the port to bind on 127.0.0.1
//   issuer           "http://127.0.0.1:<port>" optionally followed by a path ("/realms/test");
//                    with a path the provider is mounted under it, and the metadata is ALSO served at
//                    the RFC 8414 path-inserted locations
//                    /.well-known/oauth-authorization-server<path> and /.well-known/openid-configuration<path>
//   clients          oidc-provider client metadata; missing grant_types default to ["client_credentials"],
//                    missing redirect_uris / response_types to [] (confidential machine clients)
//   resources        [{resource, scope, accessTokenFormat: "jwt"|"opaque", accessTokenTTL,
//                      audience?, jwtAlg?: "RS256"|"ES256", jwtKid?, introspectionClients?: [client_id]}]
//   defaultResource  resource URL used when a token request carries no `resource` parameter,
//                    or null: then the token has no audience (oidc-provider's own default)
//   keys             private JWKS (RSA for RS256, EC P-256 for ES256); the first key fitting an alg signs
//   features         {introspection: bool, revocation: bool, dPoP: bool, interactions: bool}
//                    interactions: oidc-provider's development sign-in and consent pages (any login,
//                    any password) for the authorization code grant with PKCE.
//                    dPoP (RFC 9449): a token request with a DPoP proof gets a DPoP-bound token
//                    (cnf.jkt in JWTs and introspection answers); proofs signed with ES256, RS256,
//                    PS256 or EdDSA. Off: the DPoP header is ignored and every token is a bearer token.
//
// Test-only admin endpoints (never delayed, never failing, not counted):
//   GET  /__test/stats         {"paths": {path: n}, "endpoints": {name: n}, "delayMs", "failure"}
//   POST /__test/reset-stats
//   POST /__test/delay         {"ms": N}  (0 disables) delays every non-admin response
//   POST /__test/fail          {"mode": "none"|"500"|"html"|"garbage"|"huge", "endpoints"?: ["jwks", ...]}
//                              misbehaves on the jwks and introspection endpoints (or the given ones)
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { Readable, pipeline } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

import Provider, { errors } from 'oidc-provider';

const HOST = '127.0.0.1';
const ADMIN_PREFIX = '/__test/';
const FAILURE_MODES = new Set(['none', '500', 'html', 'garbage', 'huge']);
const DEFAULT_FAILING_ENDPOINTS = ['jwks', 'introspection'];
const HUGE_BODY_BYTES = 20 * 1024 * 1024;
const DEFAULT_CLIENT_CREDENTIALS_TTL = 600;
const MAX_ADMIN_BODY_BYTES = 64 * 1024;

// Provider-relative route -> logical endpoint name (oidc-provider's default routes).
const ENDPOINTS = new Map([
  ['/.well-known/openid-configuration', 'discovery'],
  ['/.well-known/oauth-authorization-server', 'discovery'],
  ['/jwks', 'jwks'],
  ['/token', 'token'],
  ['/token/introspection', 'introspection'],
  ['/token/revocation', 'revocation'],
]);

function loadConfig(path) {
  if (!path) {
    throw new Error('usage: node server.mjs <config.json>');
  }
  const config = JSON.parse(readFileSync(path, 'utf8'));
  const issuer = new URL(config.issuer);
  if (issuer.hostname !== HOST) {
    throw new Error(`issuer must use host ${HOST}, got ${config.issuer}`);
  }
  if (!Number.isInteger(config.port) || config.port <= 0) {
    throw new Error('config.port must be a positive integer');
  }
  return config;
}

function mountPathOf(issuer) {
  const { pathname } = new URL(issuer);
  return pathname === '/' ? '' : pathname.replace(/\/$/, '');
}

// ---------------------------------------------------------------------------------------------------
// oidc-provider configuration
// ---------------------------------------------------------------------------------------------------

function normalizeClient(client) {
  return {
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
    ...client,
  };
}

function resourceServerInfo(resource) {
  const format = resource.accessTokenFormat ?? 'jwt';
  const info = {
    scope: resource.scope ?? '',
    audience: resource.audience ?? resource.resource,
    accessTokenFormat: format,
  };
  if (resource.accessTokenTTL !== undefined) {
    info.accessTokenTTL = resource.accessTokenTTL;
  }
  if (format === 'jwt') {
    const sign = { alg: resource.jwtAlg ?? 'RS256' };
    if (resource.jwtKid) {
      sign.kid = resource.jwtKid;
    }
    info.jwt = { sign };
  }
  return info;
}

function allScopes(resources) {
  const scopes = new Set(['openid', 'offline_access']);
  for (const resource of resources) {
    for (const scope of (resource.scope ?? '').split(' ')) {
      if (scope) scopes.add(scope);
    }
  }
  return [...scopes];
}

function buildProviderConfiguration(config) {
  const resources = config.resources ?? [];
  const byIndicator = new Map(resources.map((r) => [r.resource, r]));
  const byAudience = new Map(resources.map((r) => [r.audience ?? r.resource, r]));
  const features = config.features ?? {};

  async function getResourceServerInfo(_ctx, resourceIndicator) {
    const resource = byIndicator.get(resourceIndicator);
    if (!resource) {
      throw new errors.InvalidTarget();
    }
    return resourceServerInfo(resource);
  }

  async function defaultResource(_ctx, _client, oneOf) {
    return oneOf ?? config.defaultResource ?? undefined;
  }

  // A token's own client may introspect it; any other (confidential) client only when it is listed in
  // `introspectionClients` of the resource the token was issued for (matched by the token's `aud`).
  async function introspectionAllowed(_ctx, caller, token) {
    if (token.clientId === caller.clientId) return true;
    if (caller.clientAuthMethod === 'none') return false;
    const resource = byAudience.get(token.aud);
    return (resource?.introspectionClients ?? []).includes(caller.clientId);
  }

  // Only the client a token was issued to may revoke it (oidc-provider's default behaviour, made explicit).
  async function revocationAllowed(_ctx, caller, token) {
    if (token.clientId === caller.clientId) return true;
    if (caller.clientAuthMethod === 'none') return false;
    throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
  }

  const clientCredentialsTTL = (_ctx, token) => token.resourceServer?.accessTokenTTL
    ?? config.clientCredentialsTTL ?? DEFAULT_CLIENT_CREDENTIALS_TTL;

  return {
    clients: (config.clients ?? []).map(normalizeClient),
    jwks: config.keys,
    scopes: allScopes(resources),
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    ttl: { ClientCredentials: clientCredentialsTTL },
    enabledJWA: { dPoPSigningAlgValues: ['ES256', 'RS256', 'PS256', 'EdDSA'] },
    features: {
      devInteractions: { enabled: Boolean(features.interactions) },
      clientCredentials: { enabled: true },
      introspection: { enabled: Boolean(features.introspection), allowedPolicy: introspectionAllowed },
      revocation: { enabled: Boolean(features.revocation), allowedPolicy: revocationAllowed },
      dPoP: { enabled: Boolean(features.dPoP) },
      resourceIndicators: {
        enabled: true,
        defaultResource,
        useGrantedResource: async () => true,
        getResourceServerInfo,
      },
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// Test-control state and admin endpoints
// ---------------------------------------------------------------------------------------------------

const state = {
  paths: {},
  endpoints: {},
  delayMs: 0,
  failure: { mode: 'none', endpoints: DEFAULT_FAILING_ENDPOINTS },
};

function count(bucket, key) {
  bucket[key] = (bucket[key] ?? 0) + 1;
}

function sendJson(res, status, body) {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    'cache-control': 'no-store',
  });
  res.end(payload);
}

async function readJsonBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_ADMIN_BODY_BYTES) throw new Error('admin request body too large');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : {};
}

function setDelay(body) {
  const ms = Number(body.ms ?? 0);
  if (!Number.isInteger(ms) || ms < 0) throw new Error('"ms" must be a non-negative integer');
  state.delayMs = ms;
}

function setFailure(body) {
  const mode = String(body.mode ?? 'none');
  if (!FAILURE_MODES.has(mode)) throw new Error(`"mode" must be one of ${[...FAILURE_MODES].join(', ')}`);
  const endpoints = body.endpoints ?? DEFAULT_FAILING_ENDPOINTS;
  if (!Array.isArray(endpoints) || !endpoints.every((e) => typeof e === 'string')) {
    throw new Error('"endpoints" must be an array of endpoint names');
  }
  state.failure = { mode, endpoints };
}

function resetStats() {
  state.paths = {};
  state.endpoints = {};
}

const ADMIN_ROUTES = new Map([
  ['GET stats', () => ({ paths: state.paths, endpoints: state.endpoints, delayMs: state.delayMs, failure: state.failure })],
  ['POST reset-stats', () => { resetStats(); return { ok: true }; }],
  ['POST delay', (body) => { setDelay(body); return { ok: true, delayMs: state.delayMs }; }],
  ['POST fail', (body) => { setFailure(body); return { ok: true, failure: state.failure }; }],
]);

async function handleAdmin(req, res, pathname) {
  const route = ADMIN_ROUTES.get(`${req.method} ${pathname.slice(ADMIN_PREFIX.length)}`);
  if (!route) {
    sendJson(res, 404, { error: 'not_found' });
    return;
  }
  try {
    const body = req.method === 'POST' ? await readJsonBody(req) : {};
    sendJson(res, 200, route(body));
  } catch (err) {
    sendJson(res, 400, { error: 'invalid_request', error_description: err.message });
  }
}

// ---------------------------------------------------------------------------------------------------
// Injected failures
// ---------------------------------------------------------------------------------------------------

function* hugeBody() {
  const chunk = Buffer.alloc(64 * 1024, 'A');
  yield Buffer.from('{"active":false,"keys":[],"padding":"');
  for (let sent = 0; sent < HUGE_BODY_BYTES; sent += chunk.length) yield chunk;
  yield Buffer.from('"}');
}

function misbehave(res, mode) {
  switch (mode) {
    case '500':
      sendJson(res, 500, { error: 'server_error', error_description: 'injected failure' });
      return;
    case 'html': {
      const html = '<!DOCTYPE html><html><head><title>Sign in</title></head><body><h1>Please sign in</h1></body></html>';
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html) });
      res.end(html);
      return;
    }
    case 'garbage': {
      const garbage = Buffer.from('{"keys": [ \u0000\u00ff<<< this is not JSON', 'latin1');
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': garbage.length });
      res.end(garbage);
      return;
    }
    case 'huge':
      // Chunked (no content-length): a client has to enforce its own size cap while streaming.
      res.writeHead(200, { 'content-type': 'application/json' });
      pipeline(Readable.from(hugeBody()), res, () => {});
      return;
    default:
      throw new Error(`unknown failure mode ${mode}`);
  }
}

// ---------------------------------------------------------------------------------------------------
// Routing: mount path + RFC 8414 path-inserted discovery
// ---------------------------------------------------------------------------------------------------

// Returns the provider-relative path for a request path, or undefined when it is not the provider's.
function providerPathFor(pathname, mountPath) {
  if (!mountPath) return pathname;
  if (pathname.startsWith(`${mountPath}/`)) return pathname.slice(mountPath.length);
  for (const wellKnown of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
    if (pathname === `${wellKnown}${mountPath}`) return wellKnown;
  }
  return undefined;
}

function createHandler(provider, mountPath) {
  const callback = provider.callback();

  return async function handle(req, res) {
    const url = new URL(req.url, `http://${HOST}`);
    if (url.pathname.startsWith(ADMIN_PREFIX)) {
      await handleAdmin(req, res, url.pathname);
      return;
    }

    const providerPath = providerPathFor(url.pathname, mountPath);
    const endpoint = ENDPOINTS.get(providerPath) ?? 'other';
    count(state.paths, url.pathname);
    count(state.endpoints, endpoint);

    if (state.delayMs > 0) await sleep(state.delayMs);

    if (providerPath === undefined) {
      sendJson(res, 404, { error: 'not_found' });
      return;
    }
    const { mode, endpoints } = state.failure;
    if (mode !== 'none' && endpoints.includes(endpoint)) {
      misbehave(res, mode);
      return;
    }

    // The same convention as express/connect mounting: oidc-provider derives its mount path from
    // req.originalUrl minus req.url when building endpoint URLs.
    req.originalUrl = `${mountPath}${providerPath}${url.search}`;
    req.url = `${providerPath}${url.search}`;
    callback(req, res);
  };
}

// ---------------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------------

function main() {
  const config = loadConfig(process.argv[2]);
  const provider = new Provider(config.issuer, buildProviderConfiguration(config));
  provider.on('server_error', (_ctx, err) => console.error('oidc-provider server_error:', err));

  const handler = createHandler(provider, mountPathOf(config.issuer));
  const server = http.createServer((req, res) => {
    handler(req, res).catch((err) => {
      console.error('handler error:', err);
      if (!res.headersSent) sendJson(res, 500, { error: 'server_error' });
      else res.destroy();
    });
  });

  server.on('error', (err) => {
    console.error(`listen error: ${err.code ?? ''} ${err.message}`);
    process.exit(err.code === 'EADDRINUSE' ? 3 : 1);
  });

  const shutdown = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);

  server.listen(config.port, HOST, () => {
    process.stdout.write(`READY ${server.address().port}\n`);
  });
}

main();
