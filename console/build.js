// Builds the console's static files into console/dist (npm run build:console): one bundle, no CDN.
const { build } = require('esbuild');
const { copyFileSync, mkdirSync } = require('node:fs');
const { join } = require('node:path');

const out = join(__dirname, 'dist');
mkdirSync(out, { recursive: true });
build({
  entryPoints: [join(__dirname, 'src/main.tsx')],
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2022'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outfile: join(out, 'app.js'),
  logLevel: 'warning',
})
  .then(() => {
    for (const file of ['index.html', 'app.css']) copyFileSync(join(__dirname, file), join(out, file));
  })
  .catch(() => process.exit(1));
