// The live-update channel. Pages subscribe to domain-event types ("metrics.synced", "alert.opened",
// "report.ready", ...) or "*" and re-fetch what they show; a transport delivers the events. The WebSocket transport
// (live_socket.js) is plugged in by main.js with `live.use(...)`; a transport is
// { connect({ emit, status, token }): disconnect }, where `token` is an async function returning a fresh access
// token (asked again on every reconnect) and `status` reports "connecting" | "live" | "reconnecting".

const handlers = new Map();
const statusListeners = new Set();
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
  /** Called with the new status ("off", "connecting", "live", "reconnecting", "disconnected") on each change. */
  onStatus(fn) {
    statusListeners.add(fn);
    return () => statusListeners.delete(fn);
  },
  setStatus(status) {
    if (status === this.status) return;
    this.status = status;
    statusListeners.forEach((fn) => fn(status));
  },
  use(t) {
    transport = t;
  },
  /** `token`: an access token or an async function returning a fresh one. */
  start(token) {
    this.stop();
    if (!transport) return;
    const getToken = typeof token === "function" ? token : async () => token;
    disconnect = transport.connect({
      emit: (event) => this.emit(event),
      status: (status) => this.setStatus(status),
      token: getToken,
    });
  },
  stop() {
    if (disconnect) disconnect();
    disconnect = null;
    this.setStatus(transport ? "disconnected" : "off");
  },
};
