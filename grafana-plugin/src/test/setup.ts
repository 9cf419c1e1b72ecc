// Shared by every unit test; only the panel's component tests run in jsdom (they say so in a
// comment at their top), so the browser stand-ins below apply only where there is a window.
import { afterEach } from 'vitest';

if (typeof window !== 'undefined') {
  const { cleanup } = await import('@testing-library/react');
  // jsdom lacks a few browser APIs @grafana/ui touches while rendering; these stand-ins do nothing.
  class NoopObserver {
    observe(): void {}
    unobserve(): void {}
    disconnect(): void {}
    takeRecords(): [] {
      return [];
    }
  }
  Object.assign(globalThis, { ResizeObserver: NoopObserver, IntersectionObserver: NoopObserver });
  Object.defineProperty(window, 'matchMedia', {
    value: (query: string) => ({ matches: false, media: query, onchange: null, addListener() {}, removeListener() {}, addEventListener() {}, removeEventListener() {}, dispatchEvent: () => false }),
  });
  HTMLCanvasElement.prototype.getContext = (() => null) as unknown as typeof HTMLCanvasElement.prototype.getContext;

  // Testing Library unmounts after each test only when the runner exposes globals; vitest does not here.
  afterEach(() => cleanup());
}
