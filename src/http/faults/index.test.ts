import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { describe, expect, it } from 'vitest';
import {
  ApiFault,
  badRequest,
  conflict,
  faultName,
  forbidden,
  INTERNAL_ERROR_MESSAGE,
  methodNotAllowed,
  notAcceptable,
  notFound,
  notImplemented,
  onApiError,
  onNotFound,
  requestEntityTooLarge,
  serviceUnavailable,
  unauthorized,
  unsupportedMediaType,
} from './index.js';

function appThrowing(err: unknown, logged: object[] = []) {
  const app = new Hono();
  app.onError(onApiError({ logger: { error: (obj) => logged.push(obj) } }));
  app.notFound(onNotFound);
  app.get('/boom', () => {
    throw err;
  });
  return app;
}

describe('fault names follow Cinder', () => {
  it.each([
    [400, 'badRequest'],
    [401, 'unauthorized'],
    [403, 'forbidden'],
    [404, 'itemNotFound'],
    [405, 'badMethod'],
    [406, 'computeFault'],
    [409, 'conflictingRequest'],
    [413, 'overLimit'],
    [415, 'badMediaType'],
    [500, 'computeFault'],
    [501, 'notImplemented'],
    [502, 'computeFault'],
    [503, 'serviceUnavailable'],
  ])('%i -> %s', (code, name) => {
    expect(faultName(code)).toBe(name);
  });

  it.each([
    [badRequest('x'), 400, 'badRequest'],
    [unauthorized('x'), 401, 'unauthorized'],
    [forbidden('x'), 403, 'forbidden'],
    [notFound('x'), 404, 'itemNotFound'],
    [methodNotAllowed('x'), 405, 'badMethod'],
    [notAcceptable('x'), 406, 'computeFault'],
    [conflict('x'), 409, 'conflictingRequest'],
    [requestEntityTooLarge('x'), 413, 'overLimit'],
    [unsupportedMediaType('x'), 415, 'badMediaType'],
    [notImplemented('x'), 501, 'notImplemented'],
    [serviceUnavailable('x'), 503, 'serviceUnavailable'],
  ])('helper builds %s', (fault, code, name) => {
    expect(fault).toBeInstanceOf(ApiFault);
    expect(fault.toJSON()).toEqual({ [name]: { code, message: 'x' } });
  });

  it('uses webob default messages when none is given', () => {
    expect(notFound().message).toBe('The resource could not be found.');
    expect(new ApiFault(500).message).toBe(INTERNAL_ERROR_MESSAGE);
  });
});

describe('onError / notFound handlers', () => {
  it('renders an ApiFault exactly, with its headers', async () => {
    const app = appThrowing(unauthorized('no', { 'WWW-Authenticate': 'Keystone uri="http://k"' }));
    const res = await app.request('/boom');
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('www-authenticate')).toBe('Keystone uri="http://k"');
    expect(await res.json()).toEqual({ unauthorized: { code: 401, message: 'no' } });
  });

  it("repeats a 413's Retry-After in the body as retryAfter, as Cinder's Fault does", async () => {
    const res = await appThrowing(requestEntityTooLarge('VolumeSizeExceedsLimit: too big', { 'Retry-After': '0' })).request('/boom');
    expect([res.status, res.headers.get('retry-after')]).toEqual([413, '0']);
    expect(await res.json()).toEqual({ overLimit: { code: 413, message: 'VolumeSizeExceedsLimit: too big', retryAfter: '0' } });
    // Only a 413's body carries it (a 503 says Retry-After in its header alone).
    expect(new ApiFault(503, undefined, { 'Retry-After': '1' }).toJSON()).toEqual({ serviceUnavailable: { code: 503, message: expect.any(String) } });
    expect(requestEntityTooLarge('Request is too large.').toJSON()).toEqual({ overLimit: { code: 413, message: 'Request is too large.' } });
  });

  it('hides unexpected errors behind a computeFault 500 and logs them', async () => {
    const logged: object[] = [];
    const res = await appThrowing(new Error('db password is hunter2'), logged).request('/boom');
    expect(res.status).toBe(500);
    const body = await res.json();
    expect(body).toEqual({
      computeFault: {
        code: 500,
        message: 'The server has either erred or is incapable of performing the requested operation.',
      },
    });
    expect(JSON.stringify(body)).not.toContain('hunter2');
    expect(logged).toHaveLength(1);
  });

  it("maps Hono's HTTPException by status", async () => {
    const res = await appThrowing(new HTTPException(413, { message: 'Payload Too Large' })).request('/boom');
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ overLimit: { code: 413, message: 'Payload Too Large' } });
  });

  it('answers unknown routes with itemNotFound', async () => {
    const res = await appThrowing(badRequest()).request('/nowhere');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ itemNotFound: { code: 404, message: 'The resource could not be found.' } });
  });
});
