// Number, money and date formatting, in the figure's own currency; null shows as an em dash, never 0.

const DASH = "—";

export function num(value, digits = 0) {
  if (value === null || value === undefined || value === "") return DASH;
  const n = Number(value);
  if (!Number.isFinite(n)) return DASH;
  return n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function money(value, currency = "USD", digits) {
  if (value === null || value === undefined || value === "") return DASH;
  const n = Number(value);
  if (!Number.isFinite(n)) return DASH;
  const d = digits ?? (Math.abs(n) >= 1000 ? 0 : 2);
  try {
    return n.toLocaleString("en-US", { style: "currency", currency, minimumFractionDigits: d, maximumFractionDigits: d });
  } catch {
    return `${currency} ${num(n, d)}`;
  }
}

export function pct(value, digits = 1, signed = false) {
  if (value === null || value === undefined || value === "") return DASH;
  const n = Number(value);
  if (!Number.isFinite(n)) return DASH;
  return (signed && n > 0 ? "+" : "") + n.toFixed(digits) + " %";
}

export function ratio(value, digits = 2) {
  if (value === null || value === undefined || value === "") return DASH;
  const n = Number(value);
  return Number.isFinite(n) ? n.toFixed(digits) + "x" : DASH;
}

export function date(value) {
  if (!value) return DASH;
  const d = new Date(value.length === 10 ? value + "T00:00:00Z" : value);
  return d.toLocaleDateString("en-GB", { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });
}

export function ago(value) {
  if (!value) return "never";
  const s = (Date.now() - new Date(value).getTime()) / 1000;
  if (s < 90) return "just now";
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 129600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} days ago`;
}

export const PLATFORM_NAMES = {
  google_ads: "Google Ads",
  meta_ads: "Meta Ads",
  linkedin_ads: "LinkedIn Ads",
  tiktok_ads: "TikTok Ads",
  youtube_ads: "YouTube Ads",
  email: "E-mail",
};

export function platform(p) {
  return PLATFORM_NAMES[p] || p;
}

export const PLATFORM_COLORS = {
  google_ads: "#4285f4",
  meta_ads: "#7b61ff",
  linkedin_ads: "#0a66c2",
  tiktok_ads: "#ee1d52",
  youtube_ads: "#d97706",
  email: "#059669",
};

export function color(p, i = 0) {
  const fallback = ["#0ea5e9", "#f97316", "#84cc16", "#a855f7", "#14b8a6", "#64748b"];
  return PLATFORM_COLORS[p] || fallback[i % fallback.length];
}

export function statusLabel(s) {
  return (s || "").replaceAll("_", " ");
}
