/**
 * A short device label from a user agent ("Pixel 7 · Android 13 · Chrome 120"). Only for display in
 * the session list: nothing is decided on it.
 */
export function describeDevice(userAgent: string, fallback: string): string {
  const ua = userAgent;
  const parts: string[] = [];
  const android = /Android ([\d.]+);\s*([^;)]+?)(?:\s+Build\/[^;)]*)?[;)]/.exec(ua);
  if (android) {
    const model = android[2]!.trim();
    if (model && model !== 'K') parts.push(model);
    parts.push(`Android ${android[1]}`);
  } else if (/iPhone/.test(ua)) {
    const v = /OS (\d+)[_.](\d+)/.exec(ua);
    parts.push('iPhone', v ? `iOS ${v[1]}.${v[2]}` : 'iOS');
  } else if (/iPad/.test(ua)) parts.push('iPad');
  else if (/Macintosh/.test(ua)) parts.push('Mac');
  else if (/Windows/.test(ua)) parts.push('Windows');
  else if (/Linux/.test(ua)) parts.push('Linux');
  else if (/^Node\.js|node/i.test(ua)) parts.push('Node.js');
  const browser = /(Edg|Firefox|CriOS|Chrome|Version)\/(\d+)/.exec(ua);
  if (browser) {
    const name = browser[1] === 'Version' ? (/Safari/.test(ua) ? 'Safari' : 'Browser') : browser[1] === 'CriOS' ? 'Chrome' : browser[1] === 'Edg' ? 'Edge' : browser[1]!;
    parts.push(`${name} ${browser[2]}`);
  }
  return parts.length ? parts.join(' · ') : fallback;
}
