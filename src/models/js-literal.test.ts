import { describe, expect, it } from 'vitest';
import { JsLiteralError, parseJsLiteral } from './js-literal.ts';

describe('parseJsLiteral', () => {
  it('reads the minified literal subset bundles use', () => {
    const src = `x={a:1,"b c":[.5,-1e-3,!0,!1,null,void 0],'d':"q\\"\\u0041\\x42",e:{},f:[],0:2,__proto__:{z:1}};rest`;
    const { value, end } = parseJsLiteral(src, 2);
    expect(value).toEqual({ a: 1, 'b c': [0.5, -0.001, true, false, null, undefined], d: 'q"AB', e: {}, f: [], 0: 2, ['__proto__']: { z: 1 } });
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(src.slice(end)).toBe(';rest');
  });

  it('refuses code', () => {
    expect(() => parseJsLiteral('{a:foo()}')).toThrow(JsLiteralError);
    expect(() => parseJsLiteral('{a:1+2}')).toThrow(/expected "," or "}"/);
    expect(() => parseJsLiteral('{a:"unterminated}')).toThrow(/unterminated string/);
    expect(() => parseJsLiteral('[1,2')).toThrow(JsLiteralError);
  });
});
