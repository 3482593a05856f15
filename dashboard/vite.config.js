import { defineConfig } from "vite";
import tailwindcss from "@tailwindcss/vite";

// The built site is plain static files: served at / by the local gateway (infra/local/gateway.py) and, deployed,
// from the DashboardBucket behind CloudFront. API calls go to the same origin (/api/v1/...).
export default defineConfig({
  plugins: [tailwindcss()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 400,
  },
  server: {
    proxy: { "/api": "http://127.0.0.1:8029", "/health": "http://127.0.0.1:8029" },
  },
});
