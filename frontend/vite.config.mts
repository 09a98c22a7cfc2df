// The HR web app, served by the API at /app/ from frontend/dist (app/web_app.py).
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

export default defineConfig({
  base: "/app/",
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false },
  server: {
    // `npm run dev` next to `make run`: the API on 8000 answers /graphql, /blobs and /app/dev.
    proxy: {
      "/graphql": { target: "http://127.0.0.1:8000", ws: true },
      "/blobs": "http://127.0.0.1:8000",
      "/app/dev": "http://127.0.0.1:8000",
      "/app/config.json": "http://127.0.0.1:8000",
    },
  },
});
