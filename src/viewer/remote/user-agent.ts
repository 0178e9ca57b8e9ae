/**
 * A short device name from a user agent (`Pixel 7 · Chrome 126`, `iPhone · Safari 17.4`): enough to
 * tell sessions apart in a list. Not device detection: the full UA stays in the session's details.
 */
import type { Environment } from '../../trace/types.ts';

function browserOf(ua: string): string | null {
  const rules: [RegExp, string][] = [
    [/EdgA?\/(\d+)/, 'Edge'],
    [/SamsungBrowser\/(\d+)/, 'Samsung Internet'],
    [/Firefox\/(\d+)/, 'Firefox'],
    [/FxiOS\/(\d+)/, 'Firefox'],
    [/CriOS\/(\d+)/, 'Chrome'],
    [/Chrome\/(\d+)/, 'Chrome'],
    [/Version\/([\d.]+).*Safari/, 'Safari'],
  ];
  for (const [re, name] of rules) {
    const m = re.exec(ua);
    if (m) return `${name} ${m[1]}`;
  }
  return null;
}

function deviceOf(ua: string): string | null {
  if (/iPhone/.test(ua)) return 'iPhone';
  if (/iPad/.test(ua)) return 'iPad';
  const android = /Android [\d.]+; ([^;)]+?)(?: Build\/[^;)]*)?\)/.exec(ua);
  if (android) {
    const model = android[1]!.trim();
    return model === 'K' ? 'Android' : model; // Chrome's reduced UA says only "K"
  }
  if (/Android/.test(ua)) return 'Android';
  if (/Macintosh/.test(ua)) return 'Mac';
  if (/Windows/.test(ua)) return 'Windows';
  if (/CrOS/.test(ua)) return 'ChromeOS';
  if (/Linux/.test(ua)) return 'Linux';
  return null;
}

export function describeUserAgent(ua: string): string {
  const parts = [deviceOf(ua), browserOf(ua)].filter((p): p is string => p !== null);
  return parts.length > 0 ? parts.join(' · ') : ua.slice(0, 40) || 'unknown device';
}

/** The GPU a run reported in run-start (WebGL renderer, or the WebGPU adapter), if any. */
export function gpuOf(env: Environment | undefined): string | null {
  if (!env) return null;
  if (env.webgpu) return [env.webgpu.vendor, env.webgpu.architecture, env.webgpu.description].filter(Boolean).join(' ') || null;
  return env.webgl?.renderer ?? null;
}
