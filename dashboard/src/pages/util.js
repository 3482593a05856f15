import { api } from "../api.js";

/** Run fn over items with at most `limit` in flight (the gateway and Lambda concurrency are finite). */
export async function pool(list, limit, fn) {
  const out = new Array(list.length);
  let next = 0;
  async function worker() {
    while (next < list.length) {
      const i = next++;
      try {
        out[i] = { ok: true, value: await fn(list[i], i) };
      } catch (error) {
        out[i] = { ok: false, error };
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, list.length) }, worker));
  return out;
}

/** Goal check for one KPI: {target, direction, met} or null when the client set no goal. */
export function goalCheck(client, kpi, value) {
  const target = client?.goals?.[kpi];
  if (target === undefined || target === null) return null;
  const direction = client.goal_direction?.[kpi] || (["cpa", "cpc", "cpm", "cpl"].includes(kpi) ? "min" : "max");
  if (value === null || value === undefined) return { target: Number(target), direction, met: null };
  const v = Number(value);
  return { target: Number(target), direction, met: direction === "min" ? v <= target : v >= target };
}

export function errorText(exc) {
  if (!exc) return "";
  if (exc.status === 403 || exc.status === 404) return "You do not have access to this, or it does not exist.";
  return exc.detail || exc.message || String(exc);
}

export { api };

/** Resolve after Alpine has rendered the DOM for the latest state change (x-if templates included) and the
 * browser has laid it out, so a chart finds its canvas. */
export function rendered(component) {
  return component.$nextTick().then(() => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve))));
}
