// The WebSocket transport of the live channel: the WebSocket API's /ws on the same origin (the local gateway,
// or CloudFront in front of the API), or VITE_WS_URL for a build that talks to the API Gateway stage directly
// (the template's WebSocketUrl output). The access token travels as a sub-protocol (["msk.bearer", token]):
// browsers cannot set headers on a WebSocket and a query string ends up in logs. A dropped connection reconnects
// with capped, jittered exponential backoff, asking for a fresh token each time (the server only checks it on
// connect); a ping every four minutes keeps API Gateway's ten-minute idle timeout away.

const SUBPROTOCOL = "msk.bearer";

export function socketUrl() {
  const configured = import.meta.env.VITE_WS_URL;
  if (configured) return configured;
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
}

/** Delay before reconnect attempt `attempt` (0-based): 1 s, 2 s, 4 s ... capped at `max`, with jitter. */
export function backoff(attempt, max = 30_000, random = Math.random) {
  const base = Math.min(max, 1000 * 2 ** attempt);
  return Math.round(base * (0.5 + random() / 2));
}

export function websocketTransport({ url = socketUrl, pingEvery = 240_000, maxDelay = 30_000 } = {}) {
  return {
    connect({ emit, status, token }) {
      let ws = null;
      let closed = false;
      let attempt = 0;
      let timer = null;
      let pinger = null;

      function retry() {
        if (closed) return;
        status("reconnecting");
        clearTimeout(timer);
        timer = setTimeout(open, backoff(attempt, maxDelay));
        attempt += 1;
      }

      async function open() {
        if (closed) return;
        status(attempt ? "reconnecting" : "connecting");
        let credential = null;
        try {
          credential = await token();
        } catch {
          credential = null;
        }
        if (closed) return;
        if (!credential) return retry();
        const socket = new WebSocket(typeof url === "function" ? url() : url, [SUBPROTOCOL, credential]);
        ws = socket;
        socket.onopen = () => {
          const resumed = attempt > 0;
          attempt = 0;
          status("live");
          pinger = setInterval(() => {
            if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ action: "ping" }));
          }, pingEvery);
          // Events may have been missed while away: let pages refresh once.
          if (resumed) emit({ type: "live.resumed" });
        };
        socket.onmessage = (message) => {
          let event;
          try {
            event = JSON.parse(message.data);
          } catch {
            return;
          }
          if (event && typeof event.type === "string" && event.type !== "pong" && event.type !== "error") emit(event);
        };
        socket.onclose = () => {
          clearInterval(pinger);
          if (ws === socket) ws = null;
          retry();
        };
      }

      const online = () => {
        if (!ws && !closed) {
          attempt = 0;
          clearTimeout(timer);
          open();
        }
      };
      window.addEventListener("online", online);
      open();

      return () => {
        closed = true;
        clearTimeout(timer);
        clearInterval(pinger);
        window.removeEventListener("online", online);
        if (ws) ws.close(1000, "signed out");
        ws = null;
      };
    },
  };
}
