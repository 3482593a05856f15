// The live-update channel. Pages subscribe to domain-event types ("metrics.synced", "alert.raised",
// "report.ready", ...) and re-fetch what they show; a transport delivers events. No transport is connected in this
// build: the WebSocket API (issue 8, second part) plugs in with `live.use(transport)`, where a transport is
// { connect(emit, token): disconnect }. Until then pages refresh on their own controls and on focus.

const handlers = new Map();
let transport = null;
let disconnect = null;

export const live = {
  status: "off",
  on(type, fn) {
    if (!handlers.has(type)) handlers.set(type, new Set());
    handlers.get(type).add(fn);
    return () => handlers.get(type)?.delete(fn);
  },
  emit(event) {
    for (const key of [event.type, "*"]) handlers.get(key)?.forEach((fn) => fn(event));
  },
  use(t) {
    transport = t;
  },
  start(token) {
    this.stop();
    if (!transport) return;
    disconnect = transport.connect((event) => this.emit(event), token);
    this.status = "connected";
  },
  stop() {
    if (disconnect) disconnect();
    disconnect = null;
    this.status = transport ? "disconnected" : "off";
  },
};
