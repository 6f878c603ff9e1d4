/// <reference types="vitest" />
import { cpSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";

// The build goes into the Python package, which ships it as package data.
const outDir = resolve(dirname(fileURLToPath(import.meta.url)), "../assay/web/static");

/** Copies Swagger UI's assets (npm swagger-ui-dist) next to the app, for the offline /api/docs. */
function swaggerAssets(): Plugin {
  return {
    name: "assay-swagger-assets",
    apply: "build",
    closeBundle() {
      const dist = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
      mkdirSync(resolve(outDir, "swagger"), { recursive: true });
      for (const file of ["swagger-ui-bundle.js", "swagger-ui.css"]) {
        cpSync(resolve(dist, file), resolve(outDir, "swagger", file));
      }
    },
  };
}

export default defineConfig({
  plugins: [react(), swaggerAssets()],
  build: { outDir, emptyOutDir: true, chunkSizeWarningLimit: 2000 },
  server: { proxy: { "/api": process.env.ASSAY_URL ?? "http://127.0.0.1:8000" } },
  test: {
    environment: "jsdom",
    setupFiles: ["./src/test/setup.ts"],
    css: false,
  },
});
