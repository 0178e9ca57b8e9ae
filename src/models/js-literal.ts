/**
 * A parser for the JavaScript *literal* subset that minified bundles use to embed data: object and
 * array literals, unquoted / quoted keys, strings, numbers (`.5`, `1e-5`, `-3`), `!0` / `!1`,
 * `true` / `false` / `null`, `void 0`. No code is evaluated; anything outside that subset is an error.
 */

export type JsValue = null | boolean | number | string | undefined | JsValue[] | { [key: string]: JsValue };

export class JsLiteralError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(`${message} at offset ${offset}`);
    this.name = 'JsLiteralError';
    this.offset = offset;
  }
}

const IDENT_START = /[A-Za-z_$]/;
const IDENT_PART = /[A-Za-z0-9_$]/;

/** Parse one literal starting at `start` (whitespace allowed before it). Returns the value and the offset just after it. */
export function parseJsLiteral(src: string, start = 0): { value: JsValue; end: number } {
  let i = start;

  const ws = (): void => {
    while (i < src.length) {
      const c = src.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13) i++;
      else break;
    }
  };
  const fail = (what: string): never => {
    throw new JsLiteralError(`${what} (found ${JSON.stringify(src.slice(i, i + 20))})`, i);
  };

  const ident = (): string => {
    const s = i;
    if (!IDENT_START.test(src[i] ?? '')) fail('expected identifier');
    i++;
    while (i < src.length && IDENT_PART.test(src[i] as string)) i++;
    return src.slice(s, i);
  };

  const str = (): string => {
    const quote = src[i];
    i++;
    let out = '';
    let chunk = i;
    for (;;) {
      if (i >= src.length) fail('unterminated string');
      const c = src[i];
      if (c === quote) {
        out += src.slice(chunk, i);
        i++;
        return out;
      }
      if (c === '\n' || c === '\r') fail('newline in string');
      if (c === '\\') {
        out += src.slice(chunk, i);
        const e = src[i + 1];
        i += 2;
        switch (e) {
          case 'n': out += '\n'; break;
          case 't': out += '\t'; break;
          case 'r': out += '\r'; break;
          case 'b': out += '\b'; break;
          case 'f': out += '\f'; break;
          case 'v': out += '\v'; break;
          case '0': out += '\0'; break;
          case 'x': {
            const h = src.slice(i, i + 2);
            if (!/^[0-9a-fA-F]{2}$/.test(h)) fail('bad \\x escape');
            out += String.fromCharCode(parseInt(h, 16));
            i += 2;
            break;
          }
          case 'u': {
            if (src[i] === '{') {
              const close = src.indexOf('}', i);
              const h = src.slice(i + 1, close);
              if (close < 0 || !/^[0-9a-fA-F]{1,6}$/.test(h)) fail('bad \\u{} escape');
              out += String.fromCodePoint(parseInt(h, 16));
              i = close + 1;
            } else {
              const h = src.slice(i, i + 4);
              if (!/^[0-9a-fA-F]{4}$/.test(h)) fail('bad \\u escape');
              out += String.fromCharCode(parseInt(h, 16));
              i += 4;
            }
            break;
          }
          case undefined: fail('unterminated escape'); break;
          default: out += e;
        }
        chunk = i;
        continue;
      }
      i++;
    }
  };

  const num = (): number => {
    const m = /^(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)/.exec(src.slice(i, i + 64));
    if (!m) fail('expected number');
    const text = (m as RegExpExecArray)[0];
    i += text.length;
    return Number(text);
  };

  const value = (): JsValue => {
    ws();
    const c = src[i];
    if (c === '{') {
      i++;
      const obj: { [key: string]: JsValue } = {};
      ws();
      if (src[i] === '}') { i++; return obj; }
      for (;;) {
        ws();
        const k = src[i];
        let key: string;
        if (k === '"' || k === "'") key = str();
        else if (k !== undefined && /[0-9.]/.test(k)) key = String(num());
        else key = ident();
        ws();
        if (src[i] !== ':') fail('expected ":"');
        i++;
        const v = value();
        Object.defineProperty(obj, key, { value: v, enumerable: true, writable: true, configurable: true });
        ws();
        if (src[i] === ',') { i++; ws(); if (src[i] === '}') { i++; return obj; } continue; }
        if (src[i] === '}') { i++; return obj; }
        fail('expected "," or "}"');
      }
    }
    if (c === '[') {
      i++;
      const arr: JsValue[] = [];
      ws();
      if (src[i] === ']') { i++; return arr; }
      for (;;) {
        arr.push(value());
        ws();
        if (src[i] === ',') { i++; ws(); if (src[i] === ']') { i++; return arr; } continue; }
        if (src[i] === ']') { i++; return arr; }
        fail('expected "," or "]"');
      }
    }
    if (c === '"' || c === "'") return str();
    if (c === '-' || c === '+') {
      i++;
      ws();
      const n = num();
      return c === '-' ? -n : n;
    }
    if (c !== undefined && /[0-9.]/.test(c)) return num();
    if (c === '!') {
      i++;
      const n = num();
      if (n !== 0 && n !== 1) fail('only !0 and !1 are supported');
      return n === 0;
    }
    if (c !== undefined && IDENT_START.test(c)) {
      const id = ident();
      if (id === 'true') return true;
      if (id === 'false') return false;
      if (id === 'null') return null;
      if (id === 'void') { ws(); num(); return undefined; }
      if (id === 'NaN') return NaN;
      if (id === 'Infinity') return Infinity;
      i -= id.length;
      fail(`identifier ${id} is not a literal`);
    }
    return fail('expected a literal');
  };

  const v = value();
  return { value: v, end: i };
}
